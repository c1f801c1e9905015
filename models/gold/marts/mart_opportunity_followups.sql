-- One row per open opportunity in Qualified or Proposal for more than 14 days as of the as-of
-- date: the "Opportunity Follow-Up" flow — the owner, days in stage, the last sales
-- activity and the last customer interaction (any channel), and a follow-up recommendation.

with

as_of as (

    select {{ as_of_date(ref('stg_crm__opportunities')) }} as as_of_date

),

opportunities as (

    select * from {{ ref('opportunity_golden') }}
    where is_open
        and stage in ('Qualified', 'Proposal')

),

activities as (

    select opportunity_id, max(activity_at) as last_activity_at
    from {{ ref('stg_crm__activities') }}
    group by opportunity_id

),

interactions as (

    select customer_key, max(interaction_at) as last_customer_interaction_at
    from (
        select customer_key, ordered_at as interaction_at from {{ ref('fct_orders') }}
        union all
        select customer_key, created_at from {{ ref('fct_support_tickets') }}
        union all
        select customer_key, event_at from {{ ref('fct_email_events') }} where is_open or is_click or is_conversion
        union all
        select customer_key, session_started_at from {{ ref('fct_web_sessions') }} where not is_anonymous
    ) as touches
    where interaction_at <= cast((select as_of_date from as_of) as timestamp) + interval 1 day
    group by customer_key

),

final as (

    select
        ---------- keys
        opportunities.opportunity_id,
        {{ member_key('opportunities.customer_id') }} as customer_key,
        {{ member_key('opportunities.sales_rep_id') }} as sales_rep_key,
        opportunities.sales_rep_id,
        (select as_of_date from as_of) as as_of_date,

        ---------- opportunity
        opportunities.opportunity_name,
        opportunities.stage,
        cast(opportunities.amount as decimal(14, 2)) as amount,
        cast(opportunities.probability as integer) as probability,
        cast(opportunities.days_in_current_stage as integer) as days_in_stage,

        ---------- interactions
        cast(activities.last_activity_at as timestamp) as last_activity_at,
        cast(interactions.last_customer_interaction_at as timestamp) as last_customer_interaction_at,
        cast({{ dbt.datediff('cast(coalesce(activities.last_activity_at, opportunities.current_stage_entered_at) as date)',
                             '(select as_of_date from as_of)', 'day') }} as integer) as days_since_sales_activity,
        cast({{ dbt.datediff('cast(interactions.last_customer_interaction_at as date)',
                             '(select as_of_date from as_of)', 'day') }} as integer) as days_since_customer_interaction,
        coalesce({{ dbt.datediff('cast(interactions.last_customer_interaction_at as date)',
                                 '(select as_of_date from as_of)', 'day') }} <= {{ var('followup_recent_interaction_days') }}, false) as has_recent_interaction,

        ---------- recommendation
        case
            when coalesce({{ dbt.datediff('cast(interactions.last_customer_interaction_at as date)',
                                          '(select as_of_date from as_of)', 'day') }} <= {{ var('followup_recent_interaction_days') }}, false)
                then 'Customer engaged recently: call now and move to the next stage'
            else 'No interaction for {{ var('followup_recent_interaction_days') }}+ days: send a personal follow-up and book a fitting'
        end as follow_up_recommendation
    from opportunities
    left join activities
        on opportunities.opportunity_id = activities.opportunity_id
    left join interactions
        on {{ member_key('opportunities.customer_id') }} = interactions.customer_key
    where opportunities.days_in_current_stage > {{ var('followup_min_days_in_stage') }}

)

select * from final
