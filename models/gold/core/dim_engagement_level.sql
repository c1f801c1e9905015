-- One row per customer engagement level (seeds/marts/engagement_levels.csv), plus the unknown member:
-- the code mart_customer_360 carries (HIGHLY_ENGAGED) with its label, lowest score and display order.

with

levels as (

    select * from {{ ref('engagement_levels') }}

),

final as (

    select
        engagement_level,
        label as engagement_level_label,
        cast(min_score as double) as min_score,
        cast(row_number() over (order by min_score desc) as integer) as sort_order,
        description
    from levels
    union all
    {{ unknown_member_row() }}

)

select * from final
