-- Do the customers we invite to FitMap start scanning?
-- (FitMap invitations by month invited: those sent to customers who had never scanned, how many
-- adopted FitMap — a first scan within fitmap_adoption_days of the invitation — the adoption rate
-- among invitations whose window has closed, and the average days to the adopting scan)
select
    cast(date_trunc('month', invited_date) as date) as invited_month,
    count(*) as invitations,
    count(*) filter (where not was_fitmap_user) as invitations_to_new_users,
    count(*) filter (where is_adopted) as adoptions,
    round(
        count(*) filter (where is_adopted and is_window_complete) * 1.0
        / nullif(count(*) filter (where not was_fitmap_user and is_window_complete), 0),
        4
    ) as adoption_rate,
    round(avg(days_to_first_scan) filter (where is_adopted), 2) as average_days_to_adopt
from {{ ref('fct_fitmap_invitations') }}
group by cast(date_trunc('month', invited_date) as date)
order by invited_month
