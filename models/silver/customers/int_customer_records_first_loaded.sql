-- One row per source identity record: the load date of the first version bronze holds of it.
-- Golden ids are minted from a cluster's earliest-loaded record (engagement_lake.mdm.ids), an
-- order a day-by-day ledger and a from-scratch build of the same bronze both see, unlike the
-- records' keys.

with

versions as (

    select * from {{ ref('int_customer_identity_versions') }}

),

first_loaded as (

    select
        source_system,
        source_id,
        min(_load_date) as first_loaded
    from versions
    group by source_system, source_id

)

select * from first_loaded
