-- One row per return reason the shop allows (seeds/gold/return_reasons.csv), plus the unknown
-- member: the code fct_order_items carries (poor_fit) with its label and whether it is a fit return.

with

reasons as (

    select * from {{ ref('return_reasons') }}

),

final as (

    select
        return_reason,
        label as return_reason_label,
        is_fit_related,
        description
    from reasons
    union all
    {{ unknown_member_row() }}

)

select * from final
