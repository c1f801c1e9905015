-- Which priorities and channels breach their SLA most: what share of resolved tickets missed the
-- first-response or the resolution target?
-- (targets by priority and channel: seeds support_sla_targets and support_sla_channel_factors)
select
    priority,
    channel,
    count(*) as resolved_tickets,
    count(*) filter (where is_first_response_breached) as first_response_breaches,
    count(*) filter (where is_resolution_breached) as resolution_breaches,
    round(avg(case when sla_status = 'breached' then 1.0 else 0.0 end), 4) as breach_share
from {{ ref('fct_support_sla') }}
where is_resolved
group by priority, channel
order by breach_share desc, priority, channel
