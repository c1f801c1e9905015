-- Dashboard 4, Email Campaign Performance: the headline numbers (all time).
select
    count(*) filter (where event_type = 'sent') as emails_sent,
    round(count(*) filter (where is_open) * 1.0 / nullif(count(*) filter (where event_type = 'sent'), 0), 4) as open_rate,
    round(count(*) filter (where is_click) * 1.0 / nullif(count(*) filter (where event_type = 'sent'), 0), 4) as click_rate,
    round(count(*) filter (where is_conversion) * 1.0 / nullif(count(*) filter (where event_type = 'sent'), 0), 4) as conversion_rate,
    round(count(*) filter (where is_unsubscribe) * 1.0 / nullif(count(*) filter (where event_type = 'sent'), 0), 4) as unsubscribe_rate
from {{ ref('fct_email_events') }}
