-- Type-2 history of CRM opportunities, one row per version the CRM sent (a distinct
-- last-modified time), rebuilt from every version bronze holds on each build, so it depends on
-- the data only, never on which builds ran. valid_from is the version's updated_at (the CRM's
-- last-modified time: when the stage, amount or owner changed in the source, even when the
-- version arrived late); valid_to is the next version's. loaded_on is the load that first
-- brought the version. Two versions with the same updated_at: the later load wins. Versions are
-- ordered by updated_at, not by arrival, so an old version replayed late does not reopen.

with

versions as (

    select * from {{ ref('stg_crm__opportunities_versions') }}
    where updated_at is not null

),

contacts as (

    select
        source_id as contact_id,
        customer_id
    from {{ ref('customer_xref') }}
    where source_system = 'crm_contact'

),

latest_per_time as (

    select *
    from (
        select
            versions.*,
            row_number() over (
                partition by opportunity_id, updated_at
                order by _loaded_at desc, _batch_id desc, _source_file desc
            ) as time_rank
        from versions
    ) as ranked
    where time_rank = 1

),

versioned as (

    select
        latest_per_time.*,
        lead(updated_at) over (partition by opportunity_id order by updated_at) as next_updated_at
    from latest_per_time

),

final as (

    select
        {{ surrogate_key(['versioned.opportunity_id', 'versioned.updated_at']) }} as opportunity_history_id,
        versioned.opportunity_id,
        contacts.customer_id,
        versioned.contact_id,
        versioned.owner_id,
        versioned.opportunity_type,
        versioned.stage,
        versioned.amount,
        versioned.probability,
        versioned.close_date,
        versioned.is_closed,
        versioned.is_won,
        versioned.loss_reason,
        versioned.updated_at as valid_from,
        versioned.next_updated_at as valid_to,
        versioned.next_updated_at is null as is_current,
        versioned._load_date as loaded_on
    from versioned
    left join contacts
        on versioned.contact_id = contacts.contact_id

)

select * from final
