-- How many customers in each life stage can we reach by e-mail, and how complete are their profiles?
-- (life stage from the age bracket of seeds/marts/age_brackets.csv, Unknown without a birth
-- date; reachable = is_email_contactable: an e-mail address and a subscription, or a shop opt-in
-- without one)
select
    coalesce(life_stage, '{{ var("unknown_member_label") }}') as life_stage,
    count(*) as customers,
    sum(case when is_email_contactable then 1 else 0 end) as email_contactable,
    round(avg(case when is_email_contactable then 1.0 else 0.0 end), 4) as contactable_share,
    round(avg(profile_completeness), 4) as average_profile_completeness
from {{ ref('mart_customer_360') }}
group by coalesce(life_stage, '{{ var("unknown_member_label") }}')
order by customers desc, life_stage
