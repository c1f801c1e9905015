-- How many referrals convert, how fast, and what does the programme pay per converted referral?
-- (one row per referral status, with the programme's totals in every row)
select
    referral_status,
    count(*) as referrals,
    round(avg(days_to_conversion), 1) as avg_days_to_conversion,
    sum(reward_amount) as rewards_paid,
    sum(count(*)) over () as all_referrals,
    round(sum(count(*) filter (where is_converted)) over () * 1.0 / sum(count(*)) over (), 4)
        as programme_conversion_rate,
    round(sum(sum(reward_amount)) over ()
          / nullif(sum(count(*) filter (where is_converted)) over (), 0), 2) as reward_cost_per_conversion
from {{ ref('fct_referrals') }}
group by referral_status
order by referrals desc, referral_status
