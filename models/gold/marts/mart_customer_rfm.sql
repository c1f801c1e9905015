-- One row per golden customer who has purchased: recency, frequency and monetary quintile
-- scores (5 = best: most recent, most frequent, highest spend), FM = the rounded mean of F and M,
-- the RFM code and the segment from seeds/marts/rfm_segments.csv (the lowest rule_order wins
-- where ranges overlap). The scoring is macros/rules/rfm.sql, shared with
-- customer_segment_history.

with

metrics as (

    select * from {{ ref('int_customer_metrics') }}

),

assigned as (

    {{ rfm_scored('metrics', ['customer_key', 'customer_id']) }}

),

final as (

    select
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
        rfm_segment
    from assigned

)

select * from final
