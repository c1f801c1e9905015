-- One row per calendar day covering every date in the data (first signup or event to the end of
-- the year after the as-of date, so expected close dates fit), plus the unknown member.
--
-- The unknown member (date_key 0) has no date_day: a day that does not exist cannot stretch a
-- date axis, a range slicer or min(date_day) back to a sentinel year. Its labels read 'Unknown',
-- its numbers and dates are null, its flags false (unknown_member_row, as every dimension).

with

bounds as (

    select
        least(
            (select min(first_seen_date) from {{ ref('customer_golden') }}),
            (select min(cast(ordered_at as date)) from {{ ref('stg_shop__orders') }}),
            (select min(cast(created_at as date)) from {{ ref('stg_crm__opportunities') }}),
            (select min(created_date) from {{ ref('stg_crm__leads') }}),
            {{ as_of_date(ref('stg_shop__orders')) }}
        ) as first_day,
        {{ as_of_date(ref('stg_shop__orders')) }} as as_of_day

),

spine as (

    {{ day_spine(
        "(select " ~ dbt.date_trunc('year', 'coalesce(first_day, as_of_day)') ~ " from bounds)",
        "(select " ~ dbt.dateadd('day', -1, dbt.dateadd('year', 2, dbt.date_trunc('year', 'as_of_day'))) ~ " from bounds)"
    ) }}

),

holidays as (

    select * from {{ ref('us_federal_holidays') }}

),

observed_holidays as (

    select distinct observed_date from holidays

),

calendar as (

    select
        cast(date_day as date) as date_day,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number,
        cast(extract(day from date_day) as integer) as day_of_month,
        cast({{ iso_day_of_week('date_day') }} as integer) as day_of_week,
        cast(extract(week from date_day) as integer) as week_of_year,
        cast({{ iso_year('date_day') }} as integer) as iso_year,
        cast(dayofyear(date_day) as integer) as day_of_year,
        -- months since the fiscal year's first month, 0-11 (var fiscal_year_start_month)
        cast(
            (extract(month from date_day) - {{ var('fiscal_year_start_month') }} + 12) % 12 as integer
        ) as fiscal_month_offset
    from spine

),

days as (

    select
        calendar.year_number * 10000 + calendar.month_number * 100 + calendar.day_of_month
            as date_key,
        calendar.date_day,
        calendar.year_number,
        calendar.quarter_number,
        'Q' || cast(calendar.quarter_number as {{ dbt.type_string() }}) as quarter_label,
        cast(calendar.year_number as {{ dbt.type_string() }}) || '-Q' || cast(calendar.quarter_number as {{ dbt.type_string() }})
            as year_quarter,
        calendar.month_number,
        calendar.day_of_month,
        calendar.day_of_year,
        calendar.day_of_week,
        calendar.week_of_year,
        calendar.iso_year,
        cast(calendar.iso_year as {{ dbt.type_string() }}) || '-W' || lpad(cast(calendar.week_of_year as {{ dbt.type_string() }}), 2, '0')
            as iso_year_week,
        {{ format_date('calendar.date_day', '%B', 'MMMM') }} as month_name,
        {{ format_date('calendar.date_day', '%A', 'EEEE') }} as day_name,
        {{ format_date('calendar.date_day', '%Y-%m', 'yyyy-MM') }} as year_month,
        cast({{ dbt.date_trunc('month', 'calendar.date_day') }} as date) as first_day_of_month,
        cast(last_day(calendar.date_day) as date) as last_day_of_month,
        cast({{ dbt.date_trunc('week', 'calendar.date_day') }} as date) as first_day_of_week,
        calendar.date_day = last_day(calendar.date_day) as is_month_end,
        calendar.day_of_week in (6, 7) as is_weekend,
        holidays.holiday_date is not null as is_holiday,
        holidays.holiday_name,
        observed_holidays.observed_date is not null as is_holiday_observed,
        -- a fiscal year is named after the calendar year it ends in: when it starts after
        -- January, its months from the start month on belong to next year's fiscal year
        calendar.year_number + case
            when {{ var('fiscal_year_start_month') }} > 1
                and calendar.month_number >= {{ var('fiscal_year_start_month') }} then 1
            else 0
        end as fiscal_year,
        cast(floor(calendar.fiscal_month_offset / 3) as integer) + 1 as fiscal_quarter,
        calendar.date_day <= (select as_of_day from bounds) as is_past
    from calendar
    left join holidays
        on calendar.date_day = holidays.holiday_date
    left join observed_holidays
        on calendar.date_day = observed_holidays.observed_date

),

final as (

    select
        date_key,
        date_day,
        year_number,
        quarter_number,
        quarter_label,
        year_quarter,
        month_number,
        day_of_month,
        day_of_year,
        day_of_week,
        week_of_year,
        iso_year,
        iso_year_week,
        month_name,
        day_name,
        year_month,
        first_day_of_month,
        last_day_of_month,
        first_day_of_week,
        is_month_end,
        is_weekend,
        is_holiday,
        holiday_name,
        is_holiday_observed,
        fiscal_year,
        fiscal_quarter,
        'FY' || cast(fiscal_year as {{ dbt.type_string() }}) || '-Q' || cast(fiscal_quarter as {{ dbt.type_string() }})
            as fiscal_year_quarter,
        is_past
    from days
    union all
    {{ unknown_member_row() }}

)

select * from final
