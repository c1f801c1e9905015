-- One row per scored text and topic it mentions: topic attribution from the keyword dictionary
-- seeds/gold/sentiment_topics.csv (whole-word matches). A text that mentions two topics counts
-- for both; its sentiment is attributed to each. Answers "what drives negative sentiment".

with

texts as (

    select * from {{ ref('sentiment_unified') }}
    where text is not null

),

topics as (

    select * from {{ ref('sentiment_topics') }}

),

lowered_texts as (

    select
        text_id,
        lower(text) as lowered_text
    from texts

),

matches as (

    select
        lowered_texts.text_id,
        topics.topic,
        count(*) as keyword_hits,
        min(topics.keyword) as first_keyword
    from lowered_texts
    inner join topics
        on {{ contains_whole_word('lowered_texts.lowered_text', 'topics.keyword') }}
    group by lowered_texts.text_id, topics.topic

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['matches.text_id', 'matches.topic']) }} as sentiment_driver_key,
        matches.text_id,
        {{ member_key('texts.customer_id') }} as customer_key,
        {{ member_key('texts.source_type') }} as sentiment_source_key,
        {{ member_key('texts.product_id') }} as product_key,
        cast(texts.written_at as date) as written_date,

        ---------- attributes
        matches.topic,
        matches.first_keyword as matched_keyword,
        {{ label_case("texts.sentiment_label") }} as sentiment_label,

        ---------- measures
        cast(matches.keyword_hits as integer) as keyword_hits,
        cast(texts.sentiment_score as double) as sentiment_score,
        cast(texts.sentiment_score / count(*) over (partition by matches.text_id) as double) as attributed_sentiment,

        ---------- flags
        texts.sentiment_label = 'negative' as is_negative
    from matches
    inner join texts
        on matches.text_id = texts.text_id

)

select * from final
