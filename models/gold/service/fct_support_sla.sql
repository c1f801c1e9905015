-- One row per support ticket (newest version): how long it waited for its first answer and for
-- its resolution against the SLA targets of its priority and channel (int_support_sla_targets),
-- whether each target is breached, and the escalation the wait has reached (seed
-- support_escalation_rules). A ticket still waiting is measured up to the end of the as-of date:
-- it is breached once the wait passes the target, and pending until then.

with

as_of as (

    select {{ dbt.dateadd('day', 1, as_of_date(ref('stg_shop__orders'))) }} as measured_until

),

tickets as (

    select * from {{ ref('stg_support__tickets') }}

),

targets as (

    select * from {{ ref('int_support_sla_targets') }}

),

rules as (

    select * from {{ ref('support_escalation_rules') }}

),

agents as (

    select support_agent_key, agent_id from {{ ref('dim_support_agent') }}

),

support_xref as (

    select * from {{ ref('int_support_customer_xref') }}

),

waits as (

    select
        tickets.*,
        targets.first_response_minutes as sla_first_response_minutes,
        targets.resolution_minutes as sla_resolution_minutes,
        -- an unanswered ticket waits for its first answer until it is resolved, else until now
        {{ dbt.datediff('tickets.created_at', 'coalesce(tickets.first_response_at, tickets.resolved_at, as_of.measured_until)', 'minute') }} as first_response_wait_minutes,
        {{ dbt.datediff('tickets.created_at', 'coalesce(tickets.resolved_at, as_of.measured_until)', 'minute') }} as resolution_wait_minutes
    from tickets
    cross join as_of
    left join targets
        on tickets.priority = targets.priority
        and tickets.channel = targets.channel

),

reached as (

    select
        waits.ticket_id,
        max(rules.escalation_level) as escalation_level
    from waits
    inner join rules
        on waits.priority = rules.priority
    where (
        rules.measure = 'first_response'
        and waits.first_response_wait_minutes > rules.min_target_multiple * waits.sla_first_response_minutes
    )
    or (
        rules.measure = 'resolution'
        and waits.resolution_wait_minutes > rules.min_target_multiple * waits.sla_resolution_minutes
    )
    group by waits.ticket_id

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['waits.ticket_id']) }} as ticket_key,
        waits.ticket_id,
        {{ member_key('support_xref.customer_id') }} as customer_key,
        {{ member_key(support_channel_code('waits.channel')) }} as channel_key,
        {{ resolve_key('agents.support_agent_key') }} as support_agent_key,
        cast(waits.created_at as date) as created_date,
        cast(waits.resolved_at as date) as resolved_date,

        ---------- attributes
        waits.priority,
        waits.channel,
        waits.status,
        case
            when
                waits.first_response_wait_minutes > waits.sla_first_response_minutes
                or waits.resolution_wait_minutes > waits.sla_resolution_minutes
                then 'breached'
            when waits.resolved_at is not null then 'met'
            else 'pending'
        end as sla_status,
        rules.escalate_to as escalated_to,

        ---------- measures
        cast({{ dbt.datediff('waits.created_at', 'waits.first_response_at', 'minute') }} as integer) as first_response_minutes,
        cast({{ dbt.datediff('waits.created_at', 'waits.resolved_at', 'minute') }} as integer) as resolution_minutes,
        cast(waits.first_response_wait_minutes as integer) as first_response_wait_minutes,
        cast(waits.resolution_wait_minutes as integer) as resolution_wait_minutes,
        cast(waits.sla_first_response_minutes as integer) as sla_first_response_minutes,
        cast(waits.sla_resolution_minutes as integer) as sla_resolution_minutes,
        cast(coalesce(reached.escalation_level, 0) as integer) as escalation_level,

        ---------- flags
        {{ is_open_ticket('waits.status') }} as is_open,
        waits.resolved_at is not null as is_resolved,
        waits.first_response_at is not null as is_answered,
        waits.first_response_wait_minutes > waits.sla_first_response_minutes as is_first_response_breached,
        waits.resolution_wait_minutes > waits.sla_resolution_minutes as is_resolution_breached,
        reached.escalation_level is not null as is_escalated,

        ---------- timestamps
        cast(waits.created_at as timestamp) as created_at,
        cast(waits.first_response_at as timestamp) as first_response_at,
        cast(waits.resolved_at as timestamp) as resolved_at
    from waits
    left join reached
        on waits.ticket_id = reached.ticket_id
    left join rules
        on waits.priority = rules.priority
        and reached.escalation_level = rules.escalation_level
    left join agents
        on waits.agent_id = agents.agent_id
    left join support_xref
        on cast(waits.requester_id as {{ dbt.type_string() }}) = support_xref.support_requester_id

)

select * from final
