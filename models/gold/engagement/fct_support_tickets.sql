-- One row per support ticket (newest version): type, channel, status, priority, first-response
-- and resolution times against the SLA targets of its priority and channel (int_support_sla_targets),
-- satisfaction, and the sentiment of what the customer wrote or said on it.

with

tickets as (

    select * from {{ ref('stg_support__tickets') }}

),

messages as (

    select
        ticket_id,
        count(*) as message_count,
        sum(case when author_type = 'customer' then 1 else 0 end) as customer_message_count
    from {{ ref('stg_support__ticket_messages') }}
    group by ticket_id

),

sentiment as (

    select
        ticket_id,
        {{ exact_avg('sentiment_score') }} as sentiment_score
    from {{ ref('sentiment_unified') }}
    where ticket_id is not null
        and source_type in ('ticket_message', 'call_transcript')
    group by ticket_id

),

sla as (

    select * from {{ ref('int_support_sla_targets') }}

),

support_xref as (

    select * from {{ ref('int_support_customer_xref') }}

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['tickets.ticket_id']) }} as ticket_key,
        tickets.ticket_id,
        {{ member_key('support_xref.customer_id') }} as customer_key,
        {{ member_key(support_channel_code('tickets.channel')) }} as channel_key,
        cast(tickets.created_at as date) as created_date,
        cast(tickets.resolved_at as date) as resolved_date,
        tickets.order_id,
        tickets.agent_id,

        ---------- attributes
        tickets.ticket_type,
        tickets.channel,
        tickets.status,
        tickets.priority,
        tickets.subject,
        case
            when sentiment.sentiment_score >= {{ var('sentiment_positive_threshold') }} then 'Positive'
            when sentiment.sentiment_score <= {{ var('sentiment_negative_threshold') }} then 'Negative'
            when sentiment.sentiment_score is not null then 'Neutral'
        end as sentiment_label,

        ---------- measures
        cast(tickets.satisfaction_score as integer) as satisfaction_score,
        cast(sentiment.sentiment_score as double) as sentiment_score,
        cast({{ dbt.datediff('tickets.created_at', 'tickets.resolved_at', 'minute') }} as double) / 60 as resolution_hours,
        cast({{ dbt.datediff('tickets.created_at', 'tickets.first_response_at', 'minute') }} as integer) as first_response_minutes,
        cast({{ dbt.datediff('tickets.created_at', 'tickets.resolved_at', 'minute') }} as integer) as resolution_minutes,
        cast(sla.first_response_minutes as integer) as sla_first_response_minutes,
        cast(sla.resolution_minutes as integer) as sla_resolution_minutes,
        cast(coalesce(messages.message_count, 0) as integer) as message_count,
        cast(coalesce(messages.customer_message_count, 0) as integer) as customer_message_count,

        ---------- flags
        {{ is_open_ticket('tickets.status') }} as is_open,
        tickets.resolved_at is not null as is_resolved,
        -- null while unresolved: the SLA is judged once the ticket is solved
        case
            when tickets.resolved_at is not null
                then
                    {{ dbt.datediff('tickets.created_at', 'tickets.first_response_at', 'minute') }}
                    <= sla.first_response_minutes
                    and {{ dbt.datediff('tickets.created_at', 'tickets.resolved_at', 'minute') }}
                    <= sla.resolution_minutes
        end as is_sla_met,

        ---------- timestamps
        cast(tickets.created_at as timestamp) as created_at,
        cast(tickets.first_response_at as timestamp) as first_response_at,
        cast(tickets.resolved_at as timestamp) as resolved_at,
        cast(tickets.updated_at as timestamp) as updated_at
    from tickets
    left join messages
        on tickets.ticket_id = messages.ticket_id
    left join sentiment
        on tickets.ticket_id = sentiment.ticket_id
    left join sla
        on tickets.priority = sla.priority
        and tickets.channel = sla.channel
    left join support_xref
        on cast(tickets.requester_id as {{ dbt.type_string() }}) = support_xref.support_requester_id

)

select * from final
