"""The DuckDB-vs-Spark comparison on tables whose differences are known: a Spark "build" is
written as Parquet in the spark target's layout, then altered one way per table."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from engagement_lake.parity import (
    RELATIVE_TOLERANCE,
    compare_table,
    markdown_table,
    spark_table_path,
)


@pytest.fixture
def engines(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    spark_dir = tmp_path / "spark"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema gold")
        con.execute(
            """
            create table gold.fct as
            select 'k' || i as id, i::integer as n, i * 0.1 as amount,
                   (i * 1.25)::decimal(12, 2) as price, date '2026-01-01' + i::integer as day,
                   timestamp '2026-01-01 08:00:00' + to_hours(i) as seen_at
            from range(1, 101) as t(i)
            """
        )
        con.execute(
            "create table gold.nokey as select i % 7 as bucket, i / 3 as ratio from range(50) t(i)"
        )
        for table, spark_sql in {
            "fct": "select * from gold.fct",
            "nokey": "select * from gold.nokey",
        }.items():
            path = spark_table_path(spark_dir, "gold", table)
            path.mkdir(parents=True)
            # Spark writes integers as 64-bit and instants with a zone: not a difference
            con.execute(f"copy ({spark_sql}) to '{path}/part-0.parquet' (format parquet)")
    con = duckdb.connect()
    con.execute(f"attach '{warehouse}' as duck (read_only)")
    yield con, spark_dir
    con.close()


def _rewrite(con: duckdb.DuckDBPyConnection, spark_dir: Path, table: str, sql: str) -> None:
    """Replace Spark's files of ``table`` with ``sql`` over their current rows (``src``)."""
    path = spark_table_path(spark_dir, "gold", table)
    con.execute(f"create or replace temp table src as select * from read_parquet('{path}/*')")
    for old in path.glob("*.parquet"):
        old.unlink()
    con.execute(f"copy ({sql}) to '{path}/part-1.parquet' (format parquet)")


def test_the_same_rows_with_spark_types_are_equal(engines):
    con, spark_dir = engines
    _rewrite(
        con,
        spark_dir,
        "fct",
        "select id, n::bigint as n, amount, price, day, seen_at::timestamptz as seen_at "
        "from src order by random()",
    )
    result = compare_table(con, "gold", "fct", spark_dir, ["id"])
    assert (result.status, result.reasons) == ("equal", [])
    assert result.duckdb_rows == result.spark_rows == 100


def test_a_sum_rounded_differently_is_within_tolerance(engines):
    con, spark_dir = engines
    _rewrite(
        con,
        spark_dir,
        "fct",
        "select * replace (case when id = 'k5' then amount * (1 + 1e-12) else amount end as amount)"
        " from src",
    )
    result = compare_table(con, "gold", "fct", spark_dir, ["id"])
    assert result.status == "within tolerance"
    assert 0 < result.max_relative_difference <= RELATIVE_TOLERANCE


def test_changed_rows_and_values_are_named(engines):
    con, spark_dir = engines
    _rewrite(
        con,
        spark_dir,
        "fct",
        "select * replace (case when id = 'k7' then n + 1 else n end as n,"
        " case when id = 'k8' then amount * 1.01 else amount end as amount)"
        " from src where id <> 'k9'",
    )
    result = compare_table(con, "gold", "fct", spark_dir, ["id"])
    assert result.status == "different"
    assert result.reasons == ["rows: DuckDB 100, Spark 99"]
    # with equal counts, the key join names the columns
    _rewrite(
        con,
        spark_dir,
        "fct",
        "select * from src union all select 'k9', 9, 0.9, 11.25, date '2026-01-10',"
        " timestamp '2026-01-01 17:00:00'",
    )
    result = compare_table(con, "gold", "fct", spark_dir, ["id"])
    assert result.status == "different"
    assert result.reasons[0] == "values differ: n (1 rows)"
    assert result.reasons[1].startswith("numbers beyond tolerance: amount (relative 0.0099")
    assert "| `fct` | different | 100 / 100 |" in markdown_table([result])


def test_a_table_without_key_is_compared_as_a_multiset(engines):
    con, spark_dir = engines
    assert compare_table(con, "gold", "nokey", spark_dir).status == "equal"
    _rewrite(
        con,
        spark_dir,
        "nokey",
        "select case when bucket = 2 and ratio = 3 then 4 else bucket end as bucket, ratio"
        " from src",
    )
    result = compare_table(con, "gold", "nokey", spark_dir)
    assert result.reasons == ["1 DuckDB rows and 1 Spark rows have no twin (exact columns)"]


def test_a_table_spark_did_not_build_is_different(engines):
    con, spark_dir = engines
    con.execute("create table gold_extra as select 1")  # not in duck: ignored
    result = compare_table(con, "gold", "fct", spark_dir / "elsewhere", ["id"])
    assert result.status == "different"
    assert result.reasons[0].startswith("no Spark table at ")


def test_a_partitioned_spark_table_is_read_with_its_partition_column(engines):
    """Spark's staged tables are partitioned (``day=…`` folders here): the partition column,
    which lives in the folder names only, is compared like any other, and a row missing from
    one partition is found."""
    con, spark_dir = engines
    path = spark_table_path(spark_dir, "gold", "fct")
    for old in path.glob("*.parquet"):
        old.unlink()
    con.execute(
        f"copy (select * from duck.gold.fct) to '{path}' (format parquet, partition_by (day))"
    )
    assert not list(path.glob("*.parquet"))
    result = compare_table(con, "gold", "fct", spark_dir, ["id"])
    assert (result.status, result.reasons) == ("equal", [])
    assert result.spark_rows == 100

    folder = next(p for p in sorted(path.iterdir()) if p.is_dir())
    for old in folder.glob("*.parquet"):
        old.unlink()
    folder.rmdir()
    result = compare_table(con, "gold", "fct", spark_dir, ["id"])
    assert result.status == "different"
    assert result.reasons == ["rows: DuckDB 100, Spark 99"]
