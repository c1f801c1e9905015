"""Run the quality suites of a layer and collect one result per check.

Reading: bronze is read straight from the Parquet files (only those whose footer opens, so a
truncated file is one failing check, never a crash); silver and gold from the warehouse opened
read-only. Each table's rows stream out of DuckDB in chunks of ``chunk_rows`` into pandas for GX,
so memory stays bounded whatever the scale; the checks that need the whole table (uniqueness,
foreign keys, row counts, SQL rules, freshness, reconciliation) are counted in DuckDB.

The as-of of freshness is the newest bronze load of any table, never the wall clock, so that a
regenerated or copied lake gives the same answer on any day.
"""

from __future__ import annotations

import contextlib
import re
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engagement_lake.config import PROJECT_ROOT, RunConfig
from engagement_lake.contracts import Contract, load_contracts
from engagement_lake.quality import suites as S
from engagement_lake.quality.report import (
    LAYERS,
    SAMPLE_SIZE,
    CheckReport,
    CheckResult,
    jsonable,
    write_html,
    write_json,
)
from engagement_lake.quality.suites import Expect, TableSuite

DEFAULT_CHUNK_ROWS = 200_000
"""Rows handed to GX at a time: a few tens of MB of pandas for the widest bronze table."""
_VECTOR = 2048  # DuckDB's vector size: fetch_df_chunk counts in vectors

LAYER_CHOICES = (*LAYERS, "all")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ----------------------------------------------------------------------------- GX chunks


@dataclass
class _Tally:
    """One expectation's result summed over the chunks of a table."""

    element_count: int = 0
    unexpected_count: int = 0
    sample: list[Any] = field(default_factory=list)
    error: str | None = None

    def add(self, result: Any, column: str | None, locate: bool) -> None:
        info = result.exception_info or {}
        if info.get("raised_exception"):
            self.error = self.error or str(info.get("exception_message"))
            return
        res = result.result or {}
        self.element_count += int(res.get("element_count") or 0)
        self.unexpected_count += int(res.get("unexpected_count") or 0)
        if locate:
            # A null says nothing by itself: show the keys of the rows that hold it.
            # (Without index columns GX lists chunk positions, which locate nothing.)
            found = [
                {k: v for k, v in row.items() if k != column}
                for row in res.get("partial_unexpected_index_list") or []
                if isinstance(row, dict)
            ]
        else:
            found = list(res.get("partial_unexpected_list") or [])
        for value in jsonable(found):
            if len(self.sample) >= SAMPLE_SIZE:
                break
            if value not in self.sample:
                self.sample.append(value)


class GxValidator:
    """One ephemeral GX context for a run: a pandas datasource whose batches are the chunks."""

    def __init__(self) -> None:
        import logging

        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        # GX logs at INFO (temporary docs folders); after dbt ran in-process that reaches the
        # console and interleaves with the check's own lines.
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        self._gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.batch_definition = (
            self.context.data_sources.add_pandas("engagement_lake")
            .add_dataframe_asset("chunks")
            .add_batch_definition_whole_dataframe("chunk")
        )

    def validate(
        self,
        con: Any,
        suite: TableSuite,
        expectations: Sequence[Expect],
        columns: Sequence[str],
        chunk_rows: int,
    ) -> tuple[int, dict[int, _Tally]]:
        """Stream ``suite.relation`` through GX; returns (rows, tally per expectation id)."""
        gx_suite = self.context.suites.add(suite.gx_suite(expectations))
        definition = self.context.validation_definitions.add(
            self._gx.ValidationDefinition(
                data=self.batch_definition, suite=gx_suite, name=suite.name
            )
        )
        index = [c for c in suite.index_columns if c in columns]
        needed = list(dict.fromkeys([*index, *(e.column for e in expectations if e.column)]))
        result_format = {
            "result_format": "SUMMARY",
            "partial_unexpected_count": SAMPLE_SIZE,
            "unexpected_index_column_names": index,
        }
        tallies = {suite.position(e): _Tally() for e in expectations}
        locate = {suite.position(e): e.check == S.NOT_NULL for e in expectations}
        by_id = {suite.position(e): e for e in expectations}
        rows = 0
        con.execute(f"select {', '.join(map(_q, needed))} from {suite.relation}")
        vectors = max(1, chunk_rows // _VECTOR)
        while True:
            df = con.fetch_df_chunk(vectors)
            if len(df) == 0:
                break
            rows += len(df)
            _prepare(df, expectations)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outcome = definition.run(
                    batch_parameters={"dataframe": df}, result_format=result_format
                )
            for result in outcome.results:
                eid = int(result.expectation_config.meta["id"])
                tallies[eid].add(result, by_id[eid].column, locate[eid])
        self.context.validation_definitions.delete(suite.name)
        self.context.suites.delete(suite.name)
        return rows, tallies


def _prepare(df: Any, expectations: Iterable[Expect]) -> None:
    """Give range checks the dtypes GX compares vectorised (numpy floats, ns datetimes).

    DuckDB hands over microsecond timestamps and nullable extension integers; GX would fall
    back to a Python loop per value on those, or fail to compare them with the bounds.
    """
    import pandas as pd

    for col in {e.column for e in expectations if e.check == S.BETWEEN}:
        series = df[col]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            if not isinstance(series.dtype, pd.DatetimeTZDtype):
                # A date beyond 2262 stays as it is: GX's slower path still judges it.
                with contextlib.suppress(OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
                    df[col] = series.astype("datetime64[ns]")
        elif pd.api.types.is_extension_array_dtype(series.dtype) and pd.api.types.is_numeric_dtype(
            series.dtype
        ):
            df[col] = series.astype("float64")


# ----------------------------------------------------------------------------- DuckDB checks


def _result(
    suite: TableSuite, e: Expect, success: bool, *, note: str | None = None, **values: Any
) -> CheckResult:
    kwargs = {k: v for k, v in e.kwargs.items() if k not in ("query",)}
    return CheckResult(
        layer=suite.layer,
        table=suite.table,
        column=e.column,
        check=e.check,
        severity=e.severity,
        success=success,
        note=e.note if note is None else note,
        kwargs=jsonable(kwargs),
        suite=suite.name,
        **values,
    )


def _where(e: Expect) -> str:
    return f" and ({e.kwargs['where']})" if e.kwargs.get("where") else ""


def _duplicates(con: Any, suite: TableSuite, e: Expect) -> CheckResult:
    """Rows whose key occurs more than once (GX counts every row of a duplicate, so do we)."""
    cols = list(e.kwargs.get("column_list") or [e.kwargs["column"]])
    keys = ", ".join(map(_q, cols))
    key = f"struct_pack({keys})" if len(cols) > 1 else keys
    not_null = " and ".join(f"{_q(c)} is not null" for c in cols)
    total, sample = con.execute(
        f"""
        with dup as (
            select {keys}, count(*) as n from {suite.relation}
            where {not_null}{_where(e)} group by all having count(*) > 1
        )
        select coalesce(sum(n), 0)::bigint,
               (select list(k) from (select {key} as k from dup limit {SAMPLE_SIZE}))
        from dup
        """
    ).fetchone()
    return _result(
        suite, e, total == 0, unexpected_count=int(total), sample=jsonable(list(sample or []))
    )


def _orphans(con: Any, suite: TableSuite, e: Expect, parent: str | None) -> CheckResult:
    col = _q(e.kwargs["column"])
    if parent is None:
        missing = f"parent {e.kwargs['parent']} has no readable rows"
        return _result(suite, e, False, sample=[missing], note=f"{e.note}; {missing}")
    total, sample = con.execute(
        f"""
        with orphan as (
            select c.{col} as v from {suite.relation} as c
            where c.{col} is not null{_where(e)}
              and not exists (
                select 1 from {parent} as p where p.{_q(e.kwargs["parent_column"])} = c.{col})
        )
        select count(*), (select list(v) from (
            select distinct v from orphan order by v limit {SAMPLE_SIZE}))
        from orphan
        """
    ).fetchone()
    return _result(
        suite, e, total == 0, unexpected_count=int(total), sample=jsonable(list(sample or []))
    )


def _sql_rule(con: Any, suite: TableSuite, e: Expect) -> CheckResult:
    """Run the contract's query with ``${table}`` bound; COUNT(*) rules also sample rows."""
    query = str(e.kwargs["query"]).replace("${table}", suite.relation)
    value = con.execute(query).fetchone()[0]
    value = jsonable(value)
    ok = S.compare(value, e.kwargs.get("operator"), e.kwargs.get("threshold"))
    sample: list[Any] = []
    count_rule = re.match(r"\s*select\s+count\(\s*\*\s*\)\s+from\s", query, re.IGNORECASE)
    if not ok and count_rule:
        import duckdb

        keys = ", ".join(map(_q, suite.index_columns)) or "*"
        with contextlib.suppress(duckdb.Error):  # the sample is a courtesy, the count is the check
            rows = con.execute(
                f"select {keys} from {query[count_rule.end() :]} limit {SAMPLE_SIZE}"
            ).fetchall()
            sample = jsonable([r[0] if len(r) == 1 else list(r) for r in rows])
    unexpected = int(value) if count_rule and isinstance(value, int) and not ok else 0
    return _result(
        suite, e, ok, unexpected_count=unexpected or (0 if ok else 1), observed=value, sample=sample
    )


def _in_set_sql(con: Any, suite: TableSuite, e: Expect) -> CheckResult:
    col = _q(e.kwargs["column"])
    if e.check == S.NOT_NULL:
        cond, pick = f"{col} is null", ", ".join(map(_q, suite.index_columns)) or col
    else:
        values = ", ".join("?" for _ in e.kwargs["value_set"])
        cond, pick = f"{col} is not null and {col} not in ({values})", col
    params = [] if e.check == S.NOT_NULL else list(e.kwargs["value_set"])
    total, rows = con.execute(
        f"select count(*), (select list({pick}) from (select * from {suite.relation} "
        f"where {cond}{_where(e)} limit {SAMPLE_SIZE})) from {suite.relation} "
        f"where {cond}{_where(e)}",
        params + params,
    ).fetchone()
    return _result(
        suite, e, total == 0, unexpected_count=int(total), sample=jsonable(list(rows or []))
    )


def _columns(con: Any, relation: str) -> list[str]:
    return [d[0] for d in con.execute(f"select * from {relation} limit 0").description]


def _columns_match(suite: TableSuite, e: Expect, present: Sequence[str]) -> CheckResult:
    expected = list(e.kwargs["column_set"])
    missing = [c for c in expected if c not in present]
    extra = [c for c in present if c not in expected] if e.kwargs.get("exact_match") else []
    detail = {k: v for k, v in (("missing", missing), ("unexpected", extra)) if v}
    return _result(
        suite,
        e,
        not detail,
        unexpected_count=len(missing) + len(extra),
        element_count=len(expected),
        sample=[detail] if detail else [],
    )


def _row_count(suite: TableSuite, e: Expect, rows: int) -> CheckResult:
    if e.kwargs.get("operator"):
        ok = S.compare(rows, e.kwargs["operator"], e.kwargs["threshold"])
    else:
        low, high = e.kwargs.get("min_value"), e.kwargs.get("max_value")
        ok = (low is None or rows >= low) and (high is None or rows <= high)
    return _result(suite, e, ok, unexpected_count=0 if ok else 1, observed=rows)


def _evaluate(
    con: Any,
    suite: TableSuite,
    e: Expect,
    rows: int,
    present: Sequence[str],
    parents: Mapping[str, str | None],
) -> CheckResult:
    """One DuckDB-engine check."""
    if e.check in (S.UNIQUE, S.COMPOUND_UNIQUE):
        return _duplicates(con, suite, e)
    if e.check == S.FOREIGN_KEY:
        return _orphans(con, suite, e, parents.get(e.kwargs["parent"], e.kwargs["parent"]))
    if e.check == S.ROW_COUNT:
        return _row_count(suite, e, rows)
    if e.check == S.COLUMNS_MATCH:
        return _columns_match(suite, e, present)
    if e.check.startswith(S.SQL_PREFIX):
        return _sql_rule(con, suite, e)
    if e.check in (S.NOT_NULL, S.IN_SET):
        return _in_set_sql(con, suite, e)
    return _result(suite, e, False, note=f"{e.note}; no engine runs {e.check}")


def run_suite(
    con: Any,
    suite: TableSuite,
    validator: GxValidator | None,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    parents: Mapping[str, str | None] | None = None,
    skip: Iterable[str] = (),
) -> tuple[list[CheckResult], int]:
    """Every check of one suite except those of the engines in ``skip``; returns the results
    in plan order and the table's row count."""
    import duckdb

    present = _columns(con, suite.relation)
    todo = [e for e in suite.expectations if e.engine not in skip]
    results: dict[int, CheckResult] = {}

    def absent(e: Expect) -> bool:
        cols = e.kwargs.get("column_list") or ([e.kwargs["column"]] if "column" in e.kwargs else [])
        return any(c not in present for c in cols)

    for e in todo:
        if absent(e) and e.check != S.COLUMN_EXISTS:
            why = f"column not in {suite.relation}"
            results[suite.position(e)] = _result(
                suite, e, False, sample=[why], note=f"{e.note}; {why}"
            )
    gx_exps = [e for e in todo if e.engine == "gx" and suite.position(e) not in results]
    if gx_exps:
        if validator is None:
            raise ValueError("GX expectations need a validator")
        rows, tallies = validator.validate(con, suite, gx_exps, present, chunk_rows)
        for eid, tally in tallies.items():
            e = suite.expectations[eid]
            note = e.note if tally.error is None else f"{e.note}; GX raised: {tally.error}"
            if tally.error is not None:
                tally.sample = [tally.error[:300]]
            results[eid] = _result(
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
    for e in todo:
        eid = suite.position(e)
        if eid in results or e.engine != "duckdb":
            continue
        try:
            results[eid] = _evaluate(con, suite, e, rows, present, parents or {})
        except duckdb.Error as exc:
            # A bad contract query or an incompatible key type fails this check, not the run.
            msg = " ".join(str(exc).split())[:300]
            results[eid] = _result(
                suite, e, False, sample=[msg], note=f"{e.note}; DuckDB raised: {msg}"
            )
    for eid, r in results.items():
        if r.element_count is None and suite.expectations[eid].check != S.COLUMNS_MATCH:
            r.element_count = rows
    return [results[i] for i in sorted(results)], rows


def _run_guarded(
    con: Any, suite: TableSuite, validator: GxValidator | None, **kwargs: Any
) -> tuple[list[CheckResult], int]:
    """``run_suite``, but a table that cannot be read is one failing check, not a crash."""
    import duckdb

    try:
        return run_suite(con, suite, validator, **kwargs)
    except duckdb.Error as exc:
        e = Expect(S.RELATION_EXISTS, None, S.ERROR, note="the table must be readable")
        msg = " ".join(str(exc).split())[:500]
        return [_result(suite, e, False, unexpected_count=1, sample=[msg])], 0


# ----------------------------------------------------------------------------- bronze

TABLE_LEVEL_BRONZE = (S.ROW_COUNT, S.COLUMN_EXISTS, S.COLUMNS_MATCH, S.FILE_READABLE, S.FRESHNESS)
"""Bronze checks on a table or its files rather than on rows: no quarantine absorbs them."""


@dataclass
class BronzeFiles:
    """A bronze table's files, split by whether their footer opens, with their columns."""

    readable: dict[Path, list[str]]
    unreadable: dict[Path, str]


def scan_bronze_files(data_dir: Path, contract: Contract) -> BronzeFiles:
    """Decode every file in full, as the build's preflight does: a file with corrupt data
    pages keeps a readable footer."""
    from engagement_lake.preflight import decode_parquet

    readable: dict[Path, list[str]] = {}
    unreadable: dict[Path, str] = {}
    for path in sorted(data_dir.glob(contract.bronze_glob)):
        found = decode_parquet(path)
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
                _result(
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
                _result(
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
                out.append(_result(suite, e, True, element_count=n))
            for c, paths in sorted(extra.items()):
                r = _result(
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
                r = _result(
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
            r = _result(
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
            paths = ", ".join("'" + str(p).replace("'", "''") + "'" for p in found.readable)
            con.execute(
                f"create temp view {suite.relation} as select * from read_parquet([{paths}], "
                "union_by_name = true, hive_partitioning = false)"
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
        found, _ = _run_guarded(
            con,
            suite,
            validator,
            chunk_rows=chunk_rows,
            parents=parents,
            skip=("files", "layer"),
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
    con.close()
    return results, as_of, suites


def _empty_table(suite: TableSuite) -> list[CheckResult]:
    """A table with no readable file: its row-count rules judge it; nothing else can fail."""
    out = []
    for e in suite.expectations:
        if e.engine in ("files", "layer"):
            continue
        if e.check == S.ROW_COUNT:
            out.append(_row_count(suite, e, 0))
        else:
            out.append(_result(suite, e, True, element_count=0, note=f"{e.note}; no rows"))
    return out


# ----------------------------------------------------------------------------- silver, gold


def _manifest(cfg: RunConfig) -> dict[str, Any] | None:
    import json

    path = (cfg.target_dir or PROJECT_ROOT / "target") / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else None


def _relations(con: Any) -> set[str]:
    return {
        f'"{s}"."{t}"'
        for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }


def _missing(layer: str, table: str, what: str) -> CheckResult:
    """Something the layer needs is absent: one failing check that says what (in the line)."""
    return CheckResult(
        layer,
        table,
        None,
        S.RELATION_EXISTS,
        S.ERROR,
        False,
        1,
        sample=[what],
        note=what,
        suite=f"{layer}.{table}",
    )


def _run_warehouse_suites(
    con: Any,
    suites: Sequence[TableSuite],
    validator: GxValidator,
    chunk_rows: int,
) -> list[CheckResult]:
    existing = _relations(con)
    results: list[CheckResult] = []
    for suite in suites:
        if suite.relation not in existing:
            results.append(
                _missing(
                    suite.layer,
                    suite.table,
                    f"{suite.relation} is not in the warehouse: build first",
                )
            )
            continue
        found, _ = _run_guarded(con, suite, validator, chunk_rows=chunk_rows)
        results.extend(found)
    return results


def _reconciliation(con: Any) -> list[CheckResult]:
    """bronze = staged + quarantined + collapsed, per table, from quality.reconciliation."""
    rows = con.execute(
        "select system, table_name, bronze_rows, staging_rows, quarantined_rows, collapsed_rows "
        "from quality.reconciliation order by system, table_name"
    ).fetchall()
    out = []
    for system, table, bronze, staged, quarantined, collapsed in rows:
        accounted = staged + quarantined + collapsed
        out.append(
            CheckResult(
                "silver",
                f"{system}.{table}",
                None,
                S.RECONCILIATION,
                S.ERROR,
                bronze == accounted,
                abs(bronze - accounted),
                bronze,
                observed={
                    "bronze": bronze,
                    "staged": staged,
                    "quarantined": quarantined,
                    "collapsed": collapsed,
                },
                note="bronze rows = staged + quarantined + collapsed (quality.reconciliation)",
                suite="silver.quality.reconciliation",
            )
        )
    return out


def run_silver(
    cfg: RunConfig,
    validator: GxValidator,
    contracts: Mapping[str, Contract],
    con: Any,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> tuple[list[CheckResult], list[TableSuite]]:
    """Staging against what the contracts promise, silver models against their dbt tests,
    and the row-count reconciliation."""
    suites = S.staging_suites(contracts)
    manifest = _manifest(cfg)
    if manifest is not None:
        suites += S.manifest_suites(manifest, "silver", "silver")
    results = _run_warehouse_suites(con, suites, validator, chunk_rows)
    if manifest is None:
        results.append(_missing("silver", "dbt.manifest", "no dbt manifest: build first"))
    if '"quality"."reconciliation"' in _relations(con):
        results.extend(_reconciliation(con))
    else:
        results.append(_missing("silver", "quality.reconciliation", "build first"))
    return results, suites


def run_gold(
    cfg: RunConfig, validator: GxValidator, con: Any, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> tuple[list[CheckResult], list[TableSuite]]:
    """Gold models against their dbt tests and documented columns (from the manifest)."""
    manifest = _manifest(cfg)
    if manifest is None:
        return [_missing("gold", "dbt.manifest", "no dbt manifest: build first")], []
    suites = S.manifest_suites(manifest, "gold", "gold")
    return _run_warehouse_suites(con, suites, validator, chunk_rows), suites


# ----------------------------------------------------------------------------- entry points


def gating_layers(layer: str, fail_on_error: bool | None = None) -> tuple[str, ...]:
    """Layers whose error failures set the exit code (see ``run_checks``)."""
    layers = LAYERS if layer == "all" else (layer,)
    return () if fail_on_error is False else layers


def run_checks(
    cfg: RunConfig,
    layer: str = "all",
    *,
    report_dir: Path = Path("reports/quality"),
    fail_on_error: bool | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    contracts: Mapping[str, Contract] | None = None,
) -> CheckReport:
    """Run the checks of ``layer`` (bronze, silver, gold or all) and write the JSON and HTML
    report to ``report_dir/check_<layer>.{json,html}``.

    ``fail_on_error`` decides which error-severity failures set ``exit_code``. None (default):
    every error except bronze rows that the build quarantines (bronze is raw data where invalid
    rows are expected; staging sets them aside, so downstream is clean) — structural bronze
    errors (an unreadable file, a missing required column) still fail, and ``--layer bronze``
    and ``--layer all`` agree. True: every error, quarantined bronze rows included. False:
    none (report-only). A data folder with no bronze raises ``NoBronzeError``.
    """
    import duckdb

    if layer not in LAYER_CHOICES:
        raise ValueError(f"unknown layer {layer!r}; choose one of {', '.join(LAYER_CHOICES)}")
    layers = LAYERS if layer == "all" else (layer,)
    gating = gating_layers(layer, fail_on_error)
    contracts = contracts if contracts is not None else load_contracts()
    started = time.perf_counter()
    validator = GxValidator()
    results: list[CheckResult] = []
    seconds: dict[str, float] = {}
    as_of = None
    if "bronze" in layers:
        from engagement_lake.preflight import require_bronze

        require_bronze(cfg.data_dir, contracts)
        t = time.perf_counter()
        found, as_of, _ = run_bronze(cfg, validator, contracts, chunk_rows=chunk_rows)
        results += found
        seconds["bronze"] = time.perf_counter() - t
    warehouse_layers = [x for x in layers if x != "bronze"]
    if warehouse_layers:
        if not cfg.warehouse.exists():
            for x in warehouse_layers:
                results.append(_missing(x, "warehouse", f"{cfg.warehouse} does not exist"))
        else:
            con = duckdb.connect(str(cfg.warehouse), read_only=True)
            try:
                if "silver" in layers:
                    t = time.perf_counter()
                    found, _ = run_silver(cfg, validator, contracts, con, chunk_rows=chunk_rows)
                    results += found
                    seconds["silver"] = time.perf_counter() - t
                if "gold" in layers:
                    t = time.perf_counter()
                    found, _ = run_gold(cfg, validator, con, chunk_rows=chunk_rows)
                    results += found
                    seconds["gold"] = time.perf_counter() - t
            finally:
                con.close()
    report = CheckReport(
        results,
        layers,
        gating,
        time.perf_counter() - started,
        seconds,
        as_of=None if as_of is None else as_of.isoformat(sep=" "),
        strict=bool(fail_on_error),
    )
    report.json_path = report_dir / f"check_{layer}.json"
    report.html_path = report_dir / f"check_{layer}.html"
    write_json(report, report.json_path)
    write_html(report, report.html_path)
    return report
