"""Output formats of ``engagement-lake sql`` and ``cookbook``: a terminal table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

TABLE_MAX_ROWS = 200
"""A terminal table shows at most this many rows (CSV and JSON return everything)."""


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
