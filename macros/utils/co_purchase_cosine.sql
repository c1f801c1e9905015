{#
    Item-item cosine similarity of co-purchase over `purchases`, a relation or CTE of distinct
    (customer_id, product_id) rows: each product is the set of customers who bought it, and
        cosine(a, b) = |buyers(a) ∩ buyers(b)| / sqrt(|buyers(a)| * |buyers(b)|).
    One definition for silver.product_similarity and the offline evaluation, which computes it
    on training purchases only.
#}
{% macro co_purchase_cosine(purchases) %}
    select
        co_purchases.product_id,
        co_purchases.similar_product_id,
        co_purchases.co_buyer_count,
        co_purchases.co_buyer_count / sqrt(buyers_a.buyer_count * buyers_b.buyer_count) as cosine_similarity
    from (
        select
            a.product_id,
            b.product_id as similar_product_id,
            count(*) as co_buyer_count
        from {{ purchases }} as a
        inner join {{ purchases }} as b
            on a.customer_id = b.customer_id
            and a.product_id <> b.product_id
        group by a.product_id, b.product_id
    ) as co_purchases
    inner join (
        select product_id, count(*) as buyer_count from {{ purchases }} group by product_id
    ) as buyers_a
        on co_purchases.product_id = buyers_a.product_id
    inner join (
        select product_id, count(*) as buyer_count from {{ purchases }} group by product_id
    ) as buyers_b
        on co_purchases.similar_product_id = buyers_b.product_id
{% endmacro %}
