-- One row per recommendation served (one product in one slot for one customer): what the
-- customer did with it, from the feedback events aggregated per recommendation (clicked,
-- dismissed, added to cart, purchased, revenue), keyed to the golden customer (the shop account
-- the platform knows, through silver.customer_xref), the product and the algorithm.

{{ config(materialized='incremental', unique_key='recommendation_id') }}

with

served as (

    select * from {{ ref('stg_mlops__recommendations_served') }}

),

feedback as (

    select * from {{ ref('stg_mlops__recommendation_feedback') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

products as (

    select product_id from {{ ref('product_golden') }}

),

algorithms as (

    select * from {{ ref('dim_recommendation_algorithm') }}

),

{%- if is_incremental() %}

-- the recommendations a daily run rebuilds: new versions, new feedback, and rows whose
-- customer, product or algorithm now resolves to another key (a merge of the day, a product
-- or an algorithm seen for the first time)
touched as (

    select recommendation_id from served where {{ in_changed_partitions('_source_file') }}
    union
    select recommendation_id from feedback where {{ in_changed_partitions('_source_file') }}
    union
    select built.recommendation_id
    from {{ this }} as built
    left join shop_xref
        on built.customer_ref = shop_xref.shop_customer_id
    left join products
        on built.product_id = products.product_id
    left join algorithms
        on built.algorithm = algorithms.algorithm
    where built.customer_key <> {{ member_key('shop_xref.customer_id') }}
        or built.product_key <> {{ member_key('products.product_id') }}
        or built.algorithm_key <> {{ resolve_key('algorithms.algorithm_key') }}

),
{%- endif %}

purchases_ranked as (

    select
        recommendation_id,
        order_id,
        row_number() over (
            partition by recommendation_id
            order by feedback_at, feedback_id
        ) as purchase_rank
    from feedback
    where feedback_type = 'purchase'

),

feedback_summary as (

    select
        recommendation_id,
        count(*) as feedback_event_count,
        sum(case when feedback_type = 'click' then 1 else 0 end) as click_count,
        sum(case when feedback_type = 'add_to_cart' then 1 else 0 end) as add_to_cart_count,
        sum(case when feedback_type = 'dismiss' then 1 else 0 end) as dismiss_count,
        sum(case when feedback_type = 'purchase' then 1 else 0 end) as purchase_count,
        sum(case when feedback_type = 'purchase' then coalesce(conversion_amount, 0) else 0 end) as revenue,
        sum(coalesce(dwell_seconds, 0)) as dwell_seconds,
        min(case when feedback_type = 'click' then feedback_at end) as first_clicked_at,
        min(case when feedback_type = 'add_to_cart' then feedback_at end) as first_added_to_cart_at,
        min(case when feedback_type = 'purchase' then feedback_at end) as converted_at
    from feedback
    group by recommendation_id

),

final as (

    select
        ---------- ids
        served.recommendation_id,
        served.session_id,
        served.customer_ref,
        served.product_id,
        purchases_ranked.order_id as converted_order_id,

        ---------- keys
        cast(served.served_at as date) as served_date,
        {{ member_key('shop_xref.customer_id') }} as customer_key,
        {{ member_key('products.product_id') }} as product_key,
        {{ resolve_key('algorithms.algorithm_key') }} as algorithm_key,

        ---------- attributes
        served.algorithm,
        served.context,
        cast(served.slot_rank as integer) as slot_rank,
        served.score,

        ---------- feedback
        cast(coalesce(feedback_summary.feedback_event_count, 0) as integer) as feedback_event_count,
        cast(coalesce(feedback_summary.click_count, 0) as integer) as click_count,
        cast(coalesce(feedback_summary.purchase_count, 0) as integer) as purchase_count,
        cast(coalesce(feedback_summary.dwell_seconds, 0) as integer) as dwell_seconds,
        cast(coalesce(feedback_summary.revenue, 0) as decimal(14, 2)) as revenue,

        ---------- flags
        coalesce(feedback_summary.click_count, 0) > 0 as is_clicked,
        coalesce(feedback_summary.dismiss_count, 0) > 0 as is_dismissed,
        coalesce(feedback_summary.add_to_cart_count, 0) > 0 as is_added_to_cart,
        coalesce(feedback_summary.purchase_count, 0) > 0 as is_converted,

        ---------- timestamps
        cast(served.served_at as timestamp) as served_at,
        cast(feedback_summary.first_clicked_at as timestamp) as first_clicked_at,
        cast(feedback_summary.first_added_to_cart_at as timestamp) as first_added_to_cart_at,
        cast(feedback_summary.converted_at as timestamp) as converted_at
    from served
    left join feedback_summary
        on served.recommendation_id = feedback_summary.recommendation_id
    left join purchases_ranked
        on served.recommendation_id = purchases_ranked.recommendation_id
        and purchases_ranked.purchase_rank = 1
    left join shop_xref
        on served.customer_ref = shop_xref.shop_customer_id
    left join products
        on served.product_id = products.product_id
    left join algorithms
        on served.algorithm = algorithms.algorithm
    {%- if is_incremental() %}
    where served.recommendation_id in (select touched.recommendation_id from touched)
    {%- endif %}

)

select * from final
