-- One row per day, sentiment source, channel, category and topic with at least one scored text:
-- how many texts, how many positive / neutral / negative, and their summed and mean sentiment.
-- The channel is the text's own, else its source's usual one (as in fct_customer_sentiment);
-- the category is what the text is about: the product's category for a review, the ticket type
-- for a support text, 'General' otherwise. Topics are those of fct_sentiment_drivers (keyword
-- dictionary seeds/gold/sentiment_topics.csv); a text mentioning none counts under topic 'none',
-- and a text mentioning two counts under both, so only a sum within one topic counts each text
-- once.

with

texts as (

    select * from {{ ref('sentiment_unified') }}

),

sources as (

    select source_type, channel_code from {{ ref('sentiment_sources') }}

),

drivers as (

    select text_id, topic from {{ ref('fct_sentiment_drivers') }}

),

products as (

    select product_id, category from {{ ref('dim_product') }}

),

tickets as (

    select ticket_id, ticket_type from {{ ref('stg_support__tickets') }}

),

described as (

    select
        texts.text_id,
        cast(texts.written_at as date) as written_date,
        texts.source_type,
        coalesce(texts.channel, sources.channel_code) as channel_code,
        coalesce(products.category, tickets.ticket_type, 'General') as category,
        coalesce(drivers.topic, 'none') as topic,
        texts.sentiment_label,
        texts.sentiment_score
    from texts
    left join sources
        on texts.source_type = sources.source_type
    left join products
        on texts.product_id = products.product_id
    left join tickets
        on texts.ticket_id = tickets.ticket_id
    left join drivers
        on texts.text_id = drivers.text_id

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['written_date', 'source_type', 'channel_code', 'category', 'topic']) }} as sentiment_daily_key,
        written_date,
        {{ member_key('source_type') }} as sentiment_source_key,
        {{ member_key('channel_code') }} as channel_key,

        ---------- attributes
        source_type,
        channel_code,
        category,
        topic,

        ---------- measures
        cast(count(*) as integer) as texts,
        cast(sum(case when sentiment_label = 'positive' then 1 else 0 end) as integer) as positive_texts,
        cast(sum(case when sentiment_label = 'neutral' then 1 else 0 end) as integer) as neutral_texts,
        cast(sum(case when sentiment_label = 'negative' then 1 else 0 end) as integer) as negative_texts,
        cast({{ exact_sum('sentiment_score') }} as double) as sentiment_score_sum,
        cast({{ exact_avg('sentiment_score') }} as double) as average_sentiment_score
    from described
    group by written_date, source_type, channel_code, category, topic

)

select * from final
