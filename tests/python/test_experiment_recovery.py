"""A/B results against the generator's truth: at scale 0.1 the true effects lie inside the
confidence intervals for most variants, the deliberate sample-ratio mismatch is flagged, and the
null experiments are not called significant."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from engagement_lake.config import RunConfig
from engagement_lake.dbt_runner import build


@pytest.fixture(scope="module")
def results(module_dir):
    from engagement_lake.generate import generate

    root = module_dir("experiments")
    data = root / "data"
    generate(data, scale=0.1, seed=42, progress=False)
    cfg = RunConfig(data, root / "w.duckdb", target_dir=root / "target")
    build(cfg, ["+fct_experiment_results"], progress=False)
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        found = con.execute(
            "select * from gold.fct_experiment_results where metric = 'conversion'"
        ).pl()
    truth = pl.read_parquet(data / "_truth" / "experiments.parquet")
    return found, truth


def test_true_effects_are_recovered_for_most_variants(results):
    found, truth = results
    treatments = found.filter(~pl.col("is_control")).join(
        truth.select("experiment_id", "variant_id", "true_effect", "is_srm"),
        on=["experiment_id", "variant_id"],
    )
    assert treatments.height >= 8
    covered = treatments.filter(
        (pl.col("ci_low") <= pl.col("true_effect")) & (pl.col("true_effect") <= pl.col("ci_high"))
    )
    assert covered.height / treatments.height >= 0.75, treatments.select(
        "experiment_id", "variant_id", "true_effect", "ci_low", "ci_high"
    )


def test_the_deliberate_mismatch_is_flagged(results):
    found, truth = results
    srm_truth = set(truth.filter(pl.col("is_srm"))["experiment_id"])
    assert srm_truth, "the generator always plants one sample-ratio mismatch"
    flagged = set(found.filter(pl.col("is_srm"))["experiment_id"])
    assert srm_truth <= flagged
    assert len(flagged - srm_truth) <= 1  # at p < 0.001 a false alarm is possible but rare


def test_null_experiments_are_rarely_significant(results):
    found, truth = results
    nulls = truth.filter(~pl.col("variant_id").is_in(["control"]) & (pl.col("true_effect") == 0))
    calls = found.join(
        nulls.select("experiment_id", "variant_id"), on=["experiment_id", "variant_id"]
    )
    assert calls.height >= 1
    assert calls.filter(pl.col("is_significant")).height <= max(1, calls.height // 4)
