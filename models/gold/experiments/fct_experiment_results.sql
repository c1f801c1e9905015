-- One row per experiment x variant x metric (conversion, click_through, revenue_per_user): the
-- arm's users, conversions and rate, absolute and relative lift over the control arm (the first
-- variant listed), the confidence interval of the lift, p-value and significance, and the
-- experiment's sample-ratio-mismatch (SRM) p-value and flag. The statistics are computed by
-- int_experiment_statistics (a Python model calling engagement_lake.analytics.abtest); this
-- model gives them their published, typed shape.

with

statistics as (

    select * from {{ ref('int_experiment_statistics') }}

),

experiments as (

    select * from {{ ref('dim_experiment') }}

),

final as (

    select
        ---------- ids
        {{ surrogate_key(['statistics.experiment_id', 'statistics.variant_id', 'statistics.metric']) }}
            as experiment_result_key,
        cast(statistics.experiment_id as {{ dbt.type_string() }}) as experiment_id,
        cast(statistics.variant_id as {{ dbt.type_string() }}) as variant_id,

        ---------- keys
        {{ resolve_key('experiments.experiment_key') }} as experiment_key,

        ---------- attributes
        cast(statistics.metric as {{ dbt.type_string() }}) as metric,
        coalesce(statistics.metric = experiments.primary_metric, false) as is_primary_metric,
        cast(statistics.variant_order as integer) as variant_order,
        cast(statistics.is_control as boolean) as is_control,
        cast(statistics.is_planned_variant as boolean) as is_planned_variant,

        ---------- arm
        cast(statistics.users as bigint) as users,
        cast(statistics.conversions as bigint) as conversions,
        cast(statistics.rate as double) as rate,
        cast(statistics.planned_share as double) as planned_share,
        cast(statistics.observed_share as double) as observed_share,

        ---------- control arm
        cast(statistics.control_users as bigint) as control_users,
        cast(statistics.control_conversions as bigint) as control_conversions,
        cast(statistics.control_rate as double) as control_rate,

        ---------- lift over control
        cast(statistics.absolute_lift as double) as absolute_lift,
        cast(statistics.relative_lift as double) as relative_lift,
        cast(statistics.ci_low as double) as ci_low,
        cast(statistics.ci_high as double) as ci_high,
        cast(statistics.test_method as {{ dbt.type_string() }}) as test_method,
        cast(statistics.test_statistic as double) as test_statistic,
        cast(statistics.p_value as double) as p_value,
        cast(statistics.alpha as double) as alpha,
        cast(statistics.is_significant as boolean) as is_significant,

        ---------- sample ratio mismatch (per experiment)
        cast(statistics.srm_chi2 as double) as srm_chi2,
        cast(statistics.srm_p_value as double) as srm_p_value,
        cast(statistics.is_srm as boolean) as is_srm
    from statistics
    left join experiments
        on statistics.experiment_id = experiments.experiment_id

)

select * from final
