"""Code generated from the contracts: the committed sources YAML is current, it round-trips to
the contracts, dbt parses it, and the DDL of every dialect parses back with sqlglot."""

from __future__ import annotations

import json
import shutil

import pytest
import sqlglot
import yaml
from sqlglot import exp

from engagement_lake.codegen import (
    DDL_DIALECTS,
    sources_yaml,
    staging_model_name,
    staging_models_yaml,
    sync,
    table_ddl,
    versions_model_name,
)
from engagement_lake.config import MODELS_DIR, PROJECT_ROOT, SCHEMAS_DIR
from engagement_lake.contracts import load_contracts, systems


@pytest.fixture(scope="module")
def contracts():
    return load_contracts()


def test_committed_sources_are_in_sync(contracts):
    result = sync(contracts, check=True)
    assert result.stale == [], "run `engagement-lake schemas sync`"
    # per system: sources + models YAML; per table: a base and a staging model (and a _versions
    # one where the contract keeps versions); quarantine, reconciliation
    versioned = sum(c.version_history for c in contracts.values())
    assert len(result.unchanged) == 2 * len(systems(contracts)) + 2 * len(contracts) + versioned + 2


def test_sync_check_fails_when_a_contract_changes(tmp_path):
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas)
    models = tmp_path / "models"
    shutil.copytree(MODELS_DIR, models)
    path = schemas / "shop" / "orders.odcs.yaml"
    path.write_text(
        path.read_text().replace("description: Order number.", "description: The order number.")
    )
    result = sync(load_contracts(schemas), models_dir=models, check=True)
    changed = ["_shop__sources.yml", "_shop__models.yml"]
    assert [p.name for p in result.stale] == changed
    written = sync(load_contracts(schemas), models_dir=models)
    assert [p.name for p in written.written] == changed
    assert sync(load_contracts(schemas), models_dir=models, check=True).stale == []


def test_sync_removes_generated_files_of_a_deleted_contract(tmp_path):
    schemas = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas)
    models = tmp_path / "models"
    shutil.copytree(MODELS_DIR, models)
    (schemas / "finance" / "customer_profitability.odcs.yaml").unlink()
    (schemas / "finance").rmdir()
    result = sync(load_contracts(schemas), models_dir=models, check=True)
    names = sorted(p.name for p in result.stale)
    assert names == [
        "_finance__models.yml",
        "_finance__sources.yml",
        "base_finance__customer_profitability.sql",
        "quarantine.sql",
        "reconciliation.sql",
        "stg_finance__customer_profitability.sql",
    ]
    sync(load_contracts(schemas), models_dir=models)
    assert not [p for p in (models / "staging" / "finance").rglob("*") if p.is_file()]


def test_staging_model_is_shaped_like_jaffle_shop(contracts):
    from engagement_lake.codegen import staging_sql

    sql = staging_sql(contracts["shop.orders"])
    assert "depends_on" not in sql  # the base model checks the foreign keys
    assert "{{ contract_staged_rows('shop', 'orders') }}" in sql
    assert (
        sql.index("---------- ids")
        < sql.index("---------- strings")
        < sql.index("---------- numerics")
    )
    assert "order_ts as ordered_at," in sql
    assert sql.rstrip().endswith("select * from renamed")
    customers = staging_sql(contracts["shop.customers"])
    assert "{{ std_email('email') }} as email," in customers
    assert "{{ std_phone('phone') }} as phone," in customers


def test_each_bronze_table_is_checked_once_by_a_base_model_that_is_a_table(contracts):
    """base_<system>__<table> reads bronze and evaluates the contract; it depends on the staged
    parents its required foreign keys point to, and its YAML documents every contract column
    under its bronze name (staging's folder default makes it a table)."""
    from engagement_lake.codegen import base_sql

    sql = base_sql(contracts["shop.orders"])
    assert "-- depends_on: {{ ref('stg_shop__customers') }}" in sql
    assert "{{ contract_checked_rows('shop', 'orders') }}" in sql
    assert "depends_on" not in base_sql(contracts["shop.customers"])
    doc = yaml.safe_load(staging_models_yaml("shop", [contracts["shop.orders"]], contracts))
    base = {m["name"]: m for m in doc["models"]}["base_shop__orders"]
    names = [c["name"] for c in base["columns"]]
    assert "order_ts" in names and "ordered_at" not in names  # bronze names, not staged ones
    assert names[-5:] == ["_source_row", "_dq_reason", "_dq_column", "_raw_json", "_load_date"]


def test_versioned_tables_get_a_versions_model_with_the_same_columns(contracts):
    """versionHistory adds stg_<system>__<table>_versions: the staging model's renamed columns
    plus _load_date, read through contract_version_rows; other tables get none."""
    from engagement_lake.codegen import generated_files, staging_sql

    versioned = sorted(fqn for fqn, c in contracts.items() if c.version_history)
    assert "crm.opportunities" in versioned and "shop.customers" in versioned
    files = {p.name for p in generated_files(contracts)}
    for fqn, contract in contracts.items():
        name = f"stg_{contract.system}__{contract.table}_versions.sql"
        assert (name in files) == (fqn in versioned), fqn
    latest = staging_sql(contracts["crm.opportunities"])
    versions = staging_sql(contracts["crm.opportunities"], versions=True)
    assert "{{ contract_version_rows('crm', 'opportunities') }}" in versions
    assert "contract_staged_rows" not in versions
    body = latest[latest.index("renamed as") : latest.index("        _batch_id")]
    assert body in versions  # the same renames and standardisers
    assert "        _batch_id,\n        _load_date\n" in versions


def test_sources_yaml_round_trips_to_the_contracts(contracts):
    for system, group in systems(contracts).items():
        doc = yaml.safe_load(sources_yaml(system, group))
        (source,) = doc["sources"]
        assert source["name"] == system
        by_name = {t["name"]: t for t in source["tables"]}
        assert set(by_name) == {c.table for c in group}
        for contract in group:
            table = by_name[contract.table]
            assert contract.bronze_glob in table["config"]["external_location"]
            assert table["config"]["meta"]["primary_key"] == list(contract.primary_key)
            columns = {c["name"]: c for c in table["columns"]}
            assert list(columns) == [c.name for c in contract.all_columns]
            for col in contract.all_columns:
                entry = columns[col.name]
                assert entry["data_type"] == col.physical_type
                # the rules live in the meta the staging macros read, evaluated once there
                assert "data_tests" not in entry, (contract.fqn, col.name)
                assert entry["config"]["meta"].get("required", False) == col.required
                assert entry["config"]["meta"].get("allowed_values") == (
                    list(col.allowed_values) if col.allowed_values else None
                ), (contract.fqn, col.name)


def test_each_staged_model_states_its_contracts_rules_in_its_files_one_test(contracts):
    """The staged model's key, required and enumerated columns and its required foreign keys are
    its entry in the system file's one ``column_rules`` test (one test node per file, on its
    first model), and no column carries a test of its own."""
    for system, group in systems(contracts).items():
        doc = yaml.safe_load(staging_models_yaml(system, group, contracts))
        models = {m["name"]: m for m in doc["models"]}
        first, *others = doc["models"]
        ((name, body),) = first["data_tests"][0].items()
        assert name == "column_rules" and len(first["data_tests"]) == 1
        assert body["name"] == f"column_rules_staging_{system}"
        assert all("data_tests" not in m for m in others)
        batch = body["arguments"]["models"]
        for contract in group:
            model = models[staging_model_name(contract.system, contract.table)]
            args = batch[model["name"]]
            target = {c.name: c.target_name for c in contract.columns}
            key = [target[k] for k in contract.primary_key]
            assert args["unique"] == [key[0] if len(key) == 1 else key]
            assert set(args["not_null"]) == {
                c.target_name for c in contract.columns if c.required or c.primary_key
            }
            assert args.get("accepted_values", {}) == {
                c.target_name: list(c.allowed_values)
                for c in contract.columns
                if c.allowed_values and not c.standardize
            }
            required = [c for c in contract.columns if c.reference and c.reference.required]
            assert [(r["column"], r["to"]) for r in args.get("references", [])] == [
                (c.target_name, staging_model_name(c.reference.system, c.reference.table))
                for c in required
            ]
            assert all("data_tests" not in c for c in model["columns"])
            if contract.version_history:
                versions = batch[versions_model_name(contract)]
                assert "unique" not in versions  # a key repeats per version
                assert versions["not_null"] == args["not_null"]
        assert set(batch) <= set(models)


def test_dbt_parses_the_generated_sources(tmp_path, monkeypatch):
    from dbt.cli.main import dbtRunner

    monkeypatch.setenv("ENGAGEMENT_LAKE_DATA_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("ENGAGEMENT_LAKE_WAREHOUSE", str(tmp_path / "w.duckdb"))
    target = tmp_path / "target"
    result = dbtRunner().invoke(
        [
            "parse",
            "--project-dir",
            str(PROJECT_ROOT),
            "--profiles-dir",
            str(PROJECT_ROOT),
            "--target-path",
            str(target),
            "--quiet",
            "--no-partial-parse",
        ]
    )
    assert result.success, result.exception
    manifest = json.loads((target / "manifest.json").read_text())
    sources = manifest["sources"]
    assert len(sources) == len(load_contracts())
    customers = sources["source.engagement_lake.shop.customers"]
    assert customers["relation_name"] == (
        f"read_parquet('{tmp_path / 'lake'}/bronze/shop/customers/*/*.parquet', "
        "hive_partitioning = true, union_by_name = true, file_row_number = true)"
    )
    assert customers["loaded_at_field"] == "_loaded_at"
    assert customers["freshness"]["error_after"] == {"count": 96, "period": "hour"}
    tests = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "test"
        and n["depends_on"]["nodes"] == ["source.engagement_lake.shop.orders"]
    ]
    assert tests == []  # bronze is checked once, by staging (quality.quarantine)
    # A model's per-column rules are its entry in its YAML file's column_rules test (one node,
    # one dbt overhead, per file); a test of its own is kept only for a rule that needs its own
    # config.
    single = {"unique", "not_null", "accepted_values", "relationships", "unique_combination"}
    loose = [
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "test"
        and (n.get("test_metadata") or {}).get("name") in single
        and not n["config"].get("where")
        and str(n["config"].get("severity", "error")).lower() == "error"
        and set(n["test_metadata"].get("kwargs") or {})
        <= {"column_name", "model", "values", "to", "field", "columns"}
    ]
    assert loose == []
    rules = [n for n in manifest["nodes"].values() if n["name"].startswith("column_rules_")]
    assert len({n["original_file_path"] for n in rules}) == len(rules) > 40
    assert sum(len(n["test_metadata"]["kwargs"]["models"]) for n in rules) > 150
    # Bronze is read once per build: by each table's base model (and counted, not read, by the
    # reconciliation); staging is tables, so no reference repeats that read.
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    readers = {
        n["name"] for n in models if any(d.startswith("source.") for d in n["depends_on"]["nodes"])
    }
    bases = {f"base_{c.system}__{c.table}" for c in load_contracts().values()}
    assert readers == bases | {"reconciliation"}
    staging = [n for n in models if n["schema"] == "staging"]
    assert {n["config"]["materialized"] for n in staging} == {"table", "incremental"}


def _family(dtype: exp.DataType) -> str:
    """Dialects spell types differently (VARCHAR, TEXT, STRING); compare what they can hold."""
    kind = dtype.this
    T = exp.DataType.Type
    for name, members in (
        ("text", exp.DataType.TEXT_TYPES),
        ("integer", exp.DataType.INTEGER_TYPES),
        ("decimal", {T.DECIMAL}),
        ("float", exp.DataType.REAL_TYPES - {T.DECIMAL}),
        ("boolean", {T.BOOLEAN}),
        ("date", {T.DATE}),
        ("timestamp", {T.TIMESTAMP, T.TIMESTAMPNTZ, T.DATETIME}),
    ):
        if kind in members:
            return name
    raise AssertionError(f"unexpected type {dtype.sql()}")


@pytest.mark.parametrize("dialect", DDL_DIALECTS)
def test_ddl_parses_back_in_every_dialect(contracts, dialect):
    for contract in contracts.values():
        ddl = table_ddl(contract, dialect)
        tree = sqlglot.parse_one(ddl, read=dialect)
        assert isinstance(tree, exp.Create)
        table = tree.this.this
        assert table.name == f"{contract.system}__{contract.table}"
        assert table.db == "bronze"
        defs = [c for c in tree.this.expressions if isinstance(c, exp.ColumnDef)]
        assert [c.name for c in defs] == [c.name for c in contract.all_columns]
        for col_def, col in zip(defs, contract.all_columns, strict=True):
            not_null = any(
                isinstance(k.kind, exp.NotNullColumnConstraint) for k in col_def.constraints
            )
            assert not_null == col.required, (dialect, contract.fqn, col.name)
            expected = exp.DataType.build(col.physical_type, dialect="duckdb")
            assert _family(col_def.kind) == _family(expected), (dialect, contract.fqn, col.name)
            if expected.this == exp.DataType.Type.DECIMAL:
                assert col_def.kind.sql("duckdb") == expected.sql("duckdb")


def test_ddl_rejects_unknown_dialect(contracts):
    with pytest.raises(ValueError, match="unknown dialect 'oracle'"):
        table_ddl(contracts["shop.orders"], "oracle")
