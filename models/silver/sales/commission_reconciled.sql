-- One row per commission line, plus one row per closed-won opportunity without a commission
-- line: every commission reconciled against the closed-won opportunity it pays for.
-- reconciliation_status is
--   matched                 the opportunity was won and the commission's base amount equals the
--                           won amount within var('commission_amount_tolerance')
--   amount_mismatch         the opportunity was won, but the base amount differs by more
--   commission_without_win  the commission names an opportunity that is not (or not yet) won,
--                           or none the CRM knows
--   missing_commission      a closed-won opportunity no commission line pays for
-- A won opportunity paid by several lines is reconciled line by line.

with

commissions as (

    select * from {{ ref('stg_crm__commissions') }}

),

opportunities as (

    select * from {{ ref('opportunity_golden') }}

),

won as (

    select * from opportunities
    where is_won

),

commission_lines as (

    select
        commissions.commission_id,
        commissions.opportunity_id,
        commissions.sales_rep_id as commission_sales_rep_id,
        opportunities.sales_rep_id as opportunity_sales_rep_id,
        commissions.commission_type,
        commissions.commission_period,
        commissions.base_amount,
        commissions.commission_rate,
        commissions.commission_amount,
        commissions.is_paid,
        opportunities.amount as won_amount,
        opportunities.close_date,
        coalesce(opportunities.is_won, false) as is_opportunity_won
    from commissions
    left join opportunities
        on commissions.opportunity_id = opportunities.opportunity_id

),

unpaid_wins as (

    select
        cast(null as {{ dbt.type_string() }}) as commission_id,
        won.opportunity_id,
        cast(null as {{ dbt.type_string() }}) as commission_sales_rep_id,
        won.sales_rep_id as opportunity_sales_rep_id,
        cast(null as {{ dbt.type_string() }}) as commission_type,
        cast(null as {{ dbt.type_string() }}) as commission_period,
        cast(null as decimal(12, 2)) as base_amount,
        cast(null as decimal(6, 4)) as commission_rate,
        cast(null as decimal(12, 2)) as commission_amount,
        cast(null as boolean) as is_paid,
        won.amount as won_amount,
        won.close_date,
        true as is_opportunity_won
    from won
    where not exists (
        select 1 from commissions
        where commissions.opportunity_id = won.opportunity_id
    )

),

unioned as (

    select * from commission_lines
    union all
    select * from unpaid_wins

),

final as (

    select
        {{ surrogate_key(['commission_id', 'opportunity_id']) }} as commission_reconciliation_id,
        commission_id,
        opportunity_id,
        commission_sales_rep_id,
        opportunity_sales_rep_id,
        commission_type,
        commission_period,
        base_amount,
        commission_rate,
        commission_amount,
        is_paid,
        is_opportunity_won,
        won_amount,
        close_date,
        case when is_opportunity_won and commission_id is not null
            then base_amount - won_amount end as amount_difference,
        coalesce(commission_sales_rep_id = opportunity_sales_rep_id, false) as is_same_rep,
        case
            when commission_id is null then 'missing_commission'
            when not is_opportunity_won then 'commission_without_win'
            when abs(base_amount - won_amount) <= {{ var('commission_amount_tolerance') }} then 'matched'
            else 'amount_mismatch'
        end as reconciliation_status
    from unioned

)

select * from final
