"""Gold sales, recommendations, experiments and ML monitoring.

The experiment statistics model (a dbt Python model) is tested directly with a stand-in for
dbt's ``dbt`` object, against the analytics functions it must delegate to; the other checks read
the session test lake (conftest.lake) and compare gold with what the generator simulated.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pytest

from engagement_lake.analytics.abtest import srm_test, two_proportion_test, welch_t_test
from engagement_lake.config import MODELS_DIR, UNKNOWN_MEMBER_KEY

STATISTICS_MODEL = MODELS_DIR / "gold" / "experiments" / "int_experiment_statistics.py"


def _load_model(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("int_experiment_statistics", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


statistics_model = _load_model(STATISTICS_MODEL)


class _Config:
    def __init__(self, meta: dict[str, Any]) -> None:
        self.meta = meta

    def __call__(self, **_: Any) -> None:
        pass

    def meta_get(self, key: str, default: Any = None) -> Any:
        return self.meta.get(key, default)


class _Dbt:
    """The slice of dbt's Python-model API the model uses: ref() and config."""

    def __init__(self, relations: dict[str, duckdb.DuckDBPyRelation], **meta: Any) -> None:
        self.relations = relations
        self.config = _Config(meta)

    def ref(self, name: str) -> duckdb.DuckDBPyRelation:
        return self.relations[name]


def _arm(
    experiment: str,
    variant: str,
    users: int,
    converters: int,
    clickers: int = 0,
    revenue_of_converter: float = 0.0,
    start: int = 0,
) -> list[tuple[Any, ...]]:
    """Assignment rows of one arm: everyone exposed, the first `converters` convert (revenue
    grows with the index so the variance is not 0), the first `clickers` click."""
    return [
        (
            f"{experiment}-{variant}-{start + i}",
            experiment,
            variant,
            True,
            i < clickers,
            i < converters,
            round(revenue_of_converter * (1 + i % 3), 2) if i < converters else 0.0,
        )
        for i in range(users)
    ]


def _run(
    assignments: list[tuple[Any, ...]],
    experiments: list[tuple[str | None, ...]],
    **meta: Any,
) -> pl.DataFrame:
    con = duckdb.connect()
    con.execute(
        "create table a (assignment_id varchar, experiment_id varchar, variant_id varchar,"
        " is_exposed boolean, is_clicked boolean, is_converted boolean, revenue decimal(14, 2))"
    )
    if assignments:
        con.executemany("insert into a values (?, ?, ?, ?, ?, ?, ?)", assignments)
    con.execute(
        "create table e (experiment_id varchar, variants varchar, traffic_split varchar,"
        " status varchar)"
    )
    # an experiment is running unless its tuple names another status
    con.executemany("insert into e values (?, ?, ?, ?)", [(*x, "running")[:4] for x in experiments])
    dbt = _Dbt(
        {"fct_experiment_assignments": con.table("a"), "dim_experiment": con.table("e")}, **meta
    )
    result = statistics_model.model(dbt, con)
    return result if isinstance(result, pl.DataFrame) else result.pl()


def _row(frame: pl.DataFrame, experiment: str, variant: str, metric: str) -> dict[str, Any]:
    rows = frame.filter(
        (pl.col("experiment_id") == experiment)
        & (pl.col("variant_id") == variant)
        & (pl.col("metric") == metric)
    ).to_dicts()
    assert len(rows) == 1, (experiment, variant, metric)
    return rows[0]


# --------------------------------------------------------------------------------------------
# int_experiment_statistics (dbt Python model)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variants", "split", "expected"),
    [
        ("control,treatment", "50/50", (["control", "treatment"], [0.5, 0.5])),
        ("control, b, c", "0.34,0.33,0.33", (["control", "b", "c"], [0.34, 0.33, 0.33])),
        ("a,b", "1/3", (["a", "b"], [0.25, 0.75])),
        ("a,b", "60%/40%", (["a", "b"], [0.6, 0.4])),
        ("a,b", "50/50/0", (["a", "b"], None)),
        ("a,b", "half", (["a", "b"], None)),
        ("a,b", "50/0", (["a", "b"], None)),
        (None, None, ([], None)),
    ],
)
def test_design_parsing(variants: str | None, split: str | None, expected: tuple) -> None:
    got_variants, got_shares = statistics_model._parse_design(variants, split)
    assert got_variants == expected[0]
    if expected[1] is None:
        assert got_shares is None
    else:
        assert got_shares == pytest.approx(expected[1])


def test_statistics_are_the_analytics_functions() -> None:
    rows = _arm("E1", "control", 1000, 100, clickers=300, revenue_of_converter=40.0)
    rows += _arm("E1", "treatment", 1010, 131, clickers=340, revenue_of_converter=45.0)
    out = _run(rows, [("E1", "control,treatment", "50/50")])
    assert out.height == 6  # 2 variants x 3 metrics

    conversion = _row(out, "E1", "treatment", "conversion")
    expected = two_proportion_test(1000, 100, 1010, 131)
    assert conversion["users"] == 1010 and conversion["conversions"] == 131
    assert conversion["control_users"] == 1000 and conversion["control_conversions"] == 100
    for field, value in [
        ("absolute_lift", expected.absolute_lift),
        ("relative_lift", expected.relative_lift),
        ("ci_low", expected.ci_low),
        ("ci_high", expected.ci_high),
        ("test_statistic", expected.z),
        ("p_value", expected.p_value),
    ]:
        assert conversion[field] == pytest.approx(value, rel=1e-12), field
    assert conversion["is_significant"] == expected.is_significant
    assert conversion["test_method"] == "two_proportion_z"

    ctr = _row(out, "E1", "treatment", "click_through")
    assert ctr["p_value"] == pytest.approx(two_proportion_test(1000, 300, 1010, 340).p_value)

    revenue = _row(out, "E1", "treatment", "revenue_per_user")
    per_user = {
        variant: np.array([r[6] for r in rows if r[2] == variant], dtype=float)
        for variant in ("control", "treatment")
    }
    welch = welch_t_test(
        per_user["control"].mean(),
        per_user["control"].var(ddof=1),
        1000,
        per_user["treatment"].mean(),
        per_user["treatment"].var(ddof=1),
        1010,
    )
    assert revenue["rate"] == pytest.approx(per_user["treatment"].mean())
    assert revenue["absolute_lift"] == pytest.approx(welch.difference, rel=1e-9)
    assert revenue["p_value"] == pytest.approx(welch.p_value, rel=1e-9)
    assert revenue["ci_low"] == pytest.approx(welch.ci_low, rel=1e-9)
    assert revenue["test_method"] == "welch_t"

    control = _row(out, "E1", "control", "conversion")
    assert control["is_control"] and control["variant_order"] == 1
    assert control["absolute_lift"] is None and control["p_value"] is None
    assert control["is_significant"] is None
    srm = srm_test([1000, 1010], [0.5, 0.5])
    assert out["srm_p_value"].to_list() == [pytest.approx(srm.p_value)] * out.height
    assert not out["is_srm"].any()


def test_sample_ratio_mismatch_is_flagged_per_experiment() -> None:
    rows = _arm("SRM", "control", 600, 30) + _arm("SRM", "treatment", 400, 20)
    rows += _arm("OK", "control", 500, 30) + _arm("OK", "treatment", 495, 20)
    rows += _arm("THREE", "a", 340, 10) + _arm("THREE", "b", 330, 10) + _arm("THREE", "c", 330, 9)
    out = _run(
        rows,
        [
            ("SRM", "control,treatment", "0.5,0.5"),
            ("OK", "control,treatment", "50/50"),
            ("THREE", "a,b,c", "34/33/33"),
        ],
    )
    by_experiment = out.group_by("experiment_id").agg(pl.col("is_srm").unique())
    flags = {r["experiment_id"]: r["is_srm"] for r in by_experiment.to_dicts()}
    assert flags == {"SRM": [True], "OK": [False], "THREE": [False]}
    srm = _row(out, "SRM", "treatment", "conversion")
    assert srm["srm_p_value"] == pytest.approx(srm_test([600, 400], [1, 1]).p_value)
    assert srm["planned_share"] == pytest.approx(0.5)
    assert srm["observed_share"] == pytest.approx(0.4)
    # the threshold comes from the model's config meta
    lenient = _run(rows, [("OK", "control,treatment", "50/50")], srm_p_value_threshold=0.99)
    assert lenient.filter(pl.col("experiment_id") == "OK")["is_srm"].all()


def test_degenerate_arms_give_nulls_not_errors_or_nans() -> None:
    rows = _arm("E", "control", 50, 5) + _arm("E", "rogue", 7, 1)  # 'treatment' got nobody
    rows += _arm("NOCONTROL", "treatment", 30, 3)  # the control got nobody
    rows += _arm("ONE", "control", 1, 1) + _arm("ONE", "treatment", 1, 0)  # Welch needs 2 per arm
    rows += _arm("FLAT", "control", 20, 0) + _arm("FLAT", "treatment", 20, 0)  # all zero revenue
    out = _run(
        rows,
        [
            ("E", "control,treatment", "50/50"),
            ("NOCONTROL", "control,treatment", "not a split"),
            ("ONE", "control,treatment", "50/50"),
            ("FLAT", "control,treatment", "50/50"),
            ("EMPTY", "control,treatment", "50/50"),  # running, no assignments at all
            ("PLANNED", "control,treatment", "50/50", "draft"),  # never started
        ],
    )
    empty = _row(out, "E", "treatment", "conversion")
    assert empty["users"] == 0 and empty["rate"] is None and empty["p_value"] is None
    rogue = _row(out, "E", "rogue", "conversion")
    assert not rogue["is_planned_variant"] and rogue["variant_order"] is None
    assert rogue["p_value"] is not None  # still compared with the control
    assert _row(out, "E", "control", "conversion")["srm_p_value"] is not None
    assert _row(out, "NOCONTROL", "treatment", "conversion")["absolute_lift"] is None
    assert _row(out, "NOCONTROL", "treatment", "conversion")["srm_p_value"] is None
    assert _row(out, "ONE", "treatment", "revenue_per_user")["p_value"] is None
    assert _row(out, "ONE", "treatment", "conversion")["p_value"] is not None
    assert _row(out, "FLAT", "treatment", "revenue_per_user")["p_value"] is None
    assert _row(out, "FLAT", "treatment", "conversion")["p_value"] == 1.0
    empty_experiment = out.filter(pl.col("experiment_id") == "EMPTY")
    assert empty_experiment.height == 6 and (empty_experiment["users"] == 0).all()
    assert empty_experiment["observed_share"].null_count() == 6
    assert out.filter(pl.col("experiment_id") == "PLANNED").is_empty(), "a draft has no results"
    floats = [c for c, t in out.schema.items() if t == pl.Float64]
    assert not any(out[c].is_nan().any() for c in floats), "NaN must be written as null"


def test_no_assignments_at_all() -> None:
    out = _run([], [("E", "control,treatment", "50/50")])
    assert out.height == 6
    assert out["p_value"].null_count() == 6


# --------------------------------------------------------------------------------------------
# The built test lake
# --------------------------------------------------------------------------------------------


def test_experiment_results_recompute_from_assignments(con) -> None:
    arms = con.execute(
        """
        select experiment_id, variant_id, count(*) as users,
               count(*) filter (where is_converted) as conversions
        from gold.fct_experiment_assignments group by all
        """
    ).pl()
    results = con.execute(
        """
        select r.experiment_id, r.variant_id, r.p_value, r.absolute_lift, e.control_variant_id
        from gold.fct_experiment_results as r
        inner join gold.dim_experiment as e using (experiment_key)
        where r.metric = 'conversion' and not r.is_control and r.p_value is not null
        """
    ).pl()
    assert results.height > 0
    counts = {(r["experiment_id"], r["variant_id"]): r for r in arms.to_dicts()}
    for row in results.to_dicts():
        control = counts[(row["experiment_id"], row["control_variant_id"])]
        treatment = counts[(row["experiment_id"], row["variant_id"])]
        expected = two_proportion_test(
            control["users"], control["conversions"], treatment["users"], treatment["conversions"]
        )
        assert row["p_value"] == pytest.approx(expected.p_value, rel=1e-9)
        assert row["absolute_lift"] == pytest.approx(expected.absolute_lift, rel=1e-9)


def test_every_experiment_variant_has_three_metrics(con) -> None:
    pairs = set(
        con.execute(
            "select distinct experiment_id, variant_id from gold.fct_experiment_assignments"
        ).fetchall()
    )
    for metric in ("conversion", "click_through", "revenue_per_user"):
        results = set(
            con.execute(
                "select experiment_id, variant_id from gold.fct_experiment_results"
                " where metric = ?",
                [metric],
            ).fetchall()
        )
        assert pairs <= results, metric


def test_recommendation_ctr_follows_the_algorithms(con, lake) -> None:
    import json

    truth = json.loads((lake.truth / "behaviour_params.json").read_text())
    rates = truth["recommendation_algorithm_rates"]
    ctr = dict(
        con.execute(
            "select algorithm, avg(case when is_clicked then 1.0 else 0.0 end)"
            " from gold.fct_product_recommendations group by 1"
        ).fetchall()
    )
    best = max(rates, key=lambda a: rates[a]["click_rate_rank1"])
    worst = min(rates, key=lambda a: rates[a]["click_rate_rank1"])
    assert ctr[best] > ctr[worst]


def test_offline_evaluation_is_well_formed(con) -> None:
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            """
        select method, customers_evaluated, precision_at_10, recall_at_10, catalog_coverage,
               hit_count, recommendation_count
        from gold.fct_recommendation_offline_evaluation
        """
        ).fetchall()
    }
    assert set(rows) == {"item_item_cosine", "popularity"}
    for customers, precision, recall, coverage, hits, recommended in rows.values():
        assert customers > 0 and recommended <= 10 * customers and hits <= recommended
        assert 0 <= precision <= 1 and 0 <= recall <= 1 and 0 < coverage <= 1
    # one list for everyone cannot cover the catalogue like personalised lists do
    assert rows["item_item_cosine"][3] > rows["popularity"][3]


def test_quota_attainment_numerator_matches_commissions(con) -> None:
    """Every won deal pays commission in its close month, so the won amount per rep-month that
    attainment is computed from equals the commission base of that rep-month."""
    mismatches = con.execute(
        """
        select count(*) from (
            select sales_rep_id, commission_month_date,
                   max(rep_month_won_amount) as won, sum(base_amount) as base
            from gold.fct_sales_commissions group by all
        ) where abs(won - base) > 0.01
        """
    ).fetchone()[0]
    assert mismatches == 0


def test_one_conversion_row_per_golden_lead(con) -> None:
    leads, rows, converted, won = con.execute(
        """
        select (select count(*) from silver.lead_golden), count(*),
               count(*) filter (where is_converted_to_opportunity),
               count(*) filter (where is_converted_to_customer)
        from gold.fct_sales_conversions
        """
    ).fetchone()
    assert leads == rows and rows >= converted >= won > 0


def test_confusion_matrix_adds_up(con) -> None:
    """Every judged labelled prediction (churn, cross-sell, affinity, the vendor's sentiment) lands
    in one cell of its month's confusion matrix."""
    rows = con.execute(
        """
        select evaluated_prediction_count, true_positive_count + false_positive_count
                   + true_negative_count + false_negative_count,
               accuracy_score, precision_score, recall_score, f1_score
        from gold.fct_model_performance
        where is_evaluated and positive_prediction_rate is not null
        """
    ).fetchall()
    assert rows, "no labelled prediction is old enough to judge"
    for judged, total, *scores in rows:
        assert judged == total
        assert all(s is None or 0 <= s <= 1 for s in scores)
        assert not any(s is not None and math.isnan(s) for s in scores)


def test_every_dimension_here_has_one_unknown_member(con) -> None:
    for table, key in (
        ("dim_sales_rep", "sales_rep_key"),
        ("dim_sales_territory", "sales_territory_key"),
        ("dim_lead_source", "lead_source_key"),
        ("dim_sales_stage", "sales_stage_key"),
        ("dim_recommendation_algorithm", "algorithm_key"),
        ("dim_experiment", "experiment_key"),
        ("dim_ml_model", "model_key"),
    ):
        n = con.execute(
            f"select count(*) from gold.{table} where {key} = '{UNKNOWN_MEMBER_KEY}'"
        ).fetchone()[0]
        assert n == 1, table
