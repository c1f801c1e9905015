-- Which customers have left 5-star reviews but haven't purchased in 90 days?
-- (analyst question 4)
select
    c.customer_id,
    count(*) as five_star_reviews,
    c.last_order_date
from {{ ref('fct_product_reviews') }} as r
inner join {{ ref('mart_customer_360') }} as c
    on r.customer_key = c.customer_key
where r.rating = 5
    and (c.last_order_date is null
         or c.last_order_date <= (select max(date_day) from {{ ref('dim_date') }} where is_past) - interval 90 day)
group by c.customer_id, c.last_order_date
order by five_star_reviews desc, c.customer_id
