-- depends_on: {{ ref('health_weight_profiles') }}
-- The health score's trend: one row per golden customer and as-of date (every load date), the
-- score, level and components as they stood at the end of that day, computed with the same
-- scoring as mart_customer_health (macros/rules/health.sql) from the customer's inputs as of
-- that day (int_customer_metrics_history), the frequency percentile taken among that day's
-- customers. Chart avg(health_score) or count(*) by health_level per as_of_date; the latest
-- as_of_date is the mart's score.

with

metrics as (

    select * from {{ ref('int_customer_metrics_history') }}

),

scored as (

    {{ health_components('metrics', ['as_of_date', 'customer_key', 'customer_id'], partition_by='as_of_date') }}

),

dated as (

    select
        scored.*,
        max(as_of_date) over () as latest_as_of_date
    from scored

),

final as (

    select
        {{ surrogate_key(['customer_id', 'as_of_date']) }} as customer_health_history_id,
        as_of_date,
        customer_key,
        customer_id,
        cast(round(health_score, 1) as double) as health_score,
        {{ health_level('dated.health_score') }} as health_level,
        cast(round(recency_component, 1) as double) as recency_component,
        cast(round(frequency_component, 1) as double) as frequency_component,
        cast(round(satisfaction_component, 1) as double) as satisfaction_component,
        cast(round(email_component, 1) as double) as email_component,
        cast(round(sentiment_component, 1) as double) as sentiment_component,
        cast(round(support_volume_component, 1) as double) as support_volume_component,
        cast(round(spending_component, 1) as double) as spending_component,
        cast(round(loyalty_engagement_component, 1) as double) as loyalty_engagement_component,
        as_of_date = latest_as_of_date as is_latest
    from dated

)

select * from final
