-- depends_on: {{ ref('health_weight_profiles') }}
-- One row per golden customer: the 0–100 health score (weighted components, weights: the profile
-- named by var health_weight_profile in seeds/marts/health_weight_profiles.csv), its level
-- (seeds/marts/health_levels.csv), every component, the customer's percentile rank, and two
-- benchmarks: the average score of the customer's behavioural segment, and the top performers'
-- (the top share var('health_benchmark_top_share') of customers by score) average score and
-- components.

{%- set components = health_component_names() %}

with

health as (

    select * from {{ ref('int_customer_health') }}

),

segments as (

    select * from {{ ref('int_customer_segments') }}

),

leveled as (

    select
        health.*,
        segments.behavioural_segment,
        segments.lifecycle_stage,
        {{ health_level('health.health_score') }} as health_level,
        percent_rank() over (order by health.health_score) as score_percent_rank
    from health
    inner join segments
        on health.customer_key = segments.customer_key

),

benchmarked as (

    select
        *,
        score_percent_rank >= 1 - {{ var('health_benchmark_top_share') }} as is_top_performer
    from leveled

),

final as (

    select
        ---------- keys
        customer_key,
        customer_id,

        ---------- score
        cast(round(health_score, 1) as double) as health_score,
        health_level,
        cast('{{ var('health_weight_profile') }}' as {{ dbt.type_string() }}) as health_weight_profile,
        cast({{ round_double('100.0 * score_percent_rank', 1) }} as double) as percentile_rank,

        ---------- components (0–100)
        {%- for name in components %}
        cast({{ round_double(name ~ '_component', 1) }} as double) as {{ name }}_component,
        {%- endfor %}

        ---------- benchmark: the behavioural segment
        behavioural_segment,
        lifecycle_stage,
        cast(round({{ exact_avg('health_score', over='partition by behavioural_segment') }}, 1) as double)
            as segment_average_score,
        cast(round({{ exact_avg('health_score', over='') }}, 1) as double) as overall_average_score,
        cast(round(health_score - {{ exact_avg('health_score', over='partition by behavioural_segment') }}, 1) as double)
            as score_vs_segment,

        ---------- benchmark: the top performers
        is_top_performer,
        cast(round({{ exact_avg('case when is_top_performer then health_score end', over='') }}, 1) as double)
            as top_performer_average_score,
        cast(round(health_score - {{ exact_avg('case when is_top_performer then health_score end', over='') }}, 1) as double)
            as score_vs_top_performers,
        {%- for name in components %}
        cast(round({{ exact_avg('case when is_top_performer then ' ~ name ~ '_component end', over='') }}, 1) as double)
            as top_performer_{{ name }}_component{{ ',' if not loop.last }}
        {%- endfor %}
    from benchmarked

)

select * from final
