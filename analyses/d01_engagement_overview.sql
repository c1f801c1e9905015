-- Dashboard 1, Customer Engagement Overview: the headline numbers.
select
    count(*) as total_tickets,
    count(*) filter (where is_open) as open_tickets,
    round(avg(satisfaction_score) filter (
        where created_date > (select max(date_day) from {{ ref('dim_date') }} where is_past) - interval 6 month), 2
    ) as average_satisfaction_6_months,
    round(avg(resolution_hours), 1) as average_resolution_hours,
    round(count(*) filter (where sentiment_label = 'Negative') * 1.0 / count(*), 4) as negative_share
from {{ ref('fct_support_tickets') }}
