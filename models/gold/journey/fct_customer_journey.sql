-- One row per golden customer touchpoint (customer journey mapping), in time order per
-- customer: interactions (e-mail clicks and conversions, web and app sessions, store visits,
-- journey-platform events), FitMap scans, purchases (orders that were not cancelled), support
-- tickets, product reviews and loyalty enrolments / tier changes. Touchpoints of records that are
-- not matched to a golden customer (anonymous sessions, unmatched source ids) are left out: a
-- journey needs a person.
--
-- Marketing touchpoints (is_marketing_touch) are the inputs of fct_marketing_attribution, so both
-- facts share one definition of a touch and of its marketing channel.
--
-- Incremental by customer: a customer's rows depend on each other (numbered in time order, each
-- knowing the one before), so a daily run rebuilds every row of each customer whose touchpoints
-- changed and replaces all their stored rows (replace_scope, macros/incremental/replace_scope.sql).

{{ config(materialized='incremental', unique_key='touchpoint_key', replace_scope='customer_key') }}

with

---------- import CTEs

customers as (

    select customer_key, customer_id
    from {{ ref('dim_customer') }}
    where customer_key <> {{ unknown_member_key() }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    where not is_cancelled

),

email_events as (

    select * from {{ ref('fct_email_events') }}
    where event_type in ('click', 'convert')

),

web_sessions as (

    select * from {{ ref('fct_web_sessions') }}

),

fitmap_scans as (

    select * from {{ ref('fct_fitmap_scans') }}

),

support_tickets as (

    select * from {{ ref('fct_support_tickets') }}

),

product_reviews as (

    select * from {{ ref('fct_product_reviews') }}

),

store_visits as (

    select * from {{ ref('stg_shop__store_visits') }}

),

tier_changes as (

    select * from {{ ref('stg_loyalty__tier_changes') }}

),

journey_events as (

    select * from {{ ref('stg_marketing__journey_events') }}

),

campaigns as (

    select campaign_id from {{ ref('stg_marketing__campaigns') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

xref as (

    select source_system, source_id, customer_id
    from {{ ref('customer_xref') }}
    where source_system in ('loyalty', 'marketing')

),

---------- one CTE per touchpoint source, all with the same columns

email_touchpoints as (

    select
        case when email_events.is_click then 'email_click' else 'email_conversion' end
            as touchpoint_type,
        email_events.event_id as source_id,
        email_events.customer_key,
        email_events.channel_key,
        email_events.campaign_key,
        'email' as marketing_channel,
        coalesce(email_events.campaign_type, 'e-mail') as touchpoint_detail,
        cast(null as decimal(14, 2)) as order_net_amount,
        email_events.is_click as is_marketing_touch,
        email_events.event_at as touchpoint_at
    from email_events

),

web_touchpoints as (

    select
        'web_session' as touchpoint_type,
        web_sessions.session_id as source_id,
        web_sessions.customer_key,
        web_sessions.channel_key,
        {{ member_key('campaigns.campaign_id') }} as campaign_key,
        web_sessions.traffic_source as marketing_channel,
        web_sessions.traffic_source || ' / ' || web_sessions.device_type as touchpoint_detail,
        cast(null as decimal(14, 2)) as order_net_amount,
        true as is_marketing_touch,
        web_sessions.session_started_at as touchpoint_at
    from web_sessions
    left join campaigns
        on web_sessions.utm_campaign = campaigns.campaign_id

),

store_visit_touchpoints as (

    select
        'store_visit' as touchpoint_type,
        store_visits.visit_id as source_id,
        {{ member_key('shop_xref.customer_id') }} as customer_key,
        {{ member_key("'store'") }} as channel_key,
        {{ unknown_member_key() }} as campaign_key,
        cast(null as {{ dbt.type_string() }}) as marketing_channel,
        coalesce(store_visits.visit_type, 'visit') as touchpoint_detail,
        cast(null as decimal(14, 2)) as order_net_amount,
        false as is_marketing_touch,
        store_visits.visited_at as touchpoint_at
    from store_visits
    left join shop_xref
        on store_visits.customer_id = shop_xref.shop_customer_id

),

journey_event_touchpoints as (

    -- The e-mail platform knows the subscriber first and the shop account second; where MDM
    -- disagrees, the subscriber's golden record wins.
    select
        'journey_event' as touchpoint_type,
        journey_events.journey_event_id as source_id,
        {{ member_key('coalesce(marketing_xref.customer_id, shop_xref.customer_id)') }}
            as customer_key,
        {{ member_key("case journey_events.touchpoint
            when 'paid_social' then 'social'
            when 'paid_search' then 'web'
            when 'organic' then 'web'
            when 'direct' then 'web'
            else journey_events.touchpoint end") }} as channel_key,
        {{ member_key('campaigns.campaign_id') }} as campaign_key,
        case journey_events.touchpoint
            when 'organic' then 'organic_search'
            else journey_events.touchpoint end as marketing_channel,
        journey_events.journey_name || ': ' || journey_events.stage as touchpoint_detail,
        cast(null as decimal(14, 2)) as order_net_amount,
        true as is_marketing_touch,
        journey_events.event_at as touchpoint_at
    from journey_events
    left join xref as marketing_xref
        on journey_events.subscriber_id = marketing_xref.source_id
        and marketing_xref.source_system = 'marketing'
    left join shop_xref
        on journey_events.customer_ref = shop_xref.shop_customer_id
    left join campaigns
        on journey_events.campaign_id = campaigns.campaign_id

),

fitmap_touchpoints as (

    select
        'fitmap_scan' as touchpoint_type,
        fitmap_scans.scan_id as source_id,
        fitmap_scans.customer_key,
        fitmap_scans.channel_key,
        {{ unknown_member_key() }} as campaign_key,
        cast(null as {{ dbt.type_string() }}) as marketing_channel,
        coalesce(fitmap_scans.scan_location, 'scan') as touchpoint_detail,
        cast(null as decimal(14, 2)) as order_net_amount,
        false as is_marketing_touch,
        fitmap_scans.scanned_at as touchpoint_at
    from fitmap_scans

),

order_touchpoints as (

    select
        'order' as touchpoint_type,
        orders.order_id as source_id,
        orders.customer_key,
        orders.channel_key,
        {{ unknown_member_key() }} as campaign_key,
        cast(null as {{ dbt.type_string() }}) as marketing_channel,
        orders.channel_code as touchpoint_detail,
        orders.net_amount as order_net_amount,
        false as is_marketing_touch,
        orders.ordered_at as touchpoint_at
    from orders

),

support_touchpoints as (

    select
        'support_ticket' as touchpoint_type,
        cast(support_tickets.ticket_id as {{ dbt.type_string() }}) as source_id,
        support_tickets.customer_key,
        support_tickets.channel_key,
        {{ unknown_member_key() }} as campaign_key,
        cast(null as {{ dbt.type_string() }}) as marketing_channel,
        coalesce(support_tickets.ticket_type, 'ticket') as touchpoint_detail,
        cast(null as decimal(14, 2)) as order_net_amount,
        false as is_marketing_touch,
        support_tickets.created_at as touchpoint_at
    from support_tickets

),

review_touchpoints as (

    select
        'product_review' as touchpoint_type,
        product_reviews.review_id as source_id,
        product_reviews.customer_key,
        {{ member_key("'review'") }} as channel_key,
        {{ unknown_member_key() }} as campaign_key,
        cast(null as {{ dbt.type_string() }}) as marketing_channel,
        cast(product_reviews.rating as {{ dbt.type_string() }}) || '-star review' as touchpoint_detail,
        cast(null as decimal(14, 2)) as order_net_amount,
        false as is_marketing_touch,
        product_reviews.submitted_at as touchpoint_at
    from product_reviews

),

loyalty_touchpoints as (

    -- The loyalty programme has no channel of its own in dim_channel: unknown member.
    select
        case when tier_changes.change_reason = 'enrolment' or tier_changes.from_tier is null
            then 'loyalty_enrolment' else 'loyalty_tier_change' end as touchpoint_type,
        tier_changes.tier_change_id as source_id,
        {{ member_key('loyalty_xref.customer_id') }} as customer_key,
        {{ unknown_member_key() }} as channel_key,
        {{ unknown_member_key() }} as campaign_key,
        cast(null as {{ dbt.type_string() }}) as marketing_channel,
        coalesce(tier_changes.from_tier, 'none') || ' -> ' || tier_changes.to_tier as touchpoint_detail,
        cast(null as decimal(14, 2)) as order_net_amount,
        false as is_marketing_touch,
        tier_changes.changed_at as touchpoint_at
    from tier_changes
    left join xref as loyalty_xref
        on tier_changes.member_id = loyalty_xref.source_id
        and loyalty_xref.source_system = 'loyalty'

),

touchpoints_unioned as (

    select * from email_touchpoints
    union all
    select * from web_touchpoints
    union all
    select * from store_visit_touchpoints
    union all
    select * from journey_event_touchpoints
    union all
    select * from fitmap_touchpoints
    union all
    select * from order_touchpoints
    union all
    select * from support_touchpoints
    union all
    select * from review_touchpoints
    union all
    select * from loyalty_touchpoints

),

---------- logical CTEs

touchpoints_categorised as (

    select
        touchpoints_unioned.*,
        case
            when touchpoint_type in (
                'email_click', 'email_conversion', 'web_session', 'store_visit', 'journey_event'
            ) then 'interaction'
            when touchpoint_type = 'fitmap_scan' then 'fitmap'
            when touchpoint_type = 'order' then 'purchase'
            when touchpoint_type = 'support_ticket' then 'support'
            when touchpoint_type = 'product_review' then 'review'
            else 'loyalty'
        end as touchpoint_category
    from touchpoints_unioned
    where touchpoint_at is not null

),

touchpoints_golden as (

    select
        touchpoints_categorised.*,
        customers.customer_id
    from touchpoints_categorised
    -- inner join: only golden customers have a journey (the unknown member is excluded above)
    inner join customers
        on touchpoints_categorised.customer_key = customers.customer_key

),
{%- if is_incremental() %}

-- the customers a daily run rebuilds: those whose touchpoints, in every column the journey is
-- computed from, differ from what the table holds (a new, changed, re-keyed or vanished
-- touchpoint; macros/incremental/replace_scope.sql); any other customer would get the very
-- rows the table has
touchpoints_compared as (

    select
        customer_key,
        touchpoint_type,
        source_id,
        channel_key,
        campaign_key,
        marketing_channel,
        touchpoint_detail,
        order_net_amount,
        is_marketing_touch,
        cast(touchpoint_at as timestamp) as touchpoint_at
    from touchpoints_golden

),

changed_customers as (

    {{ changed_scopes(
        'touchpoints_compared',
        scope='customer_key',
        keys=['touchpoint_type', 'source_id'],
        columns=['channel_key', 'campaign_key', 'marketing_channel', 'touchpoint_detail',
                 'order_net_amount', 'is_marketing_touch', 'touchpoint_at'],
    ) }}

),

-- changed customers left without any touchpoint: one tombstone each deletes their rows
emptied_customers as (

    select customer_key
    from changed_customers
    where customer_key not in (select touchpoints_compared.customer_key from touchpoints_compared)

),
{%- endif %}

touchpoints_sequenced as (

    select
        touchpoints_golden.*,
        row_number() over (
            partition by customer_key
            order by touchpoint_at, touchpoint_type, source_id
        ) as sequence_number,
        row_number() over (
            partition by customer_key, touchpoint_type
            order by touchpoint_at, source_id
        ) as type_sequence_number,
        row_number() over (
            partition by customer_key, touchpoint_category
            order by touchpoint_at, touchpoint_type, source_id
        ) as category_sequence_number,
        lag(touchpoint_at) over (
            partition by customer_key
            order by touchpoint_at, touchpoint_type, source_id
        ) as previous_touchpoint_at
    from touchpoints_golden
    {%- if is_incremental() %}
    where touchpoints_golden.customer_key in (
        select changed_customers.customer_key from changed_customers
    )
    {%- endif %}

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['touchpoint_type', 'source_id']) }} as touchpoint_key,
        customer_key,
        channel_key,
        campaign_key,
        cast(touchpoint_at as date) as touchpoint_date,

        ---------- ids
        customer_id,
        source_id,

        ---------- attributes
        touchpoint_type,
        touchpoint_category,
        case
            when touchpoint_category = 'interaction' and category_sequence_number = 1
                then 'first_interaction'
            when touchpoint_category = 'interaction' then 'engagement'
            when touchpoint_category = 'purchase' and category_sequence_number = 1
                then 'first_purchase'
            when touchpoint_category = 'purchase' then 'repeat_purchase'
            else touchpoint_category
        end as journey_stage,
        marketing_channel,
        touchpoint_detail,

        ---------- measures
        cast(sequence_number as integer) as sequence_number,
        cast({{ dbt.datediff('previous_touchpoint_at', 'touchpoint_at', 'day') }} as integer)
            as days_since_previous_touchpoint,
        order_net_amount,

        ---------- flags
        type_sequence_number = 1 as is_first_of_type,
        is_marketing_touch,

        ---------- timestamps
        cast(touchpoint_at as timestamp) as touchpoint_at
    from touchpoints_sequenced

){%- if is_incremental() %},

-- a changed customer left without any touchpoint: one row naming the customer alone, which
-- deletes the customer's stored rows and, its key null, is never inserted
tombstones as (

    select
        null as touchpoint_key,
        customer_key,
        null as channel_key,
        null as campaign_key,
        null as touchpoint_date,
        null as customer_id,
        null as source_id,
        null as touchpoint_type,
        null as touchpoint_category,
        null as journey_stage,
        null as marketing_channel,
        null as touchpoint_detail,
        null as sequence_number,
        null as days_since_previous_touchpoint,
        null as order_net_amount,
        null as is_first_of_type,
        null as is_marketing_touch,
        null as touchpoint_at
    from emptied_customers

)
{%- endif %}

select * from final
{%- if is_incremental() %}
union all
select * from tombstones
{%- endif %}
