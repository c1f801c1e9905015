-- Dashboard 5, 360° Customer View: the headline numbers across all customers.
select
    count(*) as customers,
    round(avg(health_score), 1) as average_health_score,
    round(count(*) filter (where health_level = 'POOR') * 1.0 / count(*), 4) as poor_health_share,
    round(avg(predicted_clv_12mo), 2) as average_predicted_clv_12mo,
    round(avg(lifetime_revenue), 2) as average_lifetime_revenue
from {{ ref('mart_customer_360') }}
