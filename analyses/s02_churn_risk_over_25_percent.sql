-- Find customers at risk of churning. (scenario 2: churn probability above 0.25)
select
    customer_id,
    round(churn_probability, 3) as churn_probability,
    lifecycle_stage
from {{ ref('mart_customer_360') }}
where churn_probability > 0.25
order by churn_probability desc, customer_id
