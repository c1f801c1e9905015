"""Session fixtures: the small test lake is generated and built once, and every test reads it.

Each dbt invocation costs seconds before any SQL runs, so tests never build their own lake unless
they need a different one (faults, increments, a single table)."""

from __future__ import annotations

import inspect
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from bronze_factory import write_table
from engagement_lake.config import RunConfig
from engagement_lake.contracts import load_contracts
from engagement_lake.dbt_runner import DbtRun, build, run_dbt
from engagement_lake.export import ExportResult
from engagement_lake.increments import record_path
from engagement_lake.publish import PublishResult, publish
from engagement_lake.quality.gx_engine import let_pyspark_import

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


# tests import great_expectations themselves too; in a pytest-xdist worker (no __main__ file)
# pyspark, when installed, would end the worker on that import (see let_pyspark_import)
let_pyspark_import()


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
    if os.environ.get("PYTEST_XDIST_WORKER"):
        _order_for_workers(items)


# ----------------------------------------------------------------------------- parallel workers

FIRST_MODULES = (
    "test_incremental",  # builds daily_lake, the costliest fixture
    "test_forget",
    "test_faults",
    "test_staging",
    "test_experiment_recovery",
    "test_history",
    "test_publish",
    "test_quality",
    "test_privacy",
    "test_analyst",
    "test_hostile",
)
"""Under ``make test`` (pytest-xdist, ``--dist loadfile --no-loadscope-reorder``) each module goes
whole to the next free worker, in this order: the modules whose fixtures build the most, or
whose tests take longest, first, so that no worker starts a long module when the other has
nothing left (the short ones come last and even out the two). Right after the first, the
modules that need no test lake: the second worker runs those while the first builds it."""

DAILY_READERS = ("test_mdm_ids_daily", "test_history_data_time")
"""The other readers of ``daily_lake``, after the long modules: by then it is built (the first
module builds it while the other worker runs everything before them), and they do not wait."""


def _order_for_workers(items: list[pytest.Item]) -> None:
    """Sort the items module by module in the order above (the rest in collection order)."""
    modules = list(dict.fromkeys(item.path.stem for item in items))
    needs_lake = {item.path.stem for item in items if "lake" in getattr(item, "fixturenames", ())}
    first, daily = list(FIRST_MODULES[:1]), list(DAILY_READERS)
    order = [
        *first,
        *(m for m in modules if m not in needs_lake and m not in first + daily),
        *(m for m in FIRST_MODULES[1:] if m in needs_lake),
        *daily,
        *(m for m in modules if m in needs_lake and m not in FIRST_MODULES and m not in daily),
    ]
    rank = {module: i for i, module in enumerate(order)}
    position = {item: i for i, item in enumerate(items)}
    items.sort(key=lambda item: (rank.get(item.path.stem, len(rank)), position[item]))


def once_for_all_workers(tmp_path_factory: pytest.TempPathFactory, name: str, make):
    """``make(folder)``, once per session: under ``make test``'s parallel workers the first
    worker to ask builds it in the session's shared folder (the others wait on a lock) and
    pickles the result there; the others read that result, and the same files, read-only."""
    import fcntl

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return make(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent / name
    shared.mkdir(exist_ok=True)
    result = shared / "result.pickle"
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result.exists():
            made = make(shared / "made")
            result.write_bytes(pickle.dumps(made))
            return made
    return pickle.loads(result.read_bytes())


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory: pytest.TempPathFactory):
    """``module_dir(name)``: a new folder for a module-scoped fixture, removed with everything in
    it once the module's tests are done. A built lake is a few hundred MB; kept to the end of the
    session, the suite's copies add up to gigabytes, and a CI machine may have less disk free."""
    made: list[Path] = []

    def make(name: str) -> Path:
        made.append(tmp_path_factory.mktemp(name))
        return made[-1]

    yield make
    for path in made:
        shutil.rmtree(path, ignore_errors=True)


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
        # dbt writes every event of every node to target/logs/dbt.log at debug level by default;
        # formatting and scrubbing those lines is about a tenth of a build's time. The suite's
        # builds keep warnings and errors there (a failure's nodes are in the DbtError anyway).
        patch.setenv("DBT_LOG_LEVEL_FILE", os.environ.get("DBT_LOG_LEVEL_FILE", "warn"))
        # dbt's unit tests check the project's SQL on fixed inputs, whatever the data: the build
        # of the test lake runs them (``with_unit_tests``); the suite's other builds of other
        # data have nothing new for them, and they cost several seconds a build.
        patch.setenv(UNIT_TESTS_ENV, "unit_test")
        yield


UNIT_TESTS_ENV = "DBT_EXCLUDE_RESOURCE_TYPES"


@contextmanager
def with_unit_tests() -> Iterator[None]:
    """dbt builds inside run the unit tests, as a build outside the suite does: the test lake's
    (so each session runs them once per worker) and the daily lake's (whose tests check that a
    daily build leaves them out by itself)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(UNIT_TESTS_ENV, raising=False)
        yield


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory, private_config: None) -> Lake:
    """Generated at TEST_SCALE, built with dbt, gold published (export and serving file): the
    lake most tests read."""
    root = tmp_path_factory.mktemp("lake")
    reuse = os.environ.get(REUSE_ENV)
    if reuse:
        with with_unit_tests():
            return _reused_lake(Path(reuse), root)
    # Under make test's workers each builds its own, one per core at the same time: no worker
    # reads a lake the other may be writing beside (a publication, a checkpoint).
    cfg = _lake_config(root)
    _generate_test_lake(cfg)
    with with_unit_tests():
        run = build(cfg, progress=False)
    return Lake(cfg, run, publish(cfg))


REUSE_ENV = "ENGAGEMENT_LAKE_TEST_LAKE"
"""For a developer iterating on a few tests: a folder holding a test lake built earlier (built
there on first use). Each session copies it and rebuilds only ``ENGAGEMENT_LAKE_TEST_SELECT`` (dbt
selectors, e.g. ``state:modified+`` is not available, so name the models). CI never sets it: the
suite's own lake is always built from scratch."""

RUN_FILE = "build_run.pickle"
"""Beside a cached lake: the ``DbtRun`` of the build that made it, so a copy keeps its nodes."""


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
    import fcntl

    cached = _lake_config(cache)
    built = record_path(cached.warehouse)  # written once a whole build has passed
    if not built.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with open(cache / ".building", "w") as lock:  # parallel workers: one builds, one waits
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not built.exists():
                _generate_test_lake(cached)
                run = build(cached, progress=False)
                (cache / RUN_FILE).write_bytes(pickle.dumps(run))
    for name in ("data", "target"):
        shutil.copytree(cache / name, root / name, symlinks=True, dirs_exist_ok=True)
    shutil.copy2(cached.warehouse, root / "warehouse.duckdb")
    if record_path(cached.warehouse).exists():
        shutil.copy2(record_path(cached.warehouse), record_path(root / "warehouse.duckdb"))
    cfg = _lake_config(root)
    select = os.environ.get("ENGAGEMENT_LAKE_TEST_SELECT", "").split()
    if select:
        run = build(cfg, select, progress=False)
    elif (cache / RUN_FILE).exists():  # the build this session (or worker) made: its nodes
        run = pickle.loads((cache / RUN_FILE).read_bytes())
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


# ----------------------------------------------------------------------------- daily loads

DAILY_LOADS = 3

KILL_SCRIPT = """
import os, re, signal, sys
from pathlib import Path
from dbt.adapters.sql.connections import SQLConnectionManager
from engagement_lake.config import RunConfig
from engagement_lake.dbt_runner import build
from engagement_lake.publish import publish

marker, data, warehouse, target, *select = sys.argv[1:]
add_query, seen = SQLConnectionManager.add_query, [False]

def watching(self, sql, *args, **kwargs):
    # SIGKILL at the first statement after the one naming the marker has run: a transaction
    # opened by that model is then still uncommitted
    if seen[0]:
        os.kill(os.getpid(), signal.SIGKILL)
    result = add_query(self, sql, *args, **kwargs)
    seen[0] = re.search(marker, sql) is not None
    return result

SQLConnectionManager.add_query = watching
cfg = RunConfig(Path(data), Path(warehouse), target_dir=Path(target))
build(cfg, select, progress=False)
publish(cfg)  # as engagement-lake build: gold is published only after a build that passed
"""

KILL_POINTS = {
    # a staging model's new rows written to its temporary table, the merge not begun
    "mid-staging": r'"stg_shop__web_sessions__dbt_tmp',
    # delete+insert of an incremental staging model run, its transaction not committed
    "mid-merge": r'delete from "\w+"\."staging"\."stg_shop__orders"',
    # a gold table's new version written beside the old one, not yet renamed over it
    "mid-gold": r'"gold"\."mart_customer_360__dbt_tmp"',
}
"""Where a build is killed (SIGKILL) before the last daily load's build repairs the warehouse:
the kill comes at the first SQL statement after the one the marker (a regular expression)
matches."""

KILL_SELECTIONS = {
    "mid-staging": ["stg_shop__web_sessions"],
    "mid-merge": ["stg_shop__orders"],
    # every parent too: their merges of the day commit before the kill, so the repairing build
    # reads a day that many incremental models already hold (which must change nothing)
    "mid-gold": ["+mart_customer_360"],
}
"""What each killed build selects (``engagement-lake build --select``): the model the kill point
is in, rather than the whole project, whose thousands of nodes before the point would add
nothing to the state the kill leaves behind. A selected build plans the increment as a whole
build does (the new load date) and leaves the record of partitions alone."""


BRIDGE_ID = "C9999998"
LATE_CUSTOMER_ID = "C9999996"
"""A shop customer who lands a day after their order (and its line): the order and the line are
orphans for a day, then valid, in the daily warehouse as in the one built from scratch."""
LATE_ORDER_ID = "O999999996"
LATE_ITEM_ID = "OI9999999996"
"""A shop account the first daily load brings, with one customer's e-mail and another's phone:
the matcher merges the two customers, so the day re-keys facts of the absorbed one."""


def _bridge_row(cfg: RunConfig, day: date) -> tuple[dict[str, object], str, str]:
    """A new shop account joining two lone shop customers with the same first name and with
    orders and web sessions (as test_mdm_ids_daily picks its pair), and the two accounts."""
    from datetime import datetime

    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        row = con.execute(
            """
            with sizes as (
                select customer_id, count(*) as n from silver.customer_xref group by all
            ),
            lone as (
                select x.source_id, s.first_name
                from silver.customer_xref as x
                inner join sizes using (customer_id)
                inner join staging.stg_shop__customers as s on s.customer_id = x.source_id
                where x.source_system = 'shop' and sizes.n = 1
                    and s.email is not null and s.phone is not null and s.first_name is not null
                    and (select count(*) from silver.int_customer_identities_unioned as u
                         where u.email = s.email or u.phone = s.phone) = 1
                    and exists (select 1 from staging.stg_shop__orders as o
                                where o.customer_id = x.source_id)
                    and exists (select 1 from staging.stg_shop__web_sessions as w
                                where w.customer_id = x.source_id)
            )
            select a.source_id, b.source_id
            from lone as a
            inner join lone as b
                on lower(a.first_name) = lower(b.first_name) and a.source_id < b.source_id
            order by a.source_id, b.source_id
            limit 1
            """
        ).fetchone()
    assert row is not None, "the test lake has no two lone shop accounts to bridge"
    bronze = str(cfg.data_dir / "bronze" / "shop" / "customers" / "*" / "*.parquet")
    with duckdb.connect() as con:
        raw = con.execute(
            f"select * exclude (_loaded_at, _source_file, _batch_id) from read_parquet('{bronze}')"
            " where customer_id in (?, ?) order by _loaded_at",
            list(row),
        ).pl()
    latest = {r["customer_id"]: r for r in raw.iter_rows(named=True)}
    bridge = {
        **latest[row[0]],
        "customer_id": BRIDGE_ID,
        "phone": latest[row[1]]["phone"],
        "updated_at": datetime.combine(day, datetime.min.time()) + timedelta(hours=5),
    }
    return bridge, row[0], row[1]


def _late_rows(cfg: RunConfig, day: date, table: str) -> dict[str, object]:
    """A row of the day's ``shop.<table>`` partition to copy: the late customer's rows are made
    from real ones, so that only their keys are new."""
    files = str(cfg.data_dir / "bronze" / "shop" / table / f"load_date={day}" / "*.parquet")
    with duckdb.connect() as con:
        frame = con.execute(
            f"select * exclude (_loaded_at, _source_file, _batch_id) from read_parquet('{files}')"
            " order by all limit 1"
        ).pl()
    return frame.row(0, named=True)


def _land(cfg: RunConfig, day: date, table: str, row: dict[str, object]) -> None:
    contract = load_contracts()[f"shop.{table}"]
    batch = f"daily-{day.isoformat()}"
    write_table(cfg.data_dir, contract, [row], load_date=day, batch_id=batch, part=98)


def _land_late_order(cfg: RunConfig, day: date) -> None:
    """An order of LATE_CUSTOMER_ID, and its one line, before the customer exists."""
    order = {**_late_rows(cfg, day, "orders"), "order_id": LATE_ORDER_ID}
    order["customer_id"] = LATE_CUSTOMER_ID
    item = {**_late_rows(cfg, day, "order_items"), "order_item_id": LATE_ITEM_ID}
    item["order_id"] = LATE_ORDER_ID
    _land(cfg, day, "orders", order)
    _land(cfg, day, "order_items", item)


def _land_late_customer(cfg: RunConfig, day: date) -> None:
    """LATE_CUSTOMER_ID, a person no other record describes."""
    customer = {
        **_late_rows(cfg, day, "customers"),
        "customer_id": LATE_CUSTOMER_ID,
        "first_name": "Latisha",
        "last_name": "Arrivabene",
        "email": "latisha.arrivabene@example.org",
        "phone": "(555) 010-9966",
    }
    _land(cfg, day, "customers", customer)


@dataclass
class DailyLake:
    """The test lake's bronze grown by DAILY_LOADS daily loads. ``daily`` was built after each
    load (incrementally: the first build's record of partitions is carried over), and before the
    last load's build, builds killed at each of KILL_POINTS ran on it; ``scratch`` was built once,
    from nothing, from the final bronze."""

    daily: RunConfig
    scratch: RunConfig
    loads: list[date]  # the backfill's load date, then the daily ones
    runs: list[DbtRun]  # the daily warehouse's builds after each daily load
    bridged: tuple[str, str] = ("", "")  # the two shop accounts the first daily load merges
    kills: dict[str, int] = field(default_factory=dict)  # kill point -> the child's return code
    published_before_kills: dict[str, int] = field(default_factory=dict)
    published_after_kills: dict[str, int] = field(default_factory=dict)
    first_load: RunConfig | None = None
    """A copy of the data folder and warehouse (with its record of partitions) as the first daily
    load's build left them: test_mdm_ids_daily grows its own lake on from there."""

    def connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        con.execute(f"attach '{self.daily.warehouse}' as daily (read_only)")
        con.execute(f"attach '{self.scratch.warehouse}' as scratch (read_only)")
        return con


def copy_lake(cfg: RunConfig, root: Path, name: str) -> RunConfig:
    """A copy of ``cfg``'s data folder (bronze and truth) and warehouse, with its write-ahead log
    and record of partitions, in ``root``; dbt artefacts go to ``root / name``."""
    for folder in ("bronze", "_truth"):
        if (cfg.data_dir / folder).exists():
            shutil.copytree(cfg.data_dir / folder, root / "data" / folder)
    warehouse = root / f"{name}.duckdb"
    for source, copy in (
        (cfg.warehouse, warehouse),
        (cfg.warehouse.with_name(cfg.warehouse.name + ".wal"), root / f"{name}.duckdb.wal"),
        (record_path(cfg.warehouse), record_path(warehouse)),
    ):
        if source.exists():
            shutil.copy2(source, copy)
    return RunConfig(
        root / "data", warehouse, scale=cfg.scale, seed=cfg.seed, target_dir=root / name
    )


def _published_files(cfg: RunConfig) -> dict[str, int]:
    """Every published file (export and serving file) by name, with its modification time."""
    files = [*(cfg.data_dir / "gold").glob("*.parquet"), cfg.warehouse.parent / "gold.duckdb"]
    return {p.name: p.stat().st_mtime_ns for p in files if p.exists()}


def _killed_build(cfg: RunConfig, marker: str, select: list[str]) -> int:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(KILL_SCRIPT),
            marker,
            str(cfg.data_dir),
            str(cfg.warehouse),
            str(cfg.target_dir),
            *select,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    return killed.returncode


@pytest.fixture(scope="session")
def daily_lake(lake: Lake, tmp_path_factory: pytest.TempPathFactory) -> DailyLake:
    """Three daily loads on a copy of the test lake, each built incrementally (the last after
    three killed builds), and the same bronze built from scratch: the lake of the history and
    incremental-build tests. Reusing the test lake's bronze and first build saves a full build.
    Built once per session, whatever the number of workers; its readers only read it."""
    with with_unit_tests():
        return once_for_all_workers(
            tmp_path_factory, "daily_lake", lambda root: _daily_lake(lake, root)
        )


def _daily_lake(lake: Lake, root: Path) -> DailyLake:
    from engagement_lake.generate import generate_day
    from engagement_lake.publish import publish

    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(lake.cfg.data_dir / "bronze", root / "data" / "bronze")
    shutil.copytree(lake.cfg.data_dir / "_truth", root / "data" / "_truth")
    shutil.copy2(lake.cfg.warehouse, root / "daily.duckdb")
    if record_path(lake.cfg.warehouse).exists():
        shutil.copy2(record_path(lake.cfg.warehouse), record_path(root / "daily.duckdb"))

    def config(name: str) -> RunConfig:
        return RunConfig(
            root / "data",
            root / f"{name}.duckdb",
            scale=TEST_SCALE,
            seed=TEST_SEED,
            target_dir=root / name,
        )

    daily = config("daily")
    state = json.loads((daily.data_dir / "_truth" / "state.json").read_text())
    first = date.fromisoformat(state["last_load_date"])
    loads = [first + timedelta(days=n) for n in range(DAILY_LOADS + 1)]
    out = DailyLake(daily, config("scratch"), loads, [])
    for day in loads[1:]:
        generate_day(daily.data_dir, day, seed=TEST_SEED, progress=False)
        if day == loads[1]:
            bridge, *accounts = _bridge_row(daily, day)
            out.bridged = (accounts[0], accounts[1])
            contract = load_contracts()["shop.customers"]
            batch = f"daily-{day.isoformat()}"
            write_table(daily.data_dir, contract, [bridge], load_date=day, batch_id=batch, part=99)
            _land_late_order(daily, day)
        if day == loads[2]:
            _land_late_customer(daily, day)
        if day == loads[-1]:
            publish(daily)
            out.published_before_kills = _published_files(daily)
            for point, marker in KILL_POINTS.items():
                out.kills[point] = _killed_build(daily, marker, KILL_SELECTIONS[point])
            out.published_after_kills = _published_files(daily)
        out.runs.append(build(daily, progress=False))
        if day == loads[1]:
            out.first_load = copy_lake(daily, root / "first_load", "daily")
    # models only: the data tests ran on every daily build of the same bronze
    no_tests = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    run = run_dbt(["build", *no_tests], out.scratch, progress=False)
    assert run.success, [f.name for f in run.failures] or run.error
    return out
