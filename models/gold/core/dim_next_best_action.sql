-- One row per next best action of the marts (seeds/marts/next_best_actions.csv), plus the unknown
-- member: the code the marts carry (offer_fitmap_scan) with its label, priority and when it applies.

with

actions as (

    select * from {{ ref('next_best_actions') }}

),

final as (

    select
        action as next_best_action,
        label as next_best_action_label,
        cast(priority as integer) as priority,
        description
    from actions
    union all
    {{ unknown_member_row() }}

)

select * from final
