-- One row per FitMap invitation (a next-best action offer_fitmap_scan): whether the customer
-- had scanned before it, their first scan after it, and whether they adopted FitMap — a first
-- ever scan at most fitmap_adoption_days calendar days after the invitation (var, default 30).

with

as_of as (

    select {{ as_of_date(ref('stg_mlops__next_best_actions')) }} as as_of_date

),

invitations as (

    select * from {{ ref('fct_next_best_action') }}
    where action_type = 'offer_fitmap_scan'

),

scans as (

    select scan_id, customer_key, scanned_at from {{ ref('fct_fitmap_scans') }}
    where customer_key <> {{ unknown_member_key() }}

),

invitation_scans as (

    select
        invitations.action_id,
        scans.scan_id,
        scans.scanned_at,
        scans.scanned_at < invitations.offered_at as is_before_invitation,
        row_number() over (
            partition by invitations.action_id, scans.scanned_at < invitations.offered_at
            order by scans.scanned_at, scans.scan_id
        ) as scan_rank
    from invitations
    inner join scans
        on invitations.customer_key = scans.customer_key

),

prior_scans as (

    select action_id, count(*) as prior_scan_count
    from invitation_scans
    where is_before_invitation
    group by action_id

),

first_scans_after as (

    select action_id, scan_id, scanned_at
    from invitation_scans
    where not is_before_invitation
        and scan_rank = 1

),

joined as (

    select
        invitations.action_id,
        invitations.customer_key,
        invitations.customer_ref,
        invitations.offered_date,
        invitations.offered_at,
        invitations.channel,
        invitations.outcome,
        coalesce(prior_scans.prior_scan_count, 0) > 0 as was_fitmap_user,
        first_scans_after.scan_id as first_scan_id,
        first_scans_after.scanned_at as first_scan_at,
        cast({{ dbt.datediff('invitations.offered_date', 'cast(first_scans_after.scanned_at as date)', 'day') }} as integer)
            as days_to_first_scan,
        cast({{ dbt.dateadd('day', var('fitmap_adoption_days'), 'invitations.offered_date') }} as date)
            as adoption_window_end_date
    from invitations
    left join prior_scans
        on invitations.action_id = prior_scans.action_id
    left join first_scans_after
        on invitations.action_id = first_scans_after.action_id

),

final as (

    select
        ---------- keys
        action_id,
        customer_key,
        customer_ref,
        offered_date as invited_date,

        ---------- invitation
        channel,
        outcome,
        outcome = 'accepted' as is_accepted,
        was_fitmap_user,

        ---------- first scan after the invitation
        first_scan_id,
        days_to_first_scan,
        not was_fitmap_user and coalesce(days_to_first_scan <= {{ var('fitmap_adoption_days') }}, false)
            as is_adopted,
        case
            when not was_fitmap_user and days_to_first_scan <= {{ var('fitmap_adoption_days') }}
                then cast(first_scan_at as date)
        end as adopted_date,
        adoption_window_end_date,
        -- the one column the lake's as-of date decides: it changes on the day a window closes,
        -- not every day (the days since the invitation are for a query to take)
        adoption_window_end_date <= (select as_of_date from as_of) as is_window_complete,

        ---------- timestamps
        offered_at as invited_at,
        first_scan_at
    from joined

)

select * from final
