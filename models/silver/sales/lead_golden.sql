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
        case leads.status
            when 'Converted' then 1
            when 'Qualified' then 2
            when 'Working' then 3
            when 'Nurturing' then 4
            when 'New' then 5
            when 'Unqualified' then 6
        end as status_rank,
        row_number() over (
            partition by duplicates.golden_lead_id
            order by leads.updated_at desc, leads.lead_id
        ) as recency_rank
    from leads
    inner join duplicates
        on leads.lead_id = duplicates.lead_id

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
        case merged.best_status_rank
            when 1 then 'Converted'
            when 2 then 'Qualified'
            when 3 then 'Working'
            when 4 then 'Nurturing'
            when 5 then 'New'
            when 6 then 'Unqualified'
        end as status,
        latest.disqualification_reason,
        ---------- numerics
        merged.lead_score,
        merged.duplicate_count,
        ---------- booleans
        merged.best_status_rank = 1 as is_converted,
        ---------- dates
        merged.first_captured_date as created_date,
        merged.converted_date,
        ---------- timestamps
        latest.updated_at
    from merged
    inner join latest
        on merged.golden_lead_id = latest.golden_lead_id
    left join contacts_xref
        on merged.converted_contact_id = contacts_xref.contact_id

)

select * from final
