-- One row per shop order that has items: the product a text about the order is filed under, the
-- line with the largest amount (ties: the smallest product id). A support ticket raised on an
-- order names the order, not the item; the order's main product is the best single guess, and
-- the texts that use it say so (product_attribution = 'ticket_order'). Ephemeral.

{{ config(materialized='ephemeral') }}

with

items as (

    select * from {{ ref('stg_shop__order_items') }}

),

ranked as (

    select
        order_id,
        product_id,
        row_number() over (
            partition by order_id
            order by line_amount desc, product_id
        ) as line_rank
    from items
    where product_id is not null

),

final as (

    select
        order_id,
        product_id
    from ranked
    where line_rank = 1

)

select * from final
