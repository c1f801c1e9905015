-- One row per opportunity stage (seeds/gold/sales_stages.csv) in sales-process order, plus the
-- unknown member.

with

stages as (

    select * from {{ ref('sales_stages') }}

),

known as (

    select
        ---------- keys
        {{ surrogate_key(['stage_name']) }} as sales_stage_key,

        ---------- attributes
        stage_name,
        cast(stage_order as integer) as stage_order,
        cast(default_probability as integer) as default_probability,
        stage_category,

        ---------- flags
        is_closed,
        is_won,
        not is_closed as is_open
    from stages

),

unknown as (

    {{ unknown_member_row({
        'stage_order': 0,
    }) }}

),

final as (

    select * from known
    union all
    select * from unknown

)

select * from final
