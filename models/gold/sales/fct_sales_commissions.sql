-- One row per commission line (won opportunity x rep x payroll month), plus one row per rep-month
-- with a quota and no commission line (commission_id null, zero amounts), so every quota month is
-- here and average attainment counts the months a rep won nothing. Each row carries the rep's
-- quota for that month and quota attainment: the amount the rep booked as closed-won in the month
-- divided by the month's quota. Attainment and the rep-month totals repeat on every line of the
-- rep-month: aggregate them with max/avg per rep and month, never sum.

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

quota_only_months as (

    -- rep-months with a quota and no commission line: zero commission, still a quota month
    select
        quota_months.sales_rep_id,
        cast({{ dbt.date_trunc('month', 'quota_months.period_start_date') }} as date) as commission_month_date
    from quota_months
    where
        quota_months.quota_rank = 1
        and not exists (
            select 1
            from commission_lines
            where
                commission_lines.sales_rep_id = quota_months.sales_rep_id
                and commission_lines.commission_month_date
                = cast({{ dbt.date_trunc('month', 'quota_months.period_start_date') }} as date)
        )

),

lines as (

    select
        commission_id,
        opportunity_id,
        sales_rep_id,
        commission_month_date,
        commission_type,
        commission_period,
        base_amount,
        commission_rate,
        commission_amount,
        is_paid,
        payment_date
    from commission_lines

    union all

    select
        cast(null as {{ dbt.type_string() }}) as commission_id,
        cast(null as {{ dbt.type_string() }}) as opportunity_id,
        sales_rep_id,
        commission_month_date,
        cast(null as {{ dbt.type_string() }}) as commission_type,
        left(cast(commission_month_date as {{ dbt.type_string() }}), 7) as commission_period,
        0 as base_amount,
        cast(null as double) as commission_rate,
        0 as commission_amount,
        false as is_paid,
        cast(null as date) as payment_date
    from quota_only_months

),

final as (

    select
        ---------- ids
        {{ surrogate_key(['lines.commission_id', 'lines.sales_rep_id', 'lines.commission_month_date']) }}
            as commission_key,
        lines.commission_id,
        lines.opportunity_id,
        lines.sales_rep_id,
        quota_months.quota_id,

        ---------- keys
        {{ resolve_key('sales_reps.sales_rep_key') }} as sales_rep_key,
        {{ resolve_key('sales_reps.sales_territory_key') }} as sales_territory_key,
        lines.commission_month_date,

        ---------- attributes
        lines.commission_type,
        lines.commission_period,

        ---------- amounts
        cast(lines.base_amount as decimal(14, 2)) as base_amount,
        cast(lines.commission_rate as double) as commission_rate,
        cast(lines.commission_amount as decimal(14, 2)) as commission_amount,

        ---------- payment
        coalesce(lines.is_paid, false) as is_paid,
        lines.payment_date,

        ---------- rep-month quota attainment (repeats per rep-month)
        cast(quota_months.quota_amount as decimal(14, 2)) as quota_amount,
        cast(coalesce(won_by_rep_month.won_amount, 0) as decimal(14, 2)) as rep_month_won_amount,
        cast(coalesce(won_by_rep_month.won_count, 0) as integer) as rep_month_won_count,
        cast(coalesce(commission_by_rep_month.commission_amount, 0) as decimal(14, 2)) as rep_month_commission_amount,
        cast(
            case
                when quota_months.quota_amount > 0
                    then coalesce(won_by_rep_month.won_amount, 0) / quota_months.quota_amount
            end as double
        ) as quota_attainment,
        coalesce(coalesce(won_by_rep_month.won_amount, 0) >= quota_months.quota_amount, false) as is_quota_met
    from lines
    left join quota_months
        on lines.sales_rep_id = quota_months.sales_rep_id
        and lines.commission_month_date between quota_months.period_start_date and quota_months.period_end_date
        and quota_months.quota_rank = 1
    left join won_by_rep_month
        on lines.sales_rep_id = won_by_rep_month.sales_rep_id
        and lines.commission_month_date = won_by_rep_month.month_date
    left join commission_by_rep_month
        on lines.sales_rep_id = commission_by_rep_month.sales_rep_id
        and lines.commission_month_date = commission_by_rep_month.commission_month_date
    left join sales_reps
        on lines.sales_rep_id = sales_reps.sales_rep_id

)

select * from final
