-- One row per calendar day covering every date in the data (first signup or event to the end of
-- the year after the as-of date, so expected close dates fit), plus the unknown member 1900-01-01.

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

days as (

    select
        cast(date_day as date) as date_day,
        cast(extract(year from date_day) as integer) as year_number,
        cast(extract(quarter from date_day) as integer) as quarter_number,
        cast(extract(month from date_day) as integer) as month_number,
        cast(extract(day from date_day) as integer) as day_of_month,
        cast({{ iso_day_of_week('date_day') }} as integer) as day_of_week,
        cast(extract(week from date_day) as integer) as week_of_year,
        {{ format_date('date_day', '%B', 'MMMM') }} as month_name,
        {{ format_date('date_day', '%A', 'EEEE') }} as day_name,
        {{ format_date('date_day', '%Y-%m', 'yyyy-MM') }} as year_month,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as first_day_of_month,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as first_day_of_week,
        {{ iso_day_of_week('date_day') }} in (6, 7) as is_weekend,
        date_day <= (select as_of_day from bounds) as is_past
    from spine

),

unknown as (

    select
        {{ unknown_member_date() }} as date_day,
        0 as year_number,
        0 as quarter_number,
        0 as month_number,
        0 as day_of_month,
        0 as day_of_week,
        0 as week_of_year,
        'Unknown' as month_name,
        'Unknown' as day_name,
        'Unknown' as year_month,
        {{ unknown_member_date() }} as first_day_of_month,
        {{ unknown_member_date() }} as first_day_of_week,
        false as is_weekend,
        true as is_past

),

final as (

    select * from days
    union all
    select * from unknown

)

select * from final
