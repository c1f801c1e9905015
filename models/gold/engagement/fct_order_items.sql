-- One row per order line (newest version): the product, size, quantity and price, and whether
-- and why the line was returned. Keyed to dim_customer, dim_product and dim_date (order_date).

{{ config(materialized='incremental', unique_key='order_item_id') }}

with

items as (

    select * from {{ ref('stg_shop__order_items') }}

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

returns as (

    select
        order_item_id,
        sum(quantity) as units_returned,
        sum(refund_amount) as refunded_amount,
        min(reason) as return_reason,
        min(returned_at) as first_returned_at
    from {{ ref('stg_shop__returns') }}
    group by order_item_id

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

{%- if is_incremental() %}

-- the items a daily run rebuilds: new versions of the item or its order, new returns,
-- re-keyed customers
touched as (

    select order_item_id from items where {{ in_changed_partitions('_source_file') }}
    union
    select items.order_item_id
    from items
    inner join orders
        on items.order_id = orders.order_id
    where {{ in_changed_partitions('orders._source_file') }}
    union
    select order_item_id
    from {{ ref('stg_shop__returns') }}
    where {{ in_changed_partitions('_source_file') }}
    union
    -- rows whose customer now resolves to another golden id (a merge or a split of the day)
    select items.order_item_id
    from items
    inner join {{ this }} as built
        on built.order_item_id = items.order_item_id
    inner join orders
        on items.order_id = orders.order_id
    left join shop_xref
        on orders.customer_id = shop_xref.shop_customer_id
    where built.customer_key <> {{ member_key('shop_xref.customer_id') }}

),
{%- endif %}

final as (

    select
        ---------- keys
        {{ surrogate_key(['items.order_item_id']) }} as order_item_key,
        items.order_item_id,
        {{ surrogate_key(['items.order_id']) }} as order_key,
        items.order_id,
        {{ member_key('shop_xref.customer_id') }} as customer_key,
        {{ member_key('items.product_id') }} as product_key,
        cast(orders.ordered_at as date) as order_date,

        ---------- attributes
        items.size,
        orders.channel as channel_code,
        returns.return_reason,

        ---------- measures
        cast(items.quantity as integer) as quantity,
        cast(items.unit_price as decimal(14, 2)) as unit_price,
        cast(items.line_amount as decimal(14, 2)) as line_amount,
        cast(coalesce(returns.units_returned, 0) as integer) as units_returned,
        cast(coalesce(returns.refunded_amount, 0) as decimal(14, 2)) as refunded_amount,

        ---------- flags
        returns.order_item_id is not null as is_returned,
        coalesce(returns.return_reason in ({{ fit_return_reasons() }}), false) as is_returned_for_fit,
        coalesce(items.is_from_recommendation, false) as is_from_recommendation,
        orders.status = 'cancelled' as is_cancelled,

        ---------- timestamps
        cast(orders.ordered_at as timestamp) as ordered_at,
        cast(returns.first_returned_at as timestamp) as returned_at
    from items
    inner join orders
        on items.order_id = orders.order_id
    left join returns
        on items.order_item_id = returns.order_item_id
    left join shop_xref
        on orders.customer_id = shop_xref.shop_customer_id
    {%- if is_incremental() %}
    where items.order_item_id in (select touched.order_item_id from touched)
    {%- endif %}

)

select * from final
