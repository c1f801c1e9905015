-- One row per golden customer: the six health components scored 0–100 and the weighted score
-- (weights are the health_weight_* vars). A component with no data
-- (no tickets, no e-mails, no reviews) scores a neutral 50 rather than punishing or rewarding.
-- The scoring is macros/rules/health.sql, shared with customer_health_history.

with

customer_metrics as (

    select * from {{ ref('int_customer_metrics') }}

)

{{ health_components('customer_metrics', ['customer_key', 'customer_id']) }}
