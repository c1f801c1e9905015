-- One row per personalisation strategy × customer lifecycle segment: how well the strategy works
-- for the segment. Impressions (fct_personalization_events) are grouped by the lifecycle
-- segment the customer holds at the as-of date (int_customer_segments; 'Unknown' for impressions
-- of unmatched shop accounts). Rates: display rate (displayed / served), click-through rate
-- (clicked / displayed), conversion rate (converted / served), revenue per impression, and the
-- conversion rate's lift over all strategies served to the same segment (rate / segment rate).

with

personalization_events as (

    select * from {{ ref('fct_personalization_events') }}

),

segments as (

    select customer_key, lifecycle_stage from {{ ref('int_customer_segments') }}

),

events_segmented as (

    select
        personalization_events.*,
        coalesce(segments.lifecycle_stage, '{{ var("unknown_member_label") }}') as lifecycle_segment
    from personalization_events
    left join segments
        on personalization_events.customer_key = segments.customer_key

),

strategy_segments as (

    select
        strategy,
        lifecycle_segment,
        count(*) as impressions,
        count(distinct customer_key) as customers,
        sum(case when is_displayed then 1 else 0 end) as displays,
        sum(case when is_clicked then 1 else 0 end) as clicks,
        sum(case when is_converted then 1 else 0 end) as conversions,
        sum(conversion_amount) as conversion_revenue
    from events_segmented
    group by 1, 2

),

segment_totals as (

    select
        lifecycle_segment,
        sum(conversions) as segment_conversions,
        sum(impressions) as segment_impressions
    from strategy_segments
    group by 1

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['strategy_segments.strategy', 'strategy_segments.lifecycle_segment']) }}
            as strategy_segment_key,

        ---------- attributes
        strategy_segments.strategy,
        strategy_segments.lifecycle_segment,

        ---------- measures
        cast(strategy_segments.impressions as integer) as impressions,
        cast(strategy_segments.customers as integer) as customers,
        cast(strategy_segments.displays as integer) as displays,
        cast(strategy_segments.clicks as integer) as clicks,
        cast(strategy_segments.conversions as integer) as conversions,
        cast(strategy_segments.conversion_revenue as decimal(14, 2)) as conversion_revenue,
        cast(strategy_segments.displays as double) / strategy_segments.impressions as display_rate,
        cast(strategy_segments.clicks as double) / nullif(strategy_segments.displays, 0)
            as click_through_rate,
        cast(strategy_segments.conversions as double) / strategy_segments.impressions
            as conversion_rate,
        cast(strategy_segments.conversion_revenue as double) / strategy_segments.impressions
            as revenue_per_impression,
        (cast(strategy_segments.conversions as double) / strategy_segments.impressions)
            / nullif(cast(segment_totals.segment_conversions as double) / segment_totals.segment_impressions, 0)
            as conversion_rate_lift
    from strategy_segments
    inner join segment_totals
        on strategy_segments.lifecycle_segment = segment_totals.lifecycle_segment

)

select * from final
