-- Dashboard 3, Sales Opportunities Pipeline: the headline numbers.
select
    count(*) filter (where is_open) as open_opportunities,
    sum(amount) filter (where is_open) as open_pipeline_value,
    round(count(*) filter (where is_won) * 1.0 / nullif(count(*) filter (where is_closed), 0), 4) as win_rate,
    round(avg(cycle_days) filter (where is_closed), 1) as average_cycle_days_closed
from {{ ref('fct_sales_opportunities') }}
