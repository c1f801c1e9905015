-- Which personalisation strategy converts best in each customer lifecycle segment?
-- (conversions per impression served; the segment each customer holds at the as-of date)
select
    lifecycle_segment,
    strategy,
    impressions,
    conversions,
    round(conversion_rate, 4) as conversion_rate,
    round(conversion_rate_lift, 2) as lift_over_segment
from {{ ref('fct_personalization_strategy_segments') }}
qualify row_number() over (
    partition by lifecycle_segment order by conversion_rate desc, strategy
) = 1
order by lifecycle_segment
