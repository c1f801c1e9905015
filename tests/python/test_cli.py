"""The CLI: help is instant because heavy libraries load lazily; the schemas commands work."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from engagement_lake.cli import app

runner = CliRunner()


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("generate", "build", "demo", "schemas"):
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


def test_schemas_ddl_unknown_dialect_is_one_clear_line():
    result = runner.invoke(app, ["schemas", "ddl", "--dialect", "oracle"])
    assert result.exit_code == 2
    assert "unknown dialect 'oracle'" in result.output


def test_malformed_contract_reported_by_validate(tmp_path):
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "orders.odcs.yaml").write_text("apiVersion: v3.1.0\nkind: DataContract\n")
    result = runner.invoke(app, ["schemas", "validate", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert "orders.odcs.yaml: (document): 'version' is a required property" in result.output
