{{ config(materialized='ephemeral') }}
-- One row per source identity record and version the source sent (exact replays once), in the
-- shape of int_customer_identities_unioned plus the _load_date that brought the version: the
-- input of customer_history. Ephemeral: inlined as a CTE, never a table.

{{ customer_identity_records(versions=true) }}
