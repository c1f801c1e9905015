-- One row per product review (newest version): rating, fit feedback, verified purchase, and the
-- review's sentiment. Keyed to dim_customer, dim_product and dim_date (review_date).

with

reviews as (

    select * from {{ ref('stg_reviews__product_reviews') }}

),

sentiment as (

    select source_id, sentiment_score, sentiment_label
    from {{ ref('sentiment_unified') }}
    where source_type = 'review'

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['reviews.review_id']) }} as review_key,
        reviews.review_id,
        {{ member_key('shop_xref.customer_id') }} as customer_key,
        {{ member_key('reviews.product_id') }} as product_key,
        cast(reviews.submitted_at as date) as review_date,
        reviews.order_id,

        ---------- attributes
        reviews.title as review_title,
        reviews.review_text,
        reviews.fit_feedback,
        reviews.moderation_status,
        {{ label_case("sentiment.sentiment_label") }} as sentiment_label,

        ---------- measures
        cast(reviews.rating as integer) as rating,
        cast(coalesce(reviews.helpful_votes, 0) as integer) as helpful_votes,
        cast(sentiment.sentiment_score as double) as sentiment_score,

        ---------- flags
        coalesce(reviews.is_verified_purchase, false) as is_verified_purchase,
        {{ is_low_rating('reviews.rating') }} as is_low_rating,

        ---------- timestamps
        cast(reviews.submitted_at as timestamp) as submitted_at,
        cast(reviews.updated_at as timestamp) as updated_at
    from reviews
    left join sentiment
        on reviews.review_id = sentiment.source_id
    left join shop_xref
        on reviews.customer_id = shop_xref.shop_customer_id

)

select * from final
