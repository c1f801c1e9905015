-- One row per CRM opportunity (its golden, newest version): stage reached and the date each stage
-- was entered, days spent in each stage, amount, probability, weighted and won amounts, outcome
-- flags and cycle length, keyed to the customer, rep, territory, lead source, stage and campaign.
-- A key that cannot be resolved points at the dimension's unknown member, so no row is dropped.

with

opportunities as (

    select * from {{ ref('opportunity_golden') }}

),

customers as (

    select customer_id from {{ ref('customer_golden') }}

),

campaigns as (

    select campaign_id from {{ ref('stg_marketing__campaigns') }}

),

sales_reps as (

    select * from {{ ref('dim_sales_rep') }}

),

lead_sources as (

    select * from {{ ref('dim_lead_source') }}

),

sales_stages as (

    select * from {{ ref('dim_sales_stage') }}

),

final as (

    select
        ---------- ids
        opportunities.opportunity_id,
        opportunities.lead_id,
        opportunities.source_lead_id,
        opportunities.contact_id,
        opportunities.sales_rep_id,
        opportunities.campaign_id,

        ---------- keys
        {{ member_key('customers.customer_id') }} as customer_key,
        {{ resolve_key('sales_reps.sales_rep_key') }} as sales_rep_key,
        {{ resolve_key('sales_reps.sales_territory_key') }} as sales_territory_key,
        {{ resolve_key('lead_sources.lead_source_key') }} as lead_source_key,
        {{ resolve_key('sales_stages.sales_stage_key') }} as sales_stage_key,
        {{ member_key('campaigns.campaign_id') }} as campaign_key,

        ---------- attributes
        opportunities.opportunity_name,
        opportunities.opportunity_type,
        opportunities.stage as stage_name,
        opportunities.lead_source,
        opportunities.competitive_threat,
        opportunities.loss_reason,

        ---------- amounts
        cast(opportunities.amount as decimal(14, 2)) as amount,
        cast(opportunities.probability as integer) as probability,
        cast(opportunities.weighted_amount as decimal(14, 2)) as weighted_amount,
        cast(case when opportunities.is_won then opportunities.amount else 0 end as decimal(14, 2)) as won_amount,
        cast(case when opportunities.is_open then opportunities.amount else 0 end as decimal(14, 2)) as open_pipeline_amount,

        ---------- flags
        opportunities.is_closed,
        opportunities.is_won,
        opportunities.is_lost,
        opportunities.is_open,

        ---------- dates
        cast(opportunities.created_at as date) as created_date,
        opportunities.close_date,
        case
            when opportunities.is_closed
                then coalesce(cast(opportunities.closed_at as date), opportunities.close_date)
        end as closed_date,

        ---------- timestamps
        cast(opportunities.created_at as timestamp) as created_at,
        cast(opportunities.identified_at as timestamp) as identified_at,
        cast(opportunities.qualified_at as timestamp) as qualified_at,
        cast(opportunities.proposal_at as timestamp) as proposal_at,
        cast(opportunities.negotiation_at as timestamp) as negotiation_at,
        cast(opportunities.closed_at as timestamp) as closed_at,
        cast(opportunities.current_stage_entered_at as timestamp) as current_stage_entered_at,

        ---------- durations
        cast(opportunities.days_in_identified as integer) as days_in_identified,
        cast(opportunities.days_in_qualified as integer) as days_in_qualified,
        cast(opportunities.days_in_proposal as integer) as days_in_proposal,
        cast(opportunities.days_in_negotiation as integer) as days_in_negotiation,
        cast(opportunities.days_in_current_stage as integer) as days_in_current_stage,
        cast(opportunities.cycle_days as integer) as cycle_days,
        cast(opportunities.stage_change_count as integer) as stage_change_count,

        ---------- lineage
        cast(opportunities.updated_at as timestamp) as updated_at
    from opportunities
    left join customers
        on opportunities.customer_id = customers.customer_id
    left join campaigns
        on opportunities.campaign_id = campaigns.campaign_id
    left join sales_reps
        on opportunities.sales_rep_id = sales_reps.sales_rep_id
    left join lead_sources
        on opportunities.lead_source = lead_sources.lead_source
    left join sales_stages
        on opportunities.stage = sales_stages.stage_name

)

select * from final
