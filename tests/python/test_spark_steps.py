"""The Python models' Spark paths against their DuckDB/polars paths, on a small local session.

No dbt here: each test runs one step both ways, on the same input, and compares. Skipped where
pyspark (``make install-spark``) or Java is missing, so the default suite runs without them.
"""

from __future__ import annotations

import importlib.util
import random
import shutil
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import duckdb
import polars as pl
import pytest

pytest.importorskip("pyspark", reason="the Spark steps need `make install-spark`")
if shutil.which("java") is None:
    pytest.skip("the Spark steps need Java", allow_module_level=True)

from engagement_lake import frames
from engagement_lake.analytics.clv_predictions import (
    order_log,
    predict_customer_values,
    predict_from_rfm,
    rfm_from_frame,
    rfm_on_spark,
)
from engagement_lake.analytics.sentiment import score_texts, score_texts_on_spark
from engagement_lake.mdm import evaluate_matches, match_identities
from engagement_lake.mdm.match import matching_features
from engagement_lake.mdm.model import comparisons

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spark(module_dir):
    import os
    import sys

    from pyspark.sql import SparkSession

    # the workers must import this engagement_lake, as engagement_lake.spark arranges for builds
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    where = module_dir("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("engagement-lake-spark-steps")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "3")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.warehouse.dir", str(where / "tables"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={where}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


# --------------------------------------------------------------------------------------------
# frames
# --------------------------------------------------------------------------------------------


def test_frames_round_trip_keeps_values_and_gives_spark_types(spark) -> None:
    frame = pl.DataFrame(
        {
            "u8": pl.Series([1, 255], dtype=pl.UInt8),
            "u32": pl.Series([1, 4_000_000_000], dtype=pl.UInt32),
            "u64": pl.Series([0, 2**62], dtype=pl.UInt64),
            "text": ["a", None],
            "day": [date(2026, 1, 2), None],
            "naive": [datetime(2026, 1, 2, 3, 4, 5, 6), None],
            "aware": [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), None],
            "amount": pl.Series([Decimal("1.25"), None], dtype=pl.Decimal(12, 2)),
            "names": [["a", "b"], None],
            "kind": pl.Series(["x", "y"], dtype=pl.Categorical),
            "nanos": pl.Series([datetime(2026, 1, 2, 3, 4, 5, 6), None], dtype=pl.Datetime("ns")),
        }
    )
    df = frames.to_engine(frame, spark)
    kinds = {f.name: f.dataType.simpleString() for f in df.schema.fields}
    assert kinds == {
        "u8": "smallint",
        "u32": "bigint",
        "u64": "bigint",
        "text": "string",
        "day": "date",
        "naive": "timestamp",
        "aware": "timestamp",
        "amount": "decimal(12,2)",
        "names": "array<string>",
        "kind": "string",
        "nanos": "timestamp",
    }
    # Spark reads a naive timestamp as wall-clock time in the session's zone (UTC)
    assert df.selectExpr("cast(naive as string)").first()[0] == "2026-01-02 03:04:05.000006"
    back = frames.to_polars(df)
    assert back.schema["naive"] == pl.Datetime("us") and back.schema["aware"] == pl.Datetime("us")
    expected = frame.with_columns(
        pl.col("aware").dt.replace_time_zone(None),
        pl.col("nanos").dt.cast_time_unit("us"),
        pl.col("kind").cast(pl.String),
    )
    assert back.cast(expected.schema).equals(expected)  # type: ignore[arg-type]
    assert frames.to_engine(frame.clear(), spark).count() == 0


def test_frames_refuse_what_spark_cannot_hold(spark) -> None:
    with pytest.raises(ValueError, match="column n: type Null"):
        frames.to_engine(pl.DataFrame({"n": [None, None]}), spark)
    big = pl.DataFrame({"id": pl.Series([2**63], dtype=pl.UInt64)})
    with pytest.raises(ValueError, match="column id: value 9223372036854775808"):
        frames.to_engine(big, spark)


def test_query_and_scalar_mean_the_same_on_both_engines(spark) -> None:
    frame = pl.DataFrame(
        {
            "k": ["a", "b", "a", None],
            "v": [1, 2, 3, 4],
            "seen_at": [datetime(2026, 5, d, 7) for d in (1, 9, 3, 2)],
        }
    )
    sql = "select k, sum(v) as total, count(*) as n from things group by k"
    schema = {"k": pl.String, "total": pl.Int64, "n": pl.Int64}
    with duckdb.connect() as con:
        relation = con.from_arrow(frame.to_arrow())
        on_duckdb = frames.to_polars(frames.query(relation, "things", sql))
        newest = frames.scalar(relation, "max(seen_at)")
    df = frames.to_engine(frame, spark)
    on_spark = frames.to_polars(frames.query(df, "things", sql))
    # the temporary view is gone; the result still reads it
    assert "things" not in {t.name for t in spark.catalog.listTables()}
    assert on_spark.cast(schema).sort("k").equals(on_duckdb.cast(schema).sort("k"))  # type: ignore[arg-type]
    assert on_spark.height == 3
    assert frames.scalar(df, "max(seen_at)") == newest == datetime(2026, 5, 9, 7)


# --------------------------------------------------------------------------------------------
# sentiment
# --------------------------------------------------------------------------------------------


def test_sentiment_on_spark_equals_the_driver(spark) -> None:
    rng = random.Random(5)
    words = ["great", "awful", "fine", "not good", "love it", "broken", "ok", "refund", "!!"]
    n = 60
    texts = pl.DataFrame(
        {
            "text_id": [f"t{i:03d}" for i in range(n)],
            "text": [None if i % 17 == 0 else " ".join(rng.choices(words, k=4)) for i in range(n)],
            "ticket_id": [i if i % 3 else None for i in range(n)],
            "written_at": [datetime(2026, 1, 1) + timedelta(hours=i) for i in range(n)],
            # vendor scores where the vendor scored, one of them out of range (clipped)
            "vendor_score": [
                None if i % 2 else (1.7 if i == 4 else rng.uniform(-1, 1)) for i in range(n)
            ],
        }
    )
    expected = score_texts(texts, 0.05, -0.05)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "7")  # several batches
    try:
        scored = score_texts_on_spark(frames.to_engine(texts, spark), 0.05, -0.05)
        assert scored.columns == expected.columns
        got = frames.to_polars(scored).sort("text_id")
    finally:
        spark.conf.unset("spark.sql.execution.arrow.maxRecordsPerBatch")
    assert got.equals(expected.sort("text_id"))
    assert set(got["score_method"]) == {"vader", "vendor"}
    assert got.filter(pl.col("text_id") == "t004")["sentiment_score"].item() == 1.0


# --------------------------------------------------------------------------------------------
# CLV
# --------------------------------------------------------------------------------------------


def _orders(seed: int = 11) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Shop orders and the shop rows of a crosswalk: several orders on one day, cancelled ones,
    two shop accounts of one customer, a customer with more than eight order days (numpy sums
    those pairwise) and orders after the last as-of date."""
    rng = random.Random(seed)
    rows = []
    for c in range(40):
        first = date(2025, 1, 1) + timedelta(days=rng.randrange(200))
        days = 12 if c == 0 else rng.randrange(1, 6)
        for k in range(days):
            day = first + timedelta(days=rng.randrange(0, 300))
            for _ in range(2 if k % 4 == 3 else 1):
                cents = rng.randrange(100, 99_999)
                rows.append(
                    {
                        "order_id": f"O{len(rows):05d}",
                        "customer_id": f"C{c:03d}",
                        "status": "cancelled" if rng.random() < 0.1 else "completed",
                        "subtotal_amount": Decimal(cents) / 100,
                        "ordered_at": datetime.combine(day, datetime.min.time())
                        + timedelta(minutes=rng.randrange(1440)),
                    }
                )
    orders = pl.DataFrame(rows, schema_overrides={"subtotal_amount": pl.Decimal(12, 2)})
    xref = pl.DataFrame(
        {
            "source_system": ["shop"] * 40,
            "source_id": [f"C{c:03d}" for c in range(40)],
            # C001 and C002 are one customer
            "customer_id": [f"G{(1 if c == 2 else c):03d}" for c in range(40)],
        }
    )
    return orders, xref


def test_clv_on_spark_fits_the_same_summary_as_the_driver(spark) -> None:
    orders, xref = _orders()
    days = [date(2025, 6, 30), date(2025, 9, 30), date(2025, 12, 31)]
    log = order_log(orders, xref)
    summaries = rfm_on_spark(frames.to_engine(orders, spark), frames.to_engine(xref, spark), days)
    assert summaries.height > 60
    for day in days:
        expected = predict_customer_values(log, day)
        got = predict_from_rfm(rfm_from_frame(summaries.filter(pl.col("as_of_date") == day)), day)
        assert got.height == expected.height > 10
        # the same summary to the bit, so the same fits to the bit
        assert got.equals(expected), day
    assert rfm_on_spark(
        frames.to_engine(orders.clear(), spark), frames.to_engine(xref, spark), days
    ).is_empty()


# --------------------------------------------------------------------------------------------
# Experiment statistics
# --------------------------------------------------------------------------------------------


def _model_module(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("model_under_test", ROOT / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_experiment_arms_are_aggregated_alike_and_moments_are_duckdbs(spark) -> None:
    stats = _model_module("models/gold/experiments/int_experiment_statistics.py")
    rng = random.Random(3)
    rows = []
    for e in range(4):
        for v in ("control", "treatment", "extra"):
            for _ in range(rng.randrange(1, 400) if v != "extra" else 1):
                converted = rng.random() < 0.3
                rows.append(
                    {
                        "experiment_id": f"E{e}",
                        "variant_id": v,
                        "is_exposed": rng.random() < 0.8,
                        "is_clicked": rng.random() < 0.4,
                        "is_converted": converted,
                        "revenue": Decimal(rng.randrange(0, 10**7)) / 100 if converted else None,
                    }
                )
    assignments = pl.DataFrame(rows, schema_overrides={"revenue": pl.Decimal(14, 2)})
    former = """
        select experiment_id, variant_id, avg(revenue) as mean,
            case when count(revenue) > 1 then
                (count(revenue) * sum(revenue * revenue) - sum(revenue) * sum(revenue))
                / (count(revenue) * (count(revenue) - 1))
            end as variance
        from assignments group by all
    """
    with duckdb.connect() as con:
        relation = con.from_arrow(assignments.to_arrow())
        on_duckdb = frames.to_polars(frames.query(relation, "assignments", stats.ARMS_SQL))
        reference = frames.to_polars(frames.query(relation, "assignments", former))
    on_spark = frames.to_polars(
        frames.query(frames.to_engine(assignments, spark), "assignments", stats.ARMS_SQL)
    )
    keys = ["experiment_id", "variant_id"]
    on_duckdb, on_spark = on_duckdb.sort(keys), on_spark.sort(keys)
    assert on_duckdb.columns == on_spark.columns and on_duckdb.height == 12
    for column in on_duckdb.columns:
        assert on_duckdb[column].to_list() == on_spark[column].to_list(), column
    # the driver's arithmetic on the exact sums is what DuckDB's SQL computed, to the bit
    checked = 0
    for arm, row in zip(
        on_duckdb.iter_rows(named=True), reference.sort(keys).iter_rows(named=True), strict=True
    ):
        mean, variance = stats._revenue_moments(
            arm["revenue_n"], arm["revenue_sum"], arm["revenue_sum_squares"]
        )
        assert (mean, variance) == (row["mean"], row["variance"]), arm
        checked += variance is not None
    assert checked >= 8


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


def _population(n_people: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    import test_mdm

    raw, truth = test_mdm.make_population(n_people, seed=seed)
    return test_mdm.standardize(raw), truth


#: The comparisons with Jaro-Winkler levels, and the column each compares with it.
JARO_WINKLER_COLUMNS = {"first_name": "fn", "last_name": "ln", "location": "addr"}


def test_every_comparison_level_means_the_same_in_spark_sql(spark) -> None:
    """Each comparison's levels, spelled for DuckDB and for Spark, put every pair of records in
    the same level (Splink's similarity functions registered as a Spark build does), except
    where the two engines' Jaro-Winkler similarities differ: Splink's jar counts a transposition
    as half of each out-of-order match (SAMUEL/BENJAMIN 0.458), DuckDB rounds the half down
    (0.514), so a pair near a level's threshold can land one level apart."""
    from splink.internals.dialects import SplinkDialect

    from engagement_lake.spark import register_similarity_functions

    register_similarity_functions(spark)
    records, _ = _population(60, seed=9)
    features = matching_features(records).drop("unique_id")
    left = features.head(90).with_row_index("a")
    pairs = left.join(left, how="cross", suffix="_r").filter(pl.col("a") < pl.col("a_r"))
    pairs = pairs.rename({c: f"{c}_l" for c in features.columns}).drop("a", "a_r")
    pairs = pairs.with_row_index("pair")
    assert pairs.height > 3000

    def levels(dialect: str) -> list[str]:
        selects = []
        for comparison in comparisons(dialect):
            spec = comparison.get_comparison(SplinkDialect.from_string(dialect).sql_dialect_str)
            cases = " ".join(
                f"WHEN {lvl['sql_condition']} THEN {i}"
                for i, lvl in enumerate(spec.as_dict()["comparison_levels"])
                if lvl["sql_condition"] != "ELSE"
            )
            selects.append(f"CASE {cases} ELSE -1 END AS {spec.output_column_name}")
        for column in JARO_WINKLER_COLUMNS.values():
            name = "jaro_winkler_similarity" if dialect == "duckdb" else "jaro_winkler"
            selects.append(f"coalesce({name}({column}_l, {column}_r), 0) AS jw_{column}")
        return selects

    with duckdb.connect() as con:
        relation = con.from_arrow(pairs.to_arrow())
        duck = relation.query("p", f"select pair, {', '.join(levels('duckdb'))} from p").pl()
    frames.to_engine(pairs, spark).createOrReplaceTempView("p")
    try:
        spk = frames.to_polars(spark.sql(f"select pair, {', '.join(levels('spark'))} from p"))
    finally:
        spark.catalog.dropTempView("p")
    both = duck.join(spk, on="pair", suffix="_spark")
    assert both.height == pairs.height
    for spec in comparisons("duckdb"):
        name = spec.get_comparison("duckdb").output_column_name
        differ = both.filter(pl.col(name) != pl.col(f"{name}_spark"))
        assert both[name].n_unique() >= 3, name  # the pairs reach several levels
        column = JARO_WINKLER_COLUMNS.get(name)
        if column is None:
            assert differ.height == 0, f"{name}: {differ.height} pairs in different levels"
            continue
        # every disagreement is a pair whose Jaro-Winkler differs between the engines
        unexplained = differ.filter(pl.col(f"jw_{column}") == pl.col(f"jw_{column}_spark"))
        assert unexplained.height == 0, (name, unexplained.head(5))
        assert differ.height <= 0.01 * both.height, (name, differ.height)


def test_matching_on_spark_is_as_good_as_on_duckdb(spark) -> None:
    records, truth = _population(80, seed=7)
    on_duckdb = match_identities(records)
    on_spark = match_identities(records, spark=spark)
    duck, spk = evaluate_matches(on_duckdb, truth), evaluate_matches(on_spark, truth)
    assert spk.records == duck.records == records.height
    assert spk.f1 == pytest.approx(duck.f1, abs=0.005), (str(spk), str(duck))
    assert spk.f1 >= 0.95, str(spk)
    # Splink's temporary tables are gone from the session
    assert not [t.name for t in spark.catalog.listTables() if t.name.startswith("__splink")]
