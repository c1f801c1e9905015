{#
    The customer health score, written once: int_customer_health scores the customers as of the
    lake's as-of date, customer_health_history scores them as of every load date. Both hand over
    a relation with the score's inputs (days_since_last_order, order_count, lifetime_revenue,
    average_satisfaction, emails_sent, email_open_rate, email_click_rate, average_sentiment,
    tickets_60d, loyalty_activity_entries) and the key columns to carry; `partition_by` names the
    column that separates one as-of date's population from another's (the frequency and spending
    components are percentiles within it). The weights are the active profile (var
    health_weight_profile) of seeds/marts/health_weight_profiles.csv, read at compile time; every
    scale is a health_* var in dbt_project.yml (docs/rules.md). A model calling it declares
    `-- depends_on: {{ ref('health_weight_profiles') }}`.

    health_components(relation, keys, partition_by)  keys, the eight 0-100 components, health_score
    health_weights()                                 component -> weight of the active profile
    health_component_names()                         the eight components, in display order
    health_level(score)                              the level of a score (seeds/marts/health_levels.csv)
#}
{% macro health_component_names() -%}
    {{ return(['recency', 'frequency', 'spending', 'satisfaction', 'email', 'sentiment',
               'support_volume', 'loyalty_engagement']) }}
{%- endmacro %}


{% macro health_weights() -%}
    {%- set profile = var('health_weight_profile') -%}
    {%- set weights = {} -%}
    {%- for row in seed_rows('health_weight_profiles') -%}
        {%- if row['profile'] == profile -%}
            {%- do weights.update({row['component']: row['weight']}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if execute and flags.WHICH in ['run', 'build', 'test'] -%}
        {%- if not weights -%}
            {{ exceptions.raise_compiler_error('health_weights: no profile named ' ~ profile ~ ' in seeds/marts/health_weight_profiles.csv (var health_weight_profile)') }}
        {%- endif -%}
        {%- for name in weights if name not in health_component_names() -%}
            {{ exceptions.raise_compiler_error('health_weights: profile ' ~ profile ~ ' weighs an unknown component ' ~ name ~ ' (seeds/marts/health_weight_profiles.csv)') }}
        {%- endfor -%}
    {%- endif -%}
    {{ return(weights) }}
{%- endmacro %}


{% macro health_components(relation, keys, partition_by=none) -%}
{%- set weights = health_weights() %}
{%- set neutral = var('health_neutral_component') * 1.0 -%}
{%- set csat_min = var('health_csat_min') -%}
{%- set csat_max = var('health_csat_max') -%}
{%- set open_share = var('health_email_open_share') %}
select
    components.*,
    -- rounded here, once, so that the level is decided on the score people see
    round((
        {%- for name, weight in weights.items() %}
        {{ weight }} * {{ name }}_component{{ ' +' if not loop.last }}
        {%- else %}
        null
        {%- endfor %}
    ) / {{ weights.values() | sum or 1 }}, 1) as health_score
from (
    select
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        -- purchase recency: 100 today, falling linearly to 0 at health_recency_horizon_days
        case when days_since_last_order is null then 0
            else greatest(0.0, 100.0 * (1 - days_since_last_order / {{ var('health_recency_horizon_days') * 1.0 }})) end as recency_component,
        -- purchase frequency: percentile of order count among all customers (of the as-of date)
        100.0 * percent_rank() over (
            {%- if partition_by %} partition by {{ partition_by }}{% endif %} order by coalesce(order_count, 0)) as frequency_component,
        -- spending: percentile of lifetime revenue among all customers (of the as-of date)
        100.0 * percent_rank() over (
            {%- if partition_by %} partition by {{ partition_by }}{% endif %} order by coalesce(lifetime_revenue, 0)) as spending_component,
        -- satisfaction: CSAT 1–5 mapped to 0–100
        case when average_satisfaction is null then {{ neutral }}
            else 100.0 * (average_satisfaction - {{ csat_min }}) / {{ (csat_max - csat_min) * 1.0 }} end as satisfaction_component,
        -- e-mail engagement: opens and clicks (a click rate of health_email_full_click_rate
        -- counts as full engagement)
        case when coalesce(emails_sent, 0) = 0 then {{ neutral }}
            else 100.0 * ({{ open_share }} * coalesce(email_open_rate, 0)
                          + {{ 1 - open_share }} * least(1.0, coalesce(email_click_rate, 0) / {{ var('health_email_full_click_rate') }})) end as email_component,
        -- sentiment of everything the customer wrote, -1..1 mapped to 0–100
        case when average_sentiment is null then {{ neutral }}
            else 100.0 * (average_sentiment + 1) / 2.0 end as sentiment_component,
        -- support volume, inverse: each ticket in the last 60 days costs health_points_per_ticket
        greatest(0.0, 100.0 - {{ var('health_points_per_ticket') * 1.0 }} * coalesce(tickets_60d, 0)) as support_volume_component,
        -- loyalty engagement: points earned or redeemed in the loyalty window, full marks at
        -- health_loyalty_full_activity_entries entries; no entries (or no membership) scores 0
        100.0 * least(1.0, coalesce(loyalty_activity_entries, 0) / {{ var('health_loyalty_full_activity_entries') * 1.0 }}) as loyalty_engagement_component
    from {{ relation }}
) as components
{%- endmacro %}


{% macro health_level(score) -%}
    (
        select levels.health_level
        from {{ ref('health_levels') }} as levels
        where {{ score }} >= levels.min_score
        order by levels.min_score desc
        limit 1
    )
{%- endmacro %}
