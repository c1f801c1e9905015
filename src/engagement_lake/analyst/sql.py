"""Read-only SQL for analysts: one statement, parsed and refused before it runs unless it reads.

Even a sandboxed read-only connection may still write into an allowed folder (``COPY … TO``,
``EXPORT DATABASE``), and an analyst should get a clear refusal rather than an engine error, so
the statement is checked with sqlglot (and DuckDB's own parser) first, then run through
``analyst_connection`` with values bound as parameters.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from engagement_lake.analyst.connection import analyst_connection
from engagement_lake.analyst.formats import (
    TABLE_MAX_ROWS,
    format_csv,
    format_json,
    format_table,
)
from engagement_lake.config import OUTPUT_FORMATS

if TYPE_CHECKING:
    from sqlglot import exp

READ_ONLY = "engagement-lake sql is read-only"


_ALLOWED_STATEMENTS = (
    "Select",
    "SetOperation",
    "Subquery",
    "Describe",
    "Show",
    "Summarize",
    "Pivot",
    "Values",
)
"""Root statements an analyst may run, all of which only read: a query, DESCRIBE, SHOW, DuckDB's
SUMMARIZE, PIVOT / UNPIVOT and a bare VALUES list (EXPLAIN is checked through the statement it
explains)."""

_FORBIDDEN_NODES = (
    "Insert",
    "Update",
    "Delete",
    "Merge",
    "Create",
    "Drop",
    "Alter",
    "TruncateTable",
    "Copy",
    "Attach",
    "Detach",
    "Command",
    "Pragma",
    "Set",
    "Install",
    "Use",
    "Transaction",
    "Commit",
    "Rollback",
    "Export",
    "LoadData",
    "Analyze",
    "Refresh",
    "Kill",
    "Cache",
    "Uncache",
)
"""Nodes refused anywhere in the tree, e.g. a DELETE … RETURNING inside a CTE."""

_EXPLAIN = re.compile(r"^\s*explain(\s+analyze)?\b", re.IGNORECASE)


def _statement_word(node: exp.Expression) -> str:
    """The SQL keyword an analyst would recognise for a refused node (INSERT, COPY, …)."""
    from sqlglot import exp

    if isinstance(node, exp.Command):
        return str(node.this).upper()
    try:
        words = node.sql(dialect="duckdb").split()
    except Exception:  # sqlglot cannot print every node; fall back to its class name
        words = []
    return words[0].upper() if words else type(node).__name__.upper()


def check_read_only(query: str) -> None:
    """Refuse anything but one SELECT / WITH … SELECT / DESCRIBE / SHOW / EXPLAIN statement.

    Two parsers must agree, because each misses things the other sees: sqlglot walks the whole
    tree (a DELETE inside a CTE, a PRAGMA DuckDB would rewrite into a SELECT) and names what it
    refuses; DuckDB's own parser is the authority on how many statements there are and of which
    type, including DuckDB syntax sqlglot cannot parse (``?::date``). Raises ``PermissionError``
    ("… is not allowed: engagement-lake sql is read-only") for writes, settings, attachments,
    file export and multiple statements, and ``ValueError`` for an empty or unparseable query.
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    text = query.strip().rstrip(";").strip()
    if not text:
        raise ValueError("the query is empty")
    explained = _EXPLAIN.match(text)
    inner = text[explained.end() :] if explained else text
    sqlglot_log = logging.getLogger("sqlglot")
    level = sqlglot_log.level
    sqlglot_log.setLevel(logging.ERROR)  # its "falling back to Command" warnings are ours to judge
    try:
        statements = [s for s in sqlglot.parse(inner, read="duckdb") if s is not None]
    except ParseError:
        statements = None  # a DuckDB dialect gap: DuckDB's parser and the leading word decide
    except RecursionError:
        raise ValueError(_TOO_DEEP) from None
    finally:
        sqlglot_log.setLevel(level)
    if statements is not None:
        if not statements:
            raise ValueError("the query is empty")
        if len(statements) > 1:
            raise PermissionError(
                f"multiple statements ({len(statements)}) are not allowed: {READ_ONLY}; "
                "run one query at a time"
            )
        statement = statements[0]
        forbidden = tuple(getattr(exp, name) for name in _FORBIDDEN_NODES if hasattr(exp, name))
        try:
            found = statement.find(*forbidden)  # find() includes the root itself
            if found is not None:
                raise PermissionError(f"{_statement_word(found)} is not allowed: {READ_ONLY}")
            allowed = tuple(
                getattr(exp, name) for name in _ALLOWED_STATEMENTS if hasattr(exp, name)
            )
            if not isinstance(statement, allowed):
                raise PermissionError(f"{_statement_word(statement)} is not allowed: {READ_ONLY}")
            # DuckDB turns a PIVOT without an IN list into a hidden CREATE TYPE of its values
            pivots = statement.find(exp.Pivot) is not None
        except RecursionError:
            raise ValueError(_TOO_DEEP) from None
        _check_with_duckdb_parser(text, pivots=pivots)
    else:
        pivots = re.search(r"\bpivot\b", inner, re.IGNORECASE) is not None
        _check_with_duckdb_parser(text, pivots=pivots)  # first, so that a typo is a syntax error
        leading = re.match(r"[\s(]*(\w+)", inner)
        word = leading.group(1).upper() if leading else "?"
        if word not in _QUERY_WORDS:
            raise PermissionError(f"{word} is not allowed: {READ_ONLY}")


_QUERY_WORDS = {
    "SELECT",
    "WITH",
    "FROM",
    "DESCRIBE",
    "DESC",
    "SHOW",
    "SUMMARIZE",
    "PIVOT",
    "UNPIVOT",
    "VALUES",
}
"""Leading words of an allowed query, for SQL only DuckDB's parser understands."""

_TOO_DEEP = "the query nests too deeply to be checked; simplify it (nothing was run)"


def _check_with_duckdb_parser(text: str, *, pivots: bool = False) -> None:
    """One statement, and DuckDB classes it as a query (SELECT, or EXPLAIN of a query).

    With ``pivots`` the CREATE TYPE statements DuckDB itself adds for a PIVOT (they have no text
    of their own) are not counted: the analyst wrote one statement.
    """
    try:
        statements = duckdb.extract_statements(text)
    except duckdb.Error as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else "syntax error"
        raise ValueError(f"cannot parse the query ({first_line}); nothing was run") from None
    if pivots:
        statements = [
            s for s in statements if s.query.strip() or s.type != duckdb.StatementType.CREATE
        ]
    if len(statements) > 1:
        raise PermissionError(
            f"multiple statements ({len(statements)}) are not allowed: {READ_ONLY}; "
            "run one query at a time"
        )
    if not statements:
        raise ValueError("the query is empty")
    kind = statements[0].type
    if kind not in (duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN):
        raise PermissionError(f"{kind.name} is not allowed: {READ_ONLY}")


_REFUSED_PATH = re.compile(r'Cannot access (?:file|directory) "([^"]*)"')


def _sandbox_refusal(exc: duckdb.Error) -> str:
    """DuckDB's permission error as one line an analyst can act on."""
    found = _REFUSED_PATH.search(str(exc))
    if found:
        return (
            f'reading "{found.group(1)}" is not allowed: engagement-lake sql reads only the '
            "warehouse (its tables, and the files its views read)"
        )
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"not allowed ({first}): engagement-lake sql reads only the warehouse"


def run_sql(
    warehouse: Path,
    query: str,
    params: Sequence[Any] | Mapping[str, Any] | None = None,
    fmt: str = "table",
    *,
    width: int | None = None,
) -> str:
    """Run one read-only query and return its result as a table, CSV or JSON text.

    The query is checked (``check_read_only``) before the warehouse is opened, and the warehouse
    is opened read-only. Values come in through ``params`` (``?`` or ``$name`` placeholders) and
    are bound by DuckDB, never pasted into the SQL. ``fmt="table"`` shows at most
    ``TABLE_MAX_ROWS`` rows; CSV and JSON return every row.
    """
    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose {', '.join(OUTPUT_FORMATS)}")
    check_read_only(query)
    limit = TABLE_MAX_ROWS + 1 if fmt == "table" else None
    with analyst_connection(warehouse) as con:
        try:
            cursor = con.execute(query, params) if params else con.execute(query)
        except duckdb.PermissionException as exc:
            raise PermissionError(_sandbox_refusal(exc)) from None
        except duckdb.Error as exc:
            raise ValueError(f"query failed: {exc}") from None
        if cursor.description is None:  # a statement without a result set
            return ""
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchmany(limit) if limit else cursor.fetchall()
    if fmt == "csv":
        return format_csv(columns, rows)
    if fmt == "json":
        return format_json(columns, rows)
    return format_table(columns, rows, width=width)
