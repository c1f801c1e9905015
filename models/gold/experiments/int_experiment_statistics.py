"""One row per experiment × variant × metric: the arm's users, conversions and rate, the lift over
the control arm with its confidence interval and p-value, and the experiment's sample-ratio-mismatch
check. fct_experiment_results publishes it with typed columns.

The arms are aggregated in SQL on the build's engine (DuckDB or Spark: engagement_lake.frames.query
runs the same statement on either), so only one row per arm reaches the driver; the statistics
come from the pure, vectorised functions of engagement_lake.analytics.abtest, called once per
test family for every experiment at the same time:

* conversion       converted users / assigned users                  two-proportion z-test
* click_through    exposed users who clicked / exposed users          two-proportion z-test
* revenue_per_user conversion revenue per assigned user (0 if none)   Welch's t-test

The control arm is the first variant of the experiment's `variants` list. Variants that were
planned but got no users still get rows (users 0, no test), except in draft experiments, which
have not started and get none; and variants seen in the assignments
but not planned are kept with is_planned_variant false. SRM compares the planned variants' user
counts with the planned traffic split (chi-square, flagged at p < srm_p_value_threshold). A
Python model because the statistics live in the Python package; contracts are not enforced on
Python models, so the typed interface is fct_experiment_results.
"""

import re
from fractions import Fraction

TEST_FIELDS = ("absolute_lift", "relative_lift", "ci_low", "ci_high", "test_statistic", "p_value")

# revenue is DECIMAL, so the engine sums it exactly (Σx and Σx², whatever the order in which its
# threads or executors added the rows, unlike var_samp over doubles) and _revenue_moments turns
# the sums into the mean and the sample variance on the driver: the same to the bit on either
# engine.
ARMS_SQL = """
select
    experiment_id,
    variant_id,
    count(*) as users,
    sum(case when is_exposed then 1 else 0 end) as exposed_users,
    sum(case when is_exposed and is_clicked then 1 else 0 end) as exposed_clicked_users,
    sum(case when is_converted then 1 else 0 end) as converted_users,
    count(revenue) as revenue_n,
    sum(revenue) as revenue_sum,
    sum(revenue * revenue) as revenue_sum_squares
from assignments
group by experiment_id, variant_id
"""

# the unknown member has no variants, so it yields no arms; a draft has not started, so it has no
# arms to compare and no result rows
DESIGNS_SQL = """
select experiment_id, variants, traffic_split
from experiments
where status <> 'draft'
"""


def _revenue_moments(n, total, squares):
    """(mean, sample variance) of revenue from the exact count, Σx and Σx² of an arm. The mean
    is the exact quotient rounded once; the variance (n·Σx² − (Σx)²) / (n(n − 1)) has its
    numerator exact, rounded to a double, then divided: the rounding DuckDB applied when these
    figures were computed in its SQL, so they did not change when the arithmetic moved here."""
    if not n:
        return None, None
    mean = float(Fraction(total) / n)
    if n < 2:
        return mean, None
    numerator = n * Fraction(squares) - Fraction(total) ** 2
    return mean, float(numerator) / float(n * (n - 1))


def _parse_design(variants_text, split_text):
    """(variant ids in order, planned shares or None). The split is one positive number per
    variant, as fractions or percentages, separated by commas (the contract) or slashes
    ("50/50", as some platforms write it); shares are normalised to sum to 1. Anything else
    leaves the shares unknown, and the SRM check is skipped rather than guessed."""
    variants = []
    for part in (variants_text or "").split(","):
        variant = part.strip()
        if variant and variant not in variants:
            variants.append(variant)
    shares = None
    try:
        ratios = [float(part.strip().rstrip("%")) for part in re.split(r"[,/;|]", split_text or "")]
    except ValueError:
        ratios = []
    if len(ratios) == len(variants) and variants and all(r > 0 for r in ratios):
        total = sum(ratios)
        shares = [r / total for r in ratios]
    return variants, shares


def model(dbt, session):
    dbt.config(materialized="table")
    import numpy as np
    import polars as pl

    from engagement_lake.analytics.abtest import srm_test, two_proportion_test, welch_t_test
    from engagement_lake.frames import query, to_engine, to_polars

    alpha = float(dbt.config.meta_get("alpha", 0.05))
    srm_threshold = float(dbt.config.meta_get("srm_p_value_threshold", 0.001))

    arms = to_polars(query(dbt.ref("fct_experiment_assignments"), "assignments", ARMS_SQL))
    designs = to_polars(query(dbt.ref("dim_experiment"), "experiments", DESIGNS_SQL))
    moments = [
        _revenue_moments(*row)
        for row in arms.select("revenue_n", "revenue_sum", "revenue_sum_squares").iter_rows()
    ]
    arms = arms.with_columns(
        pl.Series("revenue_mean", [m[0] for m in moments], dtype=pl.Float64),
        pl.Series("revenue_variance", [m[1] for m in moments], dtype=pl.Float64),
    )

    # ------------------------------------------------------------------ design: one row per arm
    planned_rows = []
    for row in designs.iter_rows(named=True):
        variants, shares = _parse_design(row["variants"], row["traffic_split"])
        for order, variant in enumerate(variants, start=1):
            planned_rows.append(
                {
                    "experiment_id": row["experiment_id"],
                    "variant_id": variant,
                    "variant_order": order,
                    "planned_share": shares[order - 1] if shares else None,
                    "control_variant_id": variants[0],
                }
            )
    planned = pl.DataFrame(
        planned_rows,
        schema={
            "experiment_id": pl.String,
            "variant_id": pl.String,
            "variant_order": pl.Int64,
            "planned_share": pl.Float64,
            "control_variant_id": pl.String,
        },
    )
    controls = planned.filter(pl.col("variant_order") == 1).select(
        "experiment_id", "control_variant_id"
    )
    arm_schema = {
        "experiment_id": pl.String,
        "variant_id": pl.String,
        "users": pl.Int64,
        "exposed_users": pl.Int64,
        "exposed_clicked_users": pl.Int64,
        "converted_users": pl.Int64,
        "revenue_mean": pl.Float64,
        "revenue_variance": pl.Float64,
    }
    arms = (
        arms.select(list(arm_schema)).cast(arm_schema)
        if arms.height
        else pl.DataFrame(schema=arm_schema)
    )
    table = (
        planned.drop("control_variant_id")
        .join(arms, on=["experiment_id", "variant_id"], how="full", coalesce=True)
        .join(controls, on="experiment_id", how="left")
        .with_columns(
            pl.col("variant_order").is_not_null().alias("is_planned_variant"),
            (pl.col("variant_id") == pl.col("control_variant_id"))
            .fill_null(False)
            .alias("is_control"),
            *(
                pl.col(c).fill_null(0)
                for c in ("users", "exposed_users", "exposed_clicked_users", "converted_users")
            ),
        )
        .with_columns(pl.col("users").sum().over("experiment_id").alias("experiment_users"))
        .with_columns(
            pl.when(pl.col("experiment_users") > 0)
            .then(pl.col("users").cast(pl.Float64) / pl.col("experiment_users").cast(pl.Float64))
            .alias("observed_share")
        )
    )

    # ------------------------------------------------------------------ long: one row per metric
    def metric_frame(metric, n, x, value, variance):
        return table.select(
            "experiment_id",
            "variant_id",
            "variant_order",
            "is_planned_variant",
            "is_control",
            "planned_share",
            "observed_share",
            pl.lit(metric).alias("metric"),
            n.cast(pl.Int64).alias("users"),
            x.cast(pl.Int64).alias("conversions"),
            value.cast(pl.Float64).alias("rate"),
            variance.cast(pl.Float64).alias("rate_variance"),
        )

    def ratio(x, n):
        return pl.when(n > 0).then(x.cast(pl.Float64) / n.cast(pl.Float64))

    users, exposed = pl.col("users"), pl.col("exposed_users")
    converted, clicked = pl.col("converted_users"), pl.col("exposed_clicked_users")
    long = pl.concat(
        [
            metric_frame("conversion", users, converted, ratio(converted, users), pl.lit(None)),
            metric_frame("click_through", exposed, clicked, ratio(clicked, exposed), pl.lit(None)),
            metric_frame(
                "revenue_per_user",
                users,
                converted,
                pl.when(users > 0).then(pl.col("revenue_mean")),
                pl.when(users > 1).then(pl.col("revenue_variance")),
            ),
        ]
    )
    control_stats = long.filter(pl.col("is_control")).select(
        "experiment_id",
        "metric",
        pl.col("users").alias("control_users"),
        pl.col("conversions").alias("control_conversions"),
        pl.col("rate").alias("control_rate"),
        pl.col("rate_variance").alias("control_rate_variance"),
    )
    long = long.join(control_stats, on=["experiment_id", "metric"], how="left").with_row_index(
        "row"
    )

    n_rows = long.height
    out = {name: np.full(n_rows, np.nan) for name in TEST_FIELDS}
    significant = np.full(n_rows, None, dtype=object)
    method = np.full(n_rows, None, dtype=object)

    def testable(frame):
        return frame.filter(~pl.col("is_control") & pl.col("control_users").is_not_null())

    # ------------------------------------------------------------------ proportions: z-test
    proportions = testable(long).filter(
        pl.col("metric").is_in(["conversion", "click_through"])
        & (pl.col("users") > 0)
        & (pl.col("control_users") > 0)
    )
    if proportions.height:
        result = two_proportion_test(
            proportions["control_users"].to_numpy(),
            proportions["control_conversions"].to_numpy(),
            proportions["users"].to_numpy(),
            proportions["conversions"].to_numpy(),
            alpha=alpha,
        )
        idx = proportions["row"].to_numpy()
        out["absolute_lift"][idx] = result.absolute_lift
        out["relative_lift"][idx] = result.relative_lift
        out["ci_low"][idx] = result.ci_low
        out["ci_high"][idx] = result.ci_high
        out["test_statistic"][idx] = result.z
        out["p_value"][idx] = result.p_value
        significant[idx] = np.asarray(result.is_significant, dtype=bool)
        method[idx] = "two_proportion_z"

    # ------------------------------------------------------------------ revenue: Welch's t-test
    revenue = testable(long).filter(
        (pl.col("metric") == "revenue_per_user")
        & (pl.col("users") >= 2)
        & (pl.col("control_users") >= 2)
        & pl.col("rate_variance").is_not_null()
        & pl.col("control_rate_variance").is_not_null()
        & (
            pl.col("rate_variance") / pl.col("users")
            + pl.col("control_rate_variance") / pl.col("control_users")
            > 0
        )
    )
    if revenue.height:
        result = welch_t_test(
            revenue["control_rate"].to_numpy(),
            revenue["control_rate_variance"].to_numpy(),
            revenue["control_users"].to_numpy(),
            revenue["rate"].to_numpy(),
            revenue["rate_variance"].to_numpy(),
            revenue["users"].to_numpy(),
            alpha=alpha,
        )
        idx = revenue["row"].to_numpy()
        out["absolute_lift"][idx] = result.difference
        out["relative_lift"][idx] = result.relative_lift
        out["ci_low"][idx] = result.ci_low
        out["ci_high"][idx] = result.ci_high
        out["test_statistic"][idx] = result.t
        out["p_value"][idx] = result.p_value
        significant[idx] = np.asarray(result.is_significant, dtype=bool)
        method[idx] = "welch_t"

    # ------------------------------------------------------------------ SRM: one per experiment
    srm = pl.DataFrame(
        schema={
            "experiment_id": pl.String,
            "srm_chi2": pl.Float64,
            "srm_p_value": pl.Float64,
            "is_srm": pl.Boolean,
        }
    )
    plans = (
        table.filter(pl.col("is_planned_variant"))
        .sort("experiment_id", "variant_order")
        .group_by("experiment_id", maintain_order=True)
        .agg(
            pl.col("users"),
            pl.col("planned_share"),
            pl.col("planned_share").is_null().any().alias("has_unplanned_share"),
        )
        .filter(
            (pl.col("users").list.len() >= 2)
            & ~pl.col("has_unplanned_share")
            & (pl.col("users").list.sum() > 0)
        )
    )
    if plans.height:
        width = int(plans["users"].list.len().max())
        observed = np.full((plans.height, width), np.nan)
        ratios = np.full((plans.height, width), np.nan)
        for i, (counts, shares) in enumerate(
            zip(plans["users"], plans["planned_share"], strict=True)
        ):
            observed[i, : len(counts)] = counts.to_numpy()
            ratios[i, : len(shares)] = shares.to_numpy()
        result = srm_test(observed, ratios, threshold=srm_threshold)
        srm = pl.DataFrame(
            {
                "experiment_id": plans["experiment_id"],
                "srm_chi2": np.asarray(result.chi2, dtype=float),
                "srm_p_value": np.asarray(result.p_value, dtype=float),
                "is_srm": np.asarray(result.is_mismatch, dtype=bool),
            }
        )

    # ------------------------------------------------------------------ assemble
    result = (
        long.with_columns(
            *(pl.Series(name, values).fill_nan(None) for name, values in out.items()),
            pl.Series("is_significant", significant.tolist(), dtype=pl.Boolean),
            pl.Series("test_method", method.tolist(), dtype=pl.String),
            pl.lit(alpha).alias("alpha"),
        )
        .join(srm, on="experiment_id", how="left")
        .select(
            "experiment_id",
            "variant_id",
            "metric",
            "variant_order",
            "is_control",
            "is_planned_variant",
            "planned_share",
            "observed_share",
            "users",
            "conversions",
            "rate",
            "control_users",
            "control_conversions",
            "control_rate",
            "absolute_lift",
            "relative_lift",
            "ci_low",
            "ci_high",
            "test_method",
            "test_statistic",
            "p_value",
            "alpha",
            "is_significant",
            "srm_chi2",
            "srm_p_value",
            "is_srm",
        )
        .sort("experiment_id", "metric", "variant_order", "variant_id", nulls_last=True)
    )
    return to_engine(result, session)
