-- Give me a 360-degree view of customer "42": purchase history, support tickets, reviews, FitMap.
-- (analyst question 7) "42" is resolved by the project's one lookup rule (silver.customer_lookup,
-- docs/master-data.md "Looking up a customer"): a golden id first, then source ids by the
-- system order of seeds/mdm/customer_id_systems.csv. A bare number is an id in several systems,
-- so every customer it may mean is listed, one row each with the system that matched, as
-- `engagement-lake customer 42` lists them; ask for shop:42 or a golden id to get one customer.
with

candidates as (

    {{ resolve_customer('42') }}

)

select
    candidates.matched_system,
    candidates.matched_id,
    candidates.candidate_count,
    customer_360.*
from candidates
inner join {{ ref('mart_customer_360') }} as customer_360
    on candidates.customer_id = customer_360.customer_id
order by candidates.lookup_order, candidates.matched_id
