-- One row per RFM segment (seeds/marts/rfm_segments.csv), plus the unknown member: the segment
-- name the marts carry with its score ranges and its order (Champions first, Lost last).

with

segments as (

    select * from {{ ref('rfm_segments') }}

),

final as (

    select
        segment as rfm_segment,
        cast(rule_order as integer) as sort_order,
        cast(r_min as integer) as recency_score_min,
        cast(r_max as integer) as recency_score_max,
        cast(fm_min as integer) as frequency_monetary_score_min,
        cast(fm_max as integer) as frequency_monetary_score_max,
        description
    from segments
    union all
    {{ unknown_member_row() }}

)

select * from final
