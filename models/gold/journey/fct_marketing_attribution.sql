-- One row per conversion (an order that was not cancelled) × marketing touchpoint of the same
-- golden customer in the days up to the order (var attribution_lookback_days; journey-platform
-- events, e-mail clicks, web and app sessions by traffic source;
-- fct_customer_journey.is_marketing_touch). Each row carries the
-- credit the touchpoint earns under four attribution models and the conversion value (the
-- order's net amount) that credit is worth:
--   first touch  1 to the earliest touch,     last touch  1 to the latest touch,
--   linear       1 / number of touches,       time decay  2^(-days before the order / half-life,
--                                                         var attribution_half_life_days), scaled
--                                                         so that the conversion's credits sum to 1.
-- A conversion without any touch in its window gets one 'direct' pseudo-touchpoint with credit 1
-- in every model, on the channel the order was placed through. So, per conversion and per model,
-- credits sum to exactly 1 (attributed values to the net amount, give or take rounding to cents).
--
-- Incremental by conversion: a conversion's rows share its credits, so a daily run rebuilds every
-- row of each conversion whose touches changed and replaces all its stored rows (replace_scope,
-- macros/incremental/replace_scope.sql).

{{ config(materialized='incremental', unique_key='attribution_key', replace_scope='order_key') }}

{% set lookback_days = var('attribution_lookback_days') %}
{% set half_life_days = var('attribution_half_life_days') %}

with

---------- import CTEs

conversions as (

    select
        order_key,
        order_id,
        customer_key,
        channel_key,
        net_amount,
        ordered_at
    from {{ ref('fct_orders') }}
    where not is_cancelled

),

touchpoints as (

    select
        touchpoint_key,
        customer_key,
        channel_key,
        campaign_key,
        source_id,
        touchpoint_type,
        marketing_channel,
        touchpoint_at
    from {{ ref('fct_customer_journey') }}
    where is_marketing_touch
        -- unmatched customers share the unknown key: their touches cannot be attributed
        and customer_key <> {{ unknown_member_key() }}

),

---------- logical CTEs

conversion_touchpoints as (

    -- left join: a conversion with no touch in its window keeps one row with null touch columns,
    -- which becomes the 'direct' pseudo-touchpoint below
    select
        conversions.order_key,
        conversions.order_id,
        conversions.customer_key,
        conversions.net_amount,
        conversions.ordered_at,
        conversions.channel_key as conversion_channel_key,
        touchpoints.touchpoint_key,
        touchpoints.channel_key,
        touchpoints.campaign_key,
        touchpoints.source_id,
        touchpoints.touchpoint_type,
        touchpoints.marketing_channel,
        touchpoints.touchpoint_at
    from conversions
    left join touchpoints
        -- equality plus a window only: a condition on one side alone would turn this hash join
        -- into a nested loop
        on conversions.customer_key = touchpoints.customer_key
        and touchpoints.touchpoint_at <= conversions.ordered_at
        and touchpoints.touchpoint_at > {{ dbt.dateadd('day', -lookback_days, 'conversions.ordered_at') }}

),

touches_resolved as (

    select
        order_key,
        order_id,
        customer_key,
        net_amount,
        ordered_at,
        touchpoint_key is null as is_direct,
        coalesce(touchpoint_key, {{ surrogate_key(["'direct'", 'order_id']) }}) as touchpoint_key,
        coalesce(channel_key, conversion_channel_key) as channel_key,
        {{ resolve_key('campaign_key') }} as campaign_key,
        coalesce(source_id, order_id) as touchpoint_source_id,
        coalesce(touchpoint_type, 'direct') as touchpoint_type,
        coalesce(marketing_channel, 'direct') as marketing_channel,
        coalesce(touchpoint_at, ordered_at) as touchpoint_at
    from conversion_touchpoints

),

{%- if is_incremental() %}

-- the conversions a daily run rebuilds: those whose touches, in every column the credits are
-- computed from, differ from what the table holds (a new, changed or vanished conversion or
-- touch, a re-keyed customer; macros/incremental/replace_scope.sql); any other conversion
-- would get the very rows the table has
touches_compared as (

    select
        order_key,
        touchpoint_key,
        customer_key,
        channel_key,
        campaign_key,
        touchpoint_source_id,
        touchpoint_type,
        marketing_channel,
        is_direct,
        cast(net_amount as decimal(14, 2)) as conversion_value,
        cast(ordered_at as timestamp) as converted_at,
        cast(touchpoint_at as timestamp) as touchpoint_at
    from touches_resolved

),

changed_conversions as (

    {{ changed_scopes(
        'touches_compared',
        scope='order_key',
        keys=['order_key', 'touchpoint_key'],
        columns=['customer_key', 'channel_key', 'campaign_key', 'touchpoint_source_id',
                 'touchpoint_type', 'marketing_channel', 'is_direct', 'conversion_value',
                 'converted_at', 'touchpoint_at'],
    ) }}

),

-- changed conversions that are none any more (an order cancelled since)
vanished_conversions as (

    select order_key
    from changed_conversions
    where order_key not in (select touches_compared.order_key from touches_compared)

),
{%- endif %}

touches_positioned as (

    select
        touches_resolved.*,
        cast({{ dbt.datediff('touchpoint_at', 'ordered_at', 'second') }} as double) / 86400
            as days_before_conversion,
        row_number() over (
            partition by order_key order by touchpoint_at, touchpoint_type, touchpoint_key
        ) as touchpoint_position,
        count(*) over (partition by order_key) as touchpoint_count
    from touches_resolved
    {%- if is_incremental() %}
    where touches_resolved.order_key in (
        select changed_conversions.order_key from changed_conversions
    )
    {%- endif %}

),

touches_weighted as (

    select
        touches_positioned.*,
        power(cast(0.5 as double), days_before_conversion / {{ half_life_days }}) as time_decay_weight
    from touches_positioned

),

credits as (

    select
        touches_weighted.*,
        cast(case when touchpoint_position = 1 then 1 else 0 end as double) as first_touch_credit,
        cast(case when touchpoint_position = touchpoint_count then 1 else 0 end as double)
            as last_touch_credit,
        cast(1 as double) / touchpoint_count as linear_credit,
        -- the weight as the exact sum added it, so equal weights get exactly equal shares
        cast({{ exact_decimal('time_decay_weight') }} as double)
        / {{ exact_sum('time_decay_weight', over='partition by order_key') }} as time_decay_credit
    from touches_weighted

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['order_id', 'touchpoint_key']) }} as attribution_key,
        order_key,
        touchpoint_key,
        customer_key,
        channel_key,
        campaign_key,
        cast(ordered_at as date) as conversion_date,
        cast(touchpoint_at as date) as touchpoint_date,

        ---------- ids
        order_id,
        touchpoint_source_id,

        ---------- attributes
        touchpoint_type,
        marketing_channel,

        ---------- measures
        cast(touchpoint_position as integer) as touchpoint_position,
        cast(touchpoint_count as integer) as touchpoint_count,
        cast(days_before_conversion as double) as days_before_conversion,
        cast(net_amount as decimal(14, 2)) as conversion_value,

        ---------- credits (each sums to 1 per conversion)
        cast(first_touch_credit as double) as first_touch_credit,
        cast(last_touch_credit as double) as last_touch_credit,
        cast(linear_credit as double) as linear_credit,
        cast(time_decay_credit as double) as time_decay_credit,

        ---------- attributed conversion value (credit × net amount)
        {{ double_to_decimal('first_touch_credit * net_amount', 'decimal(14, 2)') }} as first_touch_value,
        {{ double_to_decimal('last_touch_credit * net_amount', 'decimal(14, 2)') }} as last_touch_value,
        {{ double_to_decimal('linear_credit * net_amount', 'decimal(14, 2)') }} as linear_value,
        {{ double_to_decimal('time_decay_credit * net_amount', 'decimal(14, 2)') }} as time_decay_value,

        ---------- flags
        is_direct,
        touchpoint_position = 1 as is_first_touch,
        touchpoint_position = touchpoint_count as is_last_touch,

        ---------- timestamps
        cast(ordered_at as timestamp) as converted_at,
        cast(touchpoint_at as timestamp) as touchpoint_at
    from credits

){%- if is_incremental() %},

-- a changed conversion that is none any more: one row naming the order alone, which deletes
-- its stored rows and, its key null, is never inserted
tombstones as (

    select
        null as attribution_key,
        order_key,
        null as touchpoint_key,
        null as customer_key,
        null as channel_key,
        null as campaign_key,
        null as conversion_date,
        null as touchpoint_date,
        null as order_id,
        null as touchpoint_source_id,
        null as touchpoint_type,
        null as marketing_channel,
        null as touchpoint_position,
        null as touchpoint_count,
        null as days_before_conversion,
        null as conversion_value,
        null as first_touch_credit,
        null as last_touch_credit,
        null as linear_credit,
        null as time_decay_credit,
        null as first_touch_value,
        null as last_touch_value,
        null as linear_value,
        null as time_decay_value,
        null as is_direct,
        null as is_first_touch,
        null as is_last_touch,
        null as converted_at,
        null as touchpoint_at
    from vanished_conversions

)
{%- endif %}

select * from final
{%- if is_incremental() %}
union all
select * from tombstones
{%- endif %}
