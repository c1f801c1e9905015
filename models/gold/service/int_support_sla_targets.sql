{{ config(materialized='ephemeral', contract={'enforced': false}) }}

-- One row per ticket priority and channel: the SLA targets of a ticket, its priority's minutes
-- (seed support_sla_targets) times its channel's factors (seed support_sla_channel_factors).
-- The one place the two rules meet: fct_support_tickets and fct_support_sla both read it.

with

priorities as (

    select * from {{ ref('support_sla_targets') }}

),

channels as (

    select * from {{ ref('support_sla_channel_factors') }}

),

final as (

    select
        priorities.priority,
        channels.channel,
        cast(round(priorities.first_response_minutes * channels.first_response_factor) as integer) as first_response_minutes,
        cast(round(priorities.resolution_minutes * channels.resolution_factor) as integer) as resolution_minutes
    from priorities
    cross join channels

)

select * from final
