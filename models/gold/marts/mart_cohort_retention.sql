-- One row per cohort basis, cohort month and month since the cohort month, from the cohort
-- month up to the as-of date's month. A customer's cohort is the month of their first shop order
-- (basis first_order) or the month they first appear in any source (basis signup, dim_customer's
-- signup_date); cancelled orders do not count, nor orders of no known customer. Each row
-- holds the cohort's size, the customers who ordered in that month (active), those who ordered
-- in that month or any later one up to the as-of date (retained: still buying), their orders
-- and revenue, and both shares of the cohort. The as-of month is partial (is_complete_month).

with

as_of as (

    select {{ as_of_date(ref('stg_shop__orders')) }} as as_of_date

),

orders as (

    select
        customer_key,
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as order_month,
        total_amount
    from {{ ref('fct_orders') }}
    where not is_cancelled
        and customer_key <> {{ unknown_member_key() }}
        and order_date <= (select as_of_date from as_of)

),

customer_months as (

    select
        customer_key,
        order_month,
        count(*) as orders,
        sum(total_amount) as revenue
    from orders
    group by customer_key, order_month

),

first_orders as (

    select
        customer_key,
        min(order_month) as cohort_month,
        max(order_month) as last_order_month
    from customer_months
    group by customer_key

),

signups as (

    select
        customers.customer_key,
        cast({{ dbt.date_trunc('month', 'customers.signup_date') }} as date) as cohort_month,
        first_orders.last_order_month
    from {{ ref('dim_customer') }} as customers
    left join first_orders
        on customers.customer_key = first_orders.customer_key
    where customers.customer_key <> {{ unknown_member_key() }}
        and customers.signup_date is not null
        and customers.signup_date <= (select as_of_date from as_of)

),

members as (

    select 'first_order' as cohort_basis, customer_key, cohort_month, last_order_month
    from first_orders
    union all
    select 'signup' as cohort_basis, customer_key, cohort_month, last_order_month
    from signups

),

cohorts as (

    select
        cohort_basis,
        cohort_month,
        count(*) as cohort_customers
    from members
    group by cohort_basis, cohort_month

),

months as (

    select date_day as activity_month
    from ({{ day_spine('(select min(cohort_month) from members)', as_of_date(ref('stg_shop__orders'))) }}) as days
    where date_day = cast({{ dbt.date_trunc('month', 'date_day') }} as date)

),

grid as (

    select
        cohorts.cohort_basis,
        cohorts.cohort_month,
        cohorts.cohort_customers,
        months.activity_month
    from cohorts
    inner join months
        on months.activity_month >= cohorts.cohort_month

),

activity as (

    select
        members.cohort_basis,
        members.cohort_month,
        customer_months.order_month as activity_month,
        count(*) as active_customers,
        sum(customer_months.orders) as orders,
        sum(customer_months.revenue) as revenue
    from members
    inner join customer_months
        on members.customer_key = customer_months.customer_key
        and customer_months.order_month >= members.cohort_month
    group by members.cohort_basis, members.cohort_month, customer_months.order_month

),

retained as (

    select
        grid.cohort_basis,
        grid.cohort_month,
        grid.activity_month,
        count(members.customer_key) as retained_customers
    from grid
    inner join members
        on grid.cohort_basis = members.cohort_basis
        and grid.cohort_month = members.cohort_month
        and members.last_order_month >= grid.activity_month
    group by grid.cohort_basis, grid.cohort_month, grid.activity_month

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['grid.cohort_basis', 'grid.cohort_month', 'grid.activity_month']) }} as cohort_retention_key,
        grid.cohort_basis,
        grid.cohort_month,
        grid.activity_month,

        ---------- measures
        cast({{ dbt.datediff('grid.cohort_month', 'grid.activity_month', 'month') }} as integer) as months_since_cohort,
        cast(grid.cohort_customers as integer) as cohort_customers,
        cast(coalesce(activity.active_customers, 0) as integer) as active_customers,
        cast(coalesce(retained.retained_customers, 0) as integer) as retained_customers,
        cast(coalesce(activity.orders, 0) as integer) as orders,
        cast(coalesce(activity.revenue, 0) as decimal(14, 2)) as revenue,
        cast(coalesce(activity.active_customers, 0) as double) / grid.cohort_customers as retention_rate,
        cast(coalesce(retained.retained_customers, 0) as double) / grid.cohort_customers as still_buying_rate,

        ---------- flags
        {{ dbt.last_day('grid.activity_month', 'month') }} <= as_of.as_of_date as is_complete_month
    from grid
    cross join as_of
    left join activity
        on grid.cohort_basis = activity.cohort_basis
        and grid.cohort_month = activity.cohort_month
        and grid.activity_month = activity.activity_month
    left join retained
        on grid.cohort_basis = retained.cohort_basis
        and grid.cohort_month = retained.cohort_month
        and grid.activity_month = retained.activity_month

)

select * from final
