{{ config(materialized='ephemeral', contract={'enforced': false}) }}

-- One row per support agent who answered a ticket or took a call (dim_support_agent adds the
-- unknown member).
-- The support desk exports no agent directory (bronze has only agent_id on tickets and calls),
-- so the profile is derived from the work itself: the team is the channel desk an agent answers
-- most, tenure counts from the first ticket or call seen (a lower bound: the lake starts with
-- the backfill), and skills are the ticket types an agent has resolved at least
-- var('support_agent_skill_min_resolved') times. Figures are as of the as-of date.

with

as_of as (

    select {{ as_of_date(ref('stg_shop__orders')) }} as as_of_date

),

tickets as (

    select * from {{ ref('stg_support__tickets') }}
    where agent_id is not null

),

calls as (

    select * from {{ ref('stg_support__call_transcripts') }}
    where agent_id is not null

),

activity as (

    select agent_id, cast(created_at as date) as activity_date from tickets
    union all
    select agent_id, cast(call_started_at as date) as activity_date from calls

),

agent_activity as (

    select
        agent_id,
        min(activity_date) as first_active_date,
        max(activity_date) as last_active_date
    from activity
    group by agent_id

),

channel_counts as (

    select
        agent_id,
        channel,
        count(*) as tickets,
        row_number() over (partition by agent_id order by count(*) desc, channel) as channel_rank
    from tickets
    group by agent_id, channel

),

type_counts as (

    select
        agent_id,
        ticket_type,
        count(*) as resolved_tickets
    from tickets
    where resolved_at is not null
    group by agent_id, ticket_type

),

skills as (

    select
        agent_id,
        count(*) as skill_count,
        {{ sorted_listagg('ticket_type', "', '") }} as skills
    from type_counts
    where resolved_tickets >= {{ var('support_agent_skill_min_resolved') }}
    group by agent_id

),

workload as (

    select
        agent_id,
        count(*) as tickets_assigned,
        count(resolved_at) as tickets_resolved,
        sum(case when {{ is_open_ticket('status') }} then 1 else 0 end) as open_tickets,
        avg(satisfaction_score) as average_satisfaction,
        avg({{ dbt.datediff('created_at', 'first_response_at', 'minute') }}) as average_first_response_minutes
    from tickets
    group by agent_id

),

call_load as (

    select agent_id, count(*) as calls_taken
    from calls
    group by agent_id

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['agent_activity.agent_id']) }} as support_agent_key,
        cast(agent_activity.agent_id as bigint) as agent_id,

        ---------- attributes
        coalesce(channel_counts.channel, 'Unassigned') as team,
        coalesce(skills.skills, '') as skills,

        ---------- measures
        cast(coalesce(skills.skill_count, 0) as integer) as skill_count,
        cast({{ dbt.datediff('agent_activity.first_active_date', 'as_of.as_of_date', 'day') }} as integer) as tenure_days,
        cast(coalesce(workload.tickets_assigned, 0) as integer) as tickets_assigned,
        cast(coalesce(workload.tickets_resolved, 0) as integer) as tickets_resolved,
        cast(coalesce(workload.open_tickets, 0) as integer) as open_tickets,
        cast(coalesce(call_load.calls_taken, 0) as integer) as calls_taken,
        cast(workload.average_satisfaction as double) as average_satisfaction,
        cast(workload.average_first_response_minutes as double) as average_first_response_minutes,

        ---------- flags
        {{ dbt.datediff('agent_activity.last_active_date', 'as_of.as_of_date', 'day') }}
        <= {{ var('support_agent_active_days') }} as is_active,

        ---------- dates
        agent_activity.first_active_date,
        agent_activity.last_active_date
    from agent_activity
    cross join as_of
    left join channel_counts
        on agent_activity.agent_id = channel_counts.agent_id
        and channel_counts.channel_rank = 1
    left join skills
        on agent_activity.agent_id = skills.agent_id
    left join workload
        on agent_activity.agent_id = workload.agent_id
    left join call_load
        on agent_activity.agent_id = call_load.agent_id

)

select * from final
