-- One row per recommendation that converted (at least one purchase feedback): the order it was
-- bought in, the amount the platform attributed, and what the shop recorded for that order and
-- for the recommended product's lines in it, so attribution can be checked against the orders.

with

recommendations as (

    select * from {{ ref('fct_product_recommendations') }}
    where is_converted

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

order_items as (

    select * from {{ ref('stg_shop__order_items') }}

),

recommended_lines as (

    select
        recommendations.recommendation_id,
        sum(order_items.line_amount) as line_amount,
        sum(order_items.quantity) as quantity,
        max(case when order_items.is_from_recommendation then 1 else 0 end) = 1 as is_flagged_from_recommendation
    from recommendations
    inner join order_items
        on recommendations.converted_order_id = order_items.order_id
        and recommendations.product_id = order_items.product_id
    group by recommendations.recommendation_id

),

final as (

    select
        ---------- ids
        recommendations.recommendation_id,
        recommendations.converted_order_id as order_id,
        recommendations.customer_ref,
        recommendations.product_id,

        ---------- keys
        cast(recommendations.converted_at as date) as converted_date,
        recommendations.served_date,
        recommendations.customer_key,
        recommendations.product_key,
        recommendations.algorithm_key,

        ---------- attributes
        recommendations.algorithm,
        recommendations.context,
        recommendations.slot_rank,

        ---------- amounts
        recommendations.purchase_count,
        recommendations.revenue as conversion_amount,
        cast(orders.total_amount as decimal(14, 2)) as order_total_amount,
        cast(recommended_lines.line_amount as decimal(14, 2)) as recommended_line_amount,
        cast(recommended_lines.quantity as integer) as recommended_quantity,

        ---------- flags
        orders.order_id is not null as is_order_found,
        recommended_lines.recommendation_id is not null as is_product_in_order,
        coalesce(recommended_lines.is_flagged_from_recommendation, false) as is_line_flagged_from_recommendation,

        ---------- timestamps
        cast(recommendations.served_at as timestamp) as served_at,
        cast(recommendations.converted_at as timestamp) as converted_at,
        cast(orders.ordered_at as timestamp) as ordered_at,

        ---------- durations
        cast(
            cast({{ dbt.datediff('recommendations.served_at', 'recommendations.converted_at', 'second') }} as double) / 3600
            as double
        ) as hours_to_conversion
    from recommendations
    left join orders
        on recommendations.converted_order_id = orders.order_id
    left join recommended_lines
        on recommendations.recommendation_id = recommended_lines.recommendation_id

)

select * from final
