-- One row per e-mail platform event (sent, delivered, open, click, convert, unsubscribe, bounce),
-- keyed to the golden customer of the subscriber, the campaign and the event date.

{{ config(materialized='incremental', unique_key='event_id') }}

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

{%- if is_incremental() %}

-- the events a daily run rebuilds: new versions, events of a campaign with a new version (its
-- type), re-keyed customers
touched as (

    select event_id from events where {{ in_changed_partitions('_source_file') }}
    union
    select events.event_id
    from events
    inner join {{ ref('stg_marketing__campaigns') }} as changed_campaigns
        on events.campaign_id = changed_campaigns.campaign_id
    where {{ in_changed_partitions('changed_campaigns._source_file') }}
    union
    -- rows whose customer now resolves to another golden id (a merge or a split of the day)
    select events.event_id
    from events
    inner join {{ this }} as built
        on built.event_id = events.event_id
    left join marketing_xref
        on events.subscriber_id = marketing_xref.source_id
    where built.customer_key <> {{ member_key('marketing_xref.customer_id') }}

),
{%- endif %}

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
        cast(events.event_at as timestamp) as event_at
    from events
    left join campaigns
        on events.campaign_id = campaigns.campaign_id
    left join marketing_xref
        on events.subscriber_id = marketing_xref.source_id
    {%- if is_incremental() %}
    where events.event_id in (select touched.event_id from touched)
    {%- endif %}

)

select * from final
