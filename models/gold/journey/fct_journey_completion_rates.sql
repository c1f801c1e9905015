-- One row per journey × month of entry: how many runs of the journey (fct_journey_states) started
-- in the month, and how many of them are completed, abandoned or still in progress at the as-of
-- date, with the completion and abandonment rates (shares of the runs entered).

with

journey_states as (

    select * from {{ ref('fct_journey_states') }}

),

runs_by_month as (

    select
        journey_name,
        cast({{ dbt.date_trunc('month', 'entered_date') }} as date) as entry_month_start_date,
        count(*) as runs_entered,
        count(distinct case when customer_key <> {{ unknown_member_key() }} then customer_key end)
            as customers_entered,
        sum(case when is_completed then 1 else 0 end) as runs_completed,
        sum(case when is_abandoned then 1 else 0 end) as runs_abandoned,
        sum(case when journey_state = 'in_progress' then 1 else 0 end) as runs_in_progress,
        sum(case when is_converted then 1 else 0 end) as runs_converted,
        avg(case when is_completed then days_in_journey end) as avg_days_to_complete
    from journey_states
    group by 1, 2

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['journey_name', 'entry_month_start_date']) }} as journey_month_key,
        entry_month_start_date,

        ---------- attributes
        journey_name,

        ---------- measures
        cast(runs_entered as integer) as runs_entered,
        cast(customers_entered as integer) as customers_entered,
        cast(runs_completed as integer) as runs_completed,
        cast(runs_abandoned as integer) as runs_abandoned,
        cast(runs_in_progress as integer) as runs_in_progress,
        cast(runs_converted as integer) as runs_converted,
        cast(runs_completed as double) / runs_entered as completion_rate,
        cast(runs_abandoned as double) / runs_entered as abandonment_rate,
        cast(runs_converted as double) / runs_entered as conversion_rate,
        cast(avg_days_to_complete as double) as avg_days_to_complete
    from runs_by_month

)

select * from final
