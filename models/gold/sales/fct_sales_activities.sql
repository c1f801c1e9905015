-- One row per CRM sales activity (call, e-mail, meeting, fitting appointment, proposal, demo):
-- who did it, for which lead / opportunity / customer, when, how long, and how it went.

with

activities as (

    select * from {{ ref('stg_crm__activities') }}

),

leads as (

    select * from {{ ref('int_leads_deduplicated') }}

),

opportunities as (

    select opportunity_id, customer_id from {{ ref('opportunity_golden') }}

),

contacts_xref as (

    select
        source_id as contact_id,
        customer_id
    from {{ ref('customer_xref') }}
    where source_system = 'crm_contact'

),

customers as (

    select customer_id from {{ ref('customer_golden') }}

),

sales_reps as (

    select * from {{ ref('dim_sales_rep') }}

),

resolved as (

    select
        activities.*,
        leads.golden_lead_id,
        -- the contact the activity was logged against, else the customer of its opportunity
        coalesce(contacts_xref.customer_id, opportunities.customer_id) as customer_id
    from activities
    left join leads
        on activities.lead_id = leads.lead_id
    left join contacts_xref
        on activities.contact_id = contacts_xref.contact_id
    left join opportunities
        on activities.opportunity_id = opportunities.opportunity_id

),

final as (

    select
        ---------- ids
        resolved.activity_id,
        resolved.opportunity_id,
        resolved.golden_lead_id as lead_id,
        resolved.lead_id as source_lead_id,
        resolved.contact_id,
        resolved.owner_id as sales_rep_id,

        ---------- keys
        cast(resolved.activity_at as date) as activity_date,
        {{ member_key('customers.customer_id') }} as customer_key,
        {{ resolve_key('sales_reps.sales_rep_key') }} as sales_rep_key,
        {{ resolve_key('sales_reps.sales_territory_key') }} as sales_territory_key,

        ---------- attributes
        resolved.activity_type,
        resolved.outcome,
        resolved.subject,

        ---------- measures
        cast(resolved.duration_minutes as integer) as duration_minutes,

        ---------- flags
        coalesce(resolved.outcome in ('Completed', 'Positive', 'Negative'), false) as is_connected,
        coalesce(resolved.outcome = 'Positive', false) as is_positive_outcome,
        resolved.opportunity_id is not null as has_opportunity,
        resolved.lead_id is not null as has_lead,

        ---------- timestamps
        cast(resolved.activity_at as timestamp) as activity_at
    from resolved
    left join customers
        on resolved.customer_id = customers.customer_id
    left join sales_reps
        on resolved.owner_id = sales_reps.sales_rep_id

)

select * from final
