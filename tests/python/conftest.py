"""Session fixtures: the small test lake is generated and built once, and every test reads it.

Each dbt invocation costs seconds before any SQL runs, so tests never build their own lake unless
they need a different one (faults, increments, a single table)."""

from __future__ import annotations

import inspect
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from engagement_lake.config import RunConfig
from engagement_lake.dbt_runner import DbtRun, build
from engagement_lake.export import ExportResult
from engagement_lake.publish import PublishResult, publish

TEST_SCALE = 0.02
TEST_SEED = 7
FAULTY_SCALE = 0.01
FAULTY_SEED = 11

_RUNS_DBT = re.compile(r"\bbuild\(|\brun_dbt\(")


def _runs_dbt(func: object) -> bool:
    try:
        return bool(_RUNS_DBT.search(inspect.getsource(func)))  # type: ignore[arg-type]
    except (OSError, TypeError):
        return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``slow`` by rule, never by hand: a test is slow when it, or any fixture it uses, runs dbt
    (calls ``build(`` or ``run_dbt(``). ``pytest -m "not slow"`` then runs every pure test."""
    verdict: dict[object, bool] = {}
    for item in items:
        funcs = [getattr(item, "function", None)]
        info = getattr(item, "_fixtureinfo", None)
        if info is not None:
            funcs += [d.func for defs in info.name2fixturedefs.values() for d in defs]
        if any(verdict.setdefault(f, _runs_dbt(f)) for f in funcs if f is not None):
            item.add_marker(pytest.mark.slow)


@dataclass
class Lake:
    cfg: RunConfig
    run: DbtRun
    published: PublishResult

    @property
    def export(self) -> ExportResult:
        return self.published.export

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
    """Generated at TEST_SCALE, built with dbt, gold published (export and serving file): the
    lake most tests read."""
    root = tmp_path_factory.mktemp("lake")
    reuse = os.environ.get(REUSE_ENV)
    if reuse:
        return _reused_lake(Path(reuse), root)
    cfg = _lake_config(root)
    _generate_test_lake(cfg)
    run = build(cfg, progress=False)
    return Lake(cfg, run, publish(cfg))


REUSE_ENV = "ENGAGEMENT_LAKE_TEST_LAKE"
"""For a developer iterating on a few tests: a folder holding a test lake built earlier (built
there on first use). Each session copies it and rebuilds only ``ENGAGEMENT_LAKE_TEST_SELECT`` (dbt
selectors, e.g. ``state:modified+`` is not available, so name the models). CI never sets it: the
suite's own lake is always built from scratch."""


def _lake_config(root: Path) -> RunConfig:
    return RunConfig(
        root / "data",
        root / "warehouse.duckdb",
        scale=TEST_SCALE,
        seed=TEST_SEED,
        target_dir=root / "target",
    )


def _generate_test_lake(cfg: RunConfig) -> None:
    from engagement_lake.generate import generate

    generate(cfg.data_dir, scale=TEST_SCALE, seed=TEST_SEED, progress=False)


def _reused_lake(cache: Path, root: Path) -> Lake:
    cached = _lake_config(cache)
    if not cached.warehouse.exists():
        _generate_test_lake(cached)
        build(cached, progress=False)
    for name in ("data", "target"):
        shutil.copytree(cache / name, root / name, symlinks=True, dirs_exist_ok=True)
    shutil.copy2(cached.warehouse, root / "warehouse.duckdb")
    cfg = _lake_config(root)
    select = os.environ.get("ENGAGEMENT_LAKE_TEST_SELECT", "").split()
    if select:
        run = build(cfg, select, progress=False)
    else:
        run = DbtRun(["build"], success=True, seconds=0.0)
    return Lake(cfg, run, publish(cfg))


@pytest.fixture(scope="session")
def faulty_bronze(tmp_path_factory: pytest.TempPathFactory, private_config: None) -> Path:
    """Bronze generated with every fault kind (``--faults``) and its manifest, not built. Shared
    read-only by the fault, quality and generator tests: a test that writes to it copies it."""
    from engagement_lake.generate import generate

    data = tmp_path_factory.mktemp("faulty") / "data"
    generate(data, scale=FAULTY_SCALE, seed=FAULTY_SEED, faults=True, progress=False)
    return data


@pytest.fixture
def con(lake: Lake):
    connection = lake.connect()
    yield connection
    connection.close()
