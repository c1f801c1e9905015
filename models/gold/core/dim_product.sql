-- One row per product, plus the unknown member: the conformed product dimension with its
-- margin and return rates to date.

with

products as (

    select * from {{ ref('product_golden') }}

),

known as (

    select
        {{ surrogate_key(['product_id']) }} as product_key,
        product_id,
        product_name,
        category,
        subcategory,
        brand,
        fit_type,
        size_range,
        cast(list_price as decimal(14, 2)) as list_price,
        cast(unit_cost as decimal(14, 2)) as unit_cost,
        cast(gross_margin_rate as double) as gross_margin_rate,
        cast(return_rate as double) as return_rate,
        cast(fit_return_rate as double) as fit_return_rate,
        is_active,
        launch_date
    from products

),

unknown as (

    {{ unknown_member_row() }}

)

select * from known
union all
select * from unknown
