{{ config(severity='warn') }}

-- One row per bronze table some of whose rows broke their contract and were quarantined
-- (quality.quarantine holds each row with its reason). Bronze is raw as the sources sent it, so
-- this warns rather than fails: the valid rows are staged, the others wait for the source's fix.

select
    system,
    table_name,
    quarantined_rows
from {{ ref('reconciliation') }}
where quarantined_rows > 0
