-- One row per experiment assignment (a customer placed in a variant): whether the customer was
-- then exposed, clicked and converted, with event counts and conversion revenue. Only events at
-- or after the assignment count; events carry the experiment and customer, not the variant.

with

assignments as (

    select * from {{ ref('stg_mlops__experiment_assignments') }}

),

events as (

    select * from {{ ref('stg_mlops__experiment_events') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

experiments as (

    select * from {{ ref('dim_experiment') }}

),

outcomes as (

    select
        assignments.assignment_id,
        sum(case when events.event_type = 'exposure' then 1 else 0 end) as exposure_count,
        sum(case when events.event_type = 'click' then 1 else 0 end) as click_count,
        sum(case when events.event_type = 'conversion' then 1 else 0 end) as conversion_count,
        sum(case when events.event_type = 'conversion' then coalesce(events.revenue, 0) else 0 end) as revenue,
        min(case when events.event_type = 'exposure' then events.event_at end) as first_exposed_at,
        min(case when events.event_type = 'click' then events.event_at end) as first_clicked_at,
        min(case when events.event_type = 'conversion' then events.event_at end) as first_converted_at
    from assignments
    inner join events
        on assignments.experiment_id = events.experiment_id
        and assignments.customer_ref = events.customer_ref
        and events.event_at >= assignments.assigned_at
    group by assignments.assignment_id

),

final as (

    select
        ---------- ids
        assignments.assignment_id,
        assignments.experiment_id,
        assignments.variant_id,
        assignments.customer_ref,

        ---------- keys
        cast(assignments.assigned_at as date) as assigned_date,
        {{ resolve_key('experiments.experiment_key') }} as experiment_key,
        {{ member_key('shop_xref.customer_id') }} as customer_key,

        ---------- flags
        coalesce(assignments.variant_id = experiments.control_variant_id, false) as is_control,
        coalesce(outcomes.exposure_count, 0) > 0 as is_exposed,
        coalesce(outcomes.click_count, 0) > 0 as is_clicked,
        coalesce(outcomes.conversion_count, 0) > 0 as is_converted,

        ---------- measures
        cast(coalesce(outcomes.exposure_count, 0) as integer) as exposure_count,
        cast(coalesce(outcomes.click_count, 0) as integer) as click_count,
        cast(coalesce(outcomes.conversion_count, 0) as integer) as conversion_count,
        cast(coalesce(outcomes.revenue, 0) as decimal(14, 2)) as revenue,

        ---------- timestamps
        cast(assignments.assigned_at as timestamp) as assigned_at,
        cast(outcomes.first_exposed_at as timestamp) as first_exposed_at,
        cast(outcomes.first_clicked_at as timestamp) as first_clicked_at,
        cast(outcomes.first_converted_at as timestamp) as first_converted_at
    from assignments
    left join outcomes
        on assignments.assignment_id = outcomes.assignment_id
    left join shop_xref
        on assignments.customer_ref = shop_xref.shop_customer_id
    left join experiments
        on assignments.experiment_id = experiments.experiment_id

)

select * from final
