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


TEST_PSEUDONYM_KEY = "test-pseudonym-key-not-a-secret-0123456789abcdef"


@pytest.fixture(scope="session", autouse=True)
def private_config(tmp_path_factory: pytest.TempPathFactory):
    """No test (nor CI) may read or create the real pseudonym key in the home folder: the key
    comes from the environment, and the config folder is a temporary one."""
    from engagement_lake.privacy import KEY_ENV

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, TEST_PSEUDONYM_KEY)
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
        yield


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory, private_config: None) -> Lake:
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
