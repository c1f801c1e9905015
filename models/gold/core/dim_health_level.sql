-- One row per customer health level (seeds/marts/health_levels.csv), plus the unknown member:
-- the code the marts carry (EXCELLENT) with its label, lowest score and display order.

with

levels as (

    select * from {{ ref('health_levels') }}

),

final as (

    select
        health_level,
        label as health_level_label,
        cast(min_score as double) as min_score,
        cast(row_number() over (order by min_score desc) as integer) as sort_order,
        description
    from levels
    union all
    {{ unknown_member_row() }}

)

select * from final
