-- One row per A/B experiment, plus the unknown member: its variants (control first), planned
-- traffic split, surface, dates, status and primary metric.

with

experiments as (

    select * from {{ ref('stg_mlops__experiments') }}

),

known as (

    select
        ---------- keys
        {{ surrogate_key(['experiment_id']) }} as experiment_key,
        experiment_id,

        ---------- attributes
        experiment_name,
        hypothesis,
        primary_metric,
        surface,
        status,

        ---------- design
        variants,
        trim({{ dbt.split_part('variants', "','", 1) }}) as control_variant_id,
        cast(
            {{ dbt.length('variants') }} - {{ dbt.length("replace(variants, ',', '')") }} + 1 as integer
        ) as variant_count,
        traffic_split,

        ---------- flags
        status = 'running' as is_running,

        ---------- dates
        start_date,
        end_date,
        cast({{ dbt.datediff('start_date', 'end_date', 'day') }} + 1 as integer) as planned_duration_days
    from experiments

),

unknown as (

    {{ unknown_member_row({
        'variant_count': 0,
    }) }}

),

final as (

    select * from known
    union all
    select * from unknown

)

select * from final
