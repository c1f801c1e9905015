-- One row per commission line (won opportunity x rep x payroll month), with the rep's quota for
-- that month and quota attainment: the amount the rep booked as closed-won in the month divided by
-- the month's quota. Attainment and the rep-month totals repeat on every line of the rep-month:
-- aggregate them with max/avg per rep and month, never sum.

with

commissions as (

    select * from {{ ref('stg_crm__commissions') }}

),

quotas as (

    select * from {{ ref('stg_crm__quotas') }}

),

opportunities as (

    select * from {{ ref('fct_sales_opportunities') }}

),

sales_reps as (

    select * from {{ ref('dim_sales_rep') }}

),

commission_lines as (

    select
        commissions.*,
        {{ dbt.safe_cast("commission_period || '-01'", 'date') }} as commission_month_date
    from commissions

),

won_by_rep_month as (

    select
        sales_rep_id,
        cast({{ dbt.date_trunc('month', 'closed_date') }} as date) as month_date,
        sum(won_amount) as won_amount,
        count(*) as won_count
    from opportunities
    where is_won
    group by 1, 2

),

commission_by_rep_month as (

    select
        sales_rep_id,
        commission_month_date,
        sum(commission_amount) as commission_amount
    from commission_lines
    group by 1, 2

),

quota_months as (

    select
        quota_id,
        sales_rep_id,
        quota_amount,
        period_start_date,
        period_end_date,
        -- one quota per rep and month: the newest-starting period covering the month wins
        row_number() over (
            partition by sales_rep_id, cast({{ dbt.date_trunc('month', 'period_start_date') }} as date)
            order by period_start_date desc, quota_id desc
        ) as quota_rank
    from quotas

),

final as (

    select
        ---------- ids
        commission_lines.commission_id,
        commission_lines.opportunity_id,
        commission_lines.sales_rep_id,
        quota_months.quota_id,

        ---------- keys
        {{ resolve_key('sales_reps.sales_rep_key') }} as sales_rep_key,
        {{ resolve_key('sales_reps.sales_territory_key') }} as sales_territory_key,
        commission_lines.commission_month_date,

        ---------- attributes
        commission_lines.commission_type,
        commission_lines.commission_period,

        ---------- amounts
        cast(commission_lines.base_amount as decimal(14, 2)) as base_amount,
        cast(commission_lines.commission_rate as double) as commission_rate,
        cast(commission_lines.commission_amount as decimal(14, 2)) as commission_amount,

        ---------- payment
        coalesce(commission_lines.is_paid, false) as is_paid,
        commission_lines.payment_date,

        ---------- rep-month quota attainment (repeats per rep-month)
        cast(quota_months.quota_amount as decimal(14, 2)) as quota_amount,
        cast(coalesce(won_by_rep_month.won_amount, 0) as decimal(14, 2)) as rep_month_won_amount,
        cast(coalesce(won_by_rep_month.won_count, 0) as integer) as rep_month_won_count,
        cast(commission_by_rep_month.commission_amount as decimal(14, 2)) as rep_month_commission_amount,
        cast(
            case
                when quota_months.quota_amount > 0
                    then coalesce(won_by_rep_month.won_amount, 0) / quota_months.quota_amount
            end as double
        ) as quota_attainment,
        coalesce(coalesce(won_by_rep_month.won_amount, 0) >= quota_months.quota_amount, false) as is_quota_met
    from commission_lines
    left join quota_months
        on commission_lines.sales_rep_id = quota_months.sales_rep_id
        and commission_lines.commission_month_date between quota_months.period_start_date and quota_months.period_end_date
        and quota_months.quota_rank = 1
    left join won_by_rep_month
        on commission_lines.sales_rep_id = won_by_rep_month.sales_rep_id
        and commission_lines.commission_month_date = won_by_rep_month.month_date
    left join commission_by_rep_month
        on commission_lines.sales_rep_id = commission_by_rep_month.sales_rep_id
        and commission_lines.commission_month_date = commission_by_rep_month.commission_month_date
    left join sales_reps
        on commission_lines.sales_rep_id = sales_reps.sales_rep_id

)

select * from final
