"""The analyst's connection: read-only and sandboxed, whatever runs through it.

DuckDB is opened read-only, file access is limited to the folders the warehouse's own views read
(``allowed_directories``), then external access, extension auto-install and auto-load are
switched off and the configuration locked, so no statement can read ``/etc/passwd``, the ground
truth next to bronze, or the network, nor turn those settings back on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from engagement_lake.sql_text import literal


class WarehouseError(RuntimeError):
    """The warehouse file is missing, locked, or lacks a table the command needs."""


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
    """The folders the warehouse's views read.

    The project's warehouse holds tables only (staging included), so this is empty for it; a
    view a user adds over files, such as
    ``read_parquet('<data>/bronze/<system>/<table>/*/*.parquet')``, still answers: the folder
    before the first wildcard is what a query of that view must be able to open, and nothing else
    is: the ground truth beside bronze, the home folder and the network stay shut.
    """
    found: set[str] = set()
    for (sql,) in con.execute(
        "select sql from duckdb_views() where not internal and sql is not null"
    ).fetchall():
        for quoted in _SOURCE_LITERAL.findall(sql):
            path = quoted.replace("''", "'")
            fixed = re.split(r"[*?\[{]", path, maxsplit=1)[0]
            folder = fixed if fixed.endswith("/") else str(Path(fixed).parent) + "/"
            if Path(folder).is_absolute():
                found.add(folder)
    return sorted(found)


def _sandbox(con: duckdb.DuckDBPyConnection, readable: Sequence[str]) -> None:
    folders = ", ".join(map(literal, readable))
    con.execute(f"set allowed_directories = [{folders}]")
    for name, value in SANDBOX_SETTINGS:
        con.execute(f"set {name} = {value}")


@contextmanager
def analyst_connection(
    warehouse: Path, *, read_views: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only, sandboxed connection for whatever an analyst (or a dashboard) runs.

    ``read_views`` opens the folders the warehouse's views read (``view_source_directories``),
    so that such views still answer; without it only the warehouse's tables can be read.
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


def table_exists(con: duckdb.DuckDBPyConnection, qualified_name: str) -> bool:
    schema, name = qualified_name.split(".", 1)
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(found and found[0])
