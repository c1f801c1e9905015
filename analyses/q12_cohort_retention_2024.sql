-- What share of the customers who first ordered in each quarter of 2024 were still buying 12
-- months later?
-- (still buying: an order in the 12th month after the first-order month or in any later month,
-- up to the as-of date)
select
    extract(quarter from cohort_month) as first_order_quarter,
    sum(cohort_customers) as customers,
    sum(retained_customers) as still_buying,
    round(sum(retained_customers) * 1.0 / sum(cohort_customers), 4) as still_buying_share
from {{ ref('mart_cohort_retention') }}
where cohort_basis = 'first_order'
    and extract(year from cohort_month) = 2024
    and months_since_cohort = 12
group by extract(quarter from cohort_month)
order by first_order_quarter
