-- The shop slice of the customer crosswalk: one row per shop account (shop_customer_id, the
-- customer_id of the shop's orders, sessions, reviews, ...) with its golden customer_id. Every
-- model that resolves a shop account to its golden customer refs this instead of filtering
-- customer_xref itself. Ephemeral: inlined as a CTE, never a table.

{{ config(materialized='ephemeral') }}

with

xref as (

    select * from {{ ref('customer_xref') }}

),

final as (

    select
        source_id as shop_customer_id,
        customer_id
    from xref
    where source_system = 'shop'

)

select * from final
