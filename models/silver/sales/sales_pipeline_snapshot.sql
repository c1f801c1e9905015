-- One row per open opportunity per day, rebuilt from the stage history: the stage, amount and
-- probability the opportunity had at the end of that day. An opportunity is open from the day it
-- entered its first stage until the day it entered a closed stage.

with

intervals as (

    -- the days each stage holds at the end of: from the day it was entered to the day before it
    -- was left (a stage left on the day it was entered holds at the end of no day); an open stage
    -- holds to the end of the calendar. Both bounds are dates here, so the join to the calendar
    -- below compares columns alone: a range join, not a nested loop over every pair.
    select
        *,
        cast(entered_at as date) as first_held_day,
        coalesce(
            cast(exited_at as date),
            cast({{ dbt.dateadd('day', 1, as_of_date(ref('stg_crm__opportunity_stage_history'))) }} as date)
        ) as held_before_day
    from {{ ref('int_opportunity_stage_intervals') }}
    where not is_closed_stage

),

opportunities as (

    select * from {{ ref('opportunity_golden') }}

),

calendar as (

    {{ day_spine('(select min(cast(entered_at as date)) from ' ~ ref('int_opportunity_stage_intervals') ~ ')',
                 as_of_date(ref('stg_crm__opportunity_stage_history'))) }}

),

daily as (

    select
        calendar.date_day as snapshot_date,
        intervals.opportunity_id,
        intervals.stage,
        intervals.amount,
        intervals.probability,
        intervals.entered_at as stage_entered_at,
        -- the last stage entered on a day is the one the day ends in
        row_number() over (
            partition by intervals.opportunity_id, calendar.date_day
            order by intervals.entered_at desc, intervals.history_id desc
        ) as stage_rank_of_day
    from intervals
    inner join calendar
        on calendar.date_day >= intervals.first_held_day
        and calendar.date_day < intervals.held_before_day

),

final as (

    select
        {{ surrogate_key(['daily.opportunity_id', 'daily.snapshot_date']) }} as pipeline_snapshot_id,
        daily.snapshot_date,
        daily.opportunity_id,
        opportunities.customer_id,
        opportunities.sales_rep_id,
        opportunities.lead_source,
        opportunities.opportunity_type,
        daily.stage,
        daily.amount,
        daily.probability,
        {{ double_to_decimal('cast(daily.amount * daily.probability as double) / 100', 'decimal(14, 2)') }}
            as weighted_amount,
        {{ dbt.datediff('cast(daily.stage_entered_at as date)', 'daily.snapshot_date', 'day') }} as days_in_stage
    from daily
    inner join opportunities
        on daily.opportunity_id = opportunities.opportunity_id
    where daily.stage_rank_of_day = 1

)

select * from final
