-- One row per golden customer: the 0–100 health score (weighted components, weights from the
-- health_weight_* vars), its level (levels: EXCELLENT ≥ 80, GOOD ≥ 60, FAIR ≥ 40, else POOR),
-- every component, the customer's percentile rank, and the average score of the customer's
-- behavioural segment for comparison (its benchmark).

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
        {{ health_level('health.health_score') }} as health_level
    from health
    inner join segments
        on health.customer_key = segments.customer_key

),

final as (

    select
        ---------- keys
        customer_key,
        customer_id,

        ---------- score
        cast(round(health_score, 1) as double) as health_score,
        health_level,
        cast(round(100.0 * percent_rank() over (order by health_score), 1) as double) as percentile_rank,

        ---------- components (0–100)
        cast(round(recency_component, 1) as double) as recency_component,
        cast(round(frequency_component, 1) as double) as frequency_component,
        cast(round(satisfaction_component, 1) as double) as satisfaction_component,
        cast(round(email_component, 1) as double) as email_component,
        cast(round(sentiment_component, 1) as double) as sentiment_component,
        cast(round(support_volume_component, 1) as double) as support_volume_component,

        ---------- benchmark
        behavioural_segment,
        lifecycle_stage,
        cast(round({{ exact_avg('health_score', over='partition by behavioural_segment') }}, 1) as double)
            as segment_average_score,
        cast(round({{ exact_avg('health_score', over='') }}, 1) as double) as overall_average_score,
        cast(round(health_score - {{ exact_avg('health_score', over='partition by behavioural_segment') }}, 1) as double)
            as score_vs_segment
    from leveled

)

select * from final
