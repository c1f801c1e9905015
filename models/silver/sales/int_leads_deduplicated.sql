-- One row per CRM lead, with the golden lead it is a duplicate of. Duplicate captures of the
-- same prospect share an e-mail (plus-tags ignored); a lead without e-mail joins the e-mail group
-- of another lead with its phone number, else groups on phone, else on name, company and state.
-- The golden lead id is the earliest captured lead of the group.

with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

keyed as (

    select
        lead_id,
        created_date,
        {{ email_match_key('email') }} as email_key,
        phone,
        lower(coalesce(last_name, '')) || '|' || lower(coalesce(first_name, '')) || '|'
            || lower(coalesce(company, '')) || '|' || coalesce(state, '') as name_key
    from leads

),

phone_to_email as (

    select
        phone,
        min(email_key) as email_key
    from keyed
    where phone is not null
        and email_key is not null
    group by phone

),

grouped as (

    select
        keyed.lead_id,
        keyed.created_date,
        coalesce(
            'email:' || keyed.email_key,
            'email:' || phone_to_email.email_key,
            'phone:' || keyed.phone,
            'name:' || keyed.name_key
        ) as duplicate_group_key
    from keyed
    -- joined on the phone alone (a condition on one side only would make this a nested loop);
    -- the coalesce above only reaches the phone's e-mail when the lead has none of its own
    left join phone_to_email
        on keyed.phone = phone_to_email.phone

),

final as (

    select
        lead_id,
        first_value(lead_id) over (
            partition by duplicate_group_key
            order by created_date, lead_id
            rows between unbounded preceding and unbounded following
        ) as golden_lead_id,
        duplicate_group_key,
        count(*) over (partition by duplicate_group_key) as duplicate_count
    from grouped

)

select * from final
