"""The demo job behind ``make demo``: generate, build, summarise.

Each step is the same function the CLI command of that name calls, so the demo can never drift
from what a user runs by hand.
"""

from __future__ import annotations

from engagement_lake.config import RunConfig


def run_demo(cfg: RunConfig) -> str:
    """Generate the demo world, build the warehouse, and return a short summary for the user."""
    from engagement_lake.dbt_runner import DbtError, build
    from engagement_lake.export import export_gold
    from engagement_lake.generate import generate

    result = generate(cfg.data_dir, scale=cfg.scale, seed=cfg.seed, as_of=cfg.as_of)
    try:
        build(cfg)
    except DbtError as exc:
        raise RuntimeError(f"dbt build failed:\n{exc}") from None
    export_gold(cfg)
    return summary(cfg, sum(result.rows.values()))


def summary(cfg: RunConfig, bronze_rows: int) -> str:
    """Row counts per warehouse schema and how to open the result."""
    import duckdb

    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        counts = con.execute(
            """
            select table_schema, count(*) as tables, sum(estimated_size) as rows
            from duckdb_tables()
            group by table_schema
            order by table_schema
            """
        ).fetchall()
    lines = [f"bronze: {bronze_rows:,} rows under {cfg.data_dir / 'bronze'}"]
    lines += [f"{schema}: {tables} tables, ~{rows or 0:,} rows" for schema, tables, rows in counts]
    lines += [
        "",
        f'Query it:  .venv/bin/python -c "import duckdb; '
        f"print(duckdb.connect('{cfg.warehouse}', read_only=True).sql('show all tables'))\"",
        f"or any DuckDB 1.5 client (DuckDB CLI, Harlequin, DBeaver) on {cfg.warehouse}.",
    ]
    return "\n".join(lines)
