-- One row per golden customer: the next best action and why. Rules, in
-- priority order (seeds/marts/next_best_actions.csv):
--   1 sales_follow_up    an open opportunity with no interaction for 14+ days
--   2 service_recovery   2+ negative texts, or a 1–2 star review, in the last 60 days
--   3 offer_fitmap_scan  fit returns or sizing tickets, and never scanned with FitMap
--   4 loyalty_reward     top-two CLV decile but no order for 90+ days and < 10% e-mail opens
--   5 collection_email   a repeat buyer 60–180 days after the last order
--   9 no_action

with

customer_metrics as (

    select * from {{ ref('int_customer_metrics') }}

),

quiet_opportunities as (

    select
        opportunities.customer_id,
        min(opportunities.opportunity_id) as opportunity_id,
        max({{ dbt.datediff(
            'cast(greatest(coalesce(activities.last_activity_at, opportunities.current_stage_entered_at), opportunities.current_stage_entered_at) as date)',
            as_of_date(ref('stg_crm__opportunities')), 'day') }}) as quiet_days
    from {{ ref('opportunity_golden') }} as opportunities
    left join (
        select opportunity_id, max(activity_at) as last_activity_at
        from {{ ref('stg_crm__activities') }}
        group by opportunity_id
    ) as activities
        on opportunities.opportunity_id = activities.opportunity_id
    where opportunities.is_open
        and opportunities.customer_id is not null
    group by opportunities.customer_id

),

recent_negatives as (

    select
        texts.customer_id,
        count(*) filter (where texts.sentiment_label = 'negative') as negative_texts_60d,
        count(*) filter (where texts.source_type = 'review' and {{ is_low_rating('reviews.rating') }}) as low_reviews_60d
    from {{ ref('sentiment_unified') }} as texts
    left join {{ ref('stg_reviews__product_reviews') }} as reviews
        on texts.source_type = 'review'
        and texts.source_id = reviews.review_id
    where texts.customer_id is not null
        and texts.written_at >= {{ dbt.dateadd('day', -60, as_of_date(ref('stg_shop__orders'))) }}
    group by texts.customer_id

),

decided as (

    select
        customer_metrics.customer_key,
        customer_metrics.customer_id,
        case
            when quiet_opportunities.quiet_days >= 14 then 'sales_follow_up'
            when recent_negatives.negative_texts_60d >= 2 or recent_negatives.low_reviews_60d >= 1
                then 'service_recovery'
            when (customer_metrics.sizing_return_count > 0 or customer_metrics.sizing_ticket_count > 0)
                and coalesce(customer_metrics.fitmap_scan_count, 0) = 0 then 'offer_fitmap_scan'
            when customer_metrics.clv_decile >= 9 and customer_metrics.days_since_last_order >= 90
                and coalesce(customer_metrics.email_open_rate, 0) < 0.10 then 'loyalty_reward'
            when customer_metrics.order_count >= 2
                and customer_metrics.days_since_last_order between 60 and 180 then 'collection_email'
            else 'no_action'
        end as next_best_action,
        case
            when quiet_opportunities.quiet_days >= 14
                then 'Opportunity ' || quiet_opportunities.opportunity_id || ' has had no interaction for '
                    || cast(quiet_opportunities.quiet_days as varchar) || ' days'
            when recent_negatives.negative_texts_60d >= 2 or recent_negatives.low_reviews_60d >= 1
                then cast(recent_negatives.negative_texts_60d as varchar) || ' negative messages and '
                    || cast(recent_negatives.low_reviews_60d as varchar) || ' low reviews in 60 days'
            when (customer_metrics.sizing_return_count > 0 or customer_metrics.sizing_ticket_count > 0)
                and coalesce(customer_metrics.fitmap_scan_count, 0) = 0
                then 'Sizing problems (' || cast(customer_metrics.sizing_return_count as varchar)
                    || ' fit returns, ' || cast(customer_metrics.sizing_ticket_count as varchar)
                    || ' sizing tickets) and no FitMap scan'
            when customer_metrics.clv_decile >= 9 and customer_metrics.days_since_last_order >= 90
                and coalesce(customer_metrics.email_open_rate, 0) < 0.10
                then 'High value (CLV decile ' || cast(customer_metrics.clv_decile as varchar)
                    || ') but no order for ' || cast(customer_metrics.days_since_last_order as varchar)
                    || ' days and few e-mail opens'
            when customer_metrics.order_count >= 2
                and customer_metrics.days_since_last_order between 60 and 180
                then 'Due for a wardrobe refresh: last order ' || cast(customer_metrics.days_since_last_order as varchar)
                    || ' days ago, favourite category ' || coalesce(customer_metrics.favourite_category, 'unknown')
            else 'Nothing needs doing now'
        end as next_best_action_reason
    from customer_metrics
    left join quiet_opportunities
        on customer_metrics.customer_id = quiet_opportunities.customer_id
    left join recent_negatives
        on customer_metrics.customer_id = recent_negatives.customer_id

)

select * from decided
