-- List all open sales opportunities with probability > 70% and value > $200.
-- (analyst question 6)
select
    opportunity_id,
    stage_name,
    amount,
    probability
from {{ ref('fct_sales_opportunities') }}
where is_open
    and probability > 70
    and amount > 200
order by amount desc, opportunity_id
