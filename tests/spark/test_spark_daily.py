"""A daily build on Spark: it reads only the new load date, and ends where DuckDB's does.

DuckDB's incremental build is proven equal to a from-scratch build of the same bronze in the
default suite (tests/python/test_incremental.py); here Spark's incremental build of the same
day is compared with DuckDB's, table by table.
"""

from __future__ import annotations

import json

import duckdb

from engagement_lake.parity import compare, spark_table_path


def _incremental_models(manifest_path) -> dict[str, dict]:
    manifest = json.loads(manifest_path.read_text())
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    }


def test_the_daily_build_on_spark_reads_only_the_new_day(daily_engines):
    for run in (daily_engines.duckdb_run, daily_engines.spark_run):
        assert not run.increment.full_refresh, run.increment.reason
        assert run.increment.load_dates == (daily_engines.day.isoformat(),)
        assert run.failures == []


def test_after_the_day_spark_gold_still_equals_duckdb(daily_engines):
    assert daily_engines.engines.gold_differences() == []


def test_after_the_day_each_incremental_staged_table_equals_duckdbs(daily_engines):
    """Spark's staged tables are rewritten partition by partition (macros/spark/
    insert_overwrite.sql): every key once, in the partition of its newest version."""
    engines = daily_engines.engines
    staged = {
        name: [node["config"]["unique_key"]]
        for name, node in _incremental_models(engines.spark.target_dir / "manifest.json").items()
        if node["config"]["schema"] == "staging" and not name.startswith("base_")
    }
    assert len(staged) == 10
    results = compare(
        engines.duckdb.warehouse,
        engines.spark.warehouse,
        schema="staging",
        tables=staged,
        primary_keys=staged,
    )
    assert sorted(r.name for r in results) == sorted(f"staging.{t}" for t in staged)
    different = [f"{r.name}: {'; '.join(r.reasons)}" for r in results if r.status == "different"]
    assert different == []
    assert all(r.spark_rows > 0 for r in results)


def test_after_the_day_each_base_model_holds_what_duckdbs_holds(daily_engines):
    """The base models (bronze checked row by row) are incremental by load date on both engines:
    Spark rewrote the new day's partition alone, and each table holds DuckDB's rows, load date by
    load date and verdict by verdict (the raw JSON of a broken row is each engine's own)."""
    engines = daily_engines.engines
    base = sorted(
        name
        for name in _incremental_models(engines.spark.target_dir / "manifest.json")
        if name.startswith("base_")
    )
    assert len(base) == 45
    counts = (
        "select cast(_load_date as date), coalesce(_dq_reason, 'valid'), count(*)"
        " from {} group by all order by all"
    )
    with duckdb.connect() as con:
        con.execute(f"attach '{engines.duckdb.warehouse}' as duck (read_only)")
        for name in base:
            path = spark_table_path(engines.spark.warehouse, "staging", name)
            spark = con.execute(
                counts.format(f"read_parquet('{path}/**/*.parquet', hive_partitioning = true)")
            ).fetchall()
            duck = con.execute(counts.format(f"duck.staging.{name}")).fetchall()
            assert spark == duck, name
            days = {row[0] for row in duck}
            assert daily_engines.day in days, name


def test_a_partition_whose_keys_all_moved_on_is_dropped(daily_engines):
    """Every backfill order was re-sent with the day: its partition holds no row any more, and
    an overwrite cannot write an empty partition, so the strategy drops it."""
    path = spark_table_path(daily_engines.engines.spark.warehouse, "staging", "stg_shop__orders")
    partitions = sorted(p.name for p in path.iterdir() if p.is_dir() and "=" in p.name)
    assert daily_engines.replayed_partition.startswith("load_date=")
    assert partitions == [f"_load_date={daily_engines.day.isoformat()}"]


def test_the_daily_build_leaves_no_work_table(daily_engines):
    tables = daily_engines.engines.spark.warehouse / "tables"
    assert sorted(p.name for p in tables.glob("*.db/*__el_*")) == []
