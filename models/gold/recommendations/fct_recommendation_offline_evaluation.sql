{%- set k = var('recommendation_eval_k') -%}

-- One row per recommendation method ('item_item_cosine', 'popularity'): an offline, leave-last-
-- out evaluation of top-{{ k }} recommendations on the shop purchase history.
--   * Purchases: non-cancelled shop order lines, per golden customer (silver.customer_xref).
--   * Held out: for every golden customer with purchases on at least 2 different days, the
--     products of their last order. Everything else is training data.
--   * item_item_cosine: co-purchase cosine similarity computed on the training purchases only
--     (as silver.product_similarity: |buyers(a) & buyers(b)| / sqrt(|buyers(a)| |buyers(b)|));
--     a customer's candidates are scored by their summed similarity to the products the customer
--     bought in training, and the top {{ k }} not already bought are recommended.
--   * popularity: the {{ k }} products with the most training buyers, minus those already bought.
--   * precision@{{ k }} = hits / {{ k }}, recall@{{ k }} = hits / held-out products, both averaged
--     over the evaluated customers; hit rate = share of customers with at least one hit;
--     catalogue coverage = distinct recommended products / products in the catalogue.
-- Ties are broken by product id, so the evaluation is deterministic.

with

order_items as (

    select * from {{ ref('stg_shop__order_items') }}

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

products as (

    select product_id from {{ ref('product_golden') }}

),

purchase_lines as (

    select distinct
        shop_xref.customer_id,
        orders.order_id,
        orders.ordered_at,
        order_items.product_id
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    inner join shop_xref
        on orders.customer_id = shop_xref.shop_customer_id
    where orders.status <> 'cancelled'

),

customer_orders as (

    select
        customer_id,
        order_id,
        ordered_at,
        row_number() over (partition by customer_id order by ordered_at desc, order_id desc) as recency_rank
    from (select distinct customer_id, order_id, ordered_at from purchase_lines) as distinct_orders

),

customer_purchase_days as (

    select
        customer_id,
        count(distinct cast(ordered_at as date)) as purchase_day_count
    from purchase_lines
    group by customer_id

),

held_out_orders as (

    select
        customer_orders.customer_id,
        customer_orders.order_id
    from customer_orders
    inner join customer_purchase_days
        on customer_orders.customer_id = customer_purchase_days.customer_id
    where customer_orders.recency_rank = 1
        and customer_purchase_days.purchase_day_count >= 2

),

held_out as (

    select distinct
        purchase_lines.customer_id,
        purchase_lines.product_id
    from purchase_lines
    inner join held_out_orders
        on purchase_lines.customer_id = held_out_orders.customer_id
        and purchase_lines.order_id = held_out_orders.order_id

),

training as (

    select distinct
        purchase_lines.customer_id,
        purchase_lines.product_id
    from purchase_lines
    left join held_out_orders
        on purchase_lines.customer_id = held_out_orders.customer_id
        and purchase_lines.order_id = held_out_orders.order_id
    where held_out_orders.order_id is null

),

evaluated_customers as (

    -- numbered: the cosine candidates (tens of millions of rows at scale 10) are grouped and
    -- ranked on this integer, not on the sixteen-character golden id
    select
        customer_id,
        row_number() over (order by customer_id) as customer_number
    from (select distinct customer_id from held_out_orders) as customers

),

customer_training as (

    select
        evaluated_customers.customer_number,
        training.*
    from training
    inner join evaluated_customers
        on training.customer_id = evaluated_customers.customer_id

),

---------- item-item cosine on the training purchases

similarity as (

    -- item-kNN: each product's top neighbours only, as silver.product_similarity keeps them;
    -- scoring every co-purchased pair would not fit in memory at scale 1
    {{ co_purchase_neighbours('training', var('similar_products_per_product')) }}

),

product_buyers as (

    select product_id, count(*) as buyer_count
    from training
    group by product_id

),

similarity_numbered as (

    -- the neighbour list is small (top neighbours per product): its cosines are rounded for the
    -- exact sum once here, to a narrow DECIMAL that adds as a 64-bit integer, not once per
    -- candidate row; and its neighbours are numbered in id order, so the candidates (millions)
    -- are grouped and ranked on integers, the id taken back once per group
    select
        similarity.product_id,
        similarity.similar_product_id,
        {{ exact_decimal('similarity.cosine_similarity', narrow=true) }} as cosine_similarity,
        dense_rank() over (order by similarity.similar_product_id) as similar_product_number
    from similarity

),

cosine_scores as (

    select
        customer_training.customer_number,
        similarity_numbered.similar_product_number,
        any_value(similarity_numbered.similar_product_id) as product_id,
        cast(sum(similarity_numbered.cosine_similarity) as double) as score
    from customer_training
    inner join similarity_numbered
        on customer_training.product_id = similarity_numbered.product_id
    group by customer_training.customer_number, similarity_numbered.similar_product_number

),

cosine_ranked as (

    select
        cosine_scores.customer_number,
        cosine_scores.product_id,
        row_number() over (
            partition by cosine_scores.customer_number
            order by cosine_scores.score desc, cosine_scores.similar_product_number
        ) as recommendation_rank
    from cosine_scores
    left join customer_training as bought
        on cosine_scores.customer_number = bought.customer_number
        and cosine_scores.product_id = bought.product_id
    where bought.product_id is null

),

---------- popularity on the training purchases

popularity_ranked as (

    select
        product_id,
        row_number() over (order by buyer_count desc, product_id) as popularity_rank
    from product_buyers

),

training_product_counts as (

    -- a customer owns at most this many of the top products, so the top k + this many always
    -- leave k unbought: the candidates a customer needs grow with their own purchases, not with
    -- the heaviest buyer's (a bound shared by all customers made the list quadratic in scale)
    select customer_id, count(*) as product_count
    from customer_training
    group by customer_id

),

popularity_candidates as (

    select
        evaluated_customers.customer_id,
        popularity_ranked.product_id,
        row_number() over (
            partition by evaluated_customers.customer_id
            order by popularity_ranked.popularity_rank
        ) as recommendation_rank
    from evaluated_customers
    left join training_product_counts
        on evaluated_customers.customer_id = training_product_counts.customer_id
    inner join popularity_ranked
        on popularity_ranked.popularity_rank
            <= {{ k }} + coalesce(training_product_counts.product_count, 0)
    left join customer_training as bought
        on evaluated_customers.customer_id = bought.customer_id
        and popularity_ranked.product_id = bought.product_id
    where bought.product_id is null

),

recommendations as (

    select
        'item_item_cosine' as method,
        evaluated_customers.customer_id,
        cosine_ranked.product_id
    from cosine_ranked
    inner join evaluated_customers
        on cosine_ranked.customer_number = evaluated_customers.customer_number
    where cosine_ranked.recommendation_rank <= {{ k }}

    union all

    select 'popularity' as method, customer_id, product_id
    from popularity_candidates
    where recommendation_rank <= {{ k }}

),

methods as (

    select 'item_item_cosine' as method, 'Item-item co-purchase cosine similarity, summed over the products the customer bought' as method_description
    union all
    select 'popularity' as method, 'The most-bought products of the training period, the same list for everyone' as method_description

),

held_out_counts as (

    select customer_id, count(*) as held_out_count
    from held_out
    group by customer_id

),

recommendation_hits as (

    select
        recommendations.method,
        recommendations.customer_id,
        count(*) as recommended_count,
        count(held_out.product_id) as hit_count
    from recommendations
    left join held_out
        on recommendations.customer_id = held_out.customer_id
        and recommendations.product_id = held_out.product_id
    group by recommendations.method, recommendations.customer_id

),

per_customer as (

    select
        methods.method,
        held_out_counts.customer_id,
        held_out_counts.held_out_count,
        coalesce(recommendation_hits.recommended_count, 0) as recommended_count,
        coalesce(recommendation_hits.hit_count, 0) as hit_count
    from methods
    cross join held_out_counts
    left join recommendation_hits
        on methods.method = recommendation_hits.method
        and held_out_counts.customer_id = recommendation_hits.customer_id

),

summary as (

    select
        method,
        count(*) as customers_evaluated,
        sum(recommended_count) as recommendation_count,
        sum(hit_count) as hit_count,
        sum(held_out_count) as held_out_product_count,
        {{ exact_avg('hit_count / ' ~ k ~ '.0') }} as precision_at_k,
        {{ exact_avg('hit_count * cast(1 as double) / held_out_count') }} as recall_at_k,
        avg(case when hit_count > 0 then cast(1 as double) else cast(0 as double) end) as hit_rate_at_k
    from per_customer
    group by method

),

coverage as (

    select
        method,
        count(distinct product_id) as recommended_product_count
    from recommendations
    group by method

),

catalogue as (

    select count(*) as catalogue_product_count from products

),

final as (

    select
        ---------- ids
        methods.method,
        methods.method_description,

        ---------- setup
        cast({{ k }} as integer) as k,
        cast(coalesce(summary.customers_evaluated, 0) as integer) as customers_evaluated,
        cast(coalesce(summary.held_out_product_count, 0) as integer) as held_out_product_count,
        cast(coalesce(summary.recommendation_count, 0) as integer) as recommendation_count,
        cast(coalesce(summary.hit_count, 0) as integer) as hit_count,

        ---------- accuracy
        cast(summary.precision_at_k as double) as precision_at_10,
        cast(summary.recall_at_k as double) as recall_at_10,
        cast(summary.hit_rate_at_k as double) as hit_rate_at_10,

        ---------- diversity
        cast(coalesce(coverage.recommended_product_count, 0) as integer) as recommended_product_count,
        cast(catalogue.catalogue_product_count as integer) as catalogue_product_count,
        cast(
            case when catalogue.catalogue_product_count > 0
                then coalesce(coverage.recommended_product_count, 0) * cast(1 as double) / catalogue.catalogue_product_count
            end as double
        ) as catalog_coverage
    from methods
    cross join catalogue
    left join summary
        on methods.method = summary.method
    left join coverage
        on methods.method = coverage.method

)

select * from final
