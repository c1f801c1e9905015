-- One row per at-risk high-value customer as of the as-of date: the "At-Risk Customer
-- Alert" flow — 2+ negative tickets or a review of 2 stars or fewer in the last 60 days, and a
-- lifetime value over 500 (vars at_risk_* in dbt_project.yml); with open opportunities and the
-- recommended action.

with

as_of as (

    select {{ as_of_date(ref('stg_shop__orders')) }} as as_of_date

),

negative_tickets as (

    select
        customer_key,
        count(*) as negative_tickets_60d,
        max(created_at) as last_negative_ticket_at
    from {{ ref('fct_support_tickets') }}
    where sentiment_label = 'Negative'
        and created_date > {{ dbt.dateadd('day', -var('at_risk_lookback_days'), '(select as_of_date from as_of)') }}
        and created_date <= (select as_of_date from as_of)
    group by customer_key

),

low_reviews as (

    select
        customer_key,
        count(*) as low_reviews_60d,
        min(rating) as lowest_rating_60d
    from {{ ref('fct_product_reviews') }}
    where is_low_rating
        and review_date > {{ dbt.dateadd('day', -var('at_risk_lookback_days'), '(select as_of_date from as_of)') }}
        and review_date <= (select as_of_date from as_of)
    group by customer_key

),

metrics as (

    select * from {{ ref('int_customer_metrics') }}

),

actions as (

    select * from {{ ref('int_customer_next_best_action') }}

),

final as (

    select
        ---------- keys
        metrics.customer_key,
        metrics.customer_id,
        (select as_of_date from as_of) as as_of_date,

        ---------- risk signals
        cast(coalesce(negative_tickets.negative_tickets_60d, 0) as integer) as negative_tickets_60d,
        cast(coalesce(low_reviews.low_reviews_60d, 0) as integer) as low_reviews_60d,
        cast(low_reviews.lowest_rating_60d as integer) as lowest_rating_60d,
        cast(negative_tickets.last_negative_ticket_at as timestamp) as last_negative_ticket_at,

        ---------- value
        cast(metrics.lifetime_revenue as decimal(14, 2)) as lifetime_revenue,
        cast(metrics.predicted_clv_12mo as decimal(14, 2)) as predicted_clv_12mo,
        cast(metrics.churn_probability as double) as churn_probability,

        ---------- opportunities
        cast(metrics.open_opportunity_count as integer) as open_opportunity_count,
        cast(metrics.open_opportunity_value as decimal(14, 2)) as open_opportunity_value,
        metrics.open_opportunity_count > 0 as has_open_opportunity,

        ---------- action
        actions.next_best_action as recommended_action,
        actions.next_best_action_reason as recommended_action_reason,
        'High' as jira_priority
    from metrics
    left join negative_tickets
        on metrics.customer_key = negative_tickets.customer_key
    left join low_reviews
        on metrics.customer_key = low_reviews.customer_key
    left join actions
        on metrics.customer_key = actions.customer_key
    where (coalesce(negative_tickets.negative_tickets_60d, 0) >= {{ var('at_risk_min_negative_tickets') }}
           or coalesce(low_reviews.low_reviews_60d, 0) >= {{ var('at_risk_min_low_reviews') }})
        and metrics.lifetime_revenue > {{ var('at_risk_min_lifetime_revenue') }}

)

select * from final
