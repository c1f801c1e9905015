-- One row per product and similar product, for the top N neighbours of each product (var
-- similar_products_per_product, default 20): item-item cosine similarity of co-purchase, each
-- product being the set of golden customers who bought it:
--   cosine(a, b) = |buyers(a) ∩ buyers(b)| / sqrt(|buyers(a)| * |buyers(b)|)

with

purchases as (

    select distinct
        shop_xref.customer_id,
        items.product_id
    from {{ ref('stg_shop__order_items') }} as items
    inner join {{ ref('stg_shop__orders') }} as orders
        on items.order_id = orders.order_id
    inner join {{ ref('int_shop_customer_xref') }} as shop_xref
        on orders.customer_id = shop_xref.shop_customer_id
    where orders.status <> 'cancelled'

),

neighbours as (

    {{ co_purchase_neighbours('purchases', var('similar_products_per_product')) }}

),

final as (

    select
        product_id,
        similar_product_id,
        co_buyer_count,
        cosine_similarity,
        neighbour_rank as similarity_rank
    from neighbours

)

select * from final
