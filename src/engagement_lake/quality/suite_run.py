"""One suite run: each expectation handed to its engine, a result per check in plan order."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engagement_lake.quality import suites as S
from engagement_lake.quality.checked_rows import FILE_COLUMN
from engagement_lake.quality.duckdb_engine import columns, evaluate, result
from engagement_lake.quality.gx_engine import DEFAULT_CHUNK_ROWS, GxValidator
from engagement_lake.quality.per_file import checked_per_file
from engagement_lake.quality.report import (
    CheckResult,
)
from engagement_lake.quality.suites import Expect, TableSuite


def run_suite(
    con: Any,
    suite: TableSuite,
    validator: GxValidator | None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    parents: Mapping[str, str | None] | None = None,
    skip: Iterable[str] = (),
    files: Sequence[Path] = (),
    parent_files: Mapping[str, Sequence[Path]] | None = None,
    proved: Collection[str] = (),
) -> tuple[list[CheckResult], int]:
    """Every check of one suite except those of the engines in ``skip``; returns the results
    in plan order and the table's row count. ``files``: the Parquet files a bronze suite's
    relation reads, and ``parent_files`` each bronze table's, so that what a file's rows
    show is judged once per file (``per_file``). ``proved``: dbt tests the build that wrote
    the warehouse passed (``build_verdicts``); a DuckDB check such a test counted is taken
    from it, not counted again."""
    import duckdb

    present = columns(con, suite.relation)
    if FILE_COLUMN in present:
        files = ()  # a real column hides DuckDB's virtual file column: read every file
    todo = [e for e in suite.expectations if e.engine not in skip]
    results: dict[int, CheckResult] = {}

    def absent(e: Expect) -> bool:
        cols = e.kwargs.get("column_list") or ([e.kwargs["column"]] if "column" in e.kwargs else [])
        return any(c not in present for c in cols)

    for e in todo:
        if absent(e) and e.check != S.COLUMN_EXISTS:
            why = f"column not in {suite.relation}"
            results[suite.position(e)] = result(
                suite, e, False, sample=[why], note=f"{e.note}; {why}"
            )
    gx_exps = [e for e in todo if e.engine == "gx" and suite.position(e) not in results]
    if gx_exps:
        if validator is None:
            raise ValueError("GX expectations need a validator")
        rows, tallies = validator.validate(con, suite, gx_exps, present, chunk_rows, files)
        for eid, tally in tallies.items():
            e = suite.expectations[eid]
            note = e.note if tally.error is None else f"{e.note}; GX raised: {tally.error}"
            if tally.error is not None:
                tally.sample = [tally.error[:300]]
            results[eid] = result(
                suite,
                e,
                tally.error is None and tally.unexpected_count == 0,
                unexpected_count=tally.unexpected_count,
                element_count=tally.element_count,
                sample=tally.sample,
                note=note,
            )
    else:
        rows = int(con.execute(f"select count(*) from {suite.relation}").fetchone()[0])
    results.update(
        checked_per_file(
            con,
            suite,
            [e for e in todo if suite.position(e) not in results],
            files,
            validator.ledger if validator is not None else None,
            parent_files or {},
        )
    )
    for e in todo:
        eid = suite.position(e)
        if eid in results or e.engine != "duckdb":
            continue
        if e.proved_by is not None and e.proved_by in proved:
            results[eid] = result(
                suite,
                e,
                True,
                note=f"{e.note}; passed in the build that wrote the warehouse",
                from_build=True,
            )
            continue
        try:
            results[eid] = evaluate(con, suite, e, rows, present, parents or {})
        except duckdb.Error as exc:
            # A bad contract query or an incompatible key type fails this check, not the run.
            msg = " ".join(str(exc).split())[:300]
            results[eid] = result(
                suite, e, False, sample=[msg], note=f"{e.note}; DuckDB raised: {msg}"
            )
    for eid, r in results.items():
        if r.element_count is None and suite.expectations[eid].check != S.COLUMNS_MATCH:
            r.element_count = rows
    return [results[i] for i in sorted(results)], rows


def run_guarded(
    con: Any, suite: TableSuite, validator: GxValidator | None, **kwargs: Any
) -> tuple[list[CheckResult], int]:
    """``run_suite``, but a table that cannot be read is one failing check, not a crash."""
    import duckdb

    try:
        return run_suite(con, suite, validator, **kwargs)
    except duckdb.Error as exc:
        e = Expect(S.RELATION_EXISTS, None, S.ERROR, note="the table must be readable")
        msg = " ".join(str(exc).split())[:500]
        return [result(suite, e, False, unexpected_count=1, sample=[msg])], 0
