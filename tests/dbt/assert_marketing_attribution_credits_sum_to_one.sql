-- Every conversion's credit is shared out exactly once per attribution model: first-touch,
-- last-touch, linear and time-decay credits each sum to 1 per order (within float rounding), and
-- first and last touch give the whole credit to one touchpoint. Returns the orders where not.
select
    order_id,
    sum(first_touch_credit) as first_touch_total,
    sum(last_touch_credit) as last_touch_total,
    sum(linear_credit) as linear_total,
    sum(time_decay_credit) as time_decay_total,
    sum(case when first_touch_credit > 0 then 1 else 0 end) as first_touch_rows,
    sum(case when last_touch_credit > 0 then 1 else 0 end) as last_touch_rows
from {{ ref('fct_marketing_attribution') }}
group by order_id
having abs(sum(first_touch_credit) - 1) > 1e-9
    or abs(sum(last_touch_credit) - 1) > 1e-9
    or abs(sum(linear_credit) - 1) > 1e-9
    or abs(sum(time_decay_credit) - 1) > 1e-9
    or sum(case when first_touch_credit > 0 then 1 else 0 end) <> 1
    or sum(case when last_touch_credit > 0 then 1 else 0 end) <> 1
