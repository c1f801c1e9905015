-- One row per segment kind, month, from-segment and to-segment: how many customers moved from
-- one segment to another between two consecutive monthly snapshots, and their share of the
-- from-segment. Months are data time: a month's snapshot is the history's latest as-of date in
-- that month (customer_segment_history for the RFM segment, customer_value_history for the CLV
-- decile), compared with the snapshot of the previous month the history has. Only customers in
-- both snapshots count (a first purchase enters the RFM history without a from-segment);
-- from = to rows are the customers who stayed.

with

rfm_history as (

    select
        'rfm' as segment_kind,
        as_of_date,
        customer_id,
        rfm_segment as segment
    from {{ ref('customer_segment_history') }}

),

value_history as (

    select
        'clv_decile' as segment_kind,
        as_of_date,
        customer_id,
        cast(clv_decile as {{ dbt.type_string() }}) as segment
    from {{ ref('customer_value_history') }}

),

history as (

    select * from rfm_history
    union all
    select * from value_history

),

month_ends as (

    select
        segment_kind,
        {{ dbt.date_trunc('month', 'as_of_date') }} as snapshot_month,
        max(as_of_date) as as_of_date
    from history
    group by segment_kind, {{ dbt.date_trunc('month', 'as_of_date') }}

),

consecutive as (

    select
        segment_kind,
        snapshot_month,
        as_of_date,
        lag(as_of_date) over (partition by segment_kind order by snapshot_month) as previous_as_of_date
    from month_ends

),

moves as (

    select
        consecutive.segment_kind,
        cast(consecutive.snapshot_month as date) as migration_month,
        consecutive.as_of_date,
        consecutive.previous_as_of_date,
        previous.segment as from_segment,
        current_snapshot.segment as to_segment,
        current_snapshot.customer_id
    from consecutive
    inner join history as previous
        on consecutive.segment_kind = previous.segment_kind
        and consecutive.previous_as_of_date = previous.as_of_date
    inner join history as current_snapshot
        on consecutive.segment_kind = current_snapshot.segment_kind
        and consecutive.as_of_date = current_snapshot.as_of_date
        and previous.customer_id = current_snapshot.customer_id

),

counted as (

    select
        segment_kind,
        migration_month,
        as_of_date,
        previous_as_of_date,
        from_segment,
        to_segment,
        count(*) as customers_moved
    from moves
    group by segment_kind, migration_month, as_of_date, previous_as_of_date, from_segment, to_segment

),

final as (

    select
        {{ surrogate_key(['segment_kind', 'migration_month', 'from_segment', 'to_segment']) }} as segment_migration_id,
        segment_kind,
        migration_month,
        as_of_date,
        previous_as_of_date,
        from_segment,
        to_segment,
        from_segment = to_segment as is_same_segment,
        cast(customers_moved as integer) as customers_moved,
        cast(sum(customers_moved) over (
            partition by segment_kind, migration_month, from_segment) as integer) as from_segment_customers,
        cast(round(customers_moved * cast(1 as double) / sum(customers_moved) over (
            partition by segment_kind, migration_month, from_segment), 4) as double) as share_of_from_segment
    from counted

)

select * from final
