-- Show me our VIP customers. (scenario 1: lifecycle stage VIP)
select
    customer_id,
    order_count,
    lifetime_revenue,
    round(churn_probability, 3) as churn_probability
from {{ ref('mart_customer_360') }}
where lifecycle_stage = 'VIP'
order by lifetime_revenue desc, customer_id
