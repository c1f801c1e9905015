-- The holiday seed is written for a span of years: a dim_date year outside it would silently
-- have no holidays. Returns each such year.
select distinct dim_date.year_number
from {{ ref('dim_date') }} as dim_date
where
    dim_date.date_day is not null
    and dim_date.year_number not in (
        select cast(extract(year from holiday_date) as integer)
        from {{ ref('us_federal_holidays') }}
    )
