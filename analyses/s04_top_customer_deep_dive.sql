-- Show me our most valuable customer's complete profile. (scenario 4: one customer's
-- deep dive — the customer with the highest lifetime revenue)
select
    customer_id,
    loyalty_tier,
    lifetime_revenue,
    order_count,
    behavioural_segment,
    lifecycle_stage,
    round(churn_probability, 3) as churn_probability,
    next_best_action,
    next_best_action_reason
from {{ ref('mart_customer_360') }}
order by lifetime_revenue desc, customer_id
limit 1
