-- One row per web or app session: device, traffic source, pages, and whether it converted.
-- Anonymous sessions point at the unknown customer.

{{ config(materialized='incremental', unique_key='session_id') }}

with

sessions as (

    select * from {{ ref('stg_shop__web_sessions') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

{%- if is_incremental() %}

-- the sessions a daily run rebuilds: new versions, re-keyed customers
touched as (

    select session_id from sessions where {{ in_changed_partitions('_source_file') }}
    union
    -- rows whose customer now resolves to another golden id (a merge or a split of the day)
    select sessions.session_id
    from sessions
    inner join {{ this }} as built
        on built.session_id = sessions.session_id
    left join shop_xref
        on sessions.customer_id = shop_xref.shop_customer_id
    where built.customer_key <> {{ member_key('shop_xref.customer_id') }}

),
{%- endif %}

final as (

    select
        ---------- keys
        {{ surrogate_key(['sessions.session_id']) }} as session_key,
        sessions.session_id,
        {{ member_key('shop_xref.customer_id') }} as customer_key,
        {{ member_key("case sessions.device_type when 'app' then 'app' else 'web' end") }} as channel_key,
        cast(sessions.session_started_at as date) as session_date,
        sessions.order_id,

        ---------- attributes
        sessions.device_type,
        sessions.traffic_source,
        sessions.utm_campaign,

        ---------- measures
        cast(sessions.page_views as integer) as page_views,
        cast(coalesce(sessions.products_viewed, 0) as integer) as products_viewed,
        cast({{ dbt.datediff('sessions.session_started_at', 'sessions.session_ended_at', 'second') }} as double) / 60 as duration_minutes,

        ---------- flags
        sessions.customer_id is null as is_anonymous,
        coalesce(sessions.has_added_to_cart, false) as has_added_to_cart,
        coalesce(sessions.is_converted, false) as is_converted,

        ---------- timestamps
        cast(sessions.session_started_at as timestamp) as session_started_at,
        cast(sessions.session_ended_at as timestamp) as session_ended_at
    from sessions
    left join shop_xref
        on sessions.customer_id = shop_xref.shop_customer_id
    {%- if is_incremental() %}
    where sessions.session_id in (select touched.session_id from touched)
    {%- endif %}

)

select * from final
