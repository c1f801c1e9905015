-- One row per lead source found on CRM leads or opportunities, labelled with its channel group
-- (seeds/gold/lead_source_groups.csv; 'Other' for a source the taxonomy does not know yet), plus
-- the unknown member.

with

leads as (

    select * from {{ ref('stg_crm__leads') }}

),

opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}

),

lead_source_groups as (

    select * from {{ ref('lead_source_groups') }}

),

sources as (

    select lead_source from leads where lead_source is not null
    union
    select lead_source from opportunities where lead_source is not null

),

known as (

    select
        ---------- keys
        {{ surrogate_key(['sources.lead_source']) }} as lead_source_key,

        ---------- attributes
        sources.lead_source,
        coalesce(lead_source_groups.channel_group, 'Other') as channel_group,

        ---------- flags
        coalesce(lead_source_groups.is_digital, false) as is_digital,
        coalesce(lead_source_groups.is_inbound, false) as is_inbound
    from sources
    left join lead_source_groups
        on sources.lead_source = lead_source_groups.lead_source

),

unknown as (

    {{ unknown_member_row() }}

),

final as (

    select * from known
    union all
    select * from unknown

)

select * from final
