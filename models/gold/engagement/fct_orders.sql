-- One row per shop order (newest version): who ordered, through which channel, the amounts, and
-- what came back. Keyed to dim_customer, dim_channel and dim_date (order_date).

{{ config(materialized='incremental', unique_key='order_id') }}

with

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

items as (

    select * from {{ ref('stg_shop__order_items') }}

),

returns as (

    select * from {{ ref('stg_shop__returns') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

item_totals as (

    select
        order_id,
        count(*) as line_count,
        sum(quantity) as unit_count,
        max(case when is_from_recommendation then 1 else 0 end) = 1 as has_recommended_item
    from items
    group by order_id

),

return_totals as (

    select
        order_id,
        count(*) as return_count,
        sum(quantity) as units_returned,
        sum(refund_amount) as refunded_amount
    from returns
    group by order_id

),

{%- if is_incremental() %}

-- the orders a daily run rebuilds: new versions, new items or returns, re-keyed customers
touched as (

    select order_id from orders where {{ in_changed_partitions('_source_file') }}
    union
    select order_id from items where {{ in_changed_partitions('_source_file') }}
    union
    select order_id from returns where {{ in_changed_partitions('_source_file') }}
    union
    -- rows whose customer now resolves to another golden id (a merge or a split of the day)
    select orders.order_id
    from orders
    inner join {{ this }} as built
        on built.order_id = orders.order_id
    left join shop_xref
        on orders.customer_id = shop_xref.shop_customer_id
    where built.customer_key <> {{ member_key('shop_xref.customer_id') }}

),
{%- endif %}

final as (

    select
        ---------- keys
        {{ surrogate_key(['orders.order_id']) }} as order_key,
        orders.order_id,
        {{ member_key('shop_xref.customer_id') }} as customer_key,
        {{ member_key('orders.channel') }} as channel_key,
        cast(orders.ordered_at as date) as order_date,

        ---------- attributes
        orders.channel as channel_code,
        orders.store_id,
        orders.status,
        orders.currency,
        orders.promo_code,

        ---------- amounts
        cast(orders.subtotal_amount as decimal(14, 2)) as subtotal_amount,
        cast(coalesce(orders.discount_amount, 0) as decimal(14, 2)) as discount_amount,
        cast(coalesce(orders.shipping_amount, 0) as decimal(14, 2)) as shipping_amount,
        cast(coalesce(orders.tax_amount, 0) as decimal(14, 2)) as tax_amount,
        cast(orders.total_amount as decimal(14, 2)) as total_amount,
        cast(coalesce(return_totals.refunded_amount, 0) as decimal(14, 2)) as refunded_amount,
        cast(orders.total_amount - coalesce(return_totals.refunded_amount, 0) as decimal(14, 2)) as net_amount,

        ---------- counts
        cast(coalesce(item_totals.line_count, 0) as integer) as line_count,
        cast(coalesce(item_totals.unit_count, 0) as integer) as unit_count,
        cast(coalesce(return_totals.units_returned, 0) as integer) as units_returned,

        ---------- flags
        orders.status = 'cancelled' as is_cancelled,
        return_totals.order_id is not null as has_return,
        coalesce(item_totals.has_recommended_item, false) as has_recommended_item,
        orders.promo_code is not null as has_promo_code,

        ---------- timestamps
        cast(orders.ordered_at as timestamp) as ordered_at,
        cast(orders.updated_at as timestamp) as updated_at
    from orders
    left join shop_xref
        on orders.customer_id = shop_xref.shop_customer_id
    left join item_totals
        on orders.order_id = item_totals.order_id
    left join return_totals
        on orders.order_id = return_totals.order_id
    {%- if is_incremental() %}
    where orders.order_id in (select touched.order_id from touched)
    {%- endif %}

)

select * from final
