-- Give me a 360-degree view of customer "42": purchase history, support tickets, reviews, FitMap.
-- (analyst question 7; golden ids are hashes, so "42" is the 42nd customer in id
-- order — for any other customer run `engagement-lake customer <id>`)
select *
from {{ ref('mart_customer_360') }}
where customer_id = (
    select customer_id from {{ ref('mart_customer_360') }} order by customer_id limit 1 offset 41
)
