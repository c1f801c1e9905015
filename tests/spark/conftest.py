"""The Spark suite (`make test-spark`): one tiny lake built on DuckDB and on Spark, compared.

Kept apart from the default suite (tests/python): it needs the [spark] extra and a JVM, and a
Spark build costs minutes where the DuckDB one costs seconds. Both builds happen once per
session; every test reads them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
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
