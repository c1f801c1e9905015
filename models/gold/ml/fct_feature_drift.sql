{%- set epsilon = var('psi_epsilon') -%}

-- One row per feature and calendar month: population stability index (PSI) of the month's
-- values against the feature's first month (the baseline). Bins are the baseline's deciles: the
-- distinct upper edges of ntile(10) over the baseline values, so heavily tied features get fewer
-- bins instead of empty duplicates; values above the baseline maximum fall in an overflow bin.
-- Baseline and month are binned by the same rule, so the baseline month's own PSI is 0.
--   PSI = sum over bins of (a - e) * ln(a / e), a = month share, e = baseline share, both
--   floored at {{ epsilon }} so empty bins stay finite.
-- Reading (vars psi_moderate_threshold, psi_significant_threshold): below the first stable,
-- from it a moderate shift, from the second a significant one.

with

feature_values as (

    select * from {{ ref('stg_mlops__feature_values') }}
    where feature_value is not null

),

monthly_values as (

    select
        feature_name,
        cast({{ dbt.date_trunc('month', 'computed_at') }} as date) as month_start_date,
        feature_value
    from feature_values

),

baseline_months as (

    select
        feature_name,
        min(month_start_date) as baseline_month_start_date
    from monthly_values
    group by feature_name

),

baseline_values as (

    select monthly_values.*
    from monthly_values
    inner join baseline_months
        on monthly_values.feature_name = baseline_months.feature_name
        and monthly_values.month_start_date = baseline_months.baseline_month_start_date

),

baseline_deciles as (

    select
        feature_name,
        feature_value,
        ntile(10) over (partition by feature_name order by feature_value) as decile
    from baseline_values

),

edges as (

    -- distinct upper edges of the baseline deciles; bin n holds values in (edge n-1, edge n]
    select
        feature_name,
        upper_edge,
        row_number() over (partition by feature_name order by upper_edge) as bin_number
    from (
        select distinct
            feature_name,
            max(feature_value) over (partition by feature_name, decile) as upper_edge
        from baseline_deciles
    ) as decile_edges

),

bins as (

    -- every edge bin, plus the overflow bin above the baseline maximum
    select feature_name, bin_number from edges
    union all
    select feature_name, max(bin_number) + 1 as bin_number from edges group by feature_name

),

value_counts as (

    select
        feature_name,
        month_start_date,
        feature_value,
        count(*) as value_count
    from monthly_values
    group by feature_name, month_start_date, feature_value

),

binned as (

    -- a value's bin: one more than the number of edges strictly below it
    select
        value_counts.feature_name,
        value_counts.month_start_date,
        value_counts.feature_value,
        value_counts.value_count,
        count(edges.upper_edge) + 1 as bin_number
    from value_counts
    left join edges
        on value_counts.feature_name = edges.feature_name
        and edges.upper_edge < value_counts.feature_value
    group by
        value_counts.feature_name,
        value_counts.month_start_date,
        value_counts.feature_value,
        value_counts.value_count

),

bin_counts as (

    select
        feature_name,
        month_start_date,
        bin_number,
        sum(value_count) as value_count
    from binned
    group by feature_name, month_start_date, bin_number

),

month_totals as (

    select
        feature_name,
        month_start_date,
        count(*) as value_count,
        {{ exact_avg('feature_value') }} as mean_value
    from monthly_values
    group by feature_name, month_start_date

),

month_bins as (

    select
        month_totals.feature_name,
        month_totals.month_start_date,
        bins.bin_number,
        coalesce(bin_counts.value_count, 0) * cast(1 as double) / month_totals.value_count as share
    from month_totals
    inner join bins
        on month_totals.feature_name = bins.feature_name
    left join bin_counts
        on month_totals.feature_name = bin_counts.feature_name
        and month_totals.month_start_date = bin_counts.month_start_date
        and bins.bin_number = bin_counts.bin_number

),

psi_terms as (

    select
        actual.feature_name,
        actual.month_start_date,
        (greatest(actual.share, {{ epsilon }}) - greatest(expected.share, {{ epsilon }}))
        * ln(greatest(actual.share, {{ epsilon }}) / greatest(expected.share, {{ epsilon }})) as psi_term
    from month_bins as actual
    inner join baseline_months
        on actual.feature_name = baseline_months.feature_name
    inner join month_bins as expected
        on actual.feature_name = expected.feature_name
        and expected.month_start_date = baseline_months.baseline_month_start_date
        and actual.bin_number = expected.bin_number

),

psi as (

    -- summed exactly: the bins' terms arrive in any order
    select
        feature_name,
        month_start_date,
        {{ exact_sum('psi_term') }} as population_stability_index,
        count(*) as bin_count
    from psi_terms
    group by feature_name, month_start_date

),

final as (

    select
        ---------- ids
        {{ surrogate_key(['month_totals.feature_name', 'month_totals.month_start_date']) }} as feature_drift_key,
        month_totals.feature_name,

        ---------- keys
        month_totals.month_start_date,
        baseline_months.baseline_month_start_date,

        ---------- distribution
        cast(month_totals.value_count as integer) as value_count,
        cast(baseline_totals.value_count as integer) as baseline_value_count,
        cast(month_totals.mean_value as double) as mean_value,
        cast(baseline_totals.mean_value as double) as baseline_mean_value,
        cast(psi.bin_count as integer) as bin_count,

        ---------- drift
        cast(psi.population_stability_index as double) as population_stability_index,
        case
            when psi.population_stability_index >= {{ var('psi_significant_threshold') }} then 'significant'
            when psi.population_stability_index >= {{ var('psi_moderate_threshold') }} then 'moderate'
            else 'stable'
        end as drift_level,
        psi.population_stability_index >= {{ var('psi_significant_threshold') }} as has_significant_drift,
        month_totals.month_start_date = baseline_months.baseline_month_start_date as is_baseline_month
    from month_totals
    inner join baseline_months
        on month_totals.feature_name = baseline_months.feature_name
    inner join month_totals as baseline_totals
        on month_totals.feature_name = baseline_totals.feature_name
        and baseline_totals.month_start_date = baseline_months.baseline_month_start_date
    inner join psi
        on month_totals.feature_name = psi.feature_name
        and month_totals.month_start_date = psi.month_start_date

)

select * from final
