-- What's the average satisfaction score by ticket type?
-- (analyst question 2; tickets without a CSAT answer are left out)
select
    ticket_type,
    count(satisfaction_score) as rated_tickets,
    round(avg(satisfaction_score), 2) as average_satisfaction
from {{ ref('fct_support_tickets') }}
group by ticket_type
order by average_satisfaction desc, ticket_type
