"""Data access for the dashboards: the serving file, opened read-only, and one function that
answers a chart.

The dashboards read what BI tools read, the serving file (``gold.duckdb``, personal columns
pseudonymised), never the working warehouse. The connection is the analyst's sandbox
(``analyst_connection``: read-only, no file or network access beyond the file itself).
``chart_data`` is the one place that turns a catalogue entry into rows: from the semantic layer's
saved query where the entry has one, else from its SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engagement_lake.analyst.connection import WarehouseError, analyst_connection
from engagement_lake.dashboards.catalogue import Chart, Dashboard

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from engagement_lake.semantic import SemanticLayer


@contextmanager
def serving_connection(serving: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The serving file, read-only and sandboxed; a clear error when it has not been published."""
    serving = Path(serving)
    if not serving.is_file():
        raise WarehouseError(
            f"serving file {serving} does not exist; build the lake first (engagement-lake build "
            "publishes it)"
        )
    with analyst_connection(serving, read_views=False) as con:
        yield con


def chart_data(
    chart: Chart,
    connection: duckdb.DuckDBPyConnection,
    parameters: Mapping[str, Any] | None = None,
    layer: SemanticLayer | None = None,
) -> pd.DataFrame:
    """The rows ``chart`` draws: its saved query on the semantic layer when it has one and a
    layer is given, else its SQL run on the serving file, ``parameters`` bound (never pasted in).
    A query that fails names the chart."""
    import duckdb

    if layer is not None and chart.saved_columns:
        return saved_query_data(chart, layer)
    try:
        cursor = connection.execute(chart.sql, dict(parameters) if parameters else None)
        return cursor.df()
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"chart {chart.id}: {first}") from None


def saved_query_data(chart: Chart, layer: SemanticLayer) -> pd.DataFrame:
    """``chart``'s saved query on the semantic layer, its columns renamed to the chart's."""
    from engagement_lake.semantic import SemanticError

    try:
        frame = layer.saved_query(chart.saved_query)
    except SemanticError as exc:
        raise ValueError(f"chart {chart.id}: {exc}") from None
    wanted = dict(chart.saved_columns)
    missing = sorted(set(wanted.values()) - set(frame.columns))
    if missing:
        raise ValueError(
            f"chart {chart.id}: saved query {chart.saved_query} has no column {', '.join(missing)}"
        )
    return frame[list(wanted.values())].set_axis(list(wanted), axis=1).reset_index(drop=True)


def choose_parameter(
    dashboard: Dashboard, connection: duckdb.DuckDBPyConnection, wanted: str | None
) -> str | None:
    """The value a template page shows: ``wanted`` found by ``lookup_sql``, else the default."""
    if dashboard.parameter is None:
        return None
    if wanted is not None and dashboard.lookup_sql:
        found = connection.execute(dashboard.lookup_sql, {"id": wanted}).fetchone()
        if found is None:
            raise LookupError(f"{dashboard.name}: no {dashboard.parameter} or id {wanted!r}")
        return str(found[0])
    if dashboard.default_sql is None:
        raise LookupError(f"{dashboard.name}: name a {dashboard.parameter}")
    found = connection.execute(dashboard.default_sql).fetchone()
    if found is None:
        raise LookupError(f"{dashboard.name}: the serving file has no {dashboard.parameter}")
    return str(found[0])


def dashboard_data(
    dashboard: Dashboard,
    connection: duckdb.DuckDBPyConnection,
    wanted: str | None = None,
    layer: SemanticLayer | None = None,
) -> tuple[str | None, dict[str, pd.DataFrame]]:
    """The value a page shows (``choose_parameter``) and every chart's rows, the value bound
    into the queries that read it (``$<parameter>``); charts with a saved query are answered by
    ``layer`` when one is given."""
    value = choose_parameter(dashboard, connection, wanted)
    bound = {dashboard.parameter: value} if dashboard.parameter else {}
    rows = {
        chart.id: chart_data(
            chart, connection, bound if f"${dashboard.parameter}" in chart.sql else None, layer
        )
        for chart in dashboard.charts
    }
    return value, rows


def as_of_date(connection: duckdb.DuckDBPyConnection) -> str:
    """The data's as-of date, as the charts' time windows read it."""
    from engagement_lake.dashboards.catalogue import AS_OF

    (value,) = connection.execute(f"select {AS_OF}").fetchone()
    return str(value)


def tables_read(sql: str) -> set[str]:
    """The tables a query reads (its CTE names left out), from sqlglot's parse in the DuckDB
    dialect: what an exposure of the dashboard depends on."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel

    tree = sqlglot.parse_one(sql, read="duckdb", error_level=ErrorLevel.RAISE)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes}
