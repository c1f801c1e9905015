"""Which bronze partitions a build must read: the daily incremental build's bookkeeping.

Bronze grows by one ``load_date=`` partition per table and day. A build records, beside the
warehouse (``<warehouse>.partitions.json``), every partition it read, file by file (size and
modification time); the next build compares bronze with that record:

- only new partitions (a daily load, or several): an incremental run over their load dates
  (the environment variable ``ENGAGEMENT_LAKE_LOAD_DATES``, macros/incremental);
- a partition whose files were rewritten or added to (a replayed day): its load date is read
  again, which is idempotent, since incremental models replace every key the date brings;
- a file or partition gone, or no record at all (a first build, a warehouse copied without its
  record, an interrupted first build): ``--full-refresh``, the only answer that cannot be wrong.

The record also holds a fingerprint of the dbt project's SQL (models, macros, seeds, data
tests, ``dbt_project.yml``): an incremental run whose project is the one the last whole build
ran skips the unit tests, which check that SQL on fixed inputs, not the data, and which that
build passed (dbt's advice is to run them in development and CI, not on every production run).
Any change to those files runs them again.

The record is written only after a build of the whole project whose models and tests all
passed, and atomically (a temporary file renamed over the old one). A build killed at any point
leaves the previous record, so the next build reads every partition since the last good build
again: incremental models replace those keys, tables are rebuilt, and the warehouse ends as a
clean build would leave it. A selected build (``--select``) reads what changed since the last
whole build and leaves the record alone, since the models it skipped have not read it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from engagement_lake.contracts import Contract
from engagement_lake.preflight import PARTITION
from engagement_lake.sql_text import identifier, literal

RECORD_SUFFIX = ".partitions.json"
RECORD_VERSION = 1
ERASURE_REGISTER = Path("_erasure") / "requests.parquet"
"""The erasure register (``engagement-lake forget``): rows it erases may already sit in
incremental tables, which an incremental run never revisits, so a changed register rebuilds."""
ERASURE_KEY = "_erasure.requests"
LOAD_DATES_ENV = "ENGAGEMENT_LAKE_LOAD_DATES"
"""The load dates an incremental run reads, comma-separated. An environment variable, not a
dbt var: dbt parses the whole project again whenever its vars change, which they would every
day (7.4 s at scale 1), while the macro reads this variable only when a model runs, so dbt's
partial parsing never sees it."""
UNIT_TESTED_CODE = ("dbt_project.yml", "models", "macros", "seeds", "tests/dbt")
"""What the dbt unit tests exercise, relative to the project folder (see ``code_fingerprint``)."""

Files = dict[str, list[int]]
"""File name -> [size in bytes, modification time in ns]."""
Partitions = dict[str, dict[str, Files]]
"""``system.table`` -> load date -> files."""


@dataclass(frozen=True)
class Plan:
    """How a build treats the incremental models: from scratch, or over some load dates."""

    full_refresh: bool
    load_dates: tuple[str, ...] = ()
    reason: str = ""
    rechecked: tuple[str, ...] = ()
    """Earlier load dates read again because an orphan in them may have found its parent in
    the new ones (``with_resolved_orphans``)."""

    def dbt_env(self) -> dict[str, str]:
        """The environment the incremental models read (none on a full refresh, where every
        model is built from scratch)."""
        if self.full_refresh:
            return {}
        return {LOAD_DATES_ENV: ",".join(sorted({*self.load_dates, *self.rechecked}))}


def record_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + RECORD_SUFFIX)


def partitions(files: Mapping[str, Iterable[Path]]) -> Partitions:
    """The partitions of the good bronze files per table, as the preflight found them."""
    out: Partitions = {}
    for fqn, paths in files.items():
        table = out.setdefault(fqn, {})
        for path in paths:
            match = PARTITION.match(path.parent.name)
            if match is None:  # the preflight keeps only partitioned files
                continue
            stat = path.stat()
            table.setdefault(match[1], {})[path.name] = [stat.st_size, stat.st_mtime_ns]
    return out


def with_erasure_register(found: Partitions, data_dir: Path) -> Partitions:
    """``found`` plus the erasure register's file, when there is one, under ERASURE_KEY."""
    path = data_dir / ERASURE_REGISTER
    if not path.is_file():
        return found
    stat = path.stat()
    return {**found, ERASURE_KEY: {"register": {path.name: [stat.st_size, stat.st_mtime_ns]}}}


def code_fingerprint(project_dir: Path) -> str:
    """A hash of every file the dbt unit tests exercise (``UNIT_TESTED_CODE``): names and bytes."""
    digest = hashlib.sha256()
    for entry in UNIT_TESTED_CODE:
        root = project_dir / entry
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _read(warehouse: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(record_path(warehouse).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("version") != RECORD_VERSION:
        return None
    return doc


def read_record(warehouse: Path) -> Partitions | None:
    """The partitions the last whole build read, or None (no record, or one unreadable)."""
    doc = _read(warehouse)
    return None if doc is None else doc.get("partitions")


def recorded_code(warehouse: Path) -> str | None:
    """The ``code_fingerprint`` of the project the last whole build ran, if recorded."""
    doc = _read(warehouse)
    return None if doc is None else doc.get("code")


def write_record(warehouse: Path, found: Partitions, code: str | None = None) -> None:
    """Record what a whole, successful build read, and the fingerprint of the project it ran
    (atomically: a crash leaves the old one)."""
    path = record_path(warehouse)
    partial = path.with_name("." + path.name + ".partial")
    doc: dict[str, Any] = {"version": RECORD_VERSION, "partitions": found}
    if code is not None:
        doc["code"] = code
    partial.write_text(json.dumps(doc, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(partial, path)


def forget(warehouse: Path) -> None:
    """Drop the record before a build changes the warehouse without one (a full refresh), so a
    crash mid-way cannot leave an old record beside tables built from newer partitions."""
    record_path(warehouse).unlink(missing_ok=True)


def plan(warehouse: Path, found: Partitions) -> Plan:
    """Compare bronze now (``found``) with the record of the last whole build."""
    if not warehouse.exists():
        return Plan(True, reason="no warehouse yet")
    before = read_record(warehouse)
    if before is None:
        return Plan(True, reason="no record of the partitions the warehouse was built from")
    if found.get(ERASURE_KEY) != before.get(ERASURE_KEY):
        return Plan(True, reason="the erasure register changed")
    dates: set[str] = set()
    for fqn, table in found.items():
        if fqn == ERASURE_KEY:
            continue
        old_table = before.get(fqn, {})
        for day, files in table.items():
            old = old_table.get(day)
            if old is None:
                dates.add(day)
                continue
            if set(old) - set(files):
                return Plan(True, reason=f"bronze {fqn} load_date={day}: a file was removed")
            if files != old:
                dates.add(day)  # rewritten or added to: a replayed day, read again
        gone = sorted(set(old_table) - set(table))
        if gone:
            return Plan(True, reason=f"bronze {fqn} load_date={gone[0]}: partition removed")
    return Plan(False, tuple(sorted(dates)), reason=f"{len(dates)} new or replayed load date(s)")


# ----------------------------------------------------------------------------- late parents


def with_resolved_orphans(
    plan: Plan,
    warehouse: Path,
    files: Mapping[str, Iterable[Path]],
    contracts: Mapping[str, Contract],
    engine: str = "duckdb",
) -> Plan:
    """Add to an incremental plan the earlier load dates holding an orphan whose parent may
    have landed in the dates the plan reads.

    The base models check bronze row by row and an incremental run checks only the partitions it
    reads. Every rule but one looks at the row alone; a required reference looks at the parent
    table, whose keys only grow (an erasure rebuilds everything). So the one verdict a later load
    can change is an orphan's: an order that arrived before its customer is valid once the
    customer lands. Its partition must then be read again, by every incremental model, as if
    replayed, or the order would stay out of staging and the facts while a build from scratch
    has it.

    An orphan may resolve when its missing key appears among the parent's bronze rows in the
    dates read (valid or not: an over-reach only reads a partition again, which is idempotent).
    A partition added this way can resolve orphans further down a chain (a return of an order
    item of that order), so the search repeats until no date is added. Permanent orphans (a
    customer id that never lands) never match, and a day without late parents adds nothing.
    """
    if plan.full_refresh or not plan.load_dates:
        return plan
    by_date: dict[str, dict[str, list[str]]] = {}
    for fqn, paths in files.items():
        for f in paths:
            by_date.setdefault(fqn, {}).setdefault(_load_date(f), []).append(str(f))
    references = [
        (fqn, col.name, col.reference, contracts[ref_fqn].column(col.reference.column))
        for fqn, c in sorted(contracts.items())
        for col in c.columns
        if col.reference is not None and col.reference.required
        for ref_fqn in [f"{col.reference.system}.{col.reference.table}"]
        if ref_fqn in contracts
    ]
    dates = set(plan.load_dates)
    con = _base_tables(warehouse, engine)
    if con is None:
        return Plan(True, reason="the base tables cannot be read to look for orphans")
    try:
        while True:
            added: set[str] = set()
            for fqn, column, ref, parent_col in references:
                parent_fqn = f"{ref.system}.{ref.table}"
                parent_files = [
                    f for day in sorted(dates) for f in by_date.get(parent_fqn, {}).get(day, [])
                ]
                child = contracts[fqn]
                base = f"base_{child.system}__{child.table}"
                if not parent_files or not _has_table(con, base):
                    continue
                # the parent's key as staging types it (contract_cast), then as text
                raw = f"p.{identifier(ref.column)}"
                typed = (
                    raw
                    if parent_col.physical_type.upper() == "VARCHAR"
                    else f"try_cast({raw} as {parent_col.physical_type})"
                )
                rows = con.execute(
                    f"""
                    select distinct strftime(c._load_date, '%Y-%m-%d')
                    from staging.{base} as c
                    where c._dq_reason = 'orphan_foreign_key' and c._dq_column = ?
                        and cast(c.{identifier(column)} as varchar) in (
                            select cast({typed} as varchar)
                            from read_parquet(?, union_by_name = true) as p)
                    """,
                    [column, parent_files],
                ).fetchall()
                added |= {r[0] for r in rows} - dates
            if not added:
                break
            dates |= added
    finally:
        con.close()
    rechecked = tuple(sorted(dates - set(plan.load_dates)))
    if not rechecked:
        return plan
    return Plan(
        False,
        plan.load_dates,
        f"{plan.reason}; {len(rechecked)} earlier load date(s) read again for orphans whose "
        "parent landed",
        rechecked,
    )


def _load_date(path: Path) -> str:
    match = PARTITION.fullmatch(path.parent.name)
    return match.group(1) if match else ""


def _base_tables(warehouse: Path, engine: str) -> duckdb.DuckDBPyConnection | None:
    """A connection that sees the base models as ``staging.<model>``: the DuckDB warehouse,
    read-only, or a Spark folder's Parquet tables (the local layout of profiles.yml)."""
    from engagement_lake.parity import spark_table_path

    if engine != "spark":
        return duckdb.connect(str(warehouse), read_only=True)
    root = spark_table_path(warehouse, "staging", "")
    if not root.is_dir():
        return None
    con = duckdb.connect()
    con.execute("create schema staging")
    for table in sorted(p for p in root.iterdir() if p.name.startswith("base_")):
        pattern = literal(table / "**" / "*.parquet")
        con.execute(
            f"create view staging.{identifier(table.name)} as select * from "
            f"read_parquet({pattern}, hive_partitioning = true, union_by_name = true)"
        )
    return con


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'staging' and table_name = ?",
            [name],
        ).fetchone()[0]
    )
