-- One row per golden customer: the 360° view of dashboard 5 (customer 360) — profile, purchases,
-- FitMap, support, reviews, e-mail engagement, open opportunities, predicted value and churn
-- risk, health, RFM, lifecycle stage, behavioural segment, the next best action with its reason
-- and confidence, and the customer profile: completeness, relationship strength, engagement
-- level, age bracket and life stage, communication preferences and the predicted next visit
-- (int_customer_profile, int_customer_relationship; their rules in docs/rules.md). With
-- dim_customer, the only gold table that carries personal data.

with

customers as (

    select * from {{ ref('dim_customer') }}
    where customer_key <> {{ unknown_member_key() }}

),

metrics as (

    select * from {{ ref('int_customer_metrics') }}

),

features as (

    select * from {{ ref('customer_features') }}

),

customer_value as (

    select * from {{ ref('fct_customer_value') }}

),

health as (

    select * from {{ ref('mart_customer_health') }}

),

rfm as (

    select * from {{ ref('mart_customer_rfm') }}

),

actions as (

    select * from {{ ref('int_customer_next_best_action') }}

),

action_confidence as (

    select * from {{ ref('int_next_best_action_confidence') }}

),

profile as (

    select * from {{ ref('int_customer_profile') }}

),

relationship as (

    select * from {{ ref('int_customer_relationship') }}

),

final as (

    select
        ---------- keys
        customers.customer_key,
        customers.customer_id,

        ---------- profile
        customers.full_name,
        customers.email,
        customers.phone,
        customers.loyalty_tier,
        customers.signup_date,
        customers.state,
        cast(round(profile.profile_completeness, 4) as double) as profile_completeness,
        cast(profile.age_years as integer) as age_years,
        profile.age_bracket,
        profile.life_stage,

        ---------- communication preferences
        profile.has_marketing_opt_in,
        profile.preferred_channel,
        profile.email_subscription_status,
        profile.is_email_contactable,

        ---------- relationship and engagement
        cast(round(relationship.relationship_strength, 1) as double) as relationship_strength,
        cast(relationship.touchpoints_used as integer) as touchpoints_used,
        cast(relationship.last_interaction_date as date) as last_interaction_date,
        cast(round(relationship.engagement_score, 1) as double) as engagement_score,
        relationship.engagement_level,

        ---------- visits
        cast(relationship.visit_day_count as integer) as visit_day_count,
        cast(relationship.last_visit_date as date) as last_visit_date,
        cast(relationship.median_visit_gap_days as integer) as median_visit_gap_days,
        cast(relationship.next_visit_predicted_date as date) as next_visit_predicted_date,

        ---------- purchases
        cast(metrics.lifetime_revenue as decimal(14, 2)) as lifetime_revenue,
        cast(metrics.order_count as integer) as order_count,
        {{ double_to_decimal("metrics.average_order_value", "decimal(14, 2)") }} as average_order_value,
        cast(metrics.last_order_at as date) as last_order_date,
        metrics.favourite_category,
        features.second_category,

        ---------- FitMap
        cast(metrics.fitmap_scan_count as integer) as fitmap_scan_count,
        cast(metrics.last_fitmap_scan_at as date) as last_fitmap_scan_date,
        features.recommended_top_size,
        features.recommended_bottom_size,

        ---------- support
        cast(metrics.ticket_count as integer) as ticket_count,
        cast(metrics.average_satisfaction as double) as average_satisfaction,
        cast(metrics.last_ticket_at as date) as last_ticket_date,

        ---------- reviews
        cast(metrics.review_count as integer) as review_count,
        cast(metrics.average_rating_given as double) as average_rating_given,

        ---------- e-mail
        cast(metrics.email_open_rate as double) as email_open_rate,
        cast(metrics.email_click_rate as double) as email_click_rate,
        cast(metrics.last_email_interaction_at as date) as last_email_interaction_date,

        ---------- opportunities
        cast(metrics.open_opportunity_count as integer) as open_opportunity_count,
        cast(metrics.open_opportunity_value as decimal(14, 2)) as open_opportunity_value,

        ---------- value and risk
        customer_value.predicted_clv_12mo,
        customer_value.churn_probability,
        customer_value.clv_decile,

        ---------- health
        health.health_score,
        health.health_level,

        ---------- segments
        rfm.rfm_score,
        coalesce(rfm.rfm_segment, 'No purchases') as rfm_segment,
        health.lifecycle_stage,
        health.behavioural_segment,

        ---------- next best action
        actions.next_best_action,
        actions.next_best_action_reason,
        cast(round(action_confidence.confidence, 4) as double) as next_best_action_confidence,

        ---------- as of
        metrics.as_of_date
    from customers
    inner join metrics
        on customers.customer_key = metrics.customer_key
    left join features
        on customers.customer_id = features.customer_id
    left join customer_value
        on customers.customer_key = customer_value.customer_key
    left join health
        on customers.customer_key = health.customer_key
    left join rfm
        on customers.customer_key = rfm.customer_key
    left join actions
        on customers.customer_key = actions.customer_key
    left join action_confidence
        on actions.next_best_action = action_confidence.next_best_action
    left join profile
        on customers.customer_key = profile.customer_key
    left join relationship
        on customers.customer_key = relationship.customer_key

)

select * from final
