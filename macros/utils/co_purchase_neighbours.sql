{#
    Each product's top `neighbours` products by item-item cosine similarity of co-purchase, over
    `purchases`, a relation or CTE of distinct (customer_id, product_id) rows: each product is the
    set of customers who bought it, and
        cosine(a, b) = |buyers(a) ∩ buyers(b)| / sqrt(|buyers(a)| * |buyers(b)|).
    Ranked by cosine, then co-buyer count, then the neighbour's product id (deterministic).
    One definition for silver.product_similarity and the offline evaluation, which computes it
    on training purchases only.

    Why it is written this way: the pairs grow with the sum of squared basket sizes and with the
    square of the catalogue (at scale 10, 210 M co-purchases into 94 M distinct pairs), so the
    pairs are counted on integer numbers for customers and products (ids are strings), each
    unordered pair once (a < b) and mirrored, and product ids are joined back only to the kept
    neighbours. Numbers follow id order, so the tie-break by number is the tie-break by id.
#}
{% macro co_purchase_neighbours(purchases, neighbours) %}
    with

    product_numbers as (
        select product_id, row_number() over (order by product_id) as product_number
        from (select distinct product_id from {{ purchases }}) as products
    ),

    customer_numbers as (
        select customer_id, row_number() over (order by customer_id) as customer_number
        from (select distinct customer_id from {{ purchases }}) as customers
    ),

    numbered as (
        select
            customer_numbers.customer_number,
            product_numbers.product_number
        from {{ purchases }} as purchases
        inner join customer_numbers
            on purchases.customer_id = customer_numbers.customer_id
        inner join product_numbers
            on purchases.product_id = product_numbers.product_id
    ),

    buyers as (
        select product_number, count(*) as buyer_count
        from numbered
        group by product_number
    ),

    one_way as (
        select
            a.product_number as product_a,
            b.product_number as product_b,
            count(*) as co_buyer_count
        from numbered as a
        inner join numbered as b
            on a.customer_number = b.customer_number
            and a.product_number < b.product_number
        group by a.product_number, b.product_number
    ),

    both_ways as (
        select product_a, product_b, co_buyer_count from one_way
        union all
        select product_b as product_a, product_a as product_b, co_buyer_count from one_way
    ),

    scored as (
        select
            both_ways.product_a,
            both_ways.product_b,
            both_ways.co_buyer_count,
            both_ways.co_buyer_count / sqrt(buyers_a.buyer_count * buyers_b.buyer_count) as cosine_similarity
        from both_ways
        inner join buyers as buyers_a
            on both_ways.product_a = buyers_a.product_number
        inner join buyers as buyers_b
            on both_ways.product_b = buyers_b.product_number
    ),

    ranked as (
        {{ top_n_per_group(
            'scored', 'product_a',
            ['scored.cosine_similarity desc', 'scored.co_buyer_count desc', 'scored.product_b'],
            ['product_b', 'co_buyer_count', 'cosine_similarity'],
            neighbours, 'neighbour_rank') }}
    )

    select
        products_a.product_id,
        products_b.product_id as similar_product_id,
        ranked.co_buyer_count,
        ranked.cosine_similarity,
        ranked.neighbour_rank
    from ranked
    inner join product_numbers as products_a
        on ranked.product_a = products_a.product_number
    inner join product_numbers as products_b
        on ranked.product_b = products_b.product_number
{% endmacro %}
