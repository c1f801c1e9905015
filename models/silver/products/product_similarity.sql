-- One row per product and similar product, for the top N neighbours of each product (var
-- similar_products_per_product, default 20): item-item cosine similarity of co-purchase, each
-- product being the set of golden customers who bought it:
--   cosine(a, b) = |buyers(a) ∩ buyers(b)| / sqrt(|buyers(a)| * |buyers(b)|)

with

purchases as (

    select distinct
        xref.customer_id,
        items.product_id
    from {{ ref('stg_shop__order_items') }} as items
    inner join {{ ref('stg_shop__orders') }} as orders
        on items.order_id = orders.order_id
    inner join {{ ref('customer_xref') }} as xref
        on xref.source_system = 'shop'
        and orders.customer_id = xref.source_id
    where orders.status <> 'cancelled'

),

buyers as (

    select product_id, count(*) as buyer_count
    from purchases
    group by product_id

),

co_purchases as (

    select
        a.product_id,
        b.product_id as similar_product_id,
        count(*) as co_buyer_count
    from purchases as a
    inner join purchases as b
        on a.customer_id = b.customer_id
        and a.product_id <> b.product_id
    group by a.product_id, b.product_id

),

scored as (

    select
        co_purchases.product_id,
        co_purchases.similar_product_id,
        co_purchases.co_buyer_count,
        co_purchases.co_buyer_count / sqrt(buyers_a.buyer_count * buyers_b.buyer_count) as cosine_similarity
    from co_purchases
    inner join buyers as buyers_a
        on co_purchases.product_id = buyers_a.product_id
    inner join buyers as buyers_b
        on co_purchases.similar_product_id = buyers_b.product_id

),

ranked as (

    select
        scored.*,
        row_number() over (
            partition by product_id
            order by cosine_similarity desc, co_buyer_count desc, similar_product_id
        ) as similarity_rank
    from scored

)

select * from ranked
where similarity_rank <= {{ var('similar_products_per_product', 20) }}
