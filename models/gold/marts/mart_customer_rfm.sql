-- One row per golden customer who has purchased: recency, frequency and monetary quintile
-- scores (5 = best: most recent, most frequent, highest spend), FM = the rounded mean of F and M,
-- the RFM code and the segment from seeds/marts/rfm_segments.csv (the lowest rule_order wins
-- where ranges overlap).

with

metrics as (

    select * from {{ ref('int_customer_metrics') }}
    where order_count > 0

),

segments as (

    select * from {{ ref('rfm_segments') }}

),

scored as (

    select
        customer_key,
        customer_id,
        days_since_last_order,
        order_count,
        lifetime_revenue,
        ntile({{ var('rfm_score_buckets') }}) over (order by days_since_last_order desc, customer_id) as recency_score,
        ntile({{ var('rfm_score_buckets') }}) over (order by order_count, customer_id) as frequency_score,
        ntile({{ var('rfm_score_buckets') }}) over (order by lifetime_revenue, customer_id) as monetary_score
    from metrics

),

with_fm as (

    select
        scored.*,
        cast(round((frequency_score + monetary_score) / 2.0) as integer) as fm_score
    from scored

),

assigned as (

    select
        with_fm.*,
        segments.segment as rfm_segment,
        row_number() over (partition by with_fm.customer_key order by segments.rule_order) as segment_rank
    from with_fm
    left join segments
        on with_fm.recency_score between segments.r_min and segments.r_max
        and with_fm.fm_score between segments.fm_min and segments.fm_max

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
        cast(recency_score as varchar) || cast(frequency_score as varchar)
            || cast(monetary_score as varchar) as rfm_score,
        rfm_segment
    from assigned
    where segment_rank = 1

)

select * from final
