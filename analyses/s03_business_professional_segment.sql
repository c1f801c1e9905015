-- Analyze the business professional segment. (scenario 3: one segment's performance)
select
    behavioural_segment,
    count(*) as customers,
    round(avg(lifetime_revenue), 2) as average_value,
    round(avg(churn_probability), 3) as average_churn_probability,
    round(avg(health_score), 1) as average_health_score
from {{ ref('mart_customer_360') }}
where behavioural_segment = 'BUSINESS_PROFESSIONAL'
group by behavioural_segment
