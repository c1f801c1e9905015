-- One row per scored customer text, any channel: its sentiment score in [-1, 1] and label, the
-- kind of text, and who wrote it. Keyed to dim_customer, dim_sentiment_source, dim_channel,
-- dim_product (reviews, and ticket texts through the order the ticket was raised on) and
-- dim_date (written_date). The channel is the text's own (a ticket's
-- texts: the channel the ticket came in by), the source's usual channel where it has none.

with

texts as (

    select * from {{ ref('sentiment_unified') }}

),

sources as (

    select source_type, channel_code from {{ ref('sentiment_sources') }}

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['texts.text_id']) }} as customer_sentiment_key,
        texts.text_id,
        {{ member_key('texts.customer_id') }} as customer_key,
        {{ member_key('texts.source_type') }} as sentiment_source_key,
        {{ member_key('coalesce(texts.channel, sources.channel_code)') }} as channel_key,
        {{ member_key('texts.product_id') }} as product_key,
        cast(texts.written_at as date) as written_date,
        cast(texts.ticket_id as bigint) as ticket_id,

        ---------- attributes
        texts.source_type,
        texts.source_id,
        texts.product_attribution,
        {{ label_case("texts.sentiment_label") }} as sentiment_label,
        texts.score_method,

        ---------- measures
        cast(texts.sentiment_score as double) as sentiment_score,
        cast(texts.vendor_score as double) as vendor_score,

        ---------- flags
        texts.sentiment_label = 'negative' as is_negative,

        ---------- timestamps
        cast(texts.written_at as timestamp) as written_at
    from texts
    left join sources
        on texts.source_type = sources.source_type

)

select * from final
