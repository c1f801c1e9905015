{#
    RFM scoring, written once: mart_customer_rfm scores the buyers as of the lake's as-of date,
    customer_segment_history as of every load date. `relation` holds one row per customer (and
    as-of date) with days_since_last_order, order_count and lifetime_revenue; customers without
    an order are left out. Recency, frequency and monetary value are cut into var('rfm_score_buckets')
    equal-sized buckets (5 = best) within `partition_by` (one as-of date's buyers), FM is the
    rounded mean of F and M, and the segment comes from seeds/marts/rfm_segments.csv (the lowest
    rule_order wins where ranges overlap). Returns `keys`, the three inputs, the three scores,
    fm_score and rfm_segment. Its CTEs are named rfm_*, apart from any name of the calling model
    (Spark may refuse an inner CTE that shadows an outer one).
#}
{% macro rfm_scored(relation, keys, partition_by=none) -%}
{%- set within = 'partition by ' ~ partition_by ~ ' ' if partition_by else '' -%}
with

rfm_scores as (
    select
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        days_since_last_order,
        order_count,
        lifetime_revenue,
        ntile({{ var('rfm_score_buckets') }}) over ({{ within }}order by days_since_last_order desc, customer_id) as recency_score,
        ntile({{ var('rfm_score_buckets') }}) over ({{ within }}order by order_count, customer_id) as frequency_score,
        ntile({{ var('rfm_score_buckets') }}) over ({{ within }}order by lifetime_revenue, customer_id) as monetary_score
    from {{ relation }}
    where order_count > 0
),

rfm_with_fm as (
    select
        rfm_scores.*,
        cast(round((frequency_score + monetary_score) / 2.0) as integer) as fm_score
    from rfm_scores
),

-- each (R, FM) pair the scores take (at most buckets squared) with its segment: the rules'
-- ranges are matched once per pair, then every customer takes its pair's by an equality join
rfm_pair_segments as (
    select
        pairs.recency_score,
        pairs.fm_score,
        segments.segment as rfm_segment,
        row_number() over (
            partition by pairs.recency_score, pairs.fm_score order by segments.rule_order
        ) as segment_rank
    from (select distinct recency_score, fm_score from rfm_with_fm) as pairs
    left join {{ ref('rfm_segments') }} as segments
        on pairs.recency_score between segments.r_min and segments.r_max
        and pairs.fm_score between segments.fm_min and segments.fm_max
)

select
    {%- for key in keys %}
    rfm_with_fm.{{ key }},
    {%- endfor %}
    rfm_with_fm.days_since_last_order,
    rfm_with_fm.order_count,
    rfm_with_fm.lifetime_revenue,
    rfm_with_fm.recency_score,
    rfm_with_fm.frequency_score,
    rfm_with_fm.monetary_score,
    rfm_with_fm.fm_score,
    rfm_pair_segments.rfm_segment
from rfm_with_fm
left join rfm_pair_segments
    on rfm_with_fm.recency_score = rfm_pair_segments.recency_score
    and rfm_with_fm.fm_score = rfm_pair_segments.fm_score
    and rfm_pair_segments.segment_rank = 1
{%- endmacro %}
