"""Analyst commands: the customer 360 view, read-only SQL, and the SQL cookbook in ``analyses/``.

The CLI (``engagement-lake customer``, ``sql``, ``cookbook``) is a thin layer over these functions,
so the tests call them directly. Everything here only reads the warehouse, and two independent
walls keep it that way: the sandboxed connection (``connection``) and the read-only statement
check (``sql``). One module per concern:

- ``connection``: the read-only, sandboxed DuckDB connection;
- ``customer``: the customer 360 view, found by any of a customer's ids;
- ``customer_search``: finding a golden customer by name (rapidfuzz);
- ``sql``: the read-only statement check and ``run_sql``;
- ``formats``: table, CSV and JSON output;
- ``cookbook``: the analyses, rendered with real Jinja and the project's macros.
"""

from engagement_lake.analyst.connection import (
    SANDBOX_SETTINGS,
    WarehouseError,
    analyst_connection,
    view_source_directories,
)
from engagement_lake.analyst.cookbook import (
    ANALYSES_DIR,
    CookbookEntry,
    RenderedAnalysis,
    list_cookbook,
    render_cookbook_sql,
    run_cookbook,
)
from engagement_lake.analyst.customer import (
    customer_360,
    group_customer_360,
    render_customer_360,
)
from engagement_lake.analyst.formats import (
    TABLE_MAX_ROWS,
    format_csv,
    format_json,
    format_table,
)
from engagement_lake.analyst.sql import READ_ONLY, check_read_only, run_sql
from engagement_lake.config import OUTPUT_FORMATS

__all__ = [
    "ANALYSES_DIR",
    "OUTPUT_FORMATS",
    "READ_ONLY",
    "SANDBOX_SETTINGS",
    "TABLE_MAX_ROWS",
    "CookbookEntry",
    "RenderedAnalysis",
    "WarehouseError",
    "analyst_connection",
    "check_read_only",
    "customer_360",
    "format_csv",
    "format_json",
    "format_table",
    "group_customer_360",
    "list_cookbook",
    "render_cookbook_sql",
    "render_customer_360",
    "run_cookbook",
    "run_sql",
    "view_source_directories",
]
