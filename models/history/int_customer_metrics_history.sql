-- One row per golden customer and as-of date (every load date, int_history_as_of_dates): the
-- inputs of the health score and of RFM as they stood at the end of that day, from the events
-- dated on or before it (orders, tickets, e-mail events, scored texts, loyalty points entries). The definitions are
-- customer_features' (non-cancelled orders, the support window of var('health_support_window_days'));
-- the event time, not the load that brought a row, decides which day it counts for, so a late
-- row restates the days it belongs to. A customer counts from its first_seen_date on.

with

as_of_dates as (

    select * from {{ ref('int_history_as_of_dates') }}

),

customers as (

    select
        customer_id,
        first_seen_date
    from {{ ref('customer_golden') }}

),

xref as (

    select * from {{ ref('customer_xref') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

population as (

    select
        as_of_dates.as_of_date,
        customers.customer_id
    from as_of_dates
    inner join customers
        on customers.first_seen_date is null
        or customers.first_seen_date <= as_of_dates.as_of_date

),

orders as (

    select
        shop_xref.customer_id,
        orders.ordered_at,
        orders.total_amount
    from {{ ref('stg_shop__orders') }} as orders
    inner join shop_xref
        on orders.customer_id = shop_xref.shop_customer_id
    where orders.status <> 'cancelled'

),

order_metrics as (

    select
        as_of_dates.as_of_date,
        orders.customer_id,
        count(*) as order_count,
        sum(orders.total_amount) as lifetime_revenue,
        max(orders.ordered_at) as last_order_at
    from as_of_dates
    inner join orders
        on orders.ordered_at < {{ dbt.dateadd('day', 1, 'as_of_dates.as_of_date') }}
    group by as_of_dates.as_of_date, orders.customer_id

),

ticket_metrics as (

    select
        as_of_dates.as_of_date,
        xref.customer_id,
        sum(case when tickets.created_at >= {{ dbt.dateadd('day', -var('health_support_window_days'), 'as_of_dates.as_of_date') }} then 1 else 0 end) as tickets_60d,
        avg(tickets.satisfaction_score) as average_satisfaction
    from as_of_dates
    inner join {{ ref('stg_support__tickets') }} as tickets
        on tickets.created_at < {{ dbt.dateadd('day', 1, 'as_of_dates.as_of_date') }}
    inner join xref
        on xref.source_system = 'support'
        and cast(tickets.requester_id as {{ dbt.type_string() }}) = xref.source_id
    group by as_of_dates.as_of_date, xref.customer_id

),

email_metrics as (

    select
        as_of_dates.as_of_date,
        xref.customer_id,
        sum(case when events.event_type = 'sent' then 1 else 0 end) as emails_sent,
        sum(case when events.event_type = 'open' then 1 else 0 end) as email_opens,
        sum(case when events.event_type = 'click' then 1 else 0 end) as email_clicks
    from as_of_dates
    inner join {{ ref('stg_marketing__email_events') }} as events
        on events.event_at < {{ dbt.dateadd('day', 1, 'as_of_dates.as_of_date') }}
    inner join xref
        on xref.source_system = 'marketing'
        and events.subscriber_id = xref.source_id
    group by as_of_dates.as_of_date, xref.customer_id

),

sentiment_metrics as (

    select
        as_of_dates.as_of_date,
        texts.customer_id,
        {{ exact_avg('texts.sentiment_score') }} as average_sentiment
    from as_of_dates
    inner join {{ ref('sentiment_unified') }} as texts
        on texts.written_at < {{ dbt.dateadd('day', 1, 'as_of_dates.as_of_date') }}
    where texts.customer_id is not null
    group by as_of_dates.as_of_date, texts.customer_id

),

loyalty_metrics as (

    select
        as_of_dates.as_of_date,
        xref.customer_id,
        count(*) as loyalty_activity_entries
    from as_of_dates
    inner join {{ ref('stg_loyalty__points_ledger') }} as ledger
        on ledger.entry_at < {{ dbt.dateadd('day', 1, 'as_of_dates.as_of_date') }}
        and ledger.entry_at >= {{ dbt.dateadd('day', -var('health_loyalty_window_days'), 'as_of_dates.as_of_date') }}
    inner join xref
        on xref.source_system = 'loyalty'
        and ledger.member_id = xref.source_id
    where ledger.entry_type in ('{{ var('health_loyalty_entry_types') | join("', '") }}')
    group by as_of_dates.as_of_date, xref.customer_id

),

final as (

    select
        population.as_of_date,
        {{ member_key('population.customer_id') }} as customer_key,
        population.customer_id,
        {{ dbt.datediff('cast(order_metrics.last_order_at as date)', 'population.as_of_date', 'day') }} as days_since_last_order,
        coalesce(order_metrics.order_count, 0) as order_count,
        coalesce(order_metrics.lifetime_revenue, 0) as lifetime_revenue,
        ticket_metrics.average_satisfaction,
        coalesce(ticket_metrics.tickets_60d, 0) as tickets_60d,
        coalesce(email_metrics.emails_sent, 0) as emails_sent,
        case when email_metrics.emails_sent > 0
            then least(1.0, email_metrics.email_opens * 1.0 / email_metrics.emails_sent) end as email_open_rate,
        case when email_metrics.emails_sent > 0
            then least(1.0, email_metrics.email_clicks * 1.0 / email_metrics.emails_sent) end as email_click_rate,
        sentiment_metrics.average_sentiment,
        coalesce(loyalty_metrics.loyalty_activity_entries, 0) as loyalty_activity_entries
    from population
    left join order_metrics
        on population.as_of_date = order_metrics.as_of_date
        and population.customer_id = order_metrics.customer_id
    left join ticket_metrics
        on population.as_of_date = ticket_metrics.as_of_date
        and population.customer_id = ticket_metrics.customer_id
    left join email_metrics
        on population.as_of_date = email_metrics.as_of_date
        and population.customer_id = email_metrics.customer_id
    left join sentiment_metrics
        on population.as_of_date = sentiment_metrics.as_of_date
        and population.customer_id = sentiment_metrics.customer_id
    left join loyalty_metrics
        on population.as_of_date = loyalty_metrics.as_of_date
        and population.customer_id = loyalty_metrics.customer_id

)

select * from final
