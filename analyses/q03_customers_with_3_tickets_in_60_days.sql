-- Identify customers who have had 3+ support tickets in the last 60 days.
-- (analyst question 3)
select
    customer_key,
    count(*) as tickets_60d
from {{ ref('fct_support_tickets') }}
where customer_key <> {{ unknown_member_key() }}
    and created_date > (select max(date_day) from {{ ref('dim_date') }} where is_past) - interval 60 day
group by customer_key
having count(*) >= 3
order by tickets_60d desc, customer_key
