-- One row per CRM opportunity (its newest version), keyed to the golden customer and the golden
-- lead, with the date it entered each stage, days spent in each stage, and its outcome. Shaped
-- after GitLab's fct_crm_opportunity: import CTEs first, columns grouped with comments.

with

opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}

),

stage_intervals as (

    select * from {{ ref('int_opportunity_stage_intervals') }}

),

leads as (

    select * from {{ ref('int_leads_deduplicated') }}

),

contacts_xref as (

    select
        source_id as contact_id,
        customer_id
    from {{ ref('customer_xref') }}
    where source_system = 'crm_contact'

),

stage_dates as (

    select
        opportunity_id,
        min(case when stage = 'Identified' then entered_at end) as identified_at,
        min(case when stage = 'Qualified' then entered_at end) as qualified_at,
        min(case when stage = 'Proposal' then entered_at end) as proposal_at,
        min(case when stage = 'Negotiation' then entered_at end) as negotiation_at,
        min(case when is_closed_stage then entered_at end) as closed_at,
        sum(case when stage = 'Identified' then days_in_stage else 0 end) as days_in_identified,
        sum(case when stage = 'Qualified' then days_in_stage else 0 end) as days_in_qualified,
        sum(case when stage = 'Proposal' then days_in_stage else 0 end) as days_in_proposal,
        sum(case when stage = 'Negotiation' then days_in_stage else 0 end) as days_in_negotiation,
        max(case when is_current_stage then entered_at end) as current_stage_entered_at,
        max(case when is_current_stage then days_in_stage end) as days_in_current_stage,
        count(*) as stage_change_count
    from stage_intervals
    group by opportunity_id

),

final as (

    select
        ---------- ids
        opportunities.opportunity_id,
        contacts_xref.customer_id,
        opportunities.contact_id,
        leads.golden_lead_id as lead_id,
        opportunities.lead_id as source_lead_id,
        opportunities.owner_id as sales_rep_id,
        opportunities.campaign_id,

        ---------- attributes
        opportunities.opportunity_name,
        opportunities.opportunity_type,
        opportunities.stage,
        opportunities.lead_source,
        opportunities.competitive_threat,
        opportunities.loss_reason,

        ---------- amounts
        opportunities.amount,
        opportunities.probability,
        {{ double_to_decimal('cast(opportunities.amount * opportunities.probability as double) / 100', 'decimal(14, 2)') }}
            as weighted_amount,

        ---------- outcome
        opportunities.is_closed,
        opportunities.is_won,
        opportunities.is_closed and not opportunities.is_won as is_lost,
        not opportunities.is_closed as is_open,

        ---------- stage dates
        opportunities.created_at,
        stage_dates.identified_at,
        stage_dates.qualified_at,
        stage_dates.proposal_at,
        stage_dates.negotiation_at,
        stage_dates.closed_at,
        stage_dates.current_stage_entered_at,
        opportunities.close_date,

        ---------- days in stage
        coalesce(stage_dates.days_in_identified, 0) as days_in_identified,
        coalesce(stage_dates.days_in_qualified, 0) as days_in_qualified,
        coalesce(stage_dates.days_in_proposal, 0) as days_in_proposal,
        coalesce(stage_dates.days_in_negotiation, 0) as days_in_negotiation,
        stage_dates.days_in_current_stage,
        {{ dbt.datediff('cast(opportunities.created_at as date)',
                        'coalesce(cast(stage_dates.closed_at as date), ' ~ as_of_date(ref('stg_crm__opportunities')) ~ ')',
                        'day') }} as cycle_days,
        coalesce(stage_dates.stage_change_count, 0) as stage_change_count,

        ---------- lineage
        opportunities.updated_at
    from opportunities
    left join stage_dates
        on opportunities.opportunity_id = stage_dates.opportunity_id
    left join leads
        on opportunities.lead_id = leads.lead_id
    left join contacts_xref
        on opportunities.contact_id = contacts_xref.contact_id

)

select * from final
