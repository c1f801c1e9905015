"""Session fixtures: the small test lake is generated and built once, and every test reads it.

Each dbt invocation costs seconds before any SQL runs, so tests never build their own lake unless
they need a different one (faults, increments, a single table)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from engagement_lake.config import RunConfig
from engagement_lake.dbt_runner import DbtRun, build
from engagement_lake.export import ExportResult, export_gold

TEST_SCALE = 0.02
TEST_SEED = 7


@dataclass
class Lake:
    cfg: RunConfig
    run: DbtRun
    export: ExportResult

    @property
    def truth(self) -> Path:
        return self.cfg.data_dir / "_truth"

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.cfg.warehouse), read_only=True)


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """Generated at TEST_SCALE, built with dbt, gold exported: the lake most tests read."""
    from engagement_lake.generate import generate

    root = tmp_path_factory.mktemp("lake")
    data = root / "data"
    generate(data, scale=TEST_SCALE, seed=TEST_SEED, progress=False)
    cfg = RunConfig(
        data,
        root / "warehouse.duckdb",
        scale=TEST_SCALE,
        seed=TEST_SEED,
        target_dir=root / "target",
    )
    run = build(cfg, progress=False)
    return Lake(cfg, run, export_gold(cfg))


@pytest.fixture
def con(lake: Lake):
    connection = lake.connect()
    yield connection
    connection.close()
