-- One row per golden customer: the six health components scored 0–100 and the weighted score
-- (weights are the health_weight_* vars). A component with no data
-- (no tickets, no e-mails, no reviews) scores a neutral 50 rather than punishing or rewarding.
-- Every scale below is a health_* var in dbt_project.yml (docs/rules.md).

{%- set weights = {
    'recency': var('health_weight_recency'),
    'frequency': var('health_weight_frequency'),
    'satisfaction': var('health_weight_satisfaction'),
    'email': var('health_weight_email'),
    'sentiment': var('health_weight_sentiment'),
    'support_volume': var('health_weight_support_volume'),
} %}
{%- set neutral = var('health_neutral_component') * 1.0 -%}
{%- set csat_min = var('health_csat_min') -%}
{%- set csat_max = var('health_csat_max') -%}
{%- set open_share = var('health_email_open_share') %}

with

customer_metrics as (

    select * from {{ ref('int_customer_metrics') }}

),

components as (

    select
        customer_key,
        customer_id,
        -- purchase recency: 100 today, falling linearly to 0 at health_recency_horizon_days
        case when days_since_last_order is null then 0
            else greatest(0.0, 100.0 * (1 - days_since_last_order / {{ var('health_recency_horizon_days') * 1.0 }})) end as recency_component,
        -- purchase frequency: percentile of order count among all customers
        100.0 * percent_rank() over (order by coalesce(order_count, 0)) as frequency_component,
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
        greatest(0.0, 100.0 - {{ var('health_points_per_ticket') * 1.0 }} * coalesce(tickets_60d, 0)) as support_volume_component
    from customer_metrics

)

select
    components.*,
    -- rounded here, once, so that the level is decided on the score people see
    round((
        {%- for name, weight in weights.items() %}
        {{ weight }} * {{ name }}_component{{ ' +' if not loop.last }}
        {%- endfor %}
    ) / {{ weights.values() | sum }}.0, 1) as health_score
from components
