-- Show me all customer service tickets from the last 30 days with negative sentiment.
-- (analyst question 1; "today" is the as-of date of the build)
select
    ticket_id,
    created_date,
    ticket_type,
    channel,
    status,
    priority,
    round(sentiment_score, 3) as sentiment_score
from {{ ref('fct_support_tickets') }}
where sentiment_label = 'Negative'
    and created_date > (select max(date_day) from {{ ref('dim_date') }} where is_past) - interval 30 day
order by created_date desc, ticket_id
