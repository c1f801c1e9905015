"""The analyst sandbox: ``engagement-lake sql`` (and ``customer``, ``cookbook``) can read the
warehouse and nothing else — no file of the machine, no ground truth beside bronze, no network —
while every read-only statement kind still runs. Each hostile input of issue 12 has its case here,
with the one-line message the analyst sees."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from engagement_lake.analyst import analyst_connection, check_read_only, run_sql
from engagement_lake.cli import app

runner = CliRunner()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema gold")
        con.execute(
            "create table gold.sales as select * from (values ('a', 'x', 1), ('a', 'y', 2), "
            "('b', 'x', 3)) as t(shop, product, amount)"
        )
    return path


HOSTILE_FILES = [
    ("select * from read_csv('/etc/passwd')", "/etc/passwd"),
    ("select * from read_text('/etc/hostname')", "/etc/hostname"),
    (f"select * from glob('{Path.home()}/*')", f"{Path.home()}/*"),
    (f"select count(*) from glob('{Path.home()}/**')", f"{Path.home()}/**"),
    ("select * from 'https://example.com/data.parquet'", "https://example.com/data.parquet"),
    ("select * from read_parquet('s3://bucket/x.parquet')", "s3://bucket/x.parquet"),
]


@pytest.mark.parametrize(("query", "path"), HOSTILE_FILES, ids=[q for q, _ in HOSTILE_FILES])
def test_files_outside_the_warehouse_are_refused(warehouse: Path, query: str, path: str) -> None:
    with pytest.raises(PermissionError) as refused:
        run_sql(warehouse, query)
    message = str(refused.value)
    assert message == (
        f'reading "{path}" is not allowed: engagement-lake sql reads only the warehouse '
        "(its tables, and the files its views read)"
    )


def test_the_cli_refuses_each_hostile_input_in_one_line(warehouse: Path) -> None:
    for query, path in HOSTILE_FILES:
        result = runner.invoke(app, ["sql", query, "--serving", str(warehouse)])
        assert result.exit_code == 1, query
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f'error: reading "{path}" is not allowed')


def test_no_extension_is_installed_or_loaded_on_demand(warehouse: Path) -> None:
    # without the sandbox DuckDB would try to download httpfs for an https:// path first
    with analyst_connection(warehouse) as con:
        settings = dict(
            con.execute(
                "select name, value from duckdb_settings() where name in ('enable_external_access',"
                " 'autoinstall_known_extensions', 'autoload_known_extensions', "
                "'lock_configuration', 'python_enable_replacements')"
            ).fetchall()
        )
        assert settings == {
            "enable_external_access": "false",
            "autoinstall_known_extensions": "false",
            "autoload_known_extensions": "false",
            "lock_configuration": "true",
            "python_enable_replacements": "false",
        }
        # even listing the extension folder is refused, so nothing can be installed from it
        with pytest.raises(duckdb.PermissionException, match="extensions"):
            con.execute("select * from duckdb_extensions()").fetchall()


@pytest.mark.parametrize(
    "statement",
    [
        "set enable_external_access = true",
        "set allowed_directories = ['/']",
        "reset lock_configuration",
        "set autoinstall_known_extensions = true",
    ],
)
def test_no_statement_can_reopen_the_sandbox(warehouse: Path, statement: str) -> None:
    with analyst_connection(warehouse) as con:
        with pytest.raises(duckdb.Error, match="configuration has been locked"):
            con.execute(statement)
        with pytest.raises(duckdb.PermissionException):
            con.execute("select * from read_csv('/etc/passwd')")


READ_ONLY_KINDS = [
    (
        "summarize gold.sales",
        lambda rows: {r["column_name"] for r in rows} == {"shop", "product", "amount"},
    ),
    (
        "pivot gold.sales on product using sum(amount) order by shop",
        lambda rows: rows == [{"shop": "a", "x": 1, "y": 2}, {"shop": "b", "x": 3, "y": None}],
    ),
    (
        "unpivot (select shop, amount, amount * 2 as twice from gold.sales where shop = 'b') "
        "on amount, twice into name k value v order by k",
        lambda rows: [(r["k"], r["v"]) for r in rows] == [("amount", 3), ("twice", 6)],
    ),
    ("values (1, 'one'), (2, 'two')", lambda rows: len(rows) == 2),
    (
        "describe gold.sales",
        lambda rows: [r["column_name"] for r in rows] == ["shop", "product", "amount"],
    ),
    ("show all tables", lambda rows: [r["name"] for r in rows] == ["sales"]),
    ("explain select * from gold.sales", lambda rows: rows[0]["explain_key"] == "physical_plan"),
    (
        "with t as (select shop, sum(amount) as total from gold.sales group by shop) "
        "select * from t order by shop",
        lambda rows: rows == [{"shop": "a", "total": 3}, {"shop": "b", "total": 3}],
    ),
]


@pytest.mark.parametrize(
    ("query", "check"), READ_ONLY_KINDS, ids=[q[:30] for q, _ in READ_ONLY_KINDS]
)
def test_read_only_statement_kinds_run(warehouse: Path, query: str, check) -> None:
    rows = json.loads(run_sql(warehouse, query, fmt="json"))
    assert check(rows), rows


def test_deeply_nested_parentheses_give_one_line(warehouse: Path) -> None:
    query = "select " + "(" * 400 + "1" + ")" * 400
    with pytest.raises(ValueError, match="nests too deeply"):
        check_read_only(query)
    result = runner.invoke(app, ["sql", query, "--serving", str(warehouse)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: the query nests too deeply to be checked; simplify it (nothing was run)"
    ]


# ----------------------------------------------------------------------------- on the built lake


def test_ground_truth_beside_bronze_is_refused(lake) -> None:
    truth = lake.truth / "people.parquet"
    assert truth.exists()
    bronze = next(p for p in (lake.cfg.data_dir / "bronze").resolve().iterdir() if p.is_dir())
    for path in (truth, truth.resolve(), Path(f"{bronze}/../../_truth/people.parquet")):
        with pytest.raises(PermissionError, match=r'reading ".*people.parquet" is not allowed'):
            run_sql(lake.cfg.warehouse, f"select * from read_parquet('{path}')")


def test_the_serving_file_opens_no_folder(lake) -> None:
    """sql reads the serving file by default: it has no views, so the sandbox opens no folder
    and bronze, the ground truth and the warehouse's own files are all out of reach."""
    serving = lake.published.serving
    with analyst_connection(serving) as con:
        folders = con.execute("select current_setting('allowed_directories')").fetchone()[0]
    assert [f for f in folders if not f.startswith(str(serving.resolve()))] == []
    bronze = (lake.cfg.data_dir / "bronze" / "shop" / "customers").resolve()
    for path in (lake.truth / "people.parquet", f"{bronze}/*/*.parquet"):
        with pytest.raises(PermissionError, match="is not allowed"):
            run_sql(serving, f"select * from read_parquet('{path}')")


def test_staging_is_readable_and_bronze_is_not(lake) -> None:
    """Staging is tables: the working warehouse holds no view, so the sandbox opens no bronze
    folder and a query reads the warehouse alone."""
    out = run_sql(
        lake.cfg.warehouse, "select count(*) as n from staging.stg_shop__customers", fmt="json"
    )
    assert json.loads(out)[0]["n"] > 0
    bronze = (lake.cfg.data_dir / "bronze" / "shop" / "customers").resolve()
    with pytest.raises(PermissionError, match="is not allowed"):
        run_sql(
            lake.cfg.warehouse, f"select count(*) as n from read_parquet('{bronze}/*/*.parquet')"
        )
    with analyst_connection(lake.cfg.warehouse) as con:
        folders = con.execute("select current_setting('allowed_directories')").fetchone()[0]
    assert folders == [f"{lake.cfg.warehouse.resolve()}.tmp/"]


@pytest.fixture
def warehouse_with_a_view(tmp_path: Path) -> tuple[Path, Path]:
    """A warehouse whose view reads a Parquet folder, as a user's own view model would."""
    folder = tmp_path / "files" / "orders"
    folder.mkdir(parents=True)
    path = tmp_path / "views.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(f"copy (select 1 as id) to '{folder}/part-0.parquet'")
        con.execute("create schema staging")
        con.execute(
            f"create view staging.orders as select * from read_parquet('{folder}/*.parquet')"
        )
    return path, folder


def test_the_sandbox_opens_only_the_folders_the_views_read(warehouse_with_a_view) -> None:
    path, folder = warehouse_with_a_view
    with analyst_connection(path) as con:
        folders = con.execute("select current_setting('allowed_directories')").fetchone()[0]
    tmp = f"{path.resolve()}.tmp/"
    assert sorted(folders) == sorted([f"{folder.resolve()}/", tmp])
    assert json.loads(run_sql(path, "select count(*) as n from staging.orders", fmt="json")) == [
        {"n": 1}
    ]
    with pytest.raises(PermissionError, match="is not allowed"):
        run_sql(path, f"select * from read_parquet('{folder.parent}/*')")
    with analyst_connection(path, read_views=False) as con:
        only_tables = con.execute("select current_setting('allowed_directories')").fetchone()[0]
    assert [f for f in only_tables if f != tmp] == []


def test_writing_into_each_allowed_folder_is_refused(warehouse_with_a_view) -> None:
    """A read-only connection can still COPY … TO and EXPORT DATABASE into an allowed folder, so
    the statement guard must refuse them for every folder the sandbox opens."""
    path, _ = warehouse_with_a_view
    with analyst_connection(path) as con:
        folders = con.execute("select current_setting('allowed_directories')").fetchone()[0]
    assert len(folders) > 1
    for folder in folders:
        target = Path(folder) / "leak"
        for query, word in (
            (f"copy staging.orders to '{target}.csv'", "COPY"),
            (f"copy (select * from staging.orders) to '{target}.parquet'", "COPY"),
            (f"export database '{target}'", "EXPORT"),
            (f"attach '{target}.duckdb' as other", "ATTACH"),
            (f"set temp_directory = '{target}'", "SET"),
        ):
            with pytest.raises(PermissionError, match=rf"^{word} is not allowed: .*read-only"):
                run_sql(path, query)
            assert not list(Path(folder).glob("leak*")), (folder, query)
