"""Analyst commands: the customer 360 view, read-only SQL, and the SQL cookbook in ``analyses/``.

The CLI (``engagement-lake customer``, ``sql``, ``cookbook``) is a thin layer over these functions,
so the tests call them directly. Everything here only reads the warehouse, and two independent
walls keep it that way:

* the connection is a sandbox (``analyst_connection``): DuckDB opened read-only, file access
  limited to the folders the warehouse's own views read (``allowed_directories``), then external
  access, extension auto-install and auto-load switched off and the configuration locked, so no
  statement can read ``/etc/passwd``, the ground truth next to bronze, or the network, nor turn
  those settings back on;
* ad-hoc SQL is parsed and refused before it runs unless it is a single read-only statement,
  because even a sandboxed read-only connection may still write into an allowed folder
  (``COPY … TO``, ``EXPORT DATABASE``), and an analyst should get a clear refusal rather than an
  engine error.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from engagement_lake.config import LAYER_SCHEMAS, PROJECT_ROOT

if TYPE_CHECKING:
    from rich.console import RenderableType
    from sqlglot import exp

ANALYSES_DIR = PROJECT_ROOT / "analyses"
"""The SQL cookbook: one question per file, stated in the file's leading comment."""

OUTPUT_FORMATS = ("table", "csv", "json")
TABLE_MAX_ROWS = 200
"""A terminal table shows at most this many rows (CSV and JSON return everything)."""

READ_ONLY = "engagement-lake sql is read-only"

CUSTOMER_360 = "gold.mart_customer_360"
CUSTOMER_XREF = "silver.customer_xref"
CUSTOMER_ID_REDIRECTS = "silver.customer_id_redirects"


class WarehouseError(RuntimeError):
    """The warehouse file is missing, locked, or lacks a table the command needs."""


# ----------------------------------------------------------------------------- connection


SANDBOX_SETTINGS = (
    ("enable_external_access", "false"),
    ("autoinstall_known_extensions", "false"),
    ("autoload_known_extensions", "false"),
    ("python_enable_replacements", "false"),
    ("lock_configuration", "true"),
)
"""Applied in this order after ``allowed_directories``: DuckDB refuses that setting once external
access is off, and nothing can be changed once the configuration is locked. Replacement scans
are off so that a query cannot read a Python object of this process by naming it."""

_SOURCE_LITERAL = re.compile(r"read_parquet\(\s*'((?:[^']|'')+)'", re.IGNORECASE)


def view_source_directories(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The folders the warehouse's views read (the bronze folders of the staging views).

    dbt writes each staging view as ``read_parquet('<data>/bronze/<system>/<table>/*/*.parquet')``;
    the folder before the first wildcard is what a query of that view must be able to open, and
    nothing else is: the ground truth beside bronze, the home folder and the network stay shut.
    """
    found: set[str] = set()
    for (sql,) in con.execute(
        "select sql from duckdb_views() where not internal and sql is not null"
    ).fetchall():
        for literal in _SOURCE_LITERAL.findall(sql):
            path = literal.replace("''", "'")
            fixed = re.split(r"[*?\[{]", path, maxsplit=1)[0]
            folder = fixed if fixed.endswith("/") else str(Path(fixed).parent) + "/"
            if Path(folder).is_absolute():
                found.add(folder)
    return sorted(found)


def _sandbox(con: duckdb.DuckDBPyConnection, readable: Sequence[str]) -> None:
    folders = ", ".join("'" + folder.replace("'", "''") + "'" for folder in readable)
    con.execute(f"set allowed_directories = [{folders}]")
    for name, value in SANDBOX_SETTINGS:
        con.execute(f"set {name} = {value}")


@contextmanager
def analyst_connection(
    warehouse: Path, *, read_views: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only, sandboxed connection for whatever an analyst (or a dashboard) runs.

    ``read_views`` opens the folders the warehouse's views read (``view_source_directories``),
    so that the staging views still answer; without it only the warehouse's tables can be read.
    """
    warehouse = Path(warehouse)
    if not warehouse.is_file():
        raise WarehouseError(
            f"warehouse {warehouse} does not exist; build it first (engagement-lake build)"
        )
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        raise WarehouseError(
            f"cannot open warehouse {warehouse} read-only ({exc}); is a build writing to it?"
        ) from None
    try:
        _sandbox(con, view_source_directories(con) if read_views else ())
        yield con
    finally:
        con.close()


def _table_exists(con: duckdb.DuckDBPyConnection, qualified_name: str) -> bool:
    schema, name = qualified_name.split(".", 1)
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(found and found[0])


# ----------------------------------------------------------------------------- customer 360


def customer_360(warehouse: Path, customer: str) -> dict[str, Any]:
    """One customer's row of ``gold.mart_customer_360``, as a dict of column → value.

    ``customer`` is a golden id (``CUS-…``) or any source-system id known to the crosswalk (a shop
    ``C0000042``, a subscriber ``SUB…``, a support requester number …), because the people asking
    usually hold the id of the system they work in. ``system:id`` (e.g. ``support:127``) picks one
    system when the same id exists in several. A golden id absorbed by a merge finds the customer
    that absorbed it (``silver.customer_id_redirects``). Raises ``LookupError`` naming the id when
    no customer matches, or when a source id belongs to more than one golden customer.
    """
    wanted = customer.strip()
    if not wanted:
        raise LookupError("no customer id given")
    with analyst_connection(warehouse, read_views=False) as con:
        if not _table_exists(con, CUSTOMER_360):
            raise WarehouseError(
                f"{CUSTOMER_360} is not in warehouse {warehouse}; build gold first"
            )
        row = _mart_row(con, wanted)
        if row is not None:
            return row
        golden_id = _resolve_redirect(con, wanted) or _resolve_source_id(con, wanted)
        row = _mart_row(con, golden_id) if golden_id else None
    if row is None:
        where = f" (golden id {golden_id})" if golden_id else ""
        raise LookupError(f"customer {wanted!r}{where} not found in {CUSTOMER_360}")
    return row


def _mart_row(con: duckdb.DuckDBPyConnection, customer_id: str) -> dict[str, Any] | None:
    cursor = con.execute(f"select * from {CUSTOMER_360} where customer_id = ?", [customer_id])
    columns = [d[0] for d in cursor.description]
    found = cursor.fetchone()
    return dict(zip(columns, found, strict=True)) if found else None


def _resolve_redirect(con: duckdb.DuckDBPyConnection, wanted: str) -> str | None:
    """The surviving golden id of an id a merge absorbed; None when it was not absorbed."""
    if not _table_exists(con, CUSTOMER_ID_REDIRECTS):
        return None
    found = con.execute(
        f"select survivor_customer_id from {CUSTOMER_ID_REDIRECTS} where absorbed_customer_id = ?",
        [wanted],
    ).fetchone()
    return found[0] if found else None


def _resolve_source_id(con: duckdb.DuckDBPyConnection, wanted: str) -> str | None:
    """The golden id of a source-system id, via the MDM crosswalk; None when unknown."""
    if not _table_exists(con, CUSTOMER_XREF):
        return None
    system, _, source_id = wanted.partition(":")
    if source_id:
        matches = con.execute(
            f"select distinct source_system, customer_id from {CUSTOMER_XREF} "
            "where lower(source_system) = lower(?) and source_id = ?",
            [system.strip(), source_id.strip()],
        ).fetchall()
    else:
        matches = con.execute(
            f"select distinct source_system, customer_id from {CUSTOMER_XREF} where source_id = ?",
            [wanted],
        ).fetchall()
    golden_ids = sorted({customer_id for _, customer_id in matches if customer_id})
    if len(golden_ids) > 1:
        options = ", ".join(f"{system}:{wanted}" for system, _ in sorted(matches))
        raise LookupError(
            f"customer {wanted!r} is ambiguous: it is a source id of {len(golden_ids)} golden "
            f"customers ({', '.join(golden_ids)}); ask for one of {options}"
        )
    return golden_ids[0] if golden_ids else None


# Panels of the 360 view, in display order: known column names first, then name fragments that
# place columns the mart may add later, so a renamed or new column still lands somewhere sensible.
_SECTIONS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "Profile",
        (
            "customer_id",
            "customer_key",
            "full_name",
            "first_name",
            "last_name",
            "email",
            "phone",
            "loyalty_tier",
            "signup_date",
            "city",
            "state",
            "postal_code",
            "birth_date",
        ),
        ("loyalty", "signup", "address"),
    ),
    (
        "Purchases",
        (
            "lifetime_revenue",
            "order_count",
            "last_order_date",
            "favourite_category",
            "favorite_category",
            "average_order_value",
            "days_since_last_order",
            "return_rate",
        ),
        ("order", "revenue", "purchase", "spend", "return", "categor"),
    ),
    (
        "FitMap",
        (
            "fitmap_scan_count",
            "last_fitmap_scan_date",
            "recommended_top_size",
            "recommended_bottom_size",
        ),
        ("fitmap", "scan", "size"),
    ),
    (
        "Support",
        ("ticket_count", "average_satisfaction", "last_ticket_date", "open_ticket_count"),
        ("ticket", "satisfaction", "support", "nps", "csat"),
    ),
    (
        "Reviews",
        ("review_count", "average_rating_given", "last_review_date"),
        ("review", "rating"),
    ),
    (
        "E-mail",
        ("email_open_rate", "email_click_rate", "last_email_interaction_date"),
        ("email_", "open_rate", "click_rate", "unsubscri"),
    ),
    (
        "Opportunities",
        ("open_opportunity_count", "open_opportunity_value"),
        ("opportunit",),
    ),
    (
        "Value & risk",
        (
            "predicted_clv_12mo",
            "churn_probability",
            "health_score",
            "health_level",
            "rfm_score",
            "rfm_segment",
            "lifecycle_stage",
            "behavioural_segment",
        ),
        ("clv", "churn", "health", "rfm", "segment", "lifecycle", "p_alive", "risk", "value"),
    ),
    (
        "Next best action",
        ("next_best_action", "next_best_action_reason"),
        ("next_best", "nba"),
    ),
)

_ACRONYMS = {
    "clv": "CLV",
    "rfm": "RFM",
    "nps": "NPS",
    "csat": "CSAT",
    "12mo": "12 mo",
    "fitmap": "FitMap",
}
_HEADER_ONLY = ("as_of_date",)
"""Columns shown in the header of the view rather than in a section."""
_MONEY_WORDS = ("revenue", "value", "clv", "amount", "spend", "price")
_NOT_MONEY_WORDS = ("decile", "count", "score", "rank", "rate", "probability")


def group_customer_360(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The 360 row split into titled sections (insertion-ordered), the leftovers under "Other"."""
    sections: dict[str, dict[str, Any]] = {title: {} for title, _, _ in _SECTIONS}
    placed: set[str] = set()
    for title, names, _ in _SECTIONS:
        for name in names:
            if name in data:
                sections[title][name] = data[name]
                placed.add(name)
    other: dict[str, Any] = {}
    for name, value in data.items():
        if name in placed or name in _HEADER_ONLY:
            continue
        title = next(
            (t for t, _, fragments in _SECTIONS if any(f in name.lower() for f in fragments)),
            None,
        )
        (sections[title] if title else other)[name] = value
    if other:
        sections["Other"] = other
    return {title: columns for title, columns in sections.items() if columns}


def _label(column: str) -> str:
    words = [_ACRONYMS.get(word, word) for word in column.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _display_value(column: str, value: Any) -> str:
    """Money as dollars, rates as percentages, dates as ISO, missing as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        name = column.lower()
        number = float(value)
        if name.endswith(("_rate", "_probability", "_share")) and 0 <= number <= 1:
            return f"{number:.0%}" if number in (0, 1) else f"{number:.1%}"
        if any(w in name for w in _MONEY_WORDS) and not any(w in name for w in _NOT_MONEY_WORDS):
            return f"${number:,.2f}"
        if isinstance(value, int):
            return f"{value:,}"
        return f"{number:,.2f}"
    return str(value)


def render_customer_360(data: Mapping[str, Any]) -> RenderableType:
    """A rich renderable: a header, then one panel per section of the 360 view."""
    from rich.columns import Columns
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    sections = group_customer_360(data)
    name = data.get("full_name") or data.get("customer_id") or "customer"
    header = Text.assemble(
        (str(name), "bold"),
        "  ",
        (str(data.get("customer_id", "")), "dim"),
        "  ",
        (str(data.get("loyalty_tier") or ""), "cyan"),
    )
    if data.get("as_of_date") is not None:
        header.append(f"  as of {_display_value('as_of_date', data['as_of_date'])}", "dim")
    panels: list[RenderableType] = []
    footer: list[RenderableType] = []
    for title, columns in sections.items():
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        for column, value in columns.items():
            grid.add_row(_label(column), _display_value(column, value))
        # the action is what the reader came for: full width, below the facts that explain it
        if title == "Next best action":
            footer.append(Panel(grid, title=title, title_align="left", border_style="green"))
        else:
            panels.append(Panel(grid, title=title, title_align="left", border_style="blue"))
    parts: list[RenderableType] = [Panel(header, border_style="bold blue"), Columns(panels)]
    return Group(*parts, *footer)


# ----------------------------------------------------------------------------- read-only SQL

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
            "warehouse (its tables, and the bronze files its staging views read)"
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


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def format_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """RFC 4180 CSV with a header; NULL is empty, booleans true/false, dates ISO."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_csv_value(v) for v in row] for row in rows)
    return out.getvalue()


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return (
            int(value)
            if value == value.to_integral_value() and value.as_tuple().exponent >= 0
            else float(value)
        )
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def format_json(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A JSON array of objects, one per row (decimals as numbers, dates as ISO strings)."""
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    return json.dumps(records, default=_json_value, indent=2, ensure_ascii=False) + "\n"


def format_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, width: int | None = None
) -> str:
    """A plain-text rich table (no colour codes, so it can be piped); long results are cut."""
    from rich.console import Console
    from rich.table import Table

    shown = rows[:TABLE_MAX_ROWS]
    table = Table(show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in shown:
        table.add_row(*("NULL" if v is None else str(_csv_value(v)) for v in row))
    if len(rows) > TABLE_MAX_ROWS:
        footer = (
            f"more than {TABLE_MAX_ROWS} rows, first {TABLE_MAX_ROWS} shown "
            "(--format csv or json returns all)"
        )
    else:
        footer = f"{len(rows)} row{'' if len(rows) == 1 else 's'}"
    out = io.StringIO()
    console = Console(
        file=out,
        width=width or shutil.get_terminal_size((120, 24)).columns,
        color_system=None,
        force_terminal=False,
        legacy_windows=False,
    )
    console.print(table)
    console.print(footer, highlight=False)  # below, not a caption, so it never wraps to the table
    return out.getvalue()


# ----------------------------------------------------------------------------- cookbook


@dataclass(frozen=True)
class CookbookEntry:
    """One analysis of the cookbook: its name (file stem), the question it answers, its file."""

    name: str
    question: str
    path: Path


def _leading_question(sql: str) -> str:
    """The first paragraph of the file's leading ``--`` comment, on one line."""
    lines: list[str] = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped and not lines:
            continue
        if not stripped.startswith("--"):
            break
        text = stripped[2:].strip()
        if not text:
            if lines:
                break
            continue
        lines.append(text)
    question = " ".join(lines)
    return re.sub(r"^(question|q)\s*:\s*", "", question, flags=re.IGNORECASE)


def list_cookbook(analyses_dir: Path = ANALYSES_DIR) -> list[CookbookEntry]:
    """Every ``analyses/*.sql`` file with the question its leading comment states, by name."""
    analyses_dir = Path(analyses_dir)
    if not analyses_dir.is_dir():
        return []
    return [
        CookbookEntry(path.stem, _leading_question(path.read_text(encoding="utf-8")), path)
        for path in sorted(analyses_dir.glob("*.sql"))
    ]


_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_REF = re.compile(
    r"""^\{\{-?\s*ref\(\s*(?:['"][\w.]+['"]\s*,\s*)?['"](?P<name>\w+)['"]\s*\)\s*-?\}\}$"""
)
_AS_OF_VAR = re.compile(
    r"""^\{\{-?\s*var\(\s*['"]as_of_date['"]\s*(?:,\s*(?P<default>[^)]*?)\s*)?\)\s*-?\}\}$"""
)
_QUOTED_AS_OF = re.compile(r"""'(\{\{-?\s*var\(\s*['"]as_of_date['"][^}]*\}\})'""")


def render_cookbook_sql(
    sql: str,
    schemas: Mapping[str, str] | None = None,
    *,
    name: str = "analysis",
) -> tuple[str, bool]:
    """Resolve the little dbt Jinja a cookbook file may use, without dbt.

    ``{{ ref('x') }}`` becomes ``gold.x`` (or ``<schema>.x`` when ``schemas`` maps x to another
    layer) and ``{{ var('as_of_date', …) }}``, quoted or not, becomes the date parameter
    ``cast($as_of_date as date)``, bound at run time rather than pasted in. Jinja comments are
    dropped. Any other Jinja raises ``ValueError`` naming it: a half-rendered query must not run.
    Returns the SQL and whether it needs the ``as_of_date`` parameter.
    """
    schemas = schemas or {}
    uses_as_of = False
    text = _JINJA_COMMENT.sub("", sql)
    text = _QUOTED_AS_OF.sub(lambda m: m.group(1), text)

    def replace(match: re.Match[str]) -> str:
        nonlocal uses_as_of
        tag = match.group(0)
        ref = _REF.match(tag)
        if ref:
            table = ref.group("name")
            return f"{schemas.get(table, 'gold')}.{table}"
        if _AS_OF_VAR.match(tag):
            uses_as_of = True
            return "cast($as_of_date as date)"
        snippet = " ".join(tag.split())
        raise ValueError(
            f"cookbook {name!r} uses unsupported Jinja {snippet}; "
            "only {{ ref('model') }} and {{ var('as_of_date') }} can be rendered outside dbt"
        )

    return _JINJA.sub(replace, text), uses_as_of


def _as_of_default(sql: str) -> date | None:
    """The default given in ``var('as_of_date', '2026-06-30')``, if the file gives one."""
    for tag in _JINJA.findall(sql):
        match = _AS_OF_VAR.match(tag)
        if match and match.group("default"):
            literal = match.group("default").strip().strip("'\"")
            try:
                return date.fromisoformat(literal)
            except ValueError:
                return None
    return None


def _model_schemas(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Table name → layer schema, gold first: where a ``ref('x')`` of the cookbook lives."""
    found = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in (select unnest(?))",
        [list(LAYER_SCHEMAS)],
    ).fetchall()
    order = {schema: i for i, schema in enumerate(("gold", *LAYER_SCHEMAS))}
    schemas: dict[str, str] = {}
    for schema, table in sorted(found, key=lambda row: order.get(row[0], 99)):
        schemas.setdefault(table, schema)
    return schemas


def _lake_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    """The lake's as-of date: the last past day of gold.dim_date (dbt's as_of_date macro)."""
    if not _table_exists(con, "gold.dim_date"):
        return None
    found = con.execute(
        "select max(date_day) from gold.dim_date where is_past and year_number > 0"
    ).fetchone()
    return found[0] if found else None


def run_cookbook(
    warehouse: Path,
    name: str,
    analyses_dir: Path = ANALYSES_DIR,
    fmt: str = "table",
    *,
    as_of: date | None = None,
    width: int | None = None,
) -> str:
    """Render one cookbook analysis and run it read-only through ``run_sql``.

    ``as_of`` fills ``var('as_of_date')``; without it, the file's default, else the lake's own
    as-of date. An unknown name raises ``LookupError`` listing the available analyses.
    """
    entries = {entry.name: entry for entry in list_cookbook(analyses_dir)}
    key = name.removesuffix(".sql")
    if key not in entries:
        available = ", ".join(entries) or "none"
        raise LookupError(f"no cookbook analysis named {name!r}; available: {available}")
    raw = entries[key].path.read_text(encoding="utf-8")
    with analyst_connection(warehouse) as con:
        schemas = _model_schemas(con)
        lake_as_of = _lake_as_of(con)
    sql, uses_as_of = render_cookbook_sql(raw, schemas, name=key)
    params: dict[str, Any] | None = None
    if uses_as_of:
        day = as_of or _as_of_default(raw) or lake_as_of
        if day is None:
            raise ValueError(
                f"cookbook {key!r} needs an as-of date and the warehouse has no gold.dim_date; "
                "pass one"
            )
        params = {"as_of_date": day.isoformat()}
    return run_sql(warehouse, sql, params, fmt, width=width)
