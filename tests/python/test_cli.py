"""The CLI: help is instant because heavy libraries load lazily; the schemas commands work."""

from __future__ import annotations

import re
import subprocess
import sys

from typer.testing import CliRunner

from engagement_lake.cli import app, main

runner = CliRunner()


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in (
        "generate",
        "build",
        "check",
        "summary",
        "customer",
        "sql",
        "cookbook",
        "schemas",
        "dashboards",
    ):
        assert command in result.output


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from engagement_lake.cli import app\n"
        "from typer.testing import CliRunner\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "names = ('dbt', 'great_expectations', 'splink', 'duckdb', 'polars', 'sqlglot')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_schemas_validate():
    result = runner.invoke(app, ["schemas", "validate"])
    assert result.exit_code == 0, result.output
    assert "45 contracts valid" in result.output
    assert "shop.orders" in result.output


def test_schemas_sync_check_passes_on_committed_yaml():
    result = runner.invoke(app, ["schemas", "sync", "--check"])
    assert result.exit_code == 0, result.output


def test_schemas_ddl_each_dialect():
    for dialect in ("duckdb", "spark", "snowflake", "redshift", "trino"):
        result = runner.invoke(app, ["schemas", "ddl", "--dialect", dialect])
        assert result.exit_code == 0, result.output
        assert result.output.count("CREATE TABLE") == 45


def test_schemas_ddl_unknown_dialect_is_one_clear_line(capsys):
    assert main(["schemas", "ddl", "--dialect", "oracle"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "'oracle' is not one of 'duckdb', 'spark', 'snowflake', 'redshift', 'trino'" in line


def test_malformed_contract_reported_by_validate(tmp_path):
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "orders.odcs.yaml").write_text("apiVersion: v3.1.0\nkind: DataContract\n")
    result = runner.invoke(app, ["schemas", "validate", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert "orders.odcs.yaml: (document): 'version' is a required property" in result.output


def test_build_stops_on_an_unreadable_bronze_file(tmp_path):
    bad = tmp_path / "bronze" / "shop" / "orders" / "load_date=2026-06-30" / "part-0000.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"PAR1 not really parquet")
    result = runner.invoke(
        app, ["build", "--data-dir", str(tmp_path), "--warehouse", str(tmp_path / "w.duckdb")]
    )
    assert result.exit_code == 1
    assert (
        "bronze shop.orders: bronze/shop/orders/load_date=2026-06-30/part-0000.parquet: "
        "unreadable file (" in result.output
    )
    assert not (tmp_path / "w.duckdb").exists()


def test_build_rejects_an_unknown_policy(tmp_path, capsys):
    assert main(["build", "--data-dir", str(tmp_path), "--unreadable", "ignore"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "'ignore' is not one of 'fail', 'quarantine'" in line


def test_sql_refuses_writes_and_binds_parameters(lake):
    db = str(lake.cfg.warehouse)
    ok = runner.invoke(
        app,
        [
            "sql",
            "select count(*) as n from gold.dim_customer where loyalty_tier = ?",
            "--param",
            "Gold",
            "--format",
            "csv",
            "--warehouse",
            db,
        ],
    )
    assert ok.exit_code == 0, ok.output
    header, value = ok.output.strip().splitlines()
    assert header == "n" and int(value) >= 0
    for statement in (
        "drop table gold.dim_customer",
        "delete from gold.dim_customer",
        "select 1; drop table gold.dim_customer",
    ):
        refused = runner.invoke(app, ["sql", statement, "--warehouse", db])
        assert refused.exit_code == 1
        assert "read-only" in refused.output
    assert (
        runner.invoke(
            app, ["sql", "select count(*) from gold.dim_customer", "--warehouse", db]
        ).exit_code
        == 0
    )


def test_sql_reads_the_serving_file_unless_told_to_read_the_warehouse(lake, tmp_path):
    """By default sql reads what BI tools read (pseudonymised); the working warehouse, personal
    data raw, only with --read warehouse."""
    db = str(lake.cfg.warehouse)
    query = "select email from gold.dim_customer where email is not null order by customer_key"
    served = runner.invoke(app, ["sql", query, "--format", "csv", "--warehouse", db])
    raw = runner.invoke(
        app, ["sql", query, "--format", "csv", "--warehouse", db, "--read", "warehouse"]
    )
    assert served.exit_code == 0 and raw.exit_code == 0, served.output + raw.output
    served_emails = served.output.strip().splitlines()[1:]
    raw_emails = raw.output.strip().splitlines()[1:]
    assert len(served_emails) == len(raw_emails) > 0
    digest = re.compile(r"[0-9a-f]{32}")  # the keyed hash of a pseudonymised column
    assert all(digest.fullmatch(e) for e in served_emails)
    assert not any(digest.fullmatch(e) for e in raw_emails)
    assert sum("@" in e for e in raw_emails) > len(raw_emails) / 2
    explicit = runner.invoke(
        app, ["sql", query, "--format", "csv", "--serving", str(lake.published.serving)]
    )
    assert explicit.output == served.output
    missing = runner.invoke(app, ["sql", "select 1", "--serving", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 1
    (line,) = missing.output.strip().splitlines()
    assert line.startswith(f"error: serving file {tmp_path / 'none.duckdb'} does not exist")


def test_customer_command_and_a_bad_id(lake):
    db = str(lake.cfg.warehouse)
    con = lake.connect()
    customer_id = con.execute("select min(customer_id) from gold.mart_customer_360").fetchone()[0]
    con.close()
    shown = runner.invoke(app, ["customer", customer_id, "--warehouse", db])
    assert shown.exit_code == 0, shown.output
    assert customer_id in shown.output
    missing = runner.invoke(app, ["customer", "CUS-doesnotexist", "--warehouse", db])
    assert missing.exit_code == 1
    assert "CUS-doesnotexist" in missing.output


def test_cookbook_lists_runs_and_rejects_unknown(lake):
    db = str(lake.cfg.warehouse)
    listed = runner.invoke(app, ["cookbook"])
    assert listed.exit_code == 0 and "q02_satisfaction_by_ticket_type" in listed.output
    ran = runner.invoke(
        app, ["cookbook", "d05_customer_360_overview", "--format", "json", "--warehouse", db]
    )
    assert ran.exit_code == 0, ran.output
    assert '"customers"' in ran.output
    unknown = runner.invoke(app, ["cookbook", "q99_nothing", "--warehouse", db])
    assert unknown.exit_code == 1 and "q99_nothing" in unknown.output


def test_export_command_writes_gold(lake, tmp_path):
    import shutil

    data = tmp_path / "data"
    data.mkdir()
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(lake.cfg.warehouse, warehouse)
    result = runner.invoke(
        app,
        [
            "export",
            "--data-dir",
            str(data),
            "--warehouse",
            str(warehouse),
            "--target-dir",
            str(lake.cfg.target_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (data / "gold" / "dim_customer.parquet").exists()
    assert "personal columns masked" in result.output


def test_summary_reports_every_layer(lake):
    result = runner.invoke(
        app,
        ["summary", "--data-dir", str(lake.cfg.data_dir), "--warehouse", str(lake.cfg.warehouse)],
    )
    assert result.exit_code == 0, result.output
    for schema in ("staging", "silver", "gold", "quality", "history"):
        assert f"{schema}:" in result.output
    assert "golden customers" in result.output
    assert "history in data time: 1 load dates" in result.output  # the backfill's


def test_generate_command_lands_bronze_and_rejects_zero_threads(tmp_path):
    result = runner.invoke(
        app, ["generate", "--scale", "0.002", "--threads", "2", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "45 tables" in result.output
    assert len(list((tmp_path / "bronze" / "shop" / "orders").rglob("part-*.parquet"))) == 1
    bad = runner.invoke(app, ["generate", "--threads", "0", "--data-dir", str(tmp_path)])
    assert bad.exit_code == 2 and "threads" in bad.output


def test_generate_names_a_bad_thread_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("ENGAGEMENT_LAKE_GENERATOR_THREADS", "two")
    result = runner.invoke(app, ["generate", "--scale", "0.002", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "ENGAGEMENT_LAKE_GENERATOR_THREADS='two'" in result.output
