-- One row per golden customer: behavioural aggregates over every source system (purchases,
-- returns, support, e-mail, reviews, FitMap, web, loyalty, sentiment) as of the newest load.
-- Gold facts, the health score and the CLV model read these instead of re-aggregating bronze.

with

customers as (

    select customer_id from {{ ref('customer_golden') }}

),

xref as (

    select * from {{ ref('customer_xref') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

orders as (

    select
        shop_xref.customer_id,
        orders.order_id,
        orders.ordered_at,
        orders.total_amount
    from {{ ref('stg_shop__orders') }} as orders
    inner join shop_xref
        on orders.customer_id = shop_xref.shop_customer_id
    where orders.status <> 'cancelled'

),

as_of as (

    select {{ as_of_date(ref('stg_shop__orders')) }} as as_of_date

),

order_features as (

    select
        customer_id,
        count(*) as order_count,
        count(distinct cast(ordered_at as date)) as purchase_day_count,
        sum(total_amount) as lifetime_revenue,
        avg(total_amount) as average_order_value,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        sum(case when ordered_at >= {{ dbt.dateadd('day', -var('feature_recent_orders_days'), '(select as_of_date from as_of)') }} then 1 else 0 end) as orders_90d
    from orders
    group by customer_id

),

items as (

    select
        orders.customer_id,
        items.order_item_id,
        items.quantity,
        items.line_amount,
        products.category
    from {{ ref('stg_shop__order_items') }} as items
    inner join orders
        on items.order_id = orders.order_id
    left join {{ ref('stg_shop__products') }} as products
        on items.product_id = products.product_id

),

category_rank as (

    select
        customer_id,
        category,
        row_number() over (
            partition by customer_id order by sum(line_amount) desc, category
        ) as category_rank
    from items
    where category is not null
    group by customer_id, category

),

category_features as (

    select
        customer_id,
        max(case when category_rank = 1 then category end) as favourite_category,
        max(case when category_rank = 2 then category end) as second_category,
        count(*) as category_count
    from category_rank
    group by customer_id

),

item_features as (

    select
        customer_id,
        sum(quantity) as units_bought
    from items
    group by customer_id

),

return_features as (

    select
        shop_xref.customer_id,
        count(*) as return_count,
        sum(returns.quantity) as units_returned,
        sum(returns.refund_amount) as refunded_amount,
        sum(case when returns.reason in ({{ fit_return_reasons() }}) then 1 else 0 end) as sizing_return_count,
        max(returns.returned_at) as last_return_at
    from {{ ref('stg_shop__returns') }} as returns
    inner join shop_xref
        on returns.customer_id = shop_xref.shop_customer_id
    group by shop_xref.customer_id

),

ticket_features as (

    select
        xref.customer_id,
        count(*) as ticket_count,
        sum(case when tickets.created_at >= {{ dbt.dateadd('day', -var('health_support_window_days'), '(select as_of_date from as_of)') }} then 1 else 0 end) as tickets_60d,
        sum(case when tickets.ticket_type = 'Sizing Issue' then 1 else 0 end) as sizing_ticket_count,
        sum(case when {{ is_open_ticket('tickets.status') }} then 1 else 0 end) as open_ticket_count,
        {{ exact_mean('sum(tickets.satisfaction_score)', 'count(tickets.satisfaction_score)') }} as average_satisfaction,
        max(tickets.created_at) as last_ticket_at
    from {{ ref('stg_support__tickets') }} as tickets
    inner join xref
        on xref.source_system = 'support'
        and cast(tickets.requester_id as {{ dbt.type_string() }}) = xref.source_id
    group by xref.customer_id

),

email_features as (

    select
        xref.customer_id,
        sum(case when events.event_type = 'sent' then 1 else 0 end) as emails_sent,
        sum(case when events.event_type = 'open' then 1 else 0 end) as email_opens,
        sum(case when events.event_type = 'click' then 1 else 0 end) as email_clicks,
        sum(case when events.event_type = 'convert' then 1 else 0 end) as email_conversions,
        max(case when events.event_type in ('open', 'click', 'convert') then events.event_at end) as last_email_interaction_at
    from {{ ref('stg_marketing__email_events') }} as events
    inner join xref
        on xref.source_system = 'marketing'
        and events.subscriber_id = xref.source_id
    group by xref.customer_id

),

review_features as (

    select
        shop_xref.customer_id,
        count(*) as review_count,
        avg(reviews.rating) as average_rating_given,
        sum(case when {{ is_low_rating('reviews.rating') }} then 1 else 0 end) as low_rating_count,
        max(reviews.submitted_at) as last_review_at
    from {{ ref('stg_reviews__product_reviews') }} as reviews
    inner join shop_xref
        on reviews.customer_id = shop_xref.shop_customer_id
    group by shop_xref.customer_id

),

fitmap_features as (

    select
        customer_id,
        count(*) as fitmap_scan_count,
        max(scanned_at) as last_fitmap_scan_at,
        max(case when scan_rank = 1 then recommended_top_size end) as recommended_top_size,
        max(case when scan_rank = 1 then recommended_bottom_size end) as recommended_bottom_size
    from (
        select
            shop_xref.customer_id,
            scans.scanned_at,
            scans.recommended_top_size,
            scans.recommended_bottom_size,
            row_number() over (partition by shop_xref.customer_id order by scans.scanned_at desc, scans.scan_id) as scan_rank
        from {{ ref('stg_fitmap__scans') }} as scans
        inner join shop_xref
            on scans.customer_id = shop_xref.shop_customer_id
    ) as ranked
    group by customer_id

),

web_features as (

    select
        shop_xref.customer_id,
        count(*) as web_session_count,
        sum(case when sessions.is_converted then 1 else 0 end) as converted_session_count,
        max(sessions.session_started_at) as last_web_session_at
    from {{ ref('stg_shop__web_sessions') }} as sessions
    inner join shop_xref
        on sessions.customer_id = shop_xref.shop_customer_id
    group by shop_xref.customer_id

),

loyalty_features as (

    select
        xref.customer_id,
        sum(ledger.points) as loyalty_points_balance,
        sum(case when ledger.entry_type = 'earn' then ledger.points else 0 end) as loyalty_points_earned,
        sum(case when ledger.entry_type = 'redeem' then -ledger.points else 0 end) as loyalty_points_redeemed
    from {{ ref('stg_loyalty__points_ledger') }} as ledger
    inner join xref
        on xref.source_system = 'loyalty'
        and ledger.member_id = xref.source_id
    group by xref.customer_id

),

sentiment_features as (

    select
        customer_id,
        {{ exact_mean('sum(' ~ exact_decimal('sentiment_score') ~ ')', 'count(sentiment_score)') }} as average_sentiment,
        sum(case when sentiment_label = 'negative' then 1 else 0 end) as negative_text_count,
        count(*) as text_count
    from {{ ref('sentiment_unified') }}
    where customer_id is not null
    group by customer_id

),

final as (

    select
        customers.customer_id,
        (select as_of_date from as_of) as as_of_date,

        ---------- purchases
        coalesce(order_features.order_count, 0) as order_count,
        coalesce(order_features.purchase_day_count, 0) as purchase_day_count,
        coalesce(order_features.lifetime_revenue, 0) as lifetime_revenue,
        order_features.average_order_value,
        order_features.first_order_at,
        order_features.last_order_at,
        {{ dbt.datediff('cast(order_features.last_order_at as date)', '(select as_of_date from as_of)', 'day') }} as days_since_last_order,
        coalesce(order_features.orders_90d, 0) as orders_90d,
        coalesce(item_features.units_bought, 0) as units_bought,
        category_features.favourite_category,
        category_features.second_category,
        coalesce(category_features.category_count, 0) as category_count,

        ---------- returns
        coalesce(return_features.return_count, 0) as return_count,
        coalesce(return_features.units_returned, 0) as units_returned,
        coalesce(return_features.refunded_amount, 0) as refunded_amount,
        coalesce(return_features.sizing_return_count, 0) as sizing_return_count,
        return_features.last_return_at,

        ---------- support
        coalesce(ticket_features.ticket_count, 0) as ticket_count,
        coalesce(ticket_features.tickets_60d, 0) as tickets_60d,
        coalesce(ticket_features.sizing_ticket_count, 0) as sizing_ticket_count,
        coalesce(ticket_features.open_ticket_count, 0) as open_ticket_count,
        ticket_features.average_satisfaction,
        ticket_features.last_ticket_at,

        ---------- e-mail
        coalesce(email_features.emails_sent, 0) as emails_sent,
        coalesce(email_features.email_opens, 0) as email_opens,
        coalesce(email_features.email_clicks, 0) as email_clicks,
        coalesce(email_features.email_conversions, 0) as email_conversions,
        case when email_features.emails_sent > 0
            then least(1.0, email_features.email_opens * 1.0 / email_features.emails_sent) end as email_open_rate,
        case when email_features.emails_sent > 0
            then least(1.0, email_features.email_clicks * 1.0 / email_features.emails_sent) end as email_click_rate,
        email_features.last_email_interaction_at,

        ---------- reviews
        coalesce(review_features.review_count, 0) as review_count,
        review_features.average_rating_given,
        coalesce(review_features.low_rating_count, 0) as low_rating_count,
        review_features.last_review_at,

        ---------- FitMap
        coalesce(fitmap_features.fitmap_scan_count, 0) as fitmap_scan_count,
        fitmap_features.last_fitmap_scan_at,
        fitmap_features.recommended_top_size,
        fitmap_features.recommended_bottom_size,

        ---------- web
        coalesce(web_features.web_session_count, 0) as web_session_count,
        coalesce(web_features.converted_session_count, 0) as converted_session_count,
        web_features.last_web_session_at,

        ---------- loyalty
        coalesce(loyalty_features.loyalty_points_balance, 0) as loyalty_points_balance,
        coalesce(loyalty_features.loyalty_points_earned, 0) as loyalty_points_earned,
        coalesce(loyalty_features.loyalty_points_redeemed, 0) as loyalty_points_redeemed,

        ---------- sentiment
        sentiment_features.average_sentiment,
        coalesce(sentiment_features.negative_text_count, 0) as negative_text_count,
        coalesce(sentiment_features.text_count, 0) as text_count

    from customers
    left join order_features on customers.customer_id = order_features.customer_id
    left join item_features on customers.customer_id = item_features.customer_id
    left join category_features on customers.customer_id = category_features.customer_id
    left join return_features on customers.customer_id = return_features.customer_id
    left join ticket_features on customers.customer_id = ticket_features.customer_id
    left join email_features on customers.customer_id = email_features.customer_id
    left join review_features on customers.customer_id = review_features.customer_id
    left join fitmap_features on customers.customer_id = fitmap_features.customer_id
    left join web_features on customers.customer_id = web_features.customer_id
    left join loyalty_features on customers.customer_id = loyalty_features.customer_id
    left join sentiment_features on customers.customer_id = sentiment_features.customer_id

)

select * from final
