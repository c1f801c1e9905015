{#
    RFM scoring, written once: mart_customer_rfm scores the buyers as of the lake's as-of date,
    customer_segment_history as of every load date. `relation` holds one row per customer (and
    as-of date) with days_since_last_order, order_count and lifetime_revenue; customers without
    an order are left out. Recency, frequency and monetary value are cut into var('rfm_score_buckets')
    equal-sized buckets (5 = best) within `partition_by` (one as-of date's buyers), FM is the
    rounded mean of F and M, and the segment comes from seeds/marts/rfm_segments.csv (the lowest
    rule_order wins where ranges overlap). Returns `keys`, the three inputs, the three scores,
    fm_score and rfm_segment.
#}
{% macro rfm_scored(relation, keys, partition_by=none) -%}
{%- set within = 'partition by ' ~ partition_by ~ ' ' if partition_by else '' -%}
with

scored as (
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

with_fm as (
    select
        scored.*,
        cast(round((frequency_score + monetary_score) / 2.0) as integer) as fm_score
    from scored
),

-- each (R, FM) pair the scores take (at most buckets squared) with its segment: the rules'
-- ranges are matched once per pair, then every customer takes its pair's by an equality join
pair_segments as (
    select
        pairs.recency_score,
        pairs.fm_score,
        segments.segment as rfm_segment,
        row_number() over (
            partition by pairs.recency_score, pairs.fm_score order by segments.rule_order
        ) as segment_rank
    from (select distinct recency_score, fm_score from with_fm) as pairs
    left join {{ ref('rfm_segments') }} as segments
        on pairs.recency_score between segments.r_min and segments.r_max
        and pairs.fm_score between segments.fm_min and segments.fm_max
)

select
    {%- for key in keys %}
    with_fm.{{ key }},
    {%- endfor %}
    with_fm.days_since_last_order,
    with_fm.order_count,
    with_fm.lifetime_revenue,
    with_fm.recency_score,
    with_fm.frequency_score,
    with_fm.monetary_score,
    with_fm.fm_score,
    pair_segments.rfm_segment
from with_fm
left join pair_segments
    on with_fm.recency_score = pair_segments.recency_score
    and with_fm.fm_score = pair_segments.fm_score
    and pair_segments.segment_rank = 1
{%- endmacro %}
