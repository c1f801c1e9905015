-- The support slice of the customer crosswalk: one row per support requester (requester_id of
-- tickets, calls and surveys) with its golden customer_id. Every model that resolves a support
-- requester to its golden customer refs this instead of filtering customer_xref itself.
-- Ephemeral: inlined as a CTE, never a table.

{{ config(materialized='ephemeral') }}

with

xref as (

    select * from {{ ref('customer_xref') }}

),

final as (

    select
        source_id as support_requester_id,
        customer_id
    from xref
    where source_system = 'support'

)

select * from final
