"""Is Spark's warehouse the same as DuckDB's? Table by table, built from the same bronze.

The comparison runs in DuckDB, which reads Spark's tables straight from their Parquet folders
(``<spark dir>/tables/<schema>.db/<table>``): no Spark session is needed to check a Spark build,
and both sides are read by one engine with one set of types. A table is

- ``equal``: the same rows, every value equal (floating-point columns to the last bit);
- ``within tolerance``: the same rows and keys, every exact column equal, every floating-point or
  decimal value within ``RELATIVE_TOLERANCE`` of DuckDB's;
- ``different``: anything else, with the reason (missing table or column, row counts, how many
  rows differ in which columns).

Rows are paired by the table's primary key (the gold contract's, ``publish.gold_keys``); a table
without one is compared as a multiset of its exact columns, its numeric columns by their sums.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

RELATIVE_TOLERANCE = 1e-9
"""How far a numeric value may stray from DuckDB's, relative to the larger of the two: parallel
sums on two engines round differently in the last bits, and nothing a user reads is that fine."""

_NUMERIC_PREFIXES = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")
_TEMPORAL_PREFIXES = ("TIMESTAMP", "DATE", "TIME")


@dataclass
class TableParity:
    """The verdict on one table."""

    schema: str
    table: str
    status: str  # equal | within tolerance | different
    duckdb_rows: int | None = None
    spark_rows: int | None = None
    reasons: list[str] = field(default_factory=list)
    max_relative_difference: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


def spark_table_path(spark_dir: Path, schema: str, table: str) -> Path:
    """Where the spark target writes a table (spark.sql.warehouse.dir is <spark dir>/tables)."""
    return spark_dir / "tables" / f"{schema}.db" / table


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    rows = con.execute(f"describe select * from {relation}").fetchall()
    return {name: str(kind).upper() for name, kind, *_ in rows}


def _is_numeric(kind: str) -> bool:
    return kind.startswith(_NUMERIC_PREFIXES)


def _exact(column: str, kind: str, side: str) -> str:
    """A column as comparable text: temporal values as naive UTC timestamps (Spark writes
    instants, DuckDB may not), everything else by its text."""
    ref = f'{side}."{column}"'
    if kind.startswith(_TEMPORAL_PREFIXES) and not kind.startswith("TIME "):
        if kind.startswith("DATE"):
            return f"cast({ref} as date)::varchar"
        return f"cast(timezone('UTC', {ref}::timestamptz) as timestamp)::varchar"
    if kind.startswith(("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT")):
        return f"cast({ref} as hugeint)::varchar"
    return f"{ref}::varchar"


def compare_table(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    spark_dir: Path,
    primary_key: Iterable[str] = (),
) -> TableParity:
    """Compare ``schema.table`` of the DuckDB database attached as ``duck`` with Spark's."""
    result = TableParity(schema, table, "equal")
    path = spark_table_path(spark_dir, schema, table)
    # a partitioned table (the staged tables, by _load_date) keeps its files in key=value folders
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else []
    duck_rel = f'duck."{schema}"."{table}"'
    try:
        duck_cols = _columns(con, duck_rel)
    except duckdb.Error:
        duck_cols = {}
    if not duck_cols:
        return TableParity(schema, table, "different", reasons=["not in the DuckDB warehouse"])
    result.duckdb_rows = con.execute(f"select count(*) from {duck_rel}").fetchone()[0]
    if not files:
        if result.duckdb_rows == 0 and path.is_dir():
            result.spark_rows = 0
            return result
        result.status = "different"
        result.reasons.append(f"no Spark table at {path}")
        return result
    nested = any(f.parent != path for f in files)
    spark_rel = (
        f"read_parquet('{path}/**/*.parquet', hive_partitioning = true)"
        if nested
        else f"read_parquet('{path}/*.parquet')"
    )
    con.execute(f'create or replace temp view "spark_side" as select * from {spark_rel}')
    spark_cols = _columns(con, "spark_side")
    result.spark_rows = con.execute("select count(*) from spark_side").fetchone()[0]
    missing = [c for c in duck_cols if c not in spark_cols]
    extra = [c for c in spark_cols if c not in duck_cols]
    if missing:
        result.reasons.append(f"columns missing on Spark: {', '.join(missing)}")
    if extra:
        result.reasons.append(f"columns only on Spark: {', '.join(extra)}")
    if result.duckdb_rows != result.spark_rows:
        result.reasons.append(f"rows: DuckDB {result.duckdb_rows}, Spark {result.spark_rows}")
    shared = [c for c in duck_cols if c in spark_cols]
    numeric = [c for c in shared if _is_numeric(duck_cols[c])]
    exact = [c for c in shared if c not in numeric]
    key = [c for c in primary_key if c in shared]
    if key and result.duckdb_rows == result.spark_rows:
        _compare_by_key(con, duck_rel, key, exact, numeric, duck_cols, spark_cols, result)
    elif result.duckdb_rows == result.spark_rows:
        _compare_as_multiset(con, duck_rel, exact, numeric, duck_cols, spark_cols, result)
    if result.reasons:
        result.status = "different"
    elif result.max_relative_difference > 0:
        result.status = "within tolerance"
    return result


def _relative(a: str, b: str) -> str:
    return (
        f"case when {a} is null and {b} is null then 0 when {a} is null or {b} is null then 1 "
        f"when {a} = {b} then 0 "
        f"else abs({a}::double - {b}::double) / greatest(abs({a}::double), abs({b}::double)) end"
    )


def _quoted(side: str, column: str) -> str:
    return f'{side}."{column}"'


def _compare_by_key(
    con: duckdb.DuckDBPyConnection,
    duck_rel: str,
    key: list[str],
    exact: list[str],
    numeric: list[str],
    duck_cols: Mapping[str, str],
    spark_cols: Mapping[str, str],
    result: TableParity,
) -> None:
    on = " and ".join(
        f"{_exact(k, duck_cols[k], 'd')} = {_exact(k, spark_cols[k], 's')}" for k in key
    )
    checks = [
        f"count(*) filter (where {_exact(c, duck_cols[c], 'd')} is distinct from "
        f"{_exact(c, spark_cols[c], 's')})"
        for c in exact
    ] + [f"max({_relative(_quoted('d', c), _quoted('s', c))})" for c in numeric]
    row = con.execute(
        f'select count(*) filter (where d."{key[0]}" is null or s."{key[0]}" is null), '
        + ", ".join(checks or ["0"])
        + f" from {duck_rel} as d full outer join spark_side as s on {on}"
    ).fetchone()
    unmatched, values = row[0], row[1:]
    if unmatched:
        result.reasons.append(f"{unmatched} rows have a key found on one engine only")
    differing = [f"{c} ({n} rows)" for c, n in zip(exact, values[: len(exact)], strict=True) if n]
    if differing:
        result.reasons.append("values differ: " + ", ".join(differing))
    worst = [v or 0.0 for v in values[len(exact) :]]
    result.max_relative_difference = max(worst, default=0.0)
    beyond = [
        f"{c} (relative {v:.2g})"
        for c, v in zip(numeric, worst, strict=True)
        if v > RELATIVE_TOLERANCE
    ]
    if beyond:
        result.reasons.append("numbers beyond tolerance: " + ", ".join(beyond))


def _compare_as_multiset(
    con: duckdb.DuckDBPyConnection,
    duck_rel: str,
    exact: list[str],
    numeric: list[str],
    duck_cols: Mapping[str, str],
    spark_cols: Mapping[str, str],
    result: TableParity,
) -> None:
    if exact:
        d = ", ".join(_exact(c, duck_cols[c], "d") for c in exact)
        s = ", ".join(_exact(c, spark_cols[c], "s") for c in exact)
        only = con.execute(
            f"select (select count(*) from (select {d} from {duck_rel} as d except all "
            f"select {s} from spark_side as s)), (select count(*) from (select {s} from "
            f"spark_side as s except all select {d} from {duck_rel} as d))"
        ).fetchone()
        if any(only):
            result.reasons.append(
                f"{only[0]} DuckDB rows and {only[1]} Spark rows have no twin (exact columns)"
            )
    for c in numeric:
        a, b = con.execute(
            f'select (select sum("{c}")::double from {duck_rel}), '
            f'(select sum("{c}")::double from spark_side)'
        ).fetchone()
        rel = _relative_difference(a, b)
        result.max_relative_difference = max(result.max_relative_difference, rel)
        if rel > RELATIVE_TOLERANCE:
            result.reasons.append(f"sum of {c}: DuckDB {a}, Spark {b}")


def _relative_difference(a: float | None, b: float | None) -> float:
    if a is None and b is None:
        return 0.0
    if a is None or b is None:
        return 1.0
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b))


def compare(
    duckdb_path: Path,
    spark_dir: Path,
    *,
    schema: str = "gold",
    manifest: Path | None = None,
    tables: Iterable[str] | None = None,
    primary_keys: Mapping[str, Iterable[str]] | None = None,
) -> list[TableParity]:
    """Every table of ``schema`` (or only ``tables``) in the DuckDB warehouse against the Spark
    build's; rows are paired by ``primary_keys`` or, for gold, the manifest's contract keys."""
    from engagement_lake.publish import gold_keys

    keys = dict(primary_keys or {})
    if manifest is not None:
        keys.update(
            (name, k.primary) for name, k in gold_keys(json.loads(manifest.read_text())).items()
        )
    only = None if tables is None else set(tables)
    con = duckdb.connect()
    try:
        con.execute(f"attach '{duckdb_path}' as duck (read_only)")
        found = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where database_name = 'duck' "
                "and schema_name = ? order by table_name",
                [schema],
            ).fetchall()
        ]
        return [
            compare_table(con, schema, t, spark_dir, keys.get(t, ()))
            for t in found
            if only is None or t in only
        ]
    finally:
        con.close()


def markdown_table(results: Iterable[TableParity]) -> str:
    """The comparison as a Markdown table (docs/spark.md)."""
    lines = [
        "| table | verdict | rows (DuckDB / Spark) | max relative difference | reason |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        diff = f"{r.max_relative_difference:.1e}" if r.max_relative_difference else "0"
        lines.append(
            f"| `{r.table}` | {r.status} | {r.duckdb_rows} / {r.spark_rows} | {diff} | "
            f"{'; '.join(r.reasons)} |"
        )
    return "\n".join(lines) + "\n"
