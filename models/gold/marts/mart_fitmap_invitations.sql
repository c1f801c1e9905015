-- One row per customer to invite to FitMap as of the as-of date: the "FitMap Engagement
-- Opportunity" flow — bought in the last 30 days, never scanned, and bought at least one item
-- whose return rate is high (var fitmap_high_return_rate, default 0.2).

with

as_of as (

    select {{ as_of_date(ref('stg_shop__orders')) }} as as_of_date

),

recent_items as (

    select * from {{ ref('fct_order_items') }}
    where not is_cancelled
        and customer_key <> {{ unknown_member_key() }}
        and order_date > {{ dbt.dateadd('day', -var('fitmap_recent_order_days'), '(select as_of_date from as_of)') }}
        and order_date <= (select as_of_date from as_of)

),

products as (

    select product_key, return_rate, fit_return_rate, category from {{ ref('dim_product') }}

),

scanned as (

    select distinct customer_key from {{ ref('fct_fitmap_scans') }}

),

candidates as (

    select
        recent_items.customer_key,
        count(distinct recent_items.order_id) as recent_orders,
        count(*) as recent_items,
        count(*) filter (where products.return_rate >= {{ var('fitmap_high_return_rate') }}) as high_return_items,
        max(products.return_rate) as highest_item_return_rate,
        max(recent_items.order_date) as last_order_date
    from recent_items
    inner join products
        on recent_items.product_key = products.product_key
    left join scanned
        on recent_items.customer_key = scanned.customer_key
    where scanned.customer_key is null
    group by recent_items.customer_key

),

final as (

    select
        candidates.customer_key,
        dim_customer.customer_id,
        (select as_of_date from as_of) as as_of_date,
        cast(candidates.recent_orders as integer) as recent_orders,
        cast(candidates.recent_items as integer) as recent_items,
        cast(candidates.high_return_items as integer) as high_return_items,
        cast(candidates.highest_item_return_rate as double) as highest_item_return_rate,
        candidates.last_order_date,
        'fitmap_invitation' as campaign_list
    from candidates
    inner join {{ ref('dim_customer') }} as dim_customer
        on candidates.customer_key = dim_customer.customer_key
    where candidates.high_return_items > 0

)

select * from final
