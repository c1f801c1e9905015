-- One row per journey run: a person's entry into a marketing-automation journey (its step 1 in
-- seeds/gold/journey_steps.csv) and the steps that followed until their next entry into the same
-- journey. A person is the journey platform's profile (the subscriber, else the shop account);
-- customer_key resolves it to the golden customer (subscriber first, as in fct_customer_journey),
-- the unknown member when unmatched.
--
-- State at the as-of date: completed when the run reached the journey's last step; abandoned when
-- it has not and its latest step lies more than journey_abandonment_days (var) before the as-of
-- date; in progress otherwise. Steps the platform sent before any entry form a run of their own
-- (is_entry_recorded false). A run's row changes only when its steps or its state do: nothing
-- measured against the as-of date (such as the days since the latest step) is stored.

with

journey_events as (

    select * from {{ ref('stg_marketing__journey_events') }}

),

journey_steps as (

    select * from {{ ref('journey_steps') }}

),

journey_lengths as (

    select journey_name, max(step_number) as step_count
    from journey_steps
    group by 1

),

marketing_xref as (

    select source_id as subscriber_id, customer_id
    from {{ ref('customer_xref') }}
    where source_system = 'marketing'

),

shop_xref as (

    select * from {{ ref('int_shop_customer_xref') }}

),

as_of as (

    select {{ as_of_date(ref('stg_marketing__journey_events')) }} as as_of_date

),

events_stepped as (

    select
        journey_events.*,
        journey_steps.step_number,
        journey_lengths.step_count,
        -- the profile: the subscriber when known, else the shop account
        coalesce('subscriber:' || journey_events.subscriber_id, 'shop:' || journey_events.customer_ref)
            as profile_id
    from journey_events
    left join journey_steps
        on journey_events.journey_name = journey_steps.journey_name
        and journey_events.stage = journey_steps.stage
    left join journey_lengths
        on journey_events.journey_name = journey_lengths.journey_name

),

events_in_runs as (

    select
        events_stepped.*,
        sum(case when step_number = 1 then 1 else 0 end) over (
            partition by profile_id, journey_name
            order by event_at, step_number, journey_event_id
            rows between unbounded preceding and current row
        ) as run_number
    from events_stepped

),

events_ordered as (

    select
        events_in_runs.*,
        first_value(journey_event_id) over (
            partition by profile_id, journey_name, run_number
            order by event_at, step_number, journey_event_id
        ) as first_event_id
    from events_in_runs

),

runs as (

    select
        profile_id,
        journey_name,
        run_number,
        min(case when step_number = 1 then journey_event_id end) as entry_event_id,
        min(first_event_id) as first_event_id,
        max(subscriber_id) as subscriber_id,
        max(customer_ref) as customer_ref,
        max(campaign_id) as campaign_id,
        count(*) as step_events,
        max(step_number) as furthest_step_number,
        min(event_at) as entered_at,
        max(event_at) as last_step_at,
        min(case when step_number = step_count then event_at end) as completed_at,
        max(step_count) as journey_step_count,
        sum(case when is_conversion then 1 else 0 end) as conversions,
        sum(case when is_conversion then coalesce(conversion_value, 0) else 0 end) as conversion_value
    from events_ordered
    group by 1, 2, 3

),

runs_stated as (

    select
        runs.*,
        journey_steps.stage as furthest_stage,
        as_of.as_of_date,
        case
            when runs.completed_at is not null then 'completed'
            when cast(runs.last_step_at as date)
                < {{ dbt.dateadd('day', -var('journey_abandonment_days'), 'as_of.as_of_date') }}
                then 'abandoned'
            else 'in_progress'
        end as journey_state
    from runs
    cross join as_of
    left join journey_steps
        on runs.journey_name = journey_steps.journey_name
        and runs.furthest_step_number = journey_steps.step_number

),

final as (

    select
        ---------- keys
        {{ surrogate_key(['runs_stated.journey_name', 'coalesce(runs_stated.entry_event_id, runs_stated.first_event_id)']) }}
            as journey_run_key,
        {{ member_key('coalesce(marketing_xref.customer_id, shop_xref.customer_id)') }} as customer_key,
        {{ member_key('runs_stated.campaign_id') }} as campaign_key,
        cast(runs_stated.entered_at as date) as entered_date,
        cast(runs_stated.last_step_at as date) as last_step_date,
        cast(runs_stated.completed_at as date) as completed_date,

        ---------- ids
        runs_stated.profile_id,
        coalesce(runs_stated.entry_event_id, runs_stated.first_event_id) as entry_event_id,

        ---------- attributes
        runs_stated.journey_name,
        runs_stated.furthest_stage,
        runs_stated.journey_state,

        ---------- measures
        cast(runs_stated.run_number as integer) as run_number,
        cast(runs_stated.furthest_step_number as integer) as furthest_step_number,
        cast(runs_stated.journey_step_count as integer) as journey_step_count,
        cast(runs_stated.step_events as integer) as step_events,
        cast({{ dbt.datediff('runs_stated.entered_at', 'coalesce(runs_stated.completed_at, runs_stated.last_step_at)', 'day') }}
            as integer) as days_in_journey,
        cast(runs_stated.conversions as integer) as conversions,
        cast(runs_stated.conversion_value as decimal(14, 2)) as conversion_value,

        ---------- flags
        runs_stated.entry_event_id is not null as is_entry_recorded,
        runs_stated.journey_state = 'completed' as is_completed,
        runs_stated.journey_state = 'abandoned' as is_abandoned,
        runs_stated.conversions > 0 as is_converted,

        ---------- timestamps
        cast(runs_stated.entered_at as timestamp) as entered_at,
        cast(runs_stated.last_step_at as timestamp) as last_step_at,
        cast(runs_stated.completed_at as timestamp) as completed_at
    from runs_stated
    left join marketing_xref
        on runs_stated.subscriber_id = marketing_xref.subscriber_id
    left join shop_xref
        on runs_stated.customer_ref = shop_xref.shop_customer_id

)

select * from final
