-- One row per behavioural segment (seeds/marts/behavioural_segments.csv: the segments of
-- segment_rules plus REGULAR), plus the unknown member: the code the marts carry (AT_RISK) with
-- its label and display order.

with

segments as (

    select * from {{ ref('behavioural_segments') }}

),

final as (

    select
        segment as behavioural_segment,
        label as behavioural_segment_label,
        cast(sort_order as integer) as sort_order,
        description
    from segments
    union all
    {{ unknown_member_row() }}

)

select * from final
