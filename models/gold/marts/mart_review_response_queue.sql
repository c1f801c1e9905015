-- One row per new 1–2 star review (submitted in the review_queue_days before the as-of date,
-- default 7): the "Review Response" flow — whether the customer already has an open
-- support ticket (then notify its agent) or not (then open one), with the review's sentiment.
-- The ticket linked is the open one about the reviewed order when there is one, else the
-- customer's most recently opened open ticket.

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

    select ticket_id, customer_key, order_id, agent_id, created_at
    from {{ ref('fct_support_tickets') }}
    where is_open
        and customer_key <> {{ unknown_member_key() }}

),

review_tickets as (

    select
        reviews.review_key,
        open_tickets.ticket_id,
        open_tickets.agent_id,
        coalesce(open_tickets.order_id = reviews.order_id, false) as is_on_reviewed_order,
        count(*) over (partition by reviews.review_key) as open_ticket_count,
        row_number() over (
            partition by reviews.review_key
            order by
                case when open_tickets.order_id = reviews.order_id then 0 else 1 end,
                open_tickets.created_at desc,
                open_tickets.ticket_id
        ) as ticket_rank
    from reviews
    inner join open_tickets
        on reviews.customer_key = open_tickets.customer_key

),

linked_tickets as (

    select * from review_tickets
    where ticket_rank = 1

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
        linked_tickets.ticket_id as open_ticket_id,
        linked_tickets.agent_id as open_ticket_agent_id,
        cast(coalesce(linked_tickets.open_ticket_count, 0) as integer) as open_ticket_count,
        coalesce(linked_tickets.is_on_reviewed_order, false) as is_ticket_on_reviewed_order,
        linked_tickets.ticket_id is not null as has_open_ticket,
        case when linked_tickets.ticket_id is not null then 'notify_ticket_owner'
            else 'create_ticket' end as response_action
    from reviews
    left join linked_tickets
        on reviews.review_key = linked_tickets.review_key

)

select * from final
