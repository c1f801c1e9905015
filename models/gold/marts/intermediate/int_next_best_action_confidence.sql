-- One row per next best action offered by the NBA model (fct_next_best_action): how often
-- customers took it up. confidence is the share of the decided offers (accepted, declined,
-- ignored or expired; pending ones are not decided yet) that were accepted, and is null below
-- var nba_confidence_min_decided_offers decided offers. mart_customer_360 shows it beside the
-- customer's recommended action (the codes are shared: seeds/marts/next_best_actions.csv).

with

offers as (

    select * from {{ ref('fct_next_best_action') }}

),

final as (

    select
        action_type as next_best_action,
        count(*) filter (where not is_pending) as decided_offers,
        count(*) filter (where is_accepted) as accepted_offers,
        case when count(*) filter (where not is_pending) >= {{ var('nba_confidence_min_decided_offers') }}
            then count(*) filter (where is_accepted) * cast(1 as double) / count(*) filter (where not is_pending)
        end as confidence
    from offers
    group by action_type

)

select * from final
