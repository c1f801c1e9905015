-- Show me the conversion rate of email campaigns by campaign type.
-- (analyst question 5; conversions per e-mail sent)
select
    campaign_type,
    count(*) filter (where event_type = 'sent') as emails_sent,
    count(*) filter (where is_conversion) as conversions,
    round(count(*) filter (where is_conversion) * 1.0
          / nullif(count(*) filter (where event_type = 'sent'), 0), 4) as conversion_rate
from {{ ref('fct_email_events') }}
group by campaign_type
order by conversion_rate desc nulls last, campaign_type
