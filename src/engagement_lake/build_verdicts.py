"""The verdicts of the build's own dbt tests, so the check does not count the same keys twice.

The silver and gold suites are read from the dbt tests (``manifest_suites``): a model's unique
keys and foreign keys are the very rules its ``column_rules`` test counted moments before in
``engagement-lake build``, over whole tables, in the same engine. Counting them again is the
check's largest cost that does not shrink with a daily load (every key of every table is grouped
or joined again). So when the build finishes, the tests that passed are written beside the
warehouse with what identifies that state: dbt's invocation id (which the ``manifest.json`` of
the same run carries) and the warehouse file's size and modification time, with no
write-ahead log pending. The check takes a test's verdict for its key checks only when all of
these still hold, that is, when nothing has written to the warehouse since and its manifest is
that build's; otherwise, or with ``--all-rows``, it counts them itself.

Only key checks (``unique``, compound unique, ``relationships``) are taken: the row rules
(``not_null``, ``accepted_values``) run through GX on the rows the ledger has not seen pass
(``checked_rows``), which costs little and keeps that ledger current.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Beside the warehouse: ``warehouse.duckdb.tests.json``.
STAMP_SUFFIX = ".tests.json"
STAMP_VERSION = 1


def stamp_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + STAMP_SUFFIX)


def _wal(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".wal")


def _state(warehouse: Path) -> dict[str, int] | None:
    """What identifies the warehouse's contents: None while a write-ahead log is pending (its
    changes are not in the file yet) or when there is no file."""
    if _wal(warehouse).exists() or not warehouse.is_file():
        return None
    stat = warehouse.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def forget(warehouse: Path) -> None:
    """Drop the verdicts before a build writes to the warehouse: a failed or killed build leaves
    none behind."""
    stamp_path(warehouse).unlink(missing_ok=True)


def record(warehouse: Path, run_results: Mapping[str, Any]) -> list[str]:
    """Write the tests of ``run_results`` (dbt's ``run_results.json``) that passed, once the build
    has closed the warehouse; returns them. Written atomically."""
    state = _state(warehouse)
    passed = sorted(
        r["unique_id"]
        for r in run_results.get("results", [])
        if r.get("unique_id", "").startswith("test.") and r.get("status") == "pass"
    )
    if state is None:
        forget(warehouse)
        return []
    doc = {
        "version": STAMP_VERSION,
        "invocation_id": run_results["metadata"]["invocation_id"],
        "warehouse": state,
        "passed": passed,
    }
    path = stamp_path(warehouse)
    partial = path.with_name("." + path.name + ".partial")
    partial.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    os.replace(partial, path)
    return passed


def proved_tests(warehouse: Path, manifest: Mapping[str, Any]) -> frozenset[str]:
    """The tests the build that wrote ``warehouse`` passed, if the warehouse is as that build left
    it and ``manifest`` is that build's; else none."""
    try:
        doc = json.loads(stamp_path(warehouse).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    if not isinstance(doc, dict) or doc.get("version") != STAMP_VERSION:
        return frozenset()
    if doc.get("invocation_id") != manifest.get("metadata", {}).get("invocation_id"):
        return frozenset()
    if doc.get("warehouse") != _state(warehouse):
        return frozenset()
    return frozenset(doc.get("passed") or ())
