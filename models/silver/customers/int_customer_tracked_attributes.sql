-- One row per golden customer: the attributes whose history is kept (loyalty tier, e-mail,
-- address), with the time the winning source records last changed — the snapshot's clock, so
-- that history records when the change happened in the source, not when dbt ran.

with

golden as (

    select * from {{ ref('customer_golden') }}

)

select
    customer_id,
    loyalty_tier,
    email,
    address_line1,
    city,
    state,
    postal_code,
    greatest(
        coalesce(loyalty_tier_updated_at, {{ unknown_member_date('timestamp') }}),
        coalesce(email_updated_at, {{ unknown_member_date('timestamp') }}),
        coalesce(address_updated_at, {{ unknown_member_date('timestamp') }}),
        coalesce(state_updated_at, {{ unknown_member_date('timestamp') }})
    ) as tracked_updated_at
from golden
