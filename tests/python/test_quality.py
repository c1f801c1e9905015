"""The quality checks (engagement-lake check): contracts and the dbt manifest become GX suites;
every fault the generator injects is reported by the right expectation on the right column;
clean data passes silver and gold; a broken gold table fails with the right lines; chunking,
freshness and the report files behave as documented in docs/quality.md."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime, timedelta

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from engagement_lake.cli import app
from engagement_lake.config import RunConfig
from engagement_lake.contracts import load_contracts
from engagement_lake.quality import CheckReport, main_check, run_checks
from engagement_lake.quality import bronze as B
from engagement_lake.quality import run as R
from engagement_lake.quality import suites as S
from engagement_lake.quality.checked_rows import ledger_path
from engagement_lake.quality.gx_engine import GxValidator
from engagement_lake.quality.manifest_suites import manifest_suites
from engagement_lake.quality.report import CheckResult
from engagement_lake.quality.suite_run import run_suite

# Which expectation must report each row-level fault kind of the generator.
FAULT_CHECK = {
    "null_primary_key": S.NOT_NULL,
    "unknown_allowed_value": S.IN_SET,
    "out_of_range": S.BETWEEN,
    "unparsable_date": S.STRFTIME,
    "orphan_foreign_key": S.FOREIGN_KEY,
    "uncastable_value": S.CASTABLE,
    "missing_required": S.NOT_BLANK,
}
DATE_COLUMNS = {
    (fqn, col.name)
    for fqn, contract in load_contracts().items()
    for col in contract.columns
    if col.logical_type in ("date", "timestamp")
}


def fault_check(fault: dict) -> str:
    """The bronze check that reports a fault: a date out of range breaks its window."""
    fqn = f"{fault['system']}.{fault['table']}"
    if fault["fault_kind"] == "out_of_range" and (fqn, fault["column"]) in DATE_COLUMNS:
        return S.DATE_WINDOW
    return FAULT_CHECK[fault["fault_kind"]]


@pytest.fixture(scope="module")
def contracts():
    return load_contracts()


@pytest.fixture(scope="module")
def faulty(module_dir, faulty_bronze):
    """The shared faulty bronze (not built: the build would set the truncated file aside),
    checked once with fail-on-error."""
    root = module_dir("quality_faulty")
    manifest = pl.read_parquet(faulty_bronze / "_truth" / "faults.parquet")
    cfg = RunConfig(faulty_bronze, root / "absent.duckdb")
    report = run_checks(cfg, "bronze", report_dir=root / "reports", fail_on_error=True)
    return cfg, manifest, report


def _failing(report, severity=None):
    return {(r.table, r.column, r.check): r for r in report.failures(severity)}


# ----------------------------------------------------------------------------- suites


def test_bronze_suite_translates_the_contract(contracts):
    suite = S.bronze_suite(contracts["shop.orders"])
    plan = {(e.check, e.column): e for e in suite.expectations}
    assert plan[(S.NOT_NULL, "order_id")].severity == "error"
    assert plan[(S.COMPOUND_UNIQUE, "order_id")].kwargs["column_list"] == ["order_id", "_batch_id"]
    assert plan[(S.IN_SET, "status")].kwargs["value_set"] == [
        "placed",
        "shipped",
        "delivered",
        "cancelled",
        "returned",
    ]
    assert plan[(S.BETWEEN, "total_amount")].kwargs == {
        "column": "total_amount",
        "min_value": 0,
        "max_value": 25000,
    }
    assert plan[(S.REGEX, "order_id")].kwargs["regex"] == "^O[0-9]{9}$"
    assert plan[(S.REGEX, "order_id")].severity == "warning"  # the build does not enforce it
    fk = plan[(S.FOREIGN_KEY, "customer_id")]
    assert (fk.kwargs["parent"], fk.kwargs["parent_column"], fk.severity) == (
        "shop.customers",
        "customer_id",
        "error",
    )
    has_rows = plan[(S.ROW_COUNT, None)]
    assert (has_rows.kwargs["min_value"], has_rows.severity) == (1, "warning")
    assert plan[("sql:total_matches_parts", None)].severity == "warning"
    assert plan[(S.FRESHNESS, "_loaded_at")].kwargs == {
        "warn_after_hours": 36,
        "error_after_hours": 96,
    }
    leads = {(e.check, e.column): e for e in S.bronze_suite(contracts["crm.leads"]).expectations}
    assert leads[(S.STRFTIME, "created_date")].kwargs["strftime_format"] == "%Y-%m-%d"


def test_suites_become_gx_expectation_suites(contracts):
    import great_expectations as gx

    suite = S.bronze_suite(contracts["shop.orders"])
    gx_suite = suite.gx_suite()
    assert isinstance(gx_suite, gx.ExpectationSuite)
    types = {e.expectation_type for e in gx_suite.expectations}
    assert {S.NOT_NULL, S.IN_SET, S.BETWEEN, S.REGEX, S.COMPOUND_UNIQUE, S.ROW_COUNT} <= types
    custom = {c["check"] for c in gx_suite.meta["custom_checks"]}
    assert {S.FOREIGN_KEY, S.FRESHNESS, "sql:total_matches_parts"} <= custom


def test_staging_suite_skips_raw_rules_on_standardised_columns(contracts):
    plan = {
        (e.check, e.column)
        for e in S.staging_suite(contracts["shop.customers"], contracts).expectations
    }
    assert (S.UNIQUE, "customer_id") in plan  # newest version per key: unique over the table
    assert (S.BETWEEN, "signup_date") in plan
    assert (S.STRFTIME, "birth_date") not in plan  # parsed by staging
    assert not any(col == "email" and check == S.REGEX for check, col in plan)


def _node(name, columns, enforced=True):
    return {
        "resource_type": "model",
        "unique_id": f"model.p.{name}",
        "name": name,
        "alias": name,
        "schema": "gold",
        "config": {"materialized": "table", "enabled": True, "contract": {"enforced": enforced}},
        "columns": {c: {"name": c} for c in columns},
    }


def _test(uid, model, name, kwargs, column=None, severity="ERROR", where=None, deps=()):
    return {
        "resource_type": "test",
        "unique_id": f"test.p.{uid}",
        "attached_node": f"model.p.{model}",
        "column_name": column,
        "test_metadata": {"name": name, "kwargs": kwargs},
        "config": {"severity": severity, "enabled": True, "where": where},
        "depends_on": {"nodes": [f"model.p.{model}", *deps]},
    }


def _fct_b_references_dim_a(where=None):
    """A relationships test: fct_b.a_key must be a dim_a.a_key."""
    return _test(
        "rel",
        "fct_b",
        "relationships",
        {"to": "ref('dim_a')", "field": "a_key"},
        "a_key",
        where=where,
        deps=("model.p.dim_a",),
    )


def test_a_contract_not_null_constraint_is_checked_and_is_a_key_part():
    """Gold states not_null as its enforced contract's constraint (the table's DDL refuses a
    null), not as a test: the check still expects it, and the serving file's keys still see it."""
    from engagement_lake.publish import gold_keys

    dim = _node("dim_a", ["a_key", "kind"])
    dim["columns"]["a_key"]["constraints"] = [{"type": "not_null"}]
    loose = _node("fct_b", ["b_id"], enforced=False)
    loose["columns"]["b_id"]["constraints"] = [{"type": "not_null"}]  # not enforced: no promise
    nodes = [
        dim,
        loose,
        _test("un", "dim_a", "unique", {"column_name": "a_key"}, "a_key"),
        _test("unb", "fct_b", "unique", {"column_name": "b_id"}, "b_id"),
    ]
    manifest = {"nodes": {n["unique_id"]: n for n in nodes}}
    suites = {s.table: s for s in manifest_suites(manifest, "gold", "gold")}
    checks = {(e.check, e.column, e.severity) for e in suites["gold.dim_a"].expectations}
    assert (S.NOT_NULL, "a_key", "error") in checks
    assert not any(e.check == S.NOT_NULL for e in suites["gold.fct_b"].expectations)
    keys = gold_keys(manifest)
    assert keys["dim_a"].primary == ("a_key",)
    assert keys["fct_b"].primary == ()


def test_a_column_rules_test_means_what_its_separate_tests_mean():
    """One ``column_rules`` test per YAML file holds the rules a test per column of each of its
    models would: the checks' suites and the serving file's keys read the same rules, for the
    same models, from either spelling."""
    from engagement_lake.publish import gold_keys

    separate = [
        _node("dim_a", ["a_key", "kind"]),
        _node("fct_b", ["b_id", "a_key", "day"]),
        _test("un", "dim_a", "unique", {"column_name": "a_key"}, "a_key"),
        _test("nn", "dim_a", "not_null", {"column_name": "a_key"}, "a_key"),
        _test("av", "dim_a", "accepted_values", {"values": ["Can''t", "x"]}, "kind"),
        _test("uc", "fct_b", "unique_combination", {"columns": ["b_id", "day"]}),
        _fct_b_references_dim_a(),
    ]
    merged = [
        *separate[:2],
        _test(
            "cr",
            "dim_a",
            "column_rules",
            {
                "models": {
                    "dim_a": {
                        "unique": ["a_key"],
                        "not_null": ["a_key"],
                        "accepted_values": {"kind": ["Can't", "x"]},
                    },
                    "fct_b": {
                        "unique": [["b_id", "day"]],
                        "references": [{"column": "a_key", "to": "dim_a", "field": "a_key"}],
                    },
                }
            },
            deps=("model.p.fct_b",),
        ),
    ]

    def plan(nodes):
        manifest = {"nodes": {n["unique_id"]: n for n in nodes}}
        suites = manifest_suites(manifest, "gold", "gold")
        expectations = {
            s.table: sorted(
                (e.check, str(e.column), e.severity, json.dumps(e.kwargs, sort_keys=True))
                for e in s.expectations
            )
            for s in suites
        }
        return expectations, {s.table: s.index_columns for s in suites}, gold_keys(manifest)

    got, want = plan(merged), plan(separate)
    assert got == want
    checks = {(c, col) for c, col, _, _ in got[0]["gold.fct_b"]}
    assert (S.FOREIGN_KEY, "a_key") in checks and (S.COMPOUND_UNIQUE, "b_id,day") in checks
    assert got[2]["fct_b"].foreign[0].table == "dim_a"
    assert got[2]["dim_a"].primary == ("a_key",)


def test_a_column_rules_test_may_name_only_its_parents():
    """A model named in a ``column_rules`` test is one of its parents (the macro refs it); a
    manifest where it is not is refused, naming the test and the model."""
    from engagement_lake.manifest_tests import rules_by_model

    test = _test("cr", "dim_a", "column_rules", {"models": {"fct_z": {"not_null": ["z"]}}})
    with pytest.raises(ValueError, match=r"test\.p\.cr: its rules name 'fct_z'"):
        rules_by_model({"nodes": {"test.p.cr": test}})


def test_manifest_tests_become_expectations_and_run(tmp_path, monkeypatch):
    """dbt's tests on gold models, translated and evaluated on a tiny warehouse; GX does not
    fingerprint the chunks (a sixth of a check's time, and no check reads it)."""
    nodes = [
        _node("dim_a", ["a_key", "kind"]),
        _node("fct_b", ["b_id", "a_key"], enforced=False),
        _test("nn", "fct_b", "not_null", {"column_name": "b_id"}, "b_id"),
        _test("un", "dim_a", "unique", {"column_name": "a_key"}, "a_key"),
        _test("av", "dim_a", "accepted_values", {"values": ["Can''t", "x"]}, "kind", "warn"),
        _fct_b_references_dim_a(where="b_id > 1"),
    ]
    manifest = {"nodes": {n["unique_id"]: n for n in nodes}}
    suites = {s.table: s for s in manifest_suites(manifest, "gold", "gold")}
    assert set(suites) == {"gold.dim_a", "gold.fct_b"}
    plan = {(e.check, e.column): e for e in suites["gold.dim_a"].expectations}
    assert plan[(S.IN_SET, "kind")].kwargs["value_set"] == ["Can't", "x"]  # as dbt's SQL means
    assert plan[(S.IN_SET, "kind")].severity == "warning"
    assert plan[(S.COLUMNS_MATCH, None)].kwargs == {
        "column_set": ["a_key", "kind"],
        "exact_match": True,
    }
    fk = next(e for e in suites["gold.fct_b"].expectations if e.check == S.FOREIGN_KEY)
    assert fk.kwargs["parent"] == '"gold"."dim_a"' and fk.engine == "duckdb"

    con = duckdb.connect()
    con.execute("create schema gold")
    con.execute(
        "create table gold.dim_a as select * from (values ('k1', 'Can''t'), "
        "('k1', 'x'), ('k2', 'y')) t(a_key, kind)"
    )
    con.execute(
        "create table gold.fct_b as select * from (values (1, 'zz'), (2, 'k2'), "
        "(3, 'k9'), (null, 'k1')) t(b_id, a_key)"
    )
    validator = GxValidator()
    from great_expectations.execution_engine import pandas_execution_engine

    def fingerprint(df):
        raise AssertionError("GX fingerprinted a chunk")

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", fingerprint)
    got = {}
    for suite in suites.values():
        results, _ = run_suite(con, suite, validator)
        got.update({(r.table, r.column, r.check): r for r in results})
    assert got[("gold.dim_a", "a_key", S.UNIQUE)].unexpected_count == 2
    assert got[("gold.dim_a", "kind", S.IN_SET)].sample == ["y"]
    assert got[("gold.fct_b", "b_id", S.NOT_NULL)].unexpected_count == 1
    # The test's where filter (b_id > 1) leaves out the orphan 'zz' of row 1.
    orphans = got[("gold.fct_b", "a_key", S.FOREIGN_KEY)]
    assert (orphans.unexpected_count, orphans.sample) == (1, ["k9"])


# ----------------------------------------------------------------------------- faults (bronze)


def test_every_row_fault_is_reported_by_its_expectation(faulty):
    _, manifest, report = faulty
    failing = _failing(report, "error")
    rows = manifest.filter(pl.col("fault_kind").is_in(list(FAULT_CHECK)))
    expected = rows.group_by("system", "table", "fault_kind", "column").len()
    for fault in expected.iter_rows(named=True):
        check = fault_check(fault)
        key = (f"{fault['system']}.{fault['table']}", fault["column"], check)
        assert key in failing, f"{fault} not reported"
        assert failing[key].unexpected_count == fault["len"], key
    orders_status = failing[("shop.orders", "status", S.IN_SET)]
    assert orders_status.sample == ["lost_in_transit"]
    orphan = failing[("shop.orders", "customer_id", S.FOREIGN_KEY)]
    assert orphan.sample == ["C9999990"]
    dates = failing[("shop.customers", "birth_date", S.STRFTIME)]
    assert sorted(dates.sample) == ["31/12/1980", "N/A"]


def test_bronze_errors_are_exactly_the_injected_faults(faulty):
    """No false alarm: the clean rows of the faulty lake pass every error check."""
    _, manifest, report = faulty
    expected = {
        (f"{r['system']}.{r['table']}", r["column"], fault_check(r))
        for r in manifest.filter(pl.col("fault_kind").is_in(list(FAULT_CHECK))).iter_rows(
            named=True
        )
    }
    expected.add(("social.mentions", None, S.FILE_READABLE))
    expected.add(("mlops.recommendations_served", None, S.FILE_READABLE))
    assert set(_failing(report, "error")) == expected


def test_truncated_file_is_one_failing_check_naming_it(faulty):
    _, manifest, report = faulty
    truncated = manifest.filter(pl.col("fault_kind") == "truncated_file")["file"][0]
    readable = _failing(report)[("social.mentions", None, S.FILE_READABLE)]
    assert readable.unexpected_count == 1
    assert readable.sample[0].startswith(truncated)
    # The table's other files are still checked.
    not_null = next(
        r
        for r in report.results
        if (r.table, r.column, r.check) == ("social.mentions", "mention_id", S.NOT_NULL)
    )
    assert not_null.success and not_null.element_count > 0


def test_schema_drift_is_reported(faulty):
    _, manifest, report = faulty
    warnings = _failing(report, "warning")
    extra = manifest.filter(pl.col("fault_kind") == "extra_column").row(0, named=True)
    found = warnings[(f"{extra['system']}.{extra['table']}", extra["column"], S.COLUMNS_MATCH)]
    assert found.sample == [extra["file"]]
    missing = manifest.filter(pl.col("fault_kind") == "missing_column").row(0, named=True)
    found = warnings[
        (f"{missing['system']}.{missing['table']}", missing["column"], S.COLUMN_EXISTS)
    ]
    assert found.sample == [missing["file"]]  # an optional column: a warning


def test_missing_required_column_is_an_error_naming_table_and_column(faulty, tmp_path):
    cfg, _, _ = faulty
    source = sorted(cfg.data_dir.glob("bronze/shop/orders/*/*.parquet"))[0]
    target = tmp_path / "data" / source.relative_to(cfg.data_dir)
    target.parent.mkdir(parents=True)
    pq.write_table(pq.read_table(source).drop_columns(["channel"]), target)
    report = run_checks(
        RunConfig(tmp_path / "data", tmp_path / "w.duckdb"),
        "bronze",
        report_dir=tmp_path / "reports",
    )
    assert report.exit_code == 1
    line = next(x for x in report.lines() if " channel expect_column_to_exist " in x)
    assert line.startswith("bronze shop.orders channel expect_column_to_exist unexpected=1")
    assert line.endswith("severity=error")


def test_check_fails_on_faulty_bronze_with_lines(faulty):
    _, _, report = faulty
    assert report.exit_code == 1
    lines = report.lines()
    assert (
        "bronze shop.orders status expect_column_values_to_be_in_set unexpected=1 "
        'sample=["lost_in_transit"] severity=error (quarantined)'
    ) in lines
    assert any(
        x.startswith("bronze shop.orders order_id expect_column_values_to_not_be_null unexpected=1")
        for x in lines
    )
    assert lines == [r.line() for r in report.failures()]
    assert all("severity=error" in x for x in lines[: len(report.failures("error"))])


def test_report_only_mode_keeps_the_failures_but_exits_zero(faulty):
    _, _, report = faulty
    relaxed = CheckReport(report.results, report.layers, gating_layers=())
    assert relaxed.exit_code == 0 and relaxed.failures("error") == report.failures("error")
    assert "report-only" in relaxed.summary()


def test_quarantined_bronze_rows_never_gate_but_structural_errors_do():
    assert R.gating_layers("all", None) == ("bronze", "silver", "gold")
    assert R.gating_layers("bronze", None) == ("bronze",)
    assert R.gating_layers("bronze", False) == ()
    row = CheckResult("bronze", "shop.orders", "status", S.IN_SET, "error", False, quarantined=True)
    file = CheckResult("bronze", "social.mentions", None, S.FILE_READABLE, "error", False)
    gold = CheckResult("gold", "fct_orders", "order_key", S.NOT_NULL, "error", False)
    for layer in ("bronze", "all"):
        gating = R.gating_layers(layer, None)
        assert CheckReport([row], ("bronze",), gating).exit_code == 0
        assert CheckReport([row, file], ("bronze",), gating).exit_code == 1
        assert CheckReport([row], ("bronze",), gating, strict=True).exit_code == 1
    assert CheckReport([row, gold], R.LAYERS, R.gating_layers("all", None)).exit_code == 1
    assert (
        "1 bronze errors are rows the build quarantines"
        in CheckReport([row], ("bronze",), ("bronze",)).summary()
    )


def test_reports_are_written(faulty):
    _, _, report = faulty
    doc = json.loads(report.json_path.read_text())
    assert doc["exit_code"] == 1 and len(doc["results"]) == len(report.results)
    assert doc["counts"]["bronze"]["error"] == len(report.failures("error"))
    page = report.html_path.read_text()
    assert page.count("<details") == len({r.suite for r in report.results})
    assert "bronze.shop.orders" in page and "lost_in_transit" in page


def test_main_check_prints_lines_and_summary(faulty, tmp_path, capsys):
    cfg, _, report = faulty
    code = main_check("bronze", cfg.data_dir, cfg.warehouse, tmp_path / "reports")
    out = capsys.readouterr().out
    assert code == 1
    assert report.lines()[0] in out
    assert out.strip().splitlines()[-1].startswith("quality bronze:")


def _outcomes(report: CheckReport) -> list[tuple]:
    return [
        (r.table, r.column, r.check, r.success, r.unexpected_count, r.element_count, r.sample)
        for r in report.results
    ]


def test_a_check_again_reuses_the_rows_that_passed_and_reports_the_same(faulty, tmp_path):
    """The faulty lake fails in many tables and chunks; reusing rows changes no result."""
    cfg, _, report = faulty
    assert ledger_path(cfg.warehouse).exists()
    again = run_checks(cfg, "bronze", report_dir=tmp_path, fail_on_error=True)
    loaded = [r for r in report.results if r.check == S.NOT_NULL and r.column == "_loaded_at"]
    bronze_rows = sum(r.element_count for r in loaded)
    assert len(loaded) > 40 and again.rows_reused > 0.9 * bronze_rows
    assert f"{again.rows_reused:,} unchanged rows already validated" in again.summary()
    assert _outcomes(again) == _outcomes(report)
    where = ["--data-dir", str(cfg.data_dir), "--warehouse", str(cfg.warehouse)]
    result = CliRunner().invoke(
        app, ["check", "--layer", "bronze", "--all-rows", *where, "--report-dir", str(tmp_path)]
    )
    assert result.exit_code == 1, result.output
    assert "already validated" not in result.output
    every = json.loads((tmp_path / "check_bronze.json").read_text())
    assert every["rows_reused"] == 0
    assert [(r["table"], r["check"], r["unexpected_count"]) for r in every["results"]] == [
        (table, check, count) for table, _, check, _, count, _, _ in _outcomes(report)
    ]


# ----------------------------------------------------------------------------- chunks, freshness


def test_chunked_validation_matches_whole_table_and_sees_duplicates_across_chunks(
    faulty, contracts
):
    cfg, _, _ = faulty
    suite = S.bronze_suite(contracts["shop.orders"])
    files = sorted(str(p) for p in cfg.data_dir.glob("bronze/shop/orders/*/part-0000.parquet"))
    con = duckdb.connect()
    con.execute(
        f"create temp view base as select * from read_parquet({files}, union_by_name = true)"
    )
    # The first order again at the end, in the same batch (a duplicate key two chunks apart),
    # with a total that no longer matches its parts (the contract's SQL rule).
    first = con.execute("select min(order_id) from base").fetchone()[0]
    con.execute(
        f"create temp view {suite.relation} as select * from base union all "
        "select * replace (total_amount + 5 as total_amount) from base "
        f"where order_id = '{first}'"
    )
    parents = {"shop.customers": None}
    validator = GxValidator()
    whole, rows = run_suite(con, suite, validator, parents=parents, skip=("files", "layer"))
    chunked, _ = run_suite(
        con, suite, validator, parents=parents, skip=("files", "layer"), chunk_rows=2048
    )
    assert rows > 2 * 2048
    key = lambda r: (r.check, r.column)  # noqa: E731
    counts = {key(r): (r.unexpected_count, r.element_count) for r in whole}
    assert {key(r): (r.unexpected_count, r.element_count) for r in chunked} == counts
    assert counts[(S.IN_SET, "status")] == (1, rows)
    assert counts[(S.COMPOUND_UNIQUE, "order_id")][0] == 2
    rule = next(r for r in chunked if r.check == "sql:total_matches_parts")
    assert (rule.success, rule.severity, rule.unexpected_count) == (False, "warning", 1)
    assert rule.sample[0][0] == first


def test_freshness_is_measured_against_the_newest_load(contracts):
    suites = [S.bronze_suite(contracts[t]) for t in ("shop.orders", "shop.customers", "crm.leads")]
    as_of = datetime(2026, 6, 30, 23, 30)
    newest = {
        "shop.orders": as_of - timedelta(hours=100),  # beyond errorAfterHours 96
        "shop.customers": as_of - timedelta(hours=40),  # beyond warnAfterHours 36
        "crm.leads": as_of,
    }
    results, measured = B._freshness(suites, newest)
    assert measured == as_of
    by_table = {r.table: r for r in results}
    assert (by_table["shop.orders"].success, by_table["shop.orders"].severity) == (False, "error")
    assert by_table["shop.orders"].observed == 100.0
    assert (by_table["shop.customers"].success, by_table["shop.customers"].severity) == (
        False,
        "warning",
    )
    assert by_table["crm.leads"].success


def test_importing_quality_does_not_import_great_expectations():
    code = (
        "import sys, engagement_lake.quality; "
        "assert 'great_expectations' not in sys.modules and 'pandas' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------------- clean lake


def test_clean_lake_passes_silver(lake, tmp_path):
    report = run_checks(lake.cfg, "silver", report_dir=tmp_path)
    assert report.failures("error") == [], report.lines()
    assert report.exit_code == 0
    recon = [r for r in report.results if r.check == S.RECONCILIATION]
    assert len(recon) == len(load_contracts()) and all(r.success for r in recon)
    staged = {r.table for r in report.results if r.table.startswith("staging.")}
    assert "staging.stg_shop__orders" in staged and len(staged) == len(load_contracts())


def test_clean_lake_passes_gold(lake, tmp_path):
    report = run_checks(lake.cfg, "gold", report_dir=tmp_path)
    assert report.failures("error") == [], report.lines()
    assert report.exit_code == 0
    manifest = json.loads((lake.cfg.target_dir / "manifest.json").read_text())
    gold_models = {
        f"gold.{n['name']}"
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
        and n["schema"] == "gold"
        and n["config"]["materialized"] != "ephemeral"
    }
    assert {r.table for r in report.results} == gold_models
    checks = {r.check for r in report.results}
    assert {S.NOT_NULL, S.UNIQUE, S.FOREIGN_KEY, S.COLUMNS_MATCH} <= checks


def test_broken_gold_table_fails_with_the_right_lines(lake, tmp_path):
    warehouse = tmp_path / "broken.duckdb"
    shutil.copy(lake.cfg.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    app_key, app_orders = con.execute(
        "select c.channel_key, count(*) from gold.dim_channel c "
        "join gold.fct_orders o using (channel_key) where c.channel_code = 'app' group by 1"
    ).fetchone()
    con.execute(
        "insert into gold.dim_channel select * from gold.dim_channel where channel_code = 'web'"
    )
    con.execute("delete from gold.dim_channel where channel_code = 'app'")
    con.close()
    cfg = RunConfig(lake.cfg.data_dir, warehouse, target_dir=lake.cfg.target_dir)
    report = run_checks(cfg, "gold", report_dir=tmp_path)
    assert report.exit_code == 1
    failing = _failing(report, "error")
    assert failing[("gold.dim_channel", "channel_key", S.UNIQUE)].unexpected_count == 2
    orphans = failing[("gold.fct_orders", "channel_key", S.FOREIGN_KEY)]
    assert (orphans.unexpected_count, orphans.sample) == (app_orders, [app_key])
    assert (
        f"gold gold.fct_orders channel_key foreign_key_presence unexpected={app_orders} "
        f'sample=["{app_key}"] severity=error'
    ) in report.lines()


def test_unknown_layer_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown layer"):
        run_checks(RunConfig(tmp_path, tmp_path / "w.duckdb"), "platinum", report_dir=tmp_path)
