-- One row per golden customer: every metric the segment rules, RFM, the health score and the
-- next best action read, in one place and as of the as-of date.

with

customers as (

    select * from {{ ref('dim_customer') }}
    where customer_key <> {{ unknown_member_key() }}

),

features as (

    select * from {{ ref('customer_features') }}

),

customer_value as (

    select * from {{ ref('fct_customer_value') }}

),

orders as (

    select
        customer_key,
        count(*) as orders_with_status,
        sum(case when has_promo_code then 1 else 0 end) as promo_orders
    from {{ ref('fct_orders') }}
    where not is_cancelled
    group by customer_key

),

opportunities as (

    select
        customer_id,
        count(*) filter (where is_open) as open_opportunity_count,
        sum(case when is_open then amount else 0 end) as open_opportunity_value
    from {{ ref('opportunity_golden') }}
    where customer_id is not null
    group by customer_id

),

b2b as (

    select distinct xref.customer_id
    from {{ ref('stg_crm__contacts') }} as contacts
    inner join {{ ref('customer_xref') }} as xref
        on xref.source_system = 'crm_contact'
        and contacts.contact_id = xref.source_id
    where contacts.account_name is not null

),

as_of as (

    select max(as_of_date) as as_of_date from features

),

loyalty as (

    select
        xref.customer_id,
        count(*) as loyalty_activity_entries
    from {{ ref('stg_loyalty__points_ledger') }} as ledger
    inner join {{ ref('customer_xref') }} as xref
        on xref.source_system = 'loyalty'
        and ledger.member_id = xref.source_id
    cross join as_of
    where ledger.entry_type in ('{{ var('health_loyalty_entry_types') | join("', '") }}')
        and ledger.entry_at < {{ dbt.dateadd('day', 1, 'as_of.as_of_date') }}
        and ledger.entry_at >= {{ dbt.dateadd('day', -var('health_loyalty_window_days'), 'as_of.as_of_date') }}
    group by xref.customer_id

),

final as (

    select
        ---------- keys
        customers.customer_key,
        customers.customer_id,
        features.as_of_date,

        ---------- recency and tenure
        features.days_since_last_order,
        {{ dbt.datediff('customers.signup_date', 'features.as_of_date', 'day') }} as days_since_signup,

        ---------- purchases
        features.order_count,
        features.lifetime_revenue,
        features.average_order_value,
        features.last_order_at,
        features.category_count,
        features.favourite_category,
        case when orders.orders_with_status > 0
            then orders.promo_orders * cast(1 as double) / orders.orders_with_status end as promo_order_share,
        features.sizing_return_count,
        features.return_count,

        ---------- value
        coalesce(customer_value.clv_decile, 0) as clv_decile,
        customer_value.churn_probability,
        customer_value.predicted_clv_12mo,

        ---------- engagement
        features.email_open_rate,
        features.email_click_rate,
        features.emails_sent,
        features.last_email_interaction_at,
        features.ticket_count,
        features.tickets_60d,
        features.sizing_ticket_count,
        features.average_satisfaction,
        features.last_ticket_at,
        features.review_count,
        features.average_rating_given,
        features.low_rating_count,
        features.average_sentiment,
        features.negative_text_count,
        features.fitmap_scan_count,
        features.last_fitmap_scan_at,
        coalesce(loyalty.loyalty_activity_entries, 0) as loyalty_activity_entries,

        ---------- sales
        coalesce(opportunities.open_opportunity_count, 0) as open_opportunity_count,
        coalesce(opportunities.open_opportunity_value, 0) as open_opportunity_value,
        case when b2b.customer_id is not null then 1 else 0 end as is_b2b
    from customers
    left join features
        on customers.customer_id = features.customer_id
    left join customer_value
        on customers.customer_key = customer_value.customer_key
    left join orders
        on customers.customer_key = orders.customer_key
    left join opportunities
        on customers.customer_id = opportunities.customer_id
    left join b2b
        on customers.customer_id = b2b.customer_id
    left join loyalty
        on customers.customer_id = loyalty.customer_id

)

select * from final
