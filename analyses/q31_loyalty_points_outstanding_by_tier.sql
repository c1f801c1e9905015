-- How many loyalty points are outstanding, and how many have been earned, redeemed and expired, by the members' current tier?
-- (outstanding = each member's balance after their latest ledger entry; tier = the member's
-- latest tier change)
with

current_tier as (

    select member_id, to_tier as loyalty_tier
    from {{ ref('fct_loyalty_tier_changes') }}
    where is_current_tier

),

members as (

    select
        member_id,
        sum(points_earned) as points_earned,
        sum(points_redeemed) as points_redeemed,
        sum(points_expired) as points_expired,
        max(case when is_latest_entry then balance_after end) as balance
    from {{ ref('fct_loyalty_points') }}
    group by member_id

)

select
    coalesce(current_tier.loyalty_tier, 'No tier') as loyalty_tier,
    count(*) as members,
    sum(members.points_earned) as points_earned,
    sum(members.points_redeemed) as points_redeemed,
    sum(members.points_expired) as points_expired,
    sum(members.balance) as points_outstanding
from members
left join current_tier
    on members.member_id = current_tier.member_id
group by coalesce(current_tier.loyalty_tier, 'No tier')
order by points_outstanding desc, loyalty_tier
