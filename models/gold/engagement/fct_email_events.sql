-- One row per e-mail platform event (sent, delivered, open, click, convert, unsubscribe, bounce),
-- keyed to the golden customer of the subscriber, the campaign and the event date.

with

events as (

    select * from {{ ref('stg_marketing__email_events') }}

),

campaigns as (

    select campaign_id, campaign_type from {{ ref('stg_marketing__campaigns') }}

),

marketing_xref as (

    select source_id, customer_id
    from {{ ref('customer_xref') }}
    where source_system = 'marketing'

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['events.event_id']) }} as email_event_key,
        events.event_id,
        {{ member_key('marketing_xref.customer_id') }} as customer_key,
        {{ member_key('events.campaign_id') }} as campaign_key,
        {{ member_key("'email'") }} as channel_key,
        cast(events.event_at as date) as event_date,
        events.order_id,

        ---------- attributes
        events.event_type,
        campaigns.campaign_type,
        events.link_url,

        ---------- measures
        cast(coalesce(events.revenue, 0) as decimal(14, 2)) as revenue,

        ---------- flags
        events.event_type = 'open' as is_open,
        events.event_type = 'click' as is_click,
        events.event_type = 'convert' as is_conversion,
        events.event_type = 'unsubscribe' as is_unsubscribe,

        ---------- timestamps
        events.event_at
    from events
    left join campaigns
        on events.campaign_id = campaigns.campaign_id
    left join marketing_xref
        on events.subscriber_id = marketing_xref.source_id

)

select * from final
