-- One row per personalised impression served on the site or app (the personalisation platform's
-- serving log): which strategy served it, in which session and channel (the session's web or
-- app channel), the offer shown, and its outcome (not displayed, displayed, clicked, converted)
-- with the order amount of a conversion. Keyed to the golden customer through the shop
-- crosswalk (the unknown member when the shop account is not matched).

{{ config(materialized='incremental', unique_key='personalization_event_id') }}

with

personalization_events as (

    select * from {{ ref('stg_mlops__personalization_events') }}

),

web_sessions as (

    select session_id, channel_key from {{ ref('fct_web_sessions') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

{%- if is_incremental() %}

-- the events a daily run rebuilds: new versions, and rows whose customer or session channel
-- now resolves to another key (a merge of the day, a session that arrived after its event)
touched as (

    select personalization_event_id
    from personalization_events
    where {{ in_changed_partitions('_source_file') }}
    union
    select built.personalization_event_id
    from {{ this }} as built
    inner join personalization_events
        on built.personalization_event_id = personalization_events.personalization_event_id
    left join web_sessions
        on built.session_id = web_sessions.session_id
    left join shop_xref
        on personalization_events.customer_ref = shop_xref.shop_customer_id
    where built.customer_key <> {{ member_key('shop_xref.customer_id') }}
        or built.channel_key <> {{ resolve_key('web_sessions.channel_key') }}

),
{%- endif %}

events_flagged as (

    select
        personalization_events.*,
        coalesce(personalization_events.is_displayed, false) as was_displayed,
        coalesce(personalization_events.is_clicked, false) as was_clicked,
        coalesce(personalization_events.is_converted, false) as was_converted
    from personalization_events
    {%- if is_incremental() %}
    where personalization_events.personalization_event_id in (
        select touched.personalization_event_id from touched
    )
    {%- endif %}

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['events_flagged.personalization_event_id']) }} as personalization_event_key,
        {{ member_key('shop_xref.customer_id') }} as customer_key,
        {{ resolve_key('web_sessions.channel_key') }} as channel_key,
        cast(events_flagged.served_at as date) as served_date,

        ---------- ids
        events_flagged.personalization_event_id,
        events_flagged.session_id,
        events_flagged.offer_id,

        ---------- attributes
        events_flagged.strategy,
        case
            when events_flagged.was_converted then 'converted'
            when events_flagged.was_clicked then 'clicked'
            when events_flagged.was_displayed then 'displayed'
            else 'not_displayed'
        end as outcome,

        ---------- measures
        cast(case when events_flagged.was_converted
            then coalesce(events_flagged.conversion_amount, 0) else 0 end as decimal(14, 2))
            as conversion_amount,

        ---------- flags
        events_flagged.was_displayed as is_displayed,
        events_flagged.was_clicked as is_clicked,
        events_flagged.was_converted as is_converted,

        ---------- timestamps
        cast(events_flagged.served_at as timestamp) as served_at
    from events_flagged
    left join web_sessions
        on events_flagged.session_id = web_sessions.session_id
    left join shop_xref
        on events_flagged.customer_ref = shop_xref.shop_customer_id

)

select * from final
