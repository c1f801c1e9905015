"""The Spark suite (`make test-spark`): one tiny lake built on DuckDB and on Spark, compared.

Kept apart from the default suite (tests/python): it needs the [spark] extra and a JVM, and a
Spark build costs minutes where the DuckDB one costs seconds. Both builds happen once per
session; every test reads them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("pyspark", reason="the Spark suite needs `make install-spark`")

from engagement_lake.config import RunConfig
from engagement_lake.dbt_runner import DbtRun, build

SPARK_SCALE = 0.01
SPARK_SEED = 7
TEST_PSEUDONYM_KEY = "test-pseudonym-key-not-a-secret-0123456789abcdef"


@dataclass
class Engines:
    duckdb: RunConfig
    spark: RunConfig
    duckdb_run: DbtRun
    spark_run: DbtRun

    @property
    def truth(self) -> Path:
        return self.duckdb.data_dir / "_truth"

    def gold_differences(self) -> list[str]:
        """Every gold table that is neither equal nor within tolerance, with its reasons
        (engagement_lake.parity; rows paired by the gold contract's keys)."""
        from engagement_lake.parity import compare

        results = compare(
            self.duckdb.warehouse,
            self.spark.warehouse,
            manifest=self.duckdb.target_dir / "manifest.json",
        )
        assert len(results) > 60
        return [f"{r.name}: {'; '.join(r.reasons)}" for r in results if r.status == "different"]


@pytest.fixture(scope="session")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Engines:
    """The same bronze built into a DuckDB file and into a Spark folder."""
    from engagement_lake.generate import generate
    from engagement_lake.privacy import KEY_ENV

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, TEST_PSEUDONYM_KEY)
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
        patch.setenv(
            "ENGAGEMENT_LAKE_SPARK_DRIVER_MEMORY",
            os.environ.get("ENGAGEMENT_LAKE_SPARK_DRIVER_MEMORY", "3g"),
        )
        root = tmp_path_factory.mktemp("engines")
        data = root / "data"
        generate(data, scale=SPARK_SCALE, seed=SPARK_SEED, progress=False)
        duck = RunConfig(
            data,
            root / "warehouse.duckdb",
            scale=SPARK_SCALE,
            seed=SPARK_SEED,
            target_dir=root / "target-duckdb",
        )
        spark = RunConfig(
            data,
            root / "spark",
            scale=SPARK_SCALE,
            seed=SPARK_SEED,
            target_dir=root / "target-spark",
            engine="spark",
        )
        duck_run = build(duck, progress=False)
        spark_run = build(spark, progress=False)
        yield Engines(duck, spark, duck_run, spark_run)


@dataclass
class DailyEngines:
    """Both warehouses after one daily load, each built incrementally from its first build."""

    engines: Engines
    day: date
    replayed_partition: str
    duckdb_run: DbtRun
    spark_run: DbtRun


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The daily load changes the shared bronze and both warehouses, so the tests that ask for
    it run after every test of the first build (a stable sort keeps each group's order)."""
    items.sort(key=lambda item: "daily_engines" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def daily_engines(engines: Engines) -> DailyEngines:
    """One daily load on top of the first build, built incrementally on both engines.

    Besides the generated day, the day re-sends every shop order of the backfill (a replay, as
    a source re-sending a whole extract would): each key's newest version moves to the new
    load date, so on Spark the backfill partition of the staged orders ends up holding no row
    and must be dropped, the case a plain dynamic partition overwrite gets wrong."""
    from engagement_lake.generate import generate_day

    data = engines.duckdb.data_dir
    state = json.loads((data / "_truth" / "state.json").read_text())
    day = date.fromisoformat(state["last_load_date"]) + timedelta(days=1)
    generate_day(data, day, seed=SPARK_SEED, progress=False)
    replayed = _replay_backfill(data, "shop", "orders", day)
    return DailyEngines(
        engines,
        day,
        replayed,
        build(engines.duckdb, progress=False),
        build(engines.spark, progress=False),
    )


def _replay_backfill(data: Path, system: str, table: str, day: date) -> str:
    """Land every row of the table's first partition again, in ``day``'s partition and batch;
    returns the replayed partition's folder name."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from engagement_lake.generate.writer import write_table

    folder = data / "bronze" / system / table
    first = sorted(p for p in folder.iterdir() if p.name.startswith("load_date="))[0]
    rows = pa.concat_tables(pq.read_table(f) for f in sorted(first.glob("*.parquet")))
    target = folder / f"load_date={day.isoformat()}" / "part-0099.parquet"
    loaded = datetime.combine(day, datetime.min.time()) + timedelta(hours=6)
    stamped = {
        "_loaded_at": pa.array([loaded] * rows.num_rows, type=pa.timestamp("us")),
        "_source_file": pa.array([str(target.relative_to(data))] * rows.num_rows),
        "_batch_id": pa.array([f"daily-{day.isoformat()}"] * rows.num_rows),
    }
    for name, values in stamped.items():
        rows = rows.set_column(rows.schema.get_field_index(name), name, values)
    write_table(target, rows)
    return first.name
