-- One row per loyalty tier change of a member (enrolment into the first tier, upgrades and
-- downgrades): from and to which tier, why, in which direction (by the tier ranks of
-- seeds/gold/loyalty_tiers.csv), and how long the member held the tier it left. Keyed to the
-- golden customer through the loyalty crosswalk (the unknown member when not matched).

with

tier_changes as (

    select * from {{ ref('stg_loyalty__tier_changes') }}

),

loyalty_tiers as (

    select * from {{ ref('loyalty_tiers') }}

),

loyalty_xref as (

    select source_id as member_id, customer_id
    from {{ ref('customer_xref') }}
    where source_system = 'loyalty'

),

changes_sequenced as (

    select
        tier_changes.*,
        lag(tier_changes.changed_at) over (
            partition by tier_changes.member_id
            order by tier_changes.changed_at, tier_changes.tier_change_id
        ) as previous_changed_at,
        row_number() over (
            partition by tier_changes.member_id
            order by tier_changes.changed_at desc, tier_changes.tier_change_id desc
        ) as recency_rank
    from tier_changes

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['changes_sequenced.tier_change_id']) }} as tier_change_key,
        {{ member_key('loyalty_xref.customer_id') }} as customer_key,
        cast(changes_sequenced.changed_at as date) as change_date,

        ---------- ids
        changes_sequenced.tier_change_id,
        changes_sequenced.member_id,

        ---------- attributes
        changes_sequenced.from_tier,
        changes_sequenced.to_tier,
        changes_sequenced.change_reason,
        case
            when changes_sequenced.from_tier is null then 'enrolment'
            when to_tiers.tier_rank > from_tiers.tier_rank then 'upgrade'
            when to_tiers.tier_rank < from_tiers.tier_rank then 'downgrade'
            else 'unchanged'
        end as change_direction,

        ---------- measures
        cast(to_tiers.tier_rank - from_tiers.tier_rank as integer) as tier_steps,
        cast({{ dbt.datediff('changes_sequenced.previous_changed_at', 'changes_sequenced.changed_at', 'day') }}
            as integer) as days_in_previous_tier,

        ---------- flags
        changes_sequenced.recency_rank = 1 as is_current_tier,

        ---------- timestamps
        cast(changes_sequenced.changed_at as timestamp) as changed_at
    from changes_sequenced
    left join loyalty_tiers as from_tiers
        on changes_sequenced.from_tier = from_tiers.loyalty_tier
    left join loyalty_tiers as to_tiers
        on changes_sequenced.to_tier = to_tiers.loyalty_tier
    left join loyalty_xref
        on changes_sequenced.member_id = loyalty_xref.member_id

)

select * from final
