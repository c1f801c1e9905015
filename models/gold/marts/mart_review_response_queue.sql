-- One row per new 1–2 star review (submitted in the review_queue_days before the as-of date,
-- default 7): the "Review Response" flow — whether the customer already has an open
-- support ticket (then notify its agent) or not (then open one), with the review's sentiment.

with

as_of as (

    select {{ as_of_date(ref('stg_reviews__product_reviews')) }} as as_of_date

),

reviews as (

    select * from {{ ref('fct_product_reviews') }}
    where is_low_rating
        and review_date > {{ dbt.dateadd('day', -var('review_queue_days'), '(select as_of_date from as_of)') }}
        and review_date <= (select as_of_date from as_of)

),

open_tickets as (

    select customer_key, min(ticket_id) as open_ticket_id, count(*) as open_ticket_count
    from {{ ref('fct_support_tickets') }}
    where is_open
        and customer_key <> {{ unknown_member_key() }}
    group by customer_key

),

final as (

    select
        ---------- keys
        reviews.review_key,
        reviews.review_id,
        reviews.customer_key,
        reviews.product_key,
        reviews.review_date,
        (select as_of_date from as_of) as as_of_date,

        ---------- review
        reviews.rating,
        reviews.review_title,
        reviews.review_text,
        reviews.fit_feedback,
        reviews.sentiment_score,
        cast(reviews.submitted_at as timestamp) as submitted_at,

        ---------- ticket
        open_tickets.open_ticket_id,
        open_tickets.open_ticket_id is not null as has_open_ticket,
        case when open_tickets.open_ticket_id is not null then 'notify_ticket_owner'
            else 'create_ticket' end as response_action
    from reviews
    left join open_tickets
        on reviews.customer_key = open_tickets.customer_key

)

select * from final
