-- Which topics raised an emerging-issue alert (a spike of negative texts against their
-- baseline) in the last 30 days, and when?
-- (the rule: vars sentiment_alert_window_days, sentiment_alert_baseline_days,
-- sentiment_alert_min_negative_texts, sentiment_alert_min_ratio)
select
    topic,
    min(alert_date) as first_alert_date,
    max(alert_date) as last_alert_date,
    count(*) as alert_days,
    max(window_negative_texts) as peak_window_negative_texts
from {{ ref('mart_sentiment_alerts') }}
where is_alert
    and alert_date > (select max(date_day) from {{ ref('dim_date') }} where is_past) - interval 30 day
group by topic
order by first_alert_date, topic
