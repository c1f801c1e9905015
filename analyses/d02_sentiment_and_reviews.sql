-- Dashboard 2, Customer Sentiment & Reviews: the headline numbers.
select
    count(*) as reviews,
    round(avg(rating), 2) as average_rating,
    round(count(*) filter (where rating <= 2) * 1.0 / count(*), 4) as low_rating_share,
    round(avg(rating) filter (where is_verified_purchase), 2) as average_rating_verified,
    round(avg(rating) filter (where not is_verified_purchase), 2) as average_rating_unverified,
    round(avg(sentiment_score), 3) as average_review_sentiment
from {{ ref('fct_product_reviews') }}
