-- The ledger and the member master of the loyalty programme tell the same story: each member's
-- balance after their latest ledger entry (fct_loyalty_points) is the balance the programme
-- reports for the member, and their latest tier change (fct_loyalty_tier_changes) ends in the
-- tier it reports. A warning, not an error: a quarantined ledger row or a late tier change makes
-- them differ for a day. One row per member that differs.
{{ config(severity='warn') }}

with

members as (

    select member_id, points_balance, loyalty_tier from {{ ref('stg_loyalty__members') }}

),

balances as (

    select member_id, balance_after
    from {{ ref('fct_loyalty_points') }}
    where is_latest_entry

),

tiers as (

    select member_id, to_tier
    from {{ ref('fct_loyalty_tier_changes') }}
    where is_current_tier

)

select
    members.member_id,
    members.points_balance,
    balances.balance_after,
    members.loyalty_tier,
    tiers.to_tier
from members
left join balances
    on members.member_id = balances.member_id
left join tiers
    on members.member_id = tiers.member_id
where coalesce(balances.balance_after, 0) <> coalesce(members.points_balance, 0)
    or tiers.to_tier is distinct from members.loyalty_tier
