-- One row per product: the catalogue record (newest version) conformed — sizes as a list,
-- margin — with its sales and returns to date, so gold and the recommendation evaluation share
-- one definition of return rate.

with

products as (

    select * from {{ ref('stg_shop__products') }}

),

items as (

    select * from {{ ref('stg_shop__order_items') }}

),

returns as (

    select * from {{ ref('stg_shop__returns') }}

),

sales as (

    select
        items.product_id,
        count(*) as order_line_count,
        sum(items.quantity) as units_sold,
        sum(items.line_amount) as revenue
    from items
    group by items.product_id

),

returned as (

    select
        items.product_id,
        sum(returns.quantity) as units_returned,
        sum(case when returns.reason in ({{ fit_return_reasons() }}) then returns.quantity else 0 end) as units_returned_for_fit
    from returns
    inner join items
        on returns.order_item_id = items.order_item_id
    group by items.product_id

),

final as (

    select
        ---------- ids
        products.product_id,
        ---------- attributes
        products.product_name,
        products.category,
        products.subcategory,
        products.brand,
        products.fit_type,
        products.size_range,
        ---------- prices
        products.list_price,
        products.unit_cost,
        case when products.list_price > 0 and products.unit_cost is not null
            then {{ double_to_decimal('cast(products.list_price - products.unit_cost as double) / cast(products.list_price as double)', 'decimal(6, 4)') }}
        end as gross_margin_rate,
        ---------- sales to date
        coalesce(sales.order_line_count, 0) as order_line_count,
        coalesce(sales.units_sold, 0) as units_sold,
        coalesce(sales.revenue, 0) as revenue,
        coalesce(returned.units_returned, 0) as units_returned,
        case when sales.units_sold > 0
            then coalesce(returned.units_returned, 0) * 1.0 / sales.units_sold end as return_rate,
        case when sales.units_sold > 0
            then coalesce(returned.units_returned_for_fit, 0) * 1.0 / sales.units_sold end as fit_return_rate,
        ---------- flags and dates
        products.is_active,
        products.launch_date,
        products.updated_at
    from products
    left join sales
        on products.product_id = sales.product_id
    left join returned
        on products.product_id = returned.product_id

)

select * from final
