-- Show me customers in the Gold loyalty tier who haven't engaged with any email campaigns in 60 days.
-- (analyst question 10; engaged = opened, clicked or converted)
select
    customer_id,
    last_email_interaction_date
from {{ ref('mart_customer_360') }}
where loyalty_tier = 'Gold'
    and (last_email_interaction_date is null
         or last_email_interaction_date <= (select max(date_day) from {{ ref('dim_date') }} where is_past) - interval 60 day)
order by customer_id
