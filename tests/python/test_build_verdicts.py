"""The check takes the build's passed key tests only for the warehouse state that build left."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from engagement_lake import build_verdicts
from engagement_lake.config import RunConfig
from engagement_lake.quality import run_checks
from engagement_lake.quality import suites as S

RUN = "4f1e2d3c-0000-4000-8000-000000000001"


def _run_results(invocation: str = RUN) -> dict:
    return {
        "metadata": {"invocation_id": invocation},
        "results": [
            {"unique_id": "test.p.column_rules_a", "status": "pass"},
            {"unique_id": "test.p.column_rules_b", "status": "fail"},
            {"unique_id": "test.p.column_rules_c", "status": "warn"},
            {"unique_id": "model.p.fct_a", "status": "success"},
        ],
    }


def _manifest(invocation: str = RUN) -> dict:
    return {"metadata": {"invocation_id": invocation}}


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).execute("create table t as select 1 as x").close()
    return path


def test_only_passed_tests_are_recorded_and_read_back(warehouse: Path) -> None:
    assert build_verdicts.record(warehouse, _run_results()) == ["test.p.column_rules_a"]
    assert build_verdicts.proved_tests(warehouse, _manifest()) == {"test.p.column_rules_a"}


def test_another_manifest_takes_nothing(warehouse: Path) -> None:
    build_verdicts.record(warehouse, _run_results())
    assert build_verdicts.proved_tests(warehouse, _manifest("another-run")) == frozenset()
    assert build_verdicts.proved_tests(warehouse, {}) == frozenset()


def test_a_write_after_the_build_takes_nothing(warehouse: Path) -> None:
    build_verdicts.record(warehouse, _run_results())
    duckdb.connect(str(warehouse)).execute("insert into t values (2)").close()
    assert build_verdicts.proved_tests(warehouse, _manifest()) == frozenset()


def test_a_touched_file_or_a_pending_log_takes_nothing(warehouse: Path) -> None:
    build_verdicts.record(warehouse, _run_results())
    stat = warehouse.stat()
    os.utime(warehouse, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert build_verdicts.proved_tests(warehouse, _manifest()) == frozenset()
    os.utime(warehouse, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert build_verdicts.proved_tests(warehouse, _manifest()) == {"test.p.column_rules_a"}
    wal = warehouse.with_name(warehouse.name + ".wal")
    wal.write_bytes(b"pending")
    assert build_verdicts.proved_tests(warehouse, _manifest()) == frozenset()
    # nor is anything recorded while a log is pending
    assert build_verdicts.record(warehouse, _run_results()) == []
    assert not build_verdicts.stamp_path(warehouse).exists()


def test_forgotten_or_unreadable_verdicts_take_nothing(warehouse: Path) -> None:
    build_verdicts.record(warehouse, _run_results())
    build_verdicts.forget(warehouse)
    assert build_verdicts.proved_tests(warehouse, _manifest()) == frozenset()
    build_verdicts.stamp_path(warehouse).write_text("{not json", encoding="utf-8")
    assert build_verdicts.proved_tests(warehouse, _manifest()) == frozenset()


def test_the_check_takes_the_builds_key_tests_only_while_the_warehouse_is_unchanged(
    lake, tmp_path: Path
) -> None:
    warehouse = tmp_path / "copy.duckdb"
    shutil.copy(lake.cfg.warehouse, warehouse)
    run_results = json.loads((lake.cfg.target_dir / "run_results.json").read_text())
    passed = build_verdicts.record(warehouse, run_results)
    assert passed, "the test lake's build passed its tests"
    cfg = RunConfig(lake.cfg.data_dir, warehouse, target_dir=lake.cfg.target_dir)

    taken = run_checks(cfg, "gold", report_dir=tmp_path / "taken")
    keys = [r for r in taken.results if r.check in (S.UNIQUE, S.COMPOUND_UNIQUE, S.FOREIGN_KEY)]
    assert keys and all(r.from_build and r.success for r in keys)
    assert not any(r.from_build for r in taken.results if r not in keys)
    assert f"{len(keys)} key checks passed by the build's dbt tests" in taken.summary()

    counted = run_checks(cfg, "gold", report_dir=tmp_path / "counted", all_rows=True)
    assert not any(r.from_build for r in counted.results)
    assert [(r.table, r.column, r.check, r.success) for r in counted.results] == [
        (r.table, r.column, r.check, r.success) for r in taken.results
    ]

    # a duplicate key written after the build: the verdict no longer holds, the check counts it
    con = duckdb.connect(str(warehouse))
    con.execute(
        "insert into gold.dim_channel select * from gold.dim_channel where channel_code = 'web'"
    )
    con.close()
    broken = run_checks(cfg, "gold", report_dir=tmp_path / "broken")
    assert not any(r.from_build for r in broken.results)
    failing = {(r.table, r.column, r.check) for r in broken.failures("error")}
    assert ("gold.dim_channel", "channel_key", S.UNIQUE) in failing
