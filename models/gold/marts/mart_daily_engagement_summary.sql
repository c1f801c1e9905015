-- One row per day of the year up to the as-of date (var as_of_date, default the newest load):
-- the "Daily Customer Engagement Summary" flow — new tickets, satisfaction of tickets
-- resolved that day, negative tickets still open, new opportunities, e-mail performance and
-- orders. The 8 AM flow reads the row of the day before the as-of date.

with

as_of as (

    select {{ as_of_date(ref('stg_shop__orders')) }} as as_of_date

),

calendar as (

    {{ day_spine(dbt.dateadd('day', 1 - var('engagement_summary_days'), as_of_date(ref('stg_shop__orders'))), as_of_date(ref('stg_shop__orders'))) }}

),

tickets as (

    select * from {{ ref('fct_support_tickets') }}

),

created as (

    select
        created_date as summary_date,
        count(*) as new_tickets,
        count(*) filter (where sentiment_label = 'Negative') as new_negative_tickets,
        count(*) filter (where sentiment_label = 'Negative' and is_open) as negative_tickets_still_open
    from tickets
    group by created_date

),

resolved as (

    select
        resolved_date as summary_date,
        count(*) as tickets_resolved,
        avg(satisfaction_score) as average_satisfaction_resolved
    from tickets
    where resolved_date is not null
    group by resolved_date

),

opportunities as (

    select
        cast(created_at as date) as summary_date,
        count(*) as new_opportunities,
        sum(amount) as new_opportunity_value
    from {{ ref('opportunity_golden') }}
    group by cast(created_at as date)

),

emails as (

    select
        event_date as summary_date,
        count(*) filter (where event_type = 'sent') as emails_sent,
        count(*) filter (where is_open) as email_opens,
        count(*) filter (where is_click) as email_clicks,
        count(*) filter (where is_conversion) as email_conversions,
        sum(revenue) as email_revenue
    from {{ ref('fct_email_events') }}
    group by event_date

),

orders as (

    select
        order_date as summary_date,
        count(*) as orders,
        sum(total_amount) as order_revenue
    from {{ ref('fct_orders') }}
    where not is_cancelled
    group by order_date

),

final as (

    select
        cast(calendar.date_day as date) as summary_date,
        (select as_of_date from as_of) as as_of_date,

        ---------- support
        cast(coalesce(created.new_tickets, 0) as integer) as new_tickets,
        cast(coalesce(created.new_negative_tickets, 0) as integer) as new_negative_tickets,
        cast(coalesce(created.negative_tickets_still_open, 0) as integer) as negative_tickets_still_open,
        cast(coalesce(resolved.tickets_resolved, 0) as integer) as tickets_resolved,
        cast(resolved.average_satisfaction_resolved as double) as average_satisfaction_resolved,

        ---------- sales
        cast(coalesce(opportunities.new_opportunities, 0) as integer) as new_opportunities,
        cast(coalesce(opportunities.new_opportunity_value, 0) as decimal(14, 2)) as new_opportunity_value,

        ---------- e-mail
        cast(coalesce(emails.emails_sent, 0) as integer) as emails_sent,
        cast(coalesce(emails.email_opens, 0) as integer) as email_opens,
        cast(coalesce(emails.email_clicks, 0) as integer) as email_clicks,
        cast(coalesce(emails.email_conversions, 0) as integer) as email_conversions,
        cast(case when emails.emails_sent > 0 then emails.email_opens * cast(1 as double) / emails.emails_sent end as double) as email_open_rate,
        cast(case when emails.emails_sent > 0 then emails.email_clicks * cast(1 as double) / emails.emails_sent end as double) as email_click_rate,
        cast(coalesce(emails.email_revenue, 0) as decimal(14, 2)) as email_revenue,

        ---------- orders
        cast(coalesce(orders.orders, 0) as integer) as orders,
        cast(coalesce(orders.order_revenue, 0) as decimal(14, 2)) as order_revenue,

        ---------- alert
        coalesce(created.negative_tickets_still_open, 0) > {{ var('escalation_open_negative_tickets') }} as needs_jira_escalation
    from calendar
    left join created on calendar.date_day = created.summary_date
    left join resolved on calendar.date_day = resolved.summary_date
    left join opportunities on calendar.date_day = opportunities.summary_date
    left join emails on calendar.date_day = emails.summary_date
    left join orders on calendar.date_day = orders.summary_date

)

select * from final
