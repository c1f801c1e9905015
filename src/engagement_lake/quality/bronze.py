"""Bronze checks: read straight from the Parquet files, only those whose footer opens.

A truncated file is one failing check, never a crash. The as-of of freshness is the newest
bronze load of any table, never the wall clock, so that a regenerated or copied lake gives the
same answer on any day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engagement_lake.config import RunConfig
from engagement_lake.contracts import Contract
from engagement_lake.quality import suites as S
from engagement_lake.quality.checked_rows import parquet_reader
from engagement_lake.quality.duckdb_engine import result, row_count
from engagement_lake.quality.gx_engine import DEFAULT_CHUNK_ROWS, GxValidator
from engagement_lake.quality.report import (
    SAMPLE_SIZE,
    CheckResult,
)
from engagement_lake.quality.suite_run import run_guarded
from engagement_lake.quality.suites import TableSuite

TABLE_LEVEL_BRONZE = (S.ROW_COUNT, S.COLUMN_EXISTS, S.COLUMNS_MATCH, S.FILE_READABLE, S.FRESHNESS)
"""Bronze checks on a table or its files rather than on rows: no quarantine absorbs them."""


@dataclass
class BronzeFiles:
    """A bronze table's files, split by whether their footer opens, with their columns."""

    readable: dict[Path, list[str]]
    unreadable: dict[Path, str]


def scan_bronze_files(data_dir: Path, contract: Contract) -> BronzeFiles:
    """Decode every file in full, as the build's preflight does (a file with corrupt data
    pages keeps a readable footer), sharing its cache: a file the preflight decoded and that
    has not changed since is not decoded again."""
    from engagement_lake.preflight import decode_parquet_cached

    readable: dict[Path, list[str]] = {}
    unreadable: dict[Path, str] = {}
    decoded = decode_parquet_cached(data_dir, sorted(data_dir.glob(contract.bronze_glob)))
    for path, found in decoded.items():
        if "error" in found:
            unreadable[path] = found["error"]
        else:
            readable[path] = found["columns"]
    return BronzeFiles(readable, unreadable)


def _file_checks(suite: TableSuite, files: BronzeFiles, data_dir: Path) -> list[CheckResult]:
    rel = lambda p: str(p.relative_to(data_dir))  # noqa: E731
    out: list[CheckResult] = []
    n = len(files.readable)
    for e in suite.by_engine("files"):
        if e.check == S.FILE_READABLE:
            bad = sorted(files.unreadable)
            out.append(
                result(
                    suite,
                    e,
                    not bad,
                    unexpected_count=len(bad),
                    element_count=n + len(bad),
                    sample=[f"{rel(p)}: {files.unreadable[p][:200]}" for p in bad[:SAMPLE_SIZE]],
                )
            )
        elif e.check == S.COLUMN_EXISTS:
            lacking = [p for p, cols in files.readable.items() if e.column not in cols]
            out.append(
                result(
                    suite,
                    e,
                    not lacking,
                    unexpected_count=len(lacking),
                    element_count=n,
                    sample=[rel(p) for p in lacking[:SAMPLE_SIZE]],
                )
            )
        elif e.check == S.COLUMNS_MATCH:
            known = set(e.kwargs["column_set"])
            extra: dict[str, list[Path]] = {}
            for p, cols in files.readable.items():
                for c in cols:
                    if c not in known:
                        extra.setdefault(c, []).append(p)
            if not extra:
                out.append(result(suite, e, True, element_count=n))
            for c, paths in sorted(extra.items()):
                r = result(
                    suite,
                    e,
                    False,
                    unexpected_count=len(paths),
                    element_count=n,
                    sample=[rel(p) for p in paths[:SAMPLE_SIZE]],
                )
                r.column = c
                out.append(r)
    return out


def _freshness(
    suites: Sequence[TableSuite], newest: Mapping[str, datetime | None]
) -> tuple[list[CheckResult], datetime | None]:
    """Hours between each table's newest load and the newest load of any table."""
    loads = [t for t in newest.values() if t is not None]
    as_of = max(loads) if loads else None
    out = []
    for suite in suites:
        for e in suite.expectations:
            if e.check != S.FRESHNESS:
                continue
            warn, err = e.kwargs.get("warn_after_hours"), e.kwargs.get("error_after_hours")
            last = newest.get(suite.table)
            sev = S.ERROR if err else S.WARNING
            if last is None or as_of is None:
                r = result(
                    suite,
                    e,
                    False,
                    unexpected_count=1,
                    note=f"{e.note}; the table has never been loaded",
                )
                r.severity = S.WARNING  # a contract may land before its first load
                out.append(r)
                continue
            age = (as_of - last).total_seconds() / 3600
            if err and age > err:
                ok = False
            elif warn and age > warn:
                ok, sev = False, S.WARNING
            else:
                ok = True
            r = result(
                suite,
                e,
                ok,
                unexpected_count=0 if ok else 1,
                observed=round(age, 1),
                sample=[last.isoformat(sep=" ")],
            )
            r.severity = sev
            out.append(r)
    return out, as_of


def run_bronze(
    cfg: RunConfig,
    validator: GxValidator,
    contracts: Mapping[str, Contract],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> tuple[list[CheckResult], datetime | None, list[TableSuite]]:
    """Bronze straight from the files; the warehouse is not needed."""
    import duckdb

    from engagement_lake.preflight import quarantined_paths

    suites = S.bronze_suites(contracts)
    con = duckdb.connect()
    files: dict[str, BronzeFiles] = {}
    parents: dict[str, str | None] = {}
    for suite in suites:
        assert suite.contract is not None
        files[suite.table] = found = scan_bronze_files(cfg.data_dir, suite.contract)
        if found.readable:
            con.execute(
                f"create temp view {suite.relation} as select * from "
                f"{parquet_reader(list(found.readable))}"
            )
            parents[suite.table] = suite.relation
        else:
            parents[suite.table] = None
    results: list[CheckResult] = []
    newest: dict[str, datetime | None] = {}
    set_aside = quarantined_paths(cfg.data_dir)
    for suite in suites:
        checked = _file_checks(suite, files[suite.table], cfg.data_dir)
        unreadable = set(files[suite.table].unreadable)
        for r in checked:
            # a bad file the build left out (and recorded) is handled like a quarantined row
            r.quarantined = (
                r.check == S.FILE_READABLE and bool(unreadable) and unreadable <= set_aside
            )
        results.extend(checked)
        if parents[suite.table] is None:
            results.extend(_empty_table(suite))
            newest[suite.table] = None
            continue
        found, _ = run_guarded(
            con,
            suite,
            validator,
            chunk_rows=chunk_rows,
            parents=parents,
            skip=("files", "layer"),
            files=list(files[suite.table].readable),
            parent_files={table: list(found.readable) for table, found in files.items()},
        )
        for r in found:
            # error-severity row rules are exactly the ones staging quarantines on
            r.quarantined = r.severity == S.ERROR and r.check not in TABLE_LEVEL_BRONZE
        results.extend(found)
        newest[suite.table] = con.execute(
            f"select max(_loaded_at) from {suite.relation}"
        ).fetchone()[0]
    fresh, as_of = _freshness(suites, newest)
    results.extend(fresh)
    if validator.ledger is not None:
        validator.ledger.release(con)
    con.close()
    return results, as_of, suites


def _empty_table(suite: TableSuite) -> list[CheckResult]:
    """A table with no readable file: its row-count rules judge it; nothing else can fail."""
    out = []
    for e in suite.expectations:
        if e.engine in ("files", "layer"):
            continue
        if e.check == S.ROW_COUNT:
            out.append(row_count(suite, e, 0))
        else:
            out.append(result(suite, e, True, element_count=0, note=f"{e.note}; no rows"))
    return out
