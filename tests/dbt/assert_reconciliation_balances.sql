-- Nothing is lost silently: every bronze row is staged, quarantined, collapsed into a newer
-- version of its key, or erased (its person asked to be forgotten: docs/privacy.md). Returns the
-- tables where that does not add up.
select
    system,
    table_name,
    bronze_rows,
    staging_rows,
    quarantined_rows,
    collapsed_rows,
    erased_rows
from {{ ref('reconciliation') }}
where bronze_rows <> staging_rows + quarantined_rows + collapsed_rows + erased_rows
