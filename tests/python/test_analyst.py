"""Analyst commands: customer 360 lookup and rendering, read-only SQL, the SQL cookbook.

Most tests use a tiny warehouse built here, so they do not wait for (or depend on the timing of)
the gold marts; the tests marked with the session ``lake`` check the same functions on a built lake.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from engagement_lake.analyst import (
    ANALYSES_DIR,
    WarehouseError,
    analyst_connection,
    check_read_only,
    customer_360,
    group_customer_360,
    list_cookbook,
    render_cookbook_sql,
    render_customer_360,
    run_cookbook,
    run_sql,
)
from engagement_lake.analyst.cookbook import project_vars
from test_lookup import build_customer_lookup

GOLDEN_ID = "CUS-000042"


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A warehouse with just what the analyst commands read: the 360 mart, the crosswalk, and a
    gold table the write attempts aim at."""
    path = tmp_path / "tiny.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema gold")
    con.execute("create schema silver")
    con.execute(
        """
        create table gold.mart_customer_360 as
        select * from (values
            ('CUS-000042', 'k42', 'Ann Lee', 'ann@example.com', 'Gold', date '2023-02-01', 'NY',
             2340.00::decimal(14, 2), 7, date '2026-06-15', 'Pants', 2, 'XL', 0.65, 0.25,
             0.12, 'Upsell', 'Offer a FitMap scan', 'trending up'),
            ('CUS-000007', 'k7', 'Bo Diaz', null, 'None', date '2024-05-05', 'TX',
             10.00::decimal(14, 2), 1, date '2024-06-01', null, 0, null, null, null,
             0.8, 'Win back', 'No purchase in a year', null)
        ) as t(customer_id, customer_key, full_name, email, loyalty_tier, signup_date, state,
               lifetime_revenue, order_count, last_order_date, favourite_category,
               fitmap_scan_count, recommended_top_size, email_open_rate, email_click_rate,
               churn_probability, next_best_action, next_best_action_reason, sentiment_trend)
        """
    )
    con.execute(
        """
        create table silver.customer_xref as
        select * from (values
            ('shop', 'C0000042', 'CUS-000042'),
            ('marketing', 'SUB00000042', 'CUS-000042'),
            ('support', '127', 'CUS-000042'),
            ('loyalty', '127', 'CUS-000007'),
            ('shop', 'C0000099', 'CUS-000099')
        ) as t(source_system, source_id, customer_id)
        """
    )
    build_customer_lookup(con, ["CUS-000042", "CUS-000007", "CUS-000099"])
    con.execute("create table gold.x as select range as id from range(3)")
    con.execute(
        "create table gold.dim_date as select date '2025-01-30' + range::integer as date_day, "
        "range < 2 as is_past, 2025 as year_number from range(5)"
    )
    con.close()
    return path


def _row_count(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select count(*) from gold.x").fetchone()[0]


# ----------------------------------------------------------------------------- customer 360


def test_customer_360_by_golden_id(warehouse: Path) -> None:
    row = customer_360(warehouse, GOLDEN_ID)
    assert row["customer_id"] == GOLDEN_ID
    assert row["full_name"] == "Ann Lee"
    assert row["order_count"] == 7


@pytest.mark.parametrize("source_id", ["C0000042", "SUB00000042", " shop:C0000042 ", "support:127"])
def test_customer_360_by_source_id(warehouse: Path, source_id: str) -> None:
    assert customer_360(warehouse, source_id)["customer_id"] == GOLDEN_ID


def test_customer_360_ambiguous_source_id_names_the_systems(warehouse: Path) -> None:
    with pytest.raises(LookupError, match=r"'127' is ambiguous.*support:127.*loyalty:127"):
        customer_360(warehouse, "127")


@pytest.mark.parametrize("unknown", ["CUS-404", "C0000404", "shop:SUB00000042"])
def test_customer_360_unknown_id_raises_lookup_error_naming_it(
    warehouse: Path, unknown: str
) -> None:
    with pytest.raises(LookupError, match=unknown):
        customer_360(warehouse, unknown)


def test_customer_360_matched_id_missing_from_mart(warehouse: Path) -> None:
    with pytest.raises(LookupError, match=r"C0000099.*CUS-000099"):
        customer_360(warehouse, "C0000099")


def test_customer_360_by_an_id_a_merge_absorbed(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create or replace table silver.customer_id_redirects as select 'CUS-000001' as "
            "absorbed_customer_id, ? as survivor_customer_id, date '2026-07-01' as redirected_on, "
            "'merge' as reason",
            [GOLDEN_ID],
        )
        build_customer_lookup(con, ["CUS-000042", "CUS-000007", "CUS-000099"])
    assert customer_360(warehouse, "CUS-000001")["customer_id"] == GOLDEN_ID


def test_customer_360_needs_a_warehouse(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="does not exist"):
        customer_360(tmp_path / "none.duckdb", GOLDEN_ID)


def test_customer_360_groups_known_and_unknown_columns(warehouse: Path) -> None:
    sections = group_customer_360(customer_360(warehouse, GOLDEN_ID))
    assert list(sections) == [
        "Profile",
        "Purchases",
        "FitMap",
        "E-mail",
        "Value & risk",
        "Next best action",
        "Other",
    ]
    assert "favourite_category" in sections["Purchases"]
    assert "recommended_top_size" in sections["FitMap"]
    assert sections["Other"] == {"sentiment_trend": "trending up"}


def test_render_customer_360_shows_every_section(warehouse: Path) -> None:
    console = Console(record=True, width=160, color_system=None)
    console.print(render_customer_360(customer_360(warehouse, GOLDEN_ID)))
    text = console.export_text()
    for expected in ("Ann Lee", "Profile", "Purchases", "FitMap", "E-mail", "Value & risk"):
        assert expected in text
    assert "Next best action" in text and "Offer a FitMap scan" in text
    assert "$2,340.00" in text  # money
    assert "65.0%" in text  # rates
    assert "2026-06-15" in text  # dates
    assert "trending up" in text  # a column the renderer does not know, under Other


def test_render_customer_360_tolerates_missing_columns() -> None:
    console = Console(record=True, width=120, color_system=None)
    console.print(render_customer_360({"customer_id": "CUS-1", "mystery": None}))
    text = console.export_text()
    assert "CUS-1" in text and "Mystery" in text and "—" in text


# ----------------------------------------------------------------------------- read-only SQL


def test_run_sql_binds_parameters(warehouse: Path) -> None:
    assert run_sql(warehouse, "select ? as x", [42], fmt="csv") == "x\n42\n"
    hostile = "x'; drop table gold.x; --"
    out = run_sql(warehouse, "select ? as v, count(*) as n from gold.x", [hostile], fmt="json")
    assert json.loads(out) == [{"v": hostile, "n": 3}]
    assert _row_count(warehouse) == 3


def test_run_sql_named_parameters(warehouse: Path) -> None:
    out = run_sql(
        warehouse, "select id from gold.x where id >= $low order by id", {"low": 1}, "csv"
    )
    assert out == "id\n1\n2\n"


def test_run_sql_csv_is_exact(warehouse: Path) -> None:
    query = (
        "select ? as name, ? as n, cast(? as date) as d, null as missing, true as flag, "
        "cast(2.5 as decimal(4, 2)) as amount"
    )
    out = run_sql(warehouse, query, ["Lee, Ann", 3, "2025-01-02"], fmt="csv")
    assert out == 'name,n,d,missing,flag,amount\n"Lee, Ann",3,2025-01-02,,true,2.50\n'


def test_run_sql_json_is_exact(warehouse: Path) -> None:
    query = (
        "select ? as name, ? as n, cast(? as date) as d, null as missing, true as flag, "
        "cast(2.5 as decimal(4, 2)) as amount, timestamp '2025-01-02 03:04:05' as at"
    )
    out = run_sql(warehouse, query, ["Ann", 3, "2025-01-02"], fmt="json")
    assert out == (
        "[\n"
        "  {\n"
        '    "name": "Ann",\n'
        '    "n": 3,\n'
        '    "d": "2025-01-02",\n'
        '    "missing": null,\n'
        '    "flag": true,\n'
        '    "amount": 2.5,\n'
        '    "at": "2025-01-02T03:04:05"\n'
        "  }\n"
        "]\n"
    )


def test_run_sql_table_format(warehouse: Path) -> None:
    out = run_sql(warehouse, "select id, id * 2 as doubled from gold.x order by id", width=80)
    assert "doubled" in out and "3 rows" in out
    assert "\x1b[" not in out  # plain text, safe to pipe


@pytest.mark.parametrize(
    "query",
    [
        "select 1",
        "with a as (select 1 as x) select * from a",
        "from gold.x",
        "select 1 union all select 2",
        "describe gold.x",
        "show tables",
        "explain select * from gold.x",
        "select ?::integer",  # DuckDB syntax sqlglot cannot parse: DuckDB's parser decides
        "select 1;",
    ],
)
def test_read_only_queries_are_allowed(query: str) -> None:
    check_read_only(query)


WRITES = [
    ("insert into gold.x values (9)", "INSERT"),
    ("update gold.x set id = 0", "UPDATE"),
    ("delete from gold.x", "DELETE"),
    ("create table gold.y as select 1", "CREATE"),
    ("drop table gold.x", "DROP"),
    ("alter table gold.x add column z integer", "ALTER"),
    ("copy gold.x to '{out}'", "COPY"),
    ("copy (select * from gold.x) to '{out}'", "COPY"),
    ("attach '{db}' as other", "ATTACH"),
    ("pragma table_info('gold.x')", "PRAGMA"),
    ("pragma version", "PRAGMA"),
    ("set threads = 1", "SET"),
    ("select 1; drop table gold.x", "multiple statements"),
    ("with d as (delete from gold.x returning *) select * from d", "DELETE"),
    ("explain analyze delete from gold.x", "DELETE"),
    ("install httpfs", "INSTALL"),
    ("load httpfs", "LOAD"),
    ("checkpoint", "CHECKPOINT"),
    ("truncate gold.x", "TRUNCATE"),
    ("call pragma_version()", "CALL"),
]


@pytest.mark.parametrize(("template", "word"), WRITES, ids=[w[0][:30] for w in WRITES])
def test_write_attempts_are_refused_before_running(
    warehouse: Path, tmp_path: Path, template: str, word: str
) -> None:
    out, db = tmp_path / "leak.csv", tmp_path / "other.duckdb"
    query = template.format(out=out, db=db)
    with pytest.raises(PermissionError, match=rf"{word}.* (is|are) not allowed: .*read-only"):
        run_sql(warehouse, query)
    assert _row_count(warehouse) == 3  # the table is still there, untouched
    assert not out.exists() and not db.exists()
    # refused before the warehouse is even opened: a missing warehouse does not matter
    with pytest.raises(PermissionError):
        run_sql(tmp_path / "missing.duckdb", query)


def test_connection_is_read_only_even_without_the_check(warehouse: Path) -> None:
    with analyst_connection(warehouse) as con, pytest.raises(duckdb.Error, match="read-only"):
        con.execute("drop table gold.x")
    assert _row_count(warehouse) == 3


def test_run_sql_rejects_bad_input(warehouse: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        run_sql(warehouse, "  ;  ")
    with pytest.raises(ValueError, match="cannot parse"):
        run_sql(warehouse, "selec 1")
    with pytest.raises(ValueError, match="unknown format"):
        run_sql(warehouse, "select 1", fmt="xml")
    with pytest.raises(ValueError, match="query failed"):
        run_sql(warehouse, "select * from gold.nope")


# ----------------------------------------------------------------------------- cookbook


@pytest.fixture
def analyses(tmp_path: Path) -> Path:
    folder = tmp_path / "analyses"
    folder.mkdir()
    (folder / "orders_by_id.sql").write_text(
        "\n-- Which rows of x are there,\n-- in order?\n--\n-- Detail that is not the question.\n"
        "select id from {{ ref('x') }} order by id\n"
    )
    (folder / "as_of.sql").write_text(
        "-- Question: which days are past as of the lake's date?\n"
        "{# days up to the as-of date #}\n"
        "select count(*) as n from {{ ref('dim_date') }} "
        'where date_day <= \'{{ var("as_of_date", "2025-01-31") }}\'\n'
    )
    (folder / "uses_source.sql").write_text(
        "-- Raw rows?\nselect * from {{ source('shop', 'orders') }}\n"
    )
    (folder / "notes.txt").write_text("not an analysis")
    return folder


def test_list_cookbook_parses_questions(analyses: Path) -> None:
    entries = list_cookbook(analyses)
    assert [e.name for e in entries] == ["as_of", "orders_by_id", "uses_source"]
    questions = {e.name: e.question for e in entries}
    assert questions["orders_by_id"] == "Which rows of x are there, in order?"
    assert questions["as_of"] == "which days are past as of the lake's date?"
    assert entries[1].path == analyses / "orders_by_id.sql"


def test_list_cookbook_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert list_cookbook(tmp_path / "nowhere") == []


def test_render_cookbook_sql_resolves_ref_to_gold() -> None:
    rendered = render_cookbook_sql("select * from {{ ref('x') }} join {{ref(\"y\")}}")
    assert rendered.sql == "select * from gold.x join gold.y"
    assert not rendered.uses_as_of
    rendered = render_cookbook_sql("select * from {{ ref('xref') }}", {"xref": "silver"})
    assert rendered.sql == "select * from silver.xref"


def test_render_cookbook_sql_binds_the_as_of_date() -> None:
    rendered = render_cookbook_sql("where d <= '{{ var('as_of_date', '2025-01-31') }}'")
    assert rendered.sql == "where d <= cast($as_of_date as date)"
    assert rendered.uses_as_of
    assert rendered.as_of_default == date(2025, 1, 31)
    unquoted = render_cookbook_sql("where d <= {{ var('as_of_date') }}")
    assert unquoted.sql == "where d <= cast($as_of_date as date)"
    assert unquoted.as_of_default is None


def test_render_cookbook_sql_uses_project_vars_and_macros() -> None:
    """Real Jinja with the project's macros: an analysis names the unknown member through the
    same macro the models use, instead of pasting its key."""
    key = project_vars()["unknown_member_key"]
    rendered = render_cookbook_sql(
        "{% set n = var('rfm_score_buckets') %}"
        "select {{ n }} as buckets from {{ ref('x') }} "
        "where k <> {{ unknown_member_key() }}{% if n > 3 %} and wide{% endif %}"
    )
    assert rendered.sql == f"select 5 as buckets from gold.x where k <> '{key}' and wide"
    other = render_cookbook_sql(
        "select {{ var('rfm_score_buckets') }}", variables={"rfm_score_buckets": 3}
    )
    assert other.sql == "select 3"


def test_render_cookbook_sql_refuses_what_cannot_run_outside_dbt() -> None:
    with pytest.raises(ValueError, match=r"'analysis' calls source\(\)"):
        render_cookbook_sql("select * from {{ source('shop', 'orders') }}")
    with pytest.raises(ValueError, match="does not render outside dbt: 'nope' is undefined"):
        render_cookbook_sql("select {{ nope }}")
    with pytest.raises(ValueError, match="var 'not_declared' is not declared"):
        render_cookbook_sql("select {{ var('not_declared') }}")


def test_run_cookbook(warehouse: Path, analyses: Path) -> None:
    assert run_cookbook(warehouse, "orders_by_id", analyses, "csv") == "id\n0\n1\n2\n"
    assert run_cookbook(warehouse, "orders_by_id.sql", analyses, "csv") == "id\n0\n1\n2\n"
    # the file's default as-of date, then an explicit one
    assert run_cookbook(warehouse, "as_of", analyses, "csv") == "n\n2\n"
    assert run_cookbook(warehouse, "as_of", analyses, "csv", as_of=date(2025, 2, 2)) == "n\n4\n"
    with pytest.raises(ValueError, match="calls source"):
        run_cookbook(warehouse, "uses_source", analyses, "csv")


def test_run_cookbook_unknown_name_lists_available(warehouse: Path, analyses: Path) -> None:
    with pytest.raises(LookupError, match=r"'nope'.*as_of, orders_by_id, uses_source"):
        run_cookbook(warehouse, "nope", analyses)


# ----------------------------------------------------------------------------- on the built lake


def test_analyst_commands_on_the_lake(lake) -> None:
    warehouse = lake.cfg.warehouse
    out = run_sql(
        warehouse,
        "select count(*) as n from gold.fct_marketing_attribution where conversion_value >= ?",
        [0],
        fmt="json",
    )
    assert json.loads(out)[0]["n"] > 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        has_mart = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'gold' and table_name = 'mart_customer_360'"
        ).fetchone()[0]
        shop_id, golden_id = con.execute(
            "select source_id, customer_id from silver.customer_xref where source_system = 'shop' "
            "and source_id in (select source_id from silver.customer_xref "
            "group by source_id having count(distinct customer_id) = 1) "
            "order by source_id limit 1"
        ).fetchone()
    if not has_mart:
        pytest.skip("gold.mart_customer_360 is not built yet")
    assert customer_360(warehouse, golden_id)["customer_id"] == golden_id
    assert customer_360(warehouse, shop_id)["customer_id"] == golden_id
    with pytest.raises(LookupError, match="NOPE-1"):
        customer_360(warehouse, "NOPE-1")


def test_project_cookbook_runs_on_the_lake(lake) -> None:
    entries = list_cookbook(ANALYSES_DIR)
    if not entries:
        pytest.skip("analyses/ holds no cookbook yet")
    for entry in entries:
        assert entry.question, f"{entry.path} does not state its question in a leading comment"
        run_cookbook(lake.cfg.warehouse, entry.name, ANALYSES_DIR, "csv")
