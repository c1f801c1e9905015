-- Identify customers who used FitMap but returned their purchase — what were the common issues?
-- (analyst question 9; return reasons of FitMap users' returned lines)
select
    i.return_reason,
    count(*) as returned_lines,
    count(distinct i.customer_key) as customers
from {{ ref('fct_order_items') }} as i
where i.is_returned
    and i.customer_key in (select customer_key from {{ ref('fct_fitmap_scans') }})
    and i.customer_key <> {{ unknown_member_key() }}
group by i.return_reason
order by returned_lines desc, i.return_reason
