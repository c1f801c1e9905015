"""Bronze checked per file: a file is judged once, then only the files a load adds.

Bronze files are written once: a daily load adds files, and a replayed day rewrites its own (a
new size or modification time). Two kinds of bronze check give a file a verdict that the files
added later cannot change:

- **Row rules**: the rules the contracts give bronze's columns (a value that does not cast to
  its type, a blank required value, a date outside its window: an ``Expect`` with a
  ``row_condition``) judge each row on its own values.
- **Foreign keys**: a row whose parent key is present stays so while the parent only gains
  rows, which adding files does; a parent file rewritten or gone may take keys away.

Counted over every file, these read all of bronze on every check. So the checks' ledger
(``checked_rows.CheckedRows.clean_files``) keeps, per bronze suite and kind of check, the files
found clean (no row breaks the rules; no row is an orphan) with their size and modification
time, under a fingerprint of the rules and of the column types all the files read as together
(a file that brings a new column or type changes how the others read, so every file is
counted again); for a foreign key also the parent's files at the time, and a parent file
changed or gone since starts the child's files afresh. A check counts the other files alone,
per file (DuckDB opens only the files a filter on its ``filename`` column names). A check no
counted row breaks passes exactly as its whole-table query would answer it; a check some row
breaks is left to that query (``duckdb_engine``), which counts every file and samples the
rows: the results are always those of counting every file, and a file is recorded only clean.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engagement_lake.quality import suites as S
from engagement_lake.quality.checked_rows import (
    FILE_COLUMN,
    FileStat,
    files_filter,
    parquet_reader,
)
from engagement_lake.quality.duckdb_engine import result
from engagement_lake.quality.report import CheckResult
from engagement_lake.quality.suites import Expect, TableSuite
from engagement_lake.sql_text import identifier

if TYPE_CHECKING:
    from engagement_lake.quality.checked_rows import CheckedRows

ROW_RULES = "row_rules"
"""Kind of clean file (``CheckedRows.clean_files``) that no row rule counts a row of."""
_FORMAT = 1
"""Bumped when what a clean file means changes, so that the files are counted again."""


def checked_per_file(
    con: Any,
    suite: TableSuite,
    expectations: Sequence[Expect],
    files: Sequence[Path],
    ledger: CheckedRows | None,
    parent_files: Mapping[str, Sequence[Path]],
) -> dict[int, CheckResult]:
    """The results, by plan position, of the row rules and foreign keys among
    ``expectations`` that no row of ``files`` (the suite's table) breaks, counting only the
    files the ledger does not hold as clean; records the files found clean. ``parent_files``:
    each parent table's files. Checks some row breaks are not answered here."""
    if ledger is None or not files:
        return {}
    reader = parquet_reader(files)
    types = [(d[0], str(d[1])) for d in con.execute(f"select * from {reader} limit 0").description]
    passed = _row_rules(con, suite, expectations, files, ledger, reader, types)
    for e in expectations:
        parent = parent_files.get(str(e.kwargs.get("parent")))
        if e.check == S.FOREIGN_KEY and parent:
            passed.update(_foreign_key(con, suite, e, files, ledger, reader, types, parent))
    return passed


def _fingerprint(*parts: Any) -> str:
    import duckdb

    doc = {"format": _FORMAT, "duckdb": duckdb.__version__, "parts": parts}
    return hashlib.sha256(json.dumps(doc, default=str).encode()).hexdigest()


def _count_new(
    con: Any,
    reader: str,
    counts: Sequence[str],
    now: Mapping[str, FileStat],
    clean: Mapping[str, FileStat],
    joins: str = "",
) -> tuple[list[int], dict[str, FileStat]] | None:
    """Count ``counts`` over the files of ``now`` that ``clean`` does not hold unchanged;
    returns the totals and the clean files after this count (None: DuckDB refused)."""
    import duckdb

    kept = {f: clean[f] for f, stat in now.items() if stat.same_file(clean.get(f))}
    new = [f for f in now if f not in kept]
    totals = [0] * len(counts)
    if not new:
        return totals, kept
    try:
        per_file = {
            file: (rows, values)
            for file, rows, *values in con.execute(
                f"select c.{FILE_COLUMN}, count(*), {', '.join(counts)} from {reader} as c "
                f"{joins} where c.{files_filter(new)} group by all"
            ).fetchall()
        }
    except duckdb.Error:  # a rule DuckDB refuses: the whole-table query names the error
        return None
    for file in new:
        # a file without rows has no group, and no check can count a row in it
        rows, values = per_file.get(file, (0, [0] * len(counts)))
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        if not any(values):
            kept[file] = FileStat(now[file].size, now[file].mtime_ns, rows)
    return totals, kept


def _row_rules(
    con: Any,
    suite: TableSuite,
    expectations: Sequence[Expect],
    files: Sequence[Path],
    ledger: CheckedRows,
    reader: str,
    types: list[tuple[str, str]],
) -> dict[int, CheckResult]:
    rules = [e for e in expectations if e.row_condition is not None]
    if not rules:
        return {}
    fingerprint = _fingerprint(types, sorted(str(e.row_condition) for e in rules))
    clean = ledger.clean_files(con, suite.name, ROW_RULES, fingerprint)
    now = {str(f): FileStat.of(f) for f in files}
    counts = [f"count(*) filter (where {e.row_condition})" for e in rules]
    counted = _count_new(con, reader, counts, now, clean)
    if counted is None:
        return {}
    totals, kept = counted
    ledger.replace_clean_files(con, suite.name, ROW_RULES, fingerprint, kept, clean)
    return {
        suite.position(e): result(suite, e, True, unexpected_count=0, observed=0, sample=[])
        for e, count in zip(rules, totals, strict=True)
        # what duckdb_engine's SQL rule reports for a count of 0
        if count == 0 and S.compare(0, e.kwargs.get("operator"), e.kwargs.get("threshold"))
    }


def _foreign_key(
    con: Any,
    suite: TableSuite,
    e: Expect,
    files: Sequence[Path],
    ledger: CheckedRows,
    reader: str,
    types: list[tuple[str, str]],
    parent_files: Sequence[Path],
) -> dict[int, CheckResult]:
    parent = parquet_reader(parent_files)
    parent_types = [
        (d[0], str(d[1])) for d in con.execute(f"select * from {parent} limit 0").description
    ]
    check = json.dumps([e.kwargs.get(k) for k in ("column", "parent", "parent_column", "where")])
    kind = f"foreign_key:{check}"
    fingerprint = _fingerprint(types, parent_types, check)
    parents_now = {str(f): FileStat.of(f) for f in parent_files}
    parents_then = ledger.clean_files(con, suite.name, f"{kind}:parent", fingerprint)
    # the child's files were found clean against the parent's files then: still clean while
    # each of those is still here, unchanged (the parent only gained rows)
    grew_only = all(stat.same_file(parents_now.get(f)) for f, stat in parents_then.items())
    clean = ledger.clean_files(con, suite.name, kind, fingerprint) if grew_only else {}
    col, parent_col = identifier(e.kwargs["column"]), identifier(e.kwargs["parent_column"])
    where = f" and ({e.kwargs['where']})" if e.kwargs.get("where") else ""
    joins = (
        f"left join (select distinct {parent_col} as __el_parent_key from {parent}) as p "
        f"on p.__el_parent_key = c.{col}"
    )
    counts = [f"count(*) filter (where c.{col} is not null{where} and p.__el_parent_key is null)"]
    now = {str(f): FileStat.of(f) for f in files}
    counted = _count_new(con, reader, counts, now, clean, joins)
    if counted is None:
        return {}
    (orphans,), kept = counted
    ledger.replace_clean_files(con, suite.name, kind, fingerprint, kept, clean)
    ledger.replace_clean_files(
        con, suite.name, f"{kind}:parent", fingerprint, parents_now, parents_then
    )
    if orphans:
        return {}
    # what duckdb_engine's foreign-key check reports without an orphan
    return {suite.position(e): result(suite, e, True, unexpected_count=0, sample=[])}
