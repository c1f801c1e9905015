-- One row per customer-written text from any channel (product reviews, the customer's own ticket
-- messages, call transcripts, survey verbatims, social posts), keyed to the golden customer, with
-- the vendor NLP score where the vendor scored it. A text written on a support ticket is filed
-- under the channel the ticket came in by (a follow-up e-mail on a phone ticket counts as phone).
-- A text is about a product when it is a review of it, or when it belongs to a support ticket
-- raised on an order: then the order's main product (int_order_primary_products), said by
-- product_attribution.

with

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

support_xref as (

    select
        support_requester_id as source_id,
        customer_id
    from {{ ref('int_support_customer_xref') }}

),

order_products as (

    select * from {{ ref('int_order_primary_products') }}

),

vendor as (

    select * from {{ ref('stg_mlops__nlp_sentiment') }}

),

tickets as (

    select
        tickets.ticket_id,
        tickets.channel,
        tickets.requester_id,
        order_products.product_id
    from {{ ref('stg_support__tickets') }} as tickets
    left join order_products
        on tickets.order_id = order_products.order_id

),

reviews as (

    select
        'review' as source_type,
        review_id as source_id,
        'review' as channel,
        shop_xref.customer_id,
        product_id,
        'review' as product_attribution,
        cast(null as bigint) as ticket_id,
        coalesce(title || '. ', '') || review_text as text,
        submitted_at as written_at
    from {{ ref('stg_reviews__product_reviews') }} as reviews
    left join shop_xref
        on reviews.customer_id = shop_xref.shop_customer_id
    where review_text is not null

),

ticket_messages as (

    select
        'ticket_message' as source_type,
        cast(messages.message_id as {{ dbt.type_string() }}) as source_id,
        coalesce(
            {{ support_channel_code('tickets.channel') }},
            {{ support_channel_code('messages.channel') }}
        ) as channel,
        support_xref.customer_id,
        tickets.product_id,
        case when tickets.product_id is not null then 'ticket_order' end as product_attribution,
        messages.ticket_id,
        messages.body as text,
        messages.created_at as written_at
    from {{ ref('stg_support__ticket_messages') }} as messages
    left join tickets
        on messages.ticket_id = tickets.ticket_id
    left join support_xref
        on cast(tickets.requester_id as {{ dbt.type_string() }}) = support_xref.source_id
    where messages.author_type = 'customer'

),

call_transcripts as (

    select
        'call_transcript' as source_type,
        calls.call_id as source_id,
        'phone' as channel,
        support_xref.customer_id,
        tickets.product_id,
        case when tickets.product_id is not null then 'ticket_order' end as product_attribution,
        calls.ticket_id,
        calls.transcript as text,
        calls.call_started_at as written_at
    from {{ ref('stg_support__call_transcripts') }} as calls
    left join tickets
        on calls.ticket_id = tickets.ticket_id
    left join support_xref
        on cast(calls.requester_id as {{ dbt.type_string() }}) = support_xref.source_id

),

surveys as (

    select
        'survey' as source_type,
        surveys.survey_response_id as source_id,
        'survey' as channel,
        support_xref.customer_id,
        tickets.product_id,
        case when tickets.product_id is not null then 'ticket_order' end as product_attribution,
        surveys.ticket_id,
        surveys.verbatim as text,
        surveys.responded_at as written_at
    from {{ ref('stg_support__surveys') }} as surveys
    left join tickets
        on surveys.ticket_id = tickets.ticket_id
    left join support_xref
        on cast(surveys.requester_id as {{ dbt.type_string() }}) = support_xref.source_id
    where surveys.verbatim is not null

),

social as (

    select
        'social' as source_type,
        mentions.mention_id as source_id,
        'social' as channel,
        shop_xref.customer_id,
        cast(null as {{ dbt.type_string() }}) as product_id,
        cast(null as {{ dbt.type_string() }}) as product_attribution,
        cast(null as bigint) as ticket_id,
        mentions.mention_text as text,
        mentions.posted_at as written_at
    from {{ ref('stg_social__mentions') }} as mentions
    left join shop_xref
        on mentions.customer_ref = shop_xref.shop_customer_id

),

unioned as (

    select * from reviews
    union all
    select * from ticket_messages
    union all
    select * from call_transcripts
    union all
    select * from surveys
    union all
    select * from social

),

final as (

    select
        unioned.source_type || ':' || unioned.source_id as text_id,
        unioned.*,
        vendor.sentiment_score as vendor_score,
        vendor.topics as vendor_topics,
        vendor.model_version as vendor_model_version
    from unioned
    left join vendor
        on unioned.source_type = vendor.source_type
        and unioned.source_id = vendor.source_id

)

select * from final
