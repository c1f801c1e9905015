-- One row per golden customer, touchpoint and day the customer used it: every interaction the
-- lake records, reduced to (customer, touchpoint, day). The touchpoints are the rows of
-- seeds/marts/relationship_touchpoints.csv; the interactions are a non-cancelled order, a
-- signed-in web session, a store visit, an e-mail opened or clicked, a support ticket opened, a
-- product review, a FitMap scan, and loyalty points earned or redeemed (the entry types of
-- var('health_loyalty_entry_types')). Read by int_customer_relationship.

with

orders as (

    select customer_key, 'order' as touchpoint, order_date as interaction_date
    from {{ ref('fct_orders') }}
    where not is_cancelled

),

web_sessions as (

    select customer_key, 'web_session' as touchpoint, session_date as interaction_date
    from {{ ref('fct_web_sessions') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

store_visits as (

    select
        {{ member_key('shop_xref.customer_id') }} as customer_key,
        'store_visit' as touchpoint,
        cast(visits.visited_at as date) as interaction_date
    from {{ ref('stg_shop__store_visits') }} as visits
    inner join shop_xref
        on visits.customer_id = shop_xref.shop_customer_id

),

email_engagement as (

    select customer_key, 'email_engagement' as touchpoint, event_date as interaction_date
    from {{ ref('fct_email_events') }}
    where is_open or is_click

),

support_tickets as (

    select customer_key, 'support_ticket' as touchpoint, created_date as interaction_date
    from {{ ref('fct_support_tickets') }}

),

product_reviews as (

    select customer_key, 'product_review' as touchpoint, review_date as interaction_date
    from {{ ref('fct_product_reviews') }}

),

fitmap_scans as (

    select customer_key, 'fitmap_scan' as touchpoint, scan_date as interaction_date
    from {{ ref('fct_fitmap_scans') }}

),

loyalty_activity as (

    select
        {{ member_key('xref.customer_id') }} as customer_key,
        'loyalty_activity' as touchpoint,
        cast(ledger.entry_at as date) as interaction_date
    from {{ ref('stg_loyalty__points_ledger') }} as ledger
    inner join {{ ref('customer_xref') }} as xref
        on xref.source_system = 'loyalty'
        and ledger.member_id = xref.source_id
    where ledger.entry_type in ('{{ var('health_loyalty_entry_types') | join("', '") }}')

),

unioned as (

    select * from orders
    union all
    select * from web_sessions
    union all
    select * from store_visits
    union all
    select * from email_engagement
    union all
    select * from support_tickets
    union all
    select * from product_reviews
    union all
    select * from fitmap_scans
    union all
    select * from loyalty_activity

),

final as (

    select distinct
        customer_key,
        touchpoint,
        interaction_date
    from unioned
    where customer_key <> {{ unknown_member_key() }}
        and interaction_date is not null

)

select * from final
