-- depends_on: {{ ref('health_weight_profiles') }}
-- One row per golden customer: the eight health components scored 0–100 and the weighted score
-- (weights: the active profile, var health_weight_profile, of seeds/marts/health_weight_profiles.csv).
-- A component with no data (no tickets, no e-mails, no reviews) scores a neutral 50 rather than
-- punishing or rewarding. The scoring is macros/rules/health.sql, shared with
-- customer_health_history.

with

customer_metrics as (

    select * from {{ ref('int_customer_metrics') }}

)

{{ health_components('customer_metrics', ['customer_key', 'customer_id']) }}
