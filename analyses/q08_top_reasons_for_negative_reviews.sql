-- What are the top 3 reasons for negative reviews in the last quarter?
-- (analyst question 8; reasons are the topics of the topic dictionary, last 90 days)
select
    d.topic,
    count(distinct d.text_id) as negative_reviews
from {{ ref('fct_sentiment_drivers') }} as d
inner join {{ ref('dim_sentiment_source') }} as s
    on d.sentiment_source_key = s.sentiment_source_key
where s.source_type = 'review'
    and d.is_negative
    and d.written_date > (select max(date_day) from {{ ref('dim_date') }} where is_past) - interval 90 day
group by d.topic
order by negative_reviews desc, d.topic
limit 3
