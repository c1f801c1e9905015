"""The closing summary of ``make demo``: what each layer holds and how to open it.

``make demo`` runs the steps a user would run by hand (generate, check bronze, build, check
gold); this module only reports on the result, so the demo can never drift from the commands.
"""

from __future__ import annotations

from engagement_lake.config import RunConfig
from engagement_lake.publish import serving_path


def summary(cfg: RunConfig) -> str:
    """Row counts per warehouse schema, a few headline figures, and how to open the result."""
    import duckdb

    bronze = sorted((cfg.data_dir / "bronze").glob("*/*/*/*.parquet"))
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        counts = con.execute(
            """
            select schema_name, count(*) as relations, sum(estimated_size) as rows
            from (
                select schema_name, estimated_size from duckdb_tables()
                union all
                select schema_name, null from duckdb_views() where not internal
            ) as relations
            group by schema_name
            order by schema_name
            """
        ).fetchall()
        headline = con.execute(
            """
            select
                (select count(*) from gold.dim_customer) - 1,
                (select count(*) from gold.fct_orders),
                (select round(avg(health_score), 1) from gold.mart_customer_health),
                (select count(*) from quality.quarantine)
            """
        ).fetchone()
        history = con.execute(
            """
            select
                count(*), min(as_of_date), max(as_of_date),
                (select count(*) from history.customer_history),
                (select count(*) from history.opportunity_history)
            from history.int_history_as_of_dates
            """
        ).fetchone()
    lines = [f"bronze: {len(bronze)} Parquet files under {cfg.data_dir / 'bronze'}"]
    lines += [
        f"{schema}: {relations} tables and views, ~{rows or 0:,} rows in tables"
        for schema, relations, rows in counts
    ]
    customers, orders, health, quarantined = headline
    lines += [
        f"golden customers {customers:,}; orders {orders:,}; average health score {health}; "
        f"quarantined rows {quarantined:,}",
        f"history in data time: {history[0]} load dates ({history[1]} to {history[2]}); "
        f"{history[3]:,} customer versions, {history[4]:,} opportunity versions",
        "",
        f'Query it: .venv/bin/engagement-lake sql "select * from gold.mart_customer_360 limit 5"'
        f" --warehouse {cfg.warehouse}",
        "          .venv/bin/engagement-lake cookbook   (the analyst questions, ready to run)",
        f"BI tools: open {serving_path(cfg)} read-only in any DuckDB 1.5 client (DuckDB CLI,"
        f" DBeaver, Metabase, Superset: gold with its keys, pseudonymised); Parquet exports of"
        f" gold are in {cfg.data_dir / 'gold'}.",
    ]
    return "\n".join(lines)
