"""The DuckDB engine: the checks that need the whole table, counted in SQL.

Uniqueness, foreign keys, row counts, column sets and the contracts' SQL rules are counted in
DuckDB (never streamed through pandas); each check kind maps to one function in ``CHECKS``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from engagement_lake.quality import suites as S
from engagement_lake.quality.report import (
    SAMPLE_SIZE,
    CheckResult,
    jsonable,
)
from engagement_lake.quality.suites import Expect, TableSuite
from engagement_lake.sql_text import identifier


def result(
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
    keys = ", ".join(map(identifier, cols))
    key = f"struct_pack({keys})" if len(cols) > 1 else keys
    not_null = " and ".join(f"{identifier(c)} is not null" for c in cols)
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
    return result(
        suite, e, total == 0, unexpected_count=int(total), sample=jsonable(list(sample or []))
    )


def _orphans(con: Any, suite: TableSuite, e: Expect, parent: str | None) -> CheckResult:
    col, parent_col = identifier(e.kwargs["column"]), identifier(e.kwargs["parent_column"])
    if parent is None:
        missing = f"parent {e.kwargs['parent']} has no readable rows"
        return result(suite, e, False, sample=[missing], note=f"{e.note}; {missing}")
    total, sample = con.execute(
        f"""
        with orphan as (
            select c.{col} as v from {suite.relation} as c
            where c.{col} is not null{_where(e)}
              and not exists (
                select 1 from {parent} as p where p.{parent_col} = c.{col})
        )
        select count(*), (select list(v) from (
            select distinct v from orphan order by v limit {SAMPLE_SIZE}))
        from orphan
        """
    ).fetchone()
    return result(
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

        keys = ", ".join(map(identifier, suite.index_columns)) or "*"
        with contextlib.suppress(duckdb.Error):  # the sample is a courtesy, the count is the check
            rows = con.execute(
                f"select {keys} from {query[count_rule.end() :]} limit {SAMPLE_SIZE}"
            ).fetchall()
            sample = jsonable([r[0] if len(r) == 1 else list(r) for r in rows])
    unexpected = int(value) if count_rule and isinstance(value, int) and not ok else 0
    return result(
        suite, e, ok, unexpected_count=unexpected or (0 if ok else 1), observed=value, sample=sample
    )


def _in_set_sql(con: Any, suite: TableSuite, e: Expect) -> CheckResult:
    col = identifier(e.kwargs["column"])
    if e.check == S.NOT_NULL:
        cond, pick = f"{col} is null", ", ".join(map(identifier, suite.index_columns)) or col
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
    return result(
        suite, e, total == 0, unexpected_count=int(total), sample=jsonable(list(rows or []))
    )


def columns(con: Any, relation: str) -> list[str]:
    return [d[0] for d in con.execute(f"select * from {relation} limit 0").description]


def _columns_match(suite: TableSuite, e: Expect, present: Sequence[str]) -> CheckResult:
    expected = list(e.kwargs["column_set"])
    missing = [c for c in expected if c not in present]
    extra = [c for c in present if c not in expected] if e.kwargs.get("exact_match") else []
    detail = {k: v for k, v in (("missing", missing), ("unexpected", extra)) if v}
    return result(
        suite,
        e,
        not detail,
        unexpected_count=len(missing) + len(extra),
        element_count=len(expected),
        sample=[detail] if detail else [],
    )


def row_count(suite: TableSuite, e: Expect, rows: int) -> CheckResult:
    if e.kwargs.get("operator"):
        ok = S.compare(rows, e.kwargs["operator"], e.kwargs["threshold"])
    else:
        low, high = e.kwargs.get("min_value"), e.kwargs.get("max_value")
        ok = (low is None or rows >= low) and (high is None or rows <= high)
    return result(suite, e, ok, unexpected_count=0 if ok else 1, observed=rows)


def evaluate(
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
        return row_count(suite, e, rows)
    if e.check == S.COLUMNS_MATCH:
        return _columns_match(suite, e, present)
    if e.check.startswith(S.SQL_PREFIX):
        return _sql_rule(con, suite, e)
    if e.check in (S.NOT_NULL, S.IN_SET):
        return _in_set_sql(con, suite, e)
    return result(suite, e, False, note=f"{e.note}; no engine runs {e.check}")
