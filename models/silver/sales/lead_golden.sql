-- One row per real prospect: duplicate CRM leads merged. The most advanced status wins, with
-- the earliest capture date, the best score, and the owner and details of the latest record;
-- a merged lead converts when any of its captures converted.

with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

duplicates as (

    select * from {{ ref('int_leads_deduplicated') }}

),

status_precedence as (

    select * from {{ ref('lead_status_precedence') }}

),

contacts_xref as (

    select
        source_id as contact_id,
        customer_id
    from {{ ref('customer_xref') }}
    where source_system = 'crm_contact'

),

ranked as (

    select
        duplicates.golden_lead_id,
        leads.*,
        status_precedence.status_rank,
        row_number() over (
            partition by duplicates.golden_lead_id
            order by leads.updated_at desc, leads.lead_id
        ) as recency_rank
    from leads
    inner join duplicates
        on leads.lead_id = duplicates.lead_id
    left join status_precedence
        on leads.status = status_precedence.status

),

merged as (

    select
        golden_lead_id,
        count(*) as duplicate_count,
        min(created_date) as first_captured_date,
        max(converted_date) as converted_date,
        max(lead_score) as lead_score,
        min(status_rank) as best_status_rank,
        max(converted_contact_id) as converted_contact_id,
        max(converted_opportunity_id) as converted_opportunity_id
    from ranked
    group by golden_lead_id

),

latest as (

    select * from ranked where recency_rank = 1

),

final as (

    select
        ---------- ids
        merged.golden_lead_id as lead_id,
        latest.owner_id,
        latest.campaign_id,
        merged.converted_contact_id,
        merged.converted_opportunity_id,
        contacts_xref.customer_id,
        ---------- strings
        latest.first_name,
        latest.last_name,
        latest.email,
        latest.phone,
        latest.company,
        latest.state,
        latest.lead_source,
        latest.lead_grade,
        best_status.status,
        latest.disqualification_reason,
        ---------- numerics
        merged.lead_score,
        merged.duplicate_count,
        ---------- booleans
        coalesce(best_status.status = 'Converted', false) as is_converted,
        ---------- dates
        merged.first_captured_date as created_date,
        merged.converted_date,
        ---------- timestamps
        latest.updated_at
    from merged
    inner join latest
        on merged.golden_lead_id = latest.golden_lead_id
    left join status_precedence as best_status
        on merged.best_status_rank = best_status.status_rank
    left join contacts_xref
        on merged.converted_contact_id = contacts_xref.contact_id

)

select * from final
