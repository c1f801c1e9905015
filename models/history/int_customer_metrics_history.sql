-- One row per golden customer and as-of date (every load date, int_history_as_of_dates): the
-- inputs of the health score and of RFM as they stood at the end of that day, from the events
-- dated on or before it (orders, tickets, e-mail events, scored texts, loyalty points entries). The definitions are
-- customer_features' (non-cancelled orders, the support window of var('health_support_window_days'));
-- the event time, not the load that brought a row, decides which day it counts for, so a late
-- row restates the days it belongs to. A customer counts from its first_seen_date on.
--
-- The cost grows with the rows it writes, not with events times days: each event is added once,
-- to the as-of date it first counts for, and a customer's totals run over the as-of dates in
-- order (a window). Joining every as-of date with every event dated before it, as a direct
-- spelling would, reads the e-mail events once per load date: a year of daily loads would read
-- them 365 times. Only the trailing-window counts (tickets of the support window, loyalty
-- entries of the loyalty window) join each event with the as-of dates whose window holds it,
-- which the window's length bounds. Means are total / count, as customer_features spells them
-- (exact_mean), so the newest day equals the features to the bit.

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

tickets as (

    select
        xref.customer_id,
        tickets.created_at,
        tickets.satisfaction_score
    from {{ ref('stg_support__tickets') }} as tickets
    inner join xref
        on xref.source_system = 'support'
        and cast(tickets.requester_id as {{ dbt.type_string() }}) = xref.source_id

),

emails as (

    select
        xref.customer_id,
        events.event_at,
        events.event_type
    from {{ ref('stg_marketing__email_events') }} as events
    inner join xref
        on xref.source_system = 'marketing'
        and events.subscriber_id = xref.source_id

),

texts as (

    select
        customer_id,
        written_at,
        sentiment_score
    from {{ ref('sentiment_unified') }}
    where customer_id is not null

),

loyalty_entries as (

    select
        xref.customer_id,
        ledger.entry_at
    from {{ ref('stg_loyalty__points_ledger') }} as ledger
    inner join xref
        on xref.source_system = 'loyalty'
        and ledger.member_id = xref.source_id
    where ledger.entry_type in ('{{ var('health_loyalty_entry_types') | join("', '") }}')

),

event_days as (

    select cast(ordered_at as date) as event_date from orders
    union
    select cast(created_at as date) as event_date from tickets
    union
    select cast(event_at as date) as event_date from emails
    union
    select cast(written_at as date) as event_date from texts

),

day_buckets as (

    -- each day with an event, and the as-of date it first counts for: the earliest on or after
    -- it (a day after the newest as-of date has none)
    select
        event_days.event_date,
        min(as_of_dates.as_of_date) as as_of_date
    from event_days
    inner join as_of_dates
        on event_days.event_date <= as_of_dates.as_of_date
    group by event_days.event_date

),

-- what each as-of date adds to a customer's running totals: the events dated after the
-- previous as-of date and on or before this one

order_additions as (

    select
        day_buckets.as_of_date,
        orders.customer_id,
        count(*) as order_count,
        sum(orders.total_amount) as lifetime_revenue,
        max(orders.ordered_at) as last_order_at
    from orders
    inner join day_buckets
        on cast(orders.ordered_at as date) = day_buckets.event_date
    group by day_buckets.as_of_date, orders.customer_id

),

ticket_additions as (

    select
        day_buckets.as_of_date,
        tickets.customer_id,
        sum(tickets.satisfaction_score) as satisfaction_total,
        count(tickets.satisfaction_score) as satisfaction_count
    from tickets
    inner join day_buckets
        on cast(tickets.created_at as date) = day_buckets.event_date
    group by day_buckets.as_of_date, tickets.customer_id

),

email_additions as (

    select
        day_buckets.as_of_date,
        emails.customer_id,
        sum(case when emails.event_type = 'sent' then 1 else 0 end) as emails_sent,
        sum(case when emails.event_type = 'open' then 1 else 0 end) as email_opens,
        sum(case when emails.event_type = 'click' then 1 else 0 end) as email_clicks
    from emails
    inner join day_buckets
        on cast(emails.event_at as date) = day_buckets.event_date
    group by day_buckets.as_of_date, emails.customer_id

),

sentiment_additions as (

    select
        day_buckets.as_of_date,
        texts.customer_id,
        sum({{ exact_decimal('texts.sentiment_score') }}) as sentiment_total,
        count(texts.sentiment_score) as sentiment_count
    from texts
    inner join day_buckets
        on cast(texts.written_at as date) = day_buckets.event_date
    group by day_buckets.as_of_date, texts.customer_id

),

-- every customer on every as-of date (those before its first_seen_date too, since an event may
-- precede it: the totals must include it), with the running totals of everything dated up to
-- that day
{%- set to_date = 'over (partition by calendar.customer_id order by calendar.as_of_date rows between unbounded preceding and current row)' %}

running_totals as (

    select
        calendar.as_of_date,
        calendar.customer_id,
        calendar.first_seen_date,
        cast(sum(order_additions.order_count) {{ to_date }} as {{ dbt.type_bigint() }}) as order_count,
        sum(order_additions.lifetime_revenue) {{ to_date }} as lifetime_revenue,
        max(order_additions.last_order_at) {{ to_date }} as last_order_at,
        sum(ticket_additions.satisfaction_total) {{ to_date }} as satisfaction_total,
        sum(ticket_additions.satisfaction_count) {{ to_date }} as satisfaction_count,
        sum(email_additions.emails_sent) {{ to_date }} as emails_sent,
        sum(email_additions.email_opens) {{ to_date }} as email_opens,
        sum(email_additions.email_clicks) {{ to_date }} as email_clicks,
        sum(sentiment_additions.sentiment_total) {{ to_date }} as sentiment_total,
        sum(sentiment_additions.sentiment_count) {{ to_date }} as sentiment_count
    from (
        select
            as_of_dates.as_of_date,
            customers.customer_id,
            customers.first_seen_date
        from as_of_dates
        cross join customers
    ) as calendar
    left join order_additions
        on calendar.as_of_date = order_additions.as_of_date
        and calendar.customer_id = order_additions.customer_id
    left join ticket_additions
        on calendar.as_of_date = ticket_additions.as_of_date
        and calendar.customer_id = ticket_additions.customer_id
    left join email_additions
        on calendar.as_of_date = email_additions.as_of_date
        and calendar.customer_id = email_additions.customer_id
    left join sentiment_additions
        on calendar.as_of_date = sentiment_additions.as_of_date
        and calendar.customer_id = sentiment_additions.customer_id

),

-- the counts over a trailing window: each event joins only the as-of dates whose window holds it

ticket_window as (

    select
        as_of_dates.as_of_date,
        tickets.customer_id,
        sum(1) as tickets_60d
    from as_of_dates
    inner join tickets
        on tickets.created_at < {{ dbt.dateadd('day', 1, 'as_of_dates.as_of_date') }}
        and tickets.created_at >= {{ dbt.dateadd('day', -var('health_support_window_days'), 'as_of_dates.as_of_date') }}
    group by as_of_dates.as_of_date, tickets.customer_id

),

loyalty_window as (

    select
        as_of_dates.as_of_date,
        loyalty_entries.customer_id,
        count(*) as loyalty_activity_entries
    from as_of_dates
    inner join loyalty_entries
        on loyalty_entries.entry_at < {{ dbt.dateadd('day', 1, 'as_of_dates.as_of_date') }}
        and loyalty_entries.entry_at >= {{ dbt.dateadd('day', -var('health_loyalty_window_days'), 'as_of_dates.as_of_date') }}
    group by as_of_dates.as_of_date, loyalty_entries.customer_id

),

final as (

    select
        running_totals.as_of_date,
        {{ member_key('running_totals.customer_id') }} as customer_key,
        running_totals.customer_id,
        {{ dbt.datediff('cast(running_totals.last_order_at as date)', 'running_totals.as_of_date', 'day') }} as days_since_last_order,
        coalesce(running_totals.order_count, 0) as order_count,
        coalesce(running_totals.lifetime_revenue, 0) as lifetime_revenue,
        {{ exact_mean('running_totals.satisfaction_total', 'running_totals.satisfaction_count') }} as average_satisfaction,
        coalesce(ticket_window.tickets_60d, 0) as tickets_60d,
        coalesce(running_totals.emails_sent, 0) as emails_sent,
        case when running_totals.emails_sent > 0
            then least(1.0, running_totals.email_opens * 1.0 / running_totals.emails_sent) end as email_open_rate,
        case when running_totals.emails_sent > 0
            then least(1.0, running_totals.email_clicks * 1.0 / running_totals.emails_sent) end as email_click_rate,
        {{ exact_mean('running_totals.sentiment_total', 'running_totals.sentiment_count') }} as average_sentiment,
        coalesce(loyalty_window.loyalty_activity_entries, 0) as loyalty_activity_entries
    from running_totals
    left join ticket_window
        on running_totals.as_of_date = ticket_window.as_of_date
        and running_totals.customer_id = ticket_window.customer_id
    left join loyalty_window
        on running_totals.as_of_date = loyalty_window.as_of_date
        and running_totals.customer_id = loyalty_window.customer_id
    -- a customer counts from its first_seen_date on
    where running_totals.first_seen_date is null
        or running_totals.first_seen_date <= running_totals.as_of_date

)

select * from final
