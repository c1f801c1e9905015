-- What does a new customer cost on each campaign channel over the last 12 months?
-- (campaign budgets over the new customers whose first order the channel's campaigns touched
-- last; the attribution rule is in fct_customer_acquisition_cost)
select
    channel_code,
    sum(campaigns_sent) as campaigns_sent,
    sum(marketing_spend) as marketing_spend,
    sum(new_customers) as new_customers,
    round(sum(marketing_spend) / nullif(sum(new_customers), 0), 2) as customer_acquisition_cost
from {{ ref('fct_customer_acquisition_cost') }}
where month_start_date > cast(date_trunc('month', (select max(date_day) from {{ ref('dim_date') }} where is_past)) as date)
    - interval 12 month
group by channel_code
order by customer_acquisition_cost nulls last, channel_code
