-- One row per golden customer: how strong and how lively the relationship is, and when the
-- customer is expected back, as of the as-of date (from int_customer_touchpoints).
--
-- relationship_strength (0-100) is the weighted mean (var relationship_strength_weights) of
-- three factors, each 0-1: tenure (days since signup over var relationship_tenure_full_days,
-- capped at 1), breadth (touchpoints of seeds/marts/relationship_touchpoints.csv ever used over
-- all of them) and recency (1 on the day of the latest interaction on any touchpoint, falling
-- linearly to 0 at var relationship_recency_horizon_days; 0 without any interaction).
-- engagement_score (0-100) is the share of the touchpoints used in the engagement window (var
-- engagement_window_days, ending on the as-of date), banded by seeds/marts/engagement_levels.csv.
-- The next visit is predicted as the last visit day (a day with an interaction on a touchpoint
-- the seed marks is_visit: an order, a web session or a store visit) plus the median of the
-- customer's gaps between consecutive visit days (rounded to whole days), for customers with at
-- least var next_visit_min_visits visit days; null for the others.

{%- set weights = var('relationship_strength_weights') %}

with

metrics as (

    select
        customer_key,
        as_of_date,
        days_since_signup
    from {{ ref('int_customer_metrics') }}

),

touchpoints as (

    select * from {{ ref('relationship_touchpoints') }}

),

engagement_levels as (

    select * from {{ ref('engagement_levels') }}

),

interactions as (

    select
        metrics.customer_key,
        metrics.as_of_date,
        touchpoints.touchpoint,
        touchpoints.is_visit,
        customer_touchpoints.interaction_date
    from {{ ref('int_customer_touchpoints') }} as customer_touchpoints
    inner join touchpoints
        on customer_touchpoints.touchpoint = touchpoints.touchpoint
    inner join metrics
        on customer_touchpoints.customer_key = metrics.customer_key
    where customer_touchpoints.interaction_date <= metrics.as_of_date

),

touchpoint_count as (

    select count(*) as touchpoints from touchpoints

),

touchpoint_usage as (

    -- each touchpoint a customer used, with the last day: the counts below are then plain
    -- counts over a few rows per customer, not distinct counts over every interaction
    select
        customer_key,
        as_of_date,
        touchpoint,
        max(interaction_date) as last_interaction_date
    from interactions
    group by customer_key, as_of_date, touchpoint

),

usage as (

    select
        customer_key,
        count(*) as touchpoints_used,
        count(case
            when last_interaction_date > {{ dbt.dateadd('day', -var('engagement_window_days'), 'as_of_date') }}
                then touchpoint end) as touchpoints_active,
        max(last_interaction_date) as last_interaction_date
    from touchpoint_usage
    group by customer_key

),

visit_days as (

    select distinct
        customer_key,
        interaction_date as visit_date
    from interactions
    where is_visit

),

visit_gaps as (

    select
        customer_key,
        visit_date,
        {{ dbt.datediff('lag(visit_date) over (partition by customer_key order by visit_date)', 'visit_date', 'day') }} as gap_days
    from visit_days

),

visits as (

    select
        customer_key,
        count(*) as visit_day_count,
        max(visit_date) as last_visit_date,
        median(gap_days) as median_gap_days
    from visit_gaps
    group by customer_key

),

factors as (

    select
        metrics.customer_key,
        metrics.as_of_date,
        least(1.0, greatest(0, coalesce(metrics.days_since_signup, 0)) / {{ var('relationship_tenure_full_days') * 1.0 }}) as tenure_factor,
        coalesce(usage.touchpoints_used, 0) * cast(1 as double) / touchpoint_count.touchpoints as breadth_factor,
        case when usage.last_interaction_date is null then 0.0
            else greatest(0.0, 1 - {{ dbt.datediff('usage.last_interaction_date', 'metrics.as_of_date', 'day') }}
                / {{ var('relationship_recency_horizon_days') * 1.0 }}) end as recency_factor,
        100.0 * coalesce(usage.touchpoints_active, 0) / touchpoint_count.touchpoints as engagement_score,
        coalesce(usage.touchpoints_used, 0) as touchpoints_used,
        coalesce(usage.touchpoints_active, 0) as touchpoints_active,
        usage.last_interaction_date,
        coalesce(visits.visit_day_count, 0) as visit_day_count,
        visits.last_visit_date,
        case when visits.visit_day_count >= {{ var('next_visit_min_visits') }}
            then cast(round(visits.median_gap_days) as integer) end as median_visit_gap_days
    from metrics
    cross join touchpoint_count
    left join usage
        on metrics.customer_key = usage.customer_key
    left join visits
        on metrics.customer_key = visits.customer_key

),

final as (

    select
        customer_key,
        as_of_date,
        100.0 * (
            {%- for name, weight in weights.items() %}
            {{ weight }} * {{ name }}_factor{{ ' +' if not loop.last }}
            {%- endfor %}
        ) / {{ weights.values() | sum }} as relationship_strength,
        tenure_factor,
        breadth_factor,
        recency_factor,
        touchpoints_used,
        touchpoints_active,
        last_interaction_date,
        engagement_score,
        (
            select levels.engagement_level
            from engagement_levels as levels
            where factors.engagement_score >= levels.min_score
            order by levels.min_score desc
            limit 1
        ) as engagement_level,
        visit_day_count,
        last_visit_date,
        median_visit_gap_days,
        {{ dbt.dateadd('day', 'median_visit_gap_days', 'last_visit_date') }} as next_visit_predicted_date
    from factors

)

select * from final
