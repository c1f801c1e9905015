-- Warns when the customer id ledger starts after the identity data it matched: the warehouse
-- (and with it silver.customer_id_ledger) was created or wiped after customers had already been
-- loaded, so customers merged or split since then may carry other ids than an earlier
-- warehouse gave them. Restore the ledger from a backup to keep their ids. One row when it
-- fires.
{{ config(severity='warn') }}

with

ledger as (

    select min(event_on) as first_event_on from {{ ref('customer_id_ledger') }}

),

identities as (

    select min(cast(_loaded_at as date)) as first_loaded_on
    from {{ ref('int_customer_identities_unioned') }}

)

select
    identities.first_loaded_on,
    ledger.first_event_on
from ledger
cross join identities
where ledger.first_event_on > identities.first_loaded_on
