-- One row per CRM sales activity, enriched with its context: the opportunity it was logged
-- against (its stage at the time of the activity, from the stage history, and its current
-- stage, amount and outcome), the sales rep who logged it (team, territory, active or not) and
-- the golden customer it concerns (the contact it was logged against, else the opportunity's
-- customer), with the customer's loyalty tier and state. Activities without an opportunity, rep
-- or customer keep their row with nulls there.

with

activities as (

    select * from {{ ref('stg_crm__activities') }}

),

opportunities as (

    select * from {{ ref('opportunity_golden') }}

),

stage_intervals as (

    select * from {{ ref('int_opportunity_stage_intervals') }}

),

sales_reps as (

    select * from {{ ref('stg_crm__sales_reps') }}

),

contacts_xref as (

    select
        source_id as contact_id,
        customer_id
    from {{ ref('customer_xref') }}
    where source_system = 'crm_contact'

),

customers as (

    select * from {{ ref('customer_golden') }}

),

stage_at_activity as (

    select
        activities.activity_id,
        stage_intervals.stage
    from activities
    inner join stage_intervals
        on activities.opportunity_id = stage_intervals.opportunity_id
        and activities.activity_at >= stage_intervals.entered_at
    -- the latest stage entered on or before the activity (a closed stage lasts from then on)
    qualify row_number() over (
        partition by activities.activity_id
        order by stage_intervals.entered_at desc, stage_intervals.history_id desc
    ) = 1

),

final as (

    select
        ---------- ids
        activities.activity_id,
        activities.opportunity_id,
        activities.lead_id,
        activities.contact_id,
        activities.owner_id as sales_rep_id,
        coalesce(contacts_xref.customer_id, opportunities.customer_id) as customer_id,

        ---------- the activity
        activities.activity_type,
        activities.outcome,
        activities.duration_minutes,
        activities.activity_at,
        cast(activities.activity_at as date) as activity_date,

        ---------- the opportunity
        stage_at_activity.stage as opportunity_stage_at_activity,
        opportunities.stage as opportunity_current_stage,
        opportunities.opportunity_type,
        opportunities.amount as opportunity_amount,
        opportunities.is_open as is_opportunity_open,
        opportunities.is_won as is_opportunity_won,
        opportunities.close_date as opportunity_close_date,
        case when opportunities.is_closed
            then {{ dbt.datediff('cast(activities.activity_at as date)', 'opportunities.close_date', 'day') }}
        end as days_before_close,

        ---------- the rep
        sales_reps.sales_team,
        sales_reps.territory_id,
        sales_reps.is_active as is_rep_active,

        ---------- the customer
        customers.loyalty_tier as customer_loyalty_tier,
        customers.state as customer_state
    from activities
    left join opportunities
        on activities.opportunity_id = opportunities.opportunity_id
    left join stage_at_activity
        on activities.activity_id = stage_at_activity.activity_id
    left join sales_reps
        on activities.owner_id = sales_reps.sales_rep_id
    left join contacts_xref
        on activities.contact_id = contacts_xref.contact_id
    left join customers
        on coalesce(contacts_xref.customer_id, opportunities.customer_id) = customers.customer_id

)

select * from final
