"""Compare two warehouses table by table, column by column, to the bit.

A build is reproducible when the same bronze gives the same tables, whatever the order in which
DuckDB's threads happened to read or add the rows. So the comparison must not depend on row order
either: every column is reduced to an order-independent checksum, the sum of its values' hashes
(a sum rather than ``bit_xor``, so that two equal rows do not cancel out), and each table's rows
to the sum of the hash of the whole row (a column may match as a multiset while its values moved
between rows). DuckDB's ``hash`` reads a double's bits, so a sum that differs in the last bit
shows; -0.0 and 0.0, and every NaN, hash alike, as they compare equal.

Both files are attached read-only to one in-memory connection, so neither warehouse is locked
for writing and the checksums come from the same DuckDB build. The same check serves a second
build from scratch and an incremental build against a full one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engagement_lake.sql_text import identifier, literal

__all__ = ["DIFFERENCE_KINDS", "Difference", "compare_warehouses", "table_checksums"]

DIFFERENCE_KINDS = ("missing_table", "missing_column", "column_type", "row_count", "values", "rows")
"""What a ``Difference`` can be: a table or column only one side has, a column typed
differently, a different number of rows, a column whose values differ, or rows that differ
although every column matches as a multiset (values moved between rows)."""

_SIDES = ("wa", "wb")


@dataclass(frozen=True)
class Difference:
    """One way the two warehouses differ; ``column`` is None for a table-level difference."""

    schema: str
    table: str
    column: str | None
    kind: str
    detail: str

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"

    def __str__(self) -> str:
        where = self.relation if self.column is None else f"{self.relation}.{self.column}"
        return f"{where}: {self.kind} ({self.detail})"


@dataclass(frozen=True)
class _Column:
    name: str
    data_type: str


def _relations(
    con: Any, side: str, schemas: Sequence[str] | None, include_views: bool
) -> dict[tuple[str, str], list[_Column]]:
    """Every table (and view, if asked) of one attached warehouse with its columns in order."""
    kinds = ["'BASE TABLE'", "'VIEW'"] if include_views else ["'BASE TABLE'"]
    rows = con.execute(
        f"""
        select c.table_schema, c.table_name, c.column_name, c.data_type
        from information_schema.columns as c
        join information_schema.tables as t
            on t.table_catalog = c.table_catalog
            and t.table_schema = c.table_schema
            and t.table_name = c.table_name
        where c.table_catalog = ? and t.table_type in ({", ".join(kinds)})
        order by c.table_schema, c.table_name, c.ordinal_position
        """,
        [side],
    ).fetchall()
    wanted = set(schemas) if schemas is not None else None
    out: dict[tuple[str, str], list[_Column]] = {}
    for schema, table, column, data_type in rows:
        if wanted is None or schema in wanted:
            out.setdefault((schema, table), []).append(_Column(column, data_type))
    return out


def table_checksums(
    con: Any, relation: str, columns: Sequence[str]
) -> tuple[int, int | None, dict[str, int | None]]:
    """``(row count, whole-row checksum, {column: checksum})`` of ``relation`` (a qualified,
    quoted name) on ``con``: sums of 64-bit hashes, accumulated as HUGEINT so they never wrap and
    never depend on row order."""
    if not columns:
        (count,) = con.execute(f"select count(*) from {relation}").fetchone()
        return int(count), None, {}
    quoted = [identifier(c) for c in columns]
    per_column = ", ".join(f"sum(cast(hash({q}) as hugeint))" for q in quoted)
    row = con.execute(
        f"select count(*), sum(cast(hash({', '.join(quoted)}) as hugeint)), {per_column} "
        f"from {relation}"
    ).fetchone()
    return int(row[0]), row[1], dict(zip(columns, row[2:], strict=True))


def _compare_table(
    con: Any, schema: str, table: str, cols_a: list[_Column], cols_b: list[_Column]
) -> list[Difference]:
    found: list[Difference] = []
    types_a = {c.name: c.data_type for c in cols_a}
    types_b = {c.name: c.data_type for c in cols_b}
    for name in types_a.keys() - types_b.keys():
        found.append(Difference(schema, table, name, "missing_column", "only in the first"))
    for name in types_b.keys() - types_a.keys():
        found.append(Difference(schema, table, name, "missing_column", "only in the second"))
    common = [c.name for c in cols_a if c.name in types_b]
    for name in common:
        if types_a[name] != types_b[name]:
            detail = f"{types_a[name]} vs {types_b[name]}"
            found.append(Difference(schema, table, name, "column_type", detail))
    same_type = [n for n in common if types_a[n] == types_b[n]]
    sums = [
        table_checksums(con, f"{side}.{identifier(schema)}.{identifier(table)}", same_type)
        for side in _SIDES
    ]
    (count_a, row_a, col_a), (count_b, row_b, col_b) = sums
    if count_a != count_b:
        found.append(Difference(schema, table, None, "row_count", f"{count_a} vs {count_b} rows"))
    differing = [n for n in same_type if col_a[n] != col_b[n]]
    for name in differing:
        detail = f"{types_a[name]}: the column's checksums differ over {count_a} vs {count_b} rows"
        found.append(Difference(schema, table, name, "values", detail))
    if not differing and count_a == count_b and row_a != row_b:
        detail = "every column matches, but values are paired into rows differently"
        found.append(Difference(schema, table, None, "rows", detail))
    return found


def compare_warehouses(
    a: str | os.PathLike[str],
    b: str | os.PathLike[str],
    *,
    schemas: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    include_views: bool = False,
) -> list[Difference]:
    """Every difference between warehouse files ``a`` and ``b``: tables and columns present on
    one side only, column types, row counts, and per column any value that is not bit-identical
    (order-independent checksums, so row order never counts). ``schemas`` limits the comparison
    (default: every schema of either file); ``exclude`` names ``schema.table`` relations to leave
    out (state that is not a function of bronze, such as an id ledger); views are skipped unless
    ``include_views``, since a view is a query over tables or bronze that both builds share. An
    empty list means the two warehouses hold the same data."""
    import duckdb

    for path in (a, b):
        if not Path(path).is_file():
            raise FileNotFoundError(f"no warehouse at {path}")
    wanted = sorted(set(schemas)) if schemas is not None else None
    con = duckdb.connect()
    try:
        for side, path in zip(_SIDES, (a, b), strict=True):
            con.execute(f"attach {literal(Path(path).resolve())} as {side} (read_only)")
        rel_a = _relations(con, "wa", wanted, include_views)
        rel_b = _relations(con, "wb", wanted, include_views)
        found: list[Difference] = []
        skipped = set(exclude)
        for schema, table in sorted(rel_a.keys() | rel_b.keys()):
            if f"{schema}.{table}" in skipped:
                continue
            if (schema, table) not in rel_b:
                found.append(Difference(schema, table, None, "missing_table", "only in the first"))
            elif (schema, table) not in rel_a:
                found.append(Difference(schema, table, None, "missing_table", "only in the second"))
            else:
                cols = (rel_a[(schema, table)], rel_b[(schema, table)])
                found += _compare_table(con, schema, table, *cols)
        return found
    finally:
        con.close()
