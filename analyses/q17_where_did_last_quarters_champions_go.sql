-- Where did last quarter's Champions go?
-- (RFM moves out of Champions, month-end to month-end, in the last complete calendar quarter
-- before the as-of date, from mart_segment_migration; Champions = stayed; the share is of all
-- the Champions' moves of the quarter's months)
with

as_of as (

    select max(date_day) as as_of_date
    from {{ ref('dim_date') }}
    where is_past

),

last_quarter as (

    select
        date_trunc('quarter', as_of_date) - interval 3 month as quarter_start,
        date_trunc('quarter', as_of_date) as quarter_end
    from as_of

),

moves as (

    select
        migration.to_segment,
        migration.customers_moved
    from {{ ref('mart_segment_migration') }} as migration
    cross join last_quarter
    where migration.segment_kind = 'rfm'
        and migration.from_segment = 'Champions'
        and migration.migration_month >= last_quarter.quarter_start
        and migration.migration_month < last_quarter.quarter_end

)

select
    to_segment,
    sum(customers_moved) as customers_moved,
    round(sum(customers_moved) * 1.0 / (select sum(all_moves.customers_moved) from moves as all_moves), 4)
        as share_of_champions
from moves
group by to_segment
order by customers_moved desc, to_segment
