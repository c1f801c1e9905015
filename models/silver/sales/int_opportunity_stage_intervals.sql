-- One row per stage an opportunity entered: when it entered, when it left (the next stage
-- change, or the as-of date while still open) and the days spent there.

with

history as (

    select * from {{ ref('stg_crm__opportunity_stage_history') }}

),

ordered as (

    select
        opportunity_id,
        history_id,
        stage,
        amount,
        probability,
        changed_by,
        entered_at,
        lead(entered_at) over (
            partition by opportunity_id order by entered_at, history_id
        ) as next_entered_at,
        row_number() over (
            partition by opportunity_id order by entered_at desc, history_id desc
        ) = 1 as is_current_stage
    from history

),

final as (

    select
        opportunity_id,
        history_id,
        stage,
        amount,
        probability,
        changed_by,
        entered_at,
        case
            when next_entered_at is not null then next_entered_at
            when stage in ('Closed Won', 'Closed Lost') then entered_at
        end as exited_at,
        is_current_stage,
        stage in ('Closed Won', 'Closed Lost') as is_closed_stage,
        {{ dbt.datediff('cast(entered_at as date)',
                        'coalesce(cast(next_entered_at as date), case when stage in (\'Closed Won\', \'Closed Lost\') then cast(entered_at as date) end, ' ~ as_of_date(ref('stg_crm__opportunity_stage_history')) ~ ')',
                        'day') }} as days_in_stage
    from ordered

)

select * from final
