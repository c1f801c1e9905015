"""`engagement-lake build --target spark` against the DuckDB build of the same bronze."""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import polars as pl
import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

from engagement_lake.mdm import evaluate_matches
from engagement_lake.parity import spark_table_path


def _manifest(cfg) -> dict:
    return json.loads((cfg.target_dir / "manifest.json").read_text())


def test_every_model_test_and_seed_passes_on_spark(engines):
    assert engines.spark_run.success
    assert engines.spark_run.failures == []
    kinds = Counter(n.resource_type for n in engines.spark_run.nodes)
    duck = Counter(n.resource_type for n in engines.duckdb_run.nodes)
    # the same graph ran on both engines
    assert kinds == duck


def test_compiled_sql_parses_as_spark_sql(engines):
    """Regressions to DuckDB-only syntax show up here, named by node, without running Spark."""
    failures = []
    nodes = _manifest(engines.spark)["nodes"].values()
    compiled = [n for n in nodes if n.get("language") == "sql" and n.get("compiled_code")]
    assert len(compiled) > 100
    for node in compiled:
        try:
            sqlglot.parse(node["compiled_code"], read="spark", error_level=ErrorLevel.RAISE)
        except sqlglot.errors.ParseError as exc:
            failures.append(f"{node['unique_id']}: {str(exc).splitlines()[0]}")
    assert failures == []


def test_gold_is_equal_or_within_tolerance(engines):
    assert engines.gold_differences() == []


def test_matching_on_spark_is_as_good_as_on_duckdb(engines):
    truth = pl.read_parquet(engines.truth / "identity.parquet")
    with duckdb.connect(str(engines.duckdb.warehouse), read_only=True) as con:
        on_duckdb = evaluate_matches(con.execute("select * from silver.customer_xref").pl(), truth)
    path = spark_table_path(engines.spark.warehouse, "silver", "customer_xref")
    on_spark = evaluate_matches(pl.read_parquet(path / "*.parquet"), truth)
    assert on_spark.f1 == pytest.approx(on_duckdb.f1, abs=0.005), (str(on_spark), str(on_duckdb))


def test_a_gold_not_null_constraint_holds_on_spark(engines):
    """Spark's Parquet tables keep no constraints, so every gold model's post-hook counts the
    nulls of its contract's not_null columns (macros/spark/enforce_not_null.sql). Its check,
    run on a built table: silent on the constrained columns, failing by name on a column that
    does hold nulls."""
    from dataclasses import replace

    from engagement_lake.dbt_runner import run_dbt

    manifest = _manifest(engines.spark)
    node = manifest["nodes"]["model.engagement_lake.dim_customer"]
    constrained = [
        name
        for name, column in node["columns"].items()
        if any(c["type"] == "not_null" for c in column.get("constraints") or [])
    ]
    with duckdb.connect(str(engines.duckdb.warehouse), read_only=True) as con:
        nullable = next(
            name
            for name in node["columns"]
            if name not in constrained
            and con.execute(
                f"select count(*) from gold.dim_customer where {name} is null"
            ).fetchone()[0]
        )
    assert constrained

    def check(columns: list[str]):
        args = json.dumps({"relation": "gold.dim_customer", "columns": columns})
        cfg = replace(engines.spark, target_dir=engines.spark.target_dir / "operation")
        run = run_dbt(["run-operation", "assert_no_nulls", "--args", args], cfg, progress=False)
        return run, (cfg.target_dir / "logs" / "dbt.log").read_text()

    run, _ = check(constrained)
    assert run.success, run.error
    run, log = check([*constrained, nullable])
    assert not run.success
    assert f"null in a not_null column of the contract: {nullable} (" in log
