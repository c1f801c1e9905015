-- One row per next-best action offered to a customer: the action, channel and trigger, the
-- deciding model, whether the customer accepted, declined, ignored or let it expire, and how many
-- days the outcome took. An action with no outcome yet is 'pending'.

with

actions as (

    select * from {{ ref('stg_mlops__next_best_actions') }}

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

models as (

    select * from {{ ref('dim_ml_model') }}

),

channels as (

    select channel_code from {{ ref('channels') }}

),

final as (

    select
        ---------- ids
        actions.action_id,
        actions.customer_ref,
        actions.model_id,

        ---------- keys
        cast(actions.offered_at as date) as offered_date,
        {{ member_key('shop_xref.customer_id') }} as customer_key,
        {{ resolve_key('models.model_key') }} as model_key,
        {{ member_key('channels.channel_code') }} as channel_key,

        ---------- attributes
        actions.action_type,
        actions.channel,
        actions.action_trigger,
        coalesce(actions.outcome, 'pending') as outcome,
        cast(actions.priority as integer) as priority,

        ---------- flags
        actions.offered_at is not null as is_offered,
        coalesce(actions.outcome = 'accepted', false) as is_accepted,
        coalesce(actions.outcome = 'declined', false) as is_declined,
        coalesce(actions.outcome = 'ignored', false) as is_ignored,
        coalesce(actions.outcome = 'expired', false) as is_expired,
        actions.outcome is null as is_pending,

        ---------- timestamps
        cast(actions.offered_at as timestamp) as offered_at,
        cast(actions.expires_at as timestamp) as expires_at,
        cast(actions.outcome_at as timestamp) as outcome_at,

        ---------- durations
        cast({{ dbt.datediff('actions.offered_at', 'actions.outcome_at', 'day') }} as integer) as days_to_outcome
    from actions
    left join shop_xref
        on actions.customer_ref = shop_xref.shop_customer_id
    left join models
        on actions.model_id = models.model_id
    left join channels
        on actions.channel = channels.channel_code

)

select * from final
