-- The RFM segment's trend: one row per golden customer who had purchased and as-of date (every
-- load date), the recency, frequency and monetary scores and the segment as they stood at the
-- end of that day, scored with mart_customer_rfm's rules (macros/rules/rfm.sql) among that
-- day's buyers, from the customer's orders as of that day (int_customer_metrics_history).
-- segment_changed marks the days a customer moved segment. Chart count(*) by rfm_segment per
-- as_of_date; the latest as_of_date is the mart's segment.

with

metrics as (

    select * from {{ ref('int_customer_metrics_history') }}

),

scored as (

    {{ rfm_scored('metrics', ['as_of_date', 'customer_key', 'customer_id'], partition_by='as_of_date') }}

),

compared as (

    select
        scored.*,
        lag(rfm_segment) over (partition by customer_id order by as_of_date) as previous_rfm_segment,
        max(as_of_date) over () as latest_as_of_date
    from scored

),

final as (

    select
        {{ surrogate_key(['customer_id', 'as_of_date']) }} as customer_segment_history_id,
        as_of_date,
        customer_key,
        customer_id,
        cast(days_since_last_order as integer) as days_since_last_order,
        cast(order_count as integer) as order_count,
        cast(lifetime_revenue as decimal(14, 2)) as lifetime_revenue,
        cast(recency_score as integer) as recency_score,
        cast(frequency_score as integer) as frequency_score,
        cast(monetary_score as integer) as monetary_score,
        fm_score,
        cast(recency_score as {{ dbt.type_string() }}) || cast(frequency_score as {{ dbt.type_string() }})
            || cast(monetary_score as {{ dbt.type_string() }}) as rfm_score,
        rfm_segment,
        coalesce(rfm_segment is distinct from previous_rfm_segment, false) as segment_changed,
        as_of_date = latest_as_of_date as is_latest
    from compared

)

select * from final
