-- One row per entry of the loyalty points ledger: points earned (purchases and bonuses), redeemed,
-- expired or adjusted, and the member's balance after the entry. Keyed to the golden customer
-- through the loyalty crosswalk (the unknown member when the member is not matched).

with

ledger as (

    select * from {{ ref('stg_loyalty__points_ledger') }}

),

loyalty_xref as (

    select source_id as member_id, customer_id
    from {{ ref('customer_xref') }}
    where source_system = 'loyalty'

),

entries_balanced as (

    -- the running balance in ledger order (ties on the timestamp broken by the entry id)
    select
        ledger.*,
        sum(ledger.points) over (
            partition by ledger.member_id
            order by ledger.entry_at, ledger.ledger_id
            rows between unbounded preceding and current row
        ) as balance_after,
        row_number() over (
            partition by ledger.member_id
            order by ledger.entry_at, ledger.ledger_id
        ) as entry_sequence,
        count(*) over (partition by ledger.member_id) as member_entry_count
    from ledger

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['entries_balanced.ledger_id']) }} as points_entry_key,
        {{ member_key('loyalty_xref.customer_id') }} as customer_key,
        cast(entries_balanced.entry_at as date) as entry_date,

        ---------- ids
        entries_balanced.ledger_id,
        entries_balanced.member_id,
        entries_balanced.order_id,

        ---------- attributes
        entries_balanced.entry_type,

        ---------- measures (points; earned + adjusted - redeemed - expired = points)
        cast(entries_balanced.points as integer) as points,
        cast(case when entries_balanced.entry_type in ('earn', 'bonus')
            then entries_balanced.points else 0 end as integer) as points_earned,
        cast(case when entries_balanced.entry_type = 'redeem'
            then -entries_balanced.points else 0 end as integer) as points_redeemed,
        cast(case when entries_balanced.entry_type = 'expire'
            then -entries_balanced.points else 0 end as integer) as points_expired,
        cast(case when entries_balanced.entry_type = 'adjust'
            then entries_balanced.points else 0 end as integer) as points_adjusted,
        cast(entries_balanced.balance_after as integer) as balance_after,
        cast(entries_balanced.entry_sequence as integer) as entry_sequence,

        ---------- flags
        entries_balanced.entry_sequence = entries_balanced.member_entry_count as is_latest_entry,

        ---------- timestamps
        cast(entries_balanced.entry_at as timestamp) as entry_at
    from entries_balanced
    left join loyalty_xref
        on entries_balanced.member_id = loyalty_xref.member_id

)

select * from final
