"""The fault policy end to end, on data generated with --faults and its manifest:
every injected bad row is quarantined with the right reason (values that do not cast, whitespace
for a required value, dates outside the contract's window included) and the build passes; schema
drift is absorbed or named; every bad file (truncated, corrupt pages behind an intact footer, a
malformed partition folder) stops the build before any layer is touched, or is left in place,
recorded and skipped on request; and reconciliation still holds."""

from __future__ import annotations

import json
import shutil

import duckdb
import polars as pl
import pytest

from engagement_lake.config import RunConfig
from engagement_lake.dbt_runner import BronzeFileError, build
from engagement_lake.generate.faults import FAULT_KINDS, ROW_FAULT_KINDS
from engagement_lake.quality import run_checks

ROW_FAULTS = set(ROW_FAULT_KINDS)
BAD_FILES = {"truncated_file", "corrupt_pages", "bad_partition"}


@pytest.fixture(scope="module")
def faulty(module_dir, faulty_bronze):
    root = module_dir("faulty_build")
    manifest = pl.read_parquet(faulty_bronze / "_truth" / "faults.parquet")
    return root, faulty_bronze, manifest


@pytest.fixture(scope="module")
def built(faulty):
    """The same data built with the opt-in policy that sets unreadable files aside."""
    root, data, manifest = faulty
    copy = root / "copy"
    shutil.copytree(data, copy)
    cfg = RunConfig(copy, root / "quarantined.duckdb", target_dir=root / "target")
    run = build(cfg, progress=False, unreadable="quarantine")
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    yield cfg, run, con, manifest
    con.close()


def test_manifest_lists_every_fault_kind(faulty):
    kinds = set(faulty[2]["fault_kind"])
    assert kinds == set(FAULT_KINDS)


def test_bad_files_stop_the_build_before_any_layer_one_line_each(faulty, tmp_path):
    _, data, manifest = faulty
    bad = sorted(manifest.filter(pl.col("fault_kind").is_in(BAD_FILES))["file"])
    assert len(bad) == 4
    cfg = RunConfig(data, tmp_path / "w.duckdb", target_dir=tmp_path / "target")
    with pytest.raises(BronzeFileError) as info:
        build(cfg, progress=False)
    lines = str(info.value).splitlines()
    assert len(lines) == len(bad)
    for file, line in zip(bad, lines, strict=True):
        assert file in line and line.endswith("rerun with --unreadable quarantine to set it aside")
    assert not cfg.warehouse.exists(), "no layer may be touched"


def test_build_with_faults_passes_every_test(built):
    _, run, _, _ = built
    assert run.success and run.failures == []


def test_every_bad_row_is_quarantined_with_its_reason(built):
    _, _, con, manifest = built
    expected = {
        (r["system"], r["table"], r["source_key"], r["fault_kind"], r["column"])
        for r in manifest.filter(pl.col("fault_kind").is_in(ROW_FAULTS)).iter_rows(named=True)
    }
    found = set(
        con.execute(
            "select system, table_name, source_key, reason, column_name from quality.quarantine"
        ).fetchall()
    )
    assert found == expected


def test_hostile_rows_are_quarantined_with_their_reason_and_column(built):
    """One row per hostile case: what it is, the reason and column it is quarantined under."""
    _, _, con, _ = built
    found = dict(
        ((r[0], r[1], r[2]), r[3])
        for r in con.execute(
            "select table_name, reason, column_name, count(*) from quality.quarantine group by all"
        ).fetchall()
    )
    # a decimal column sent as text, one value 'abc'
    assert found[("orders", "uncastable_value", "discount_amount")] == 1
    # whitespace-only required values
    assert found[("ticket_messages", "missing_required", "body")] == 1
    assert found[("opportunities", "missing_required", "opportunity_name")] == 1
    # orders dated 1900-01-01 (the unknown member's date) and 2999-01-01
    assert found[("orders", "out_of_range", "order_ts")] == 2
    # birth dates 9999-12-31, 2999-12-31, 0001-01-01; a signup in 2099
    assert found[("customers", "out_of_range", "birth_date")] == 3
    assert found[("customers", "out_of_range", "signup_date")] == 1


def test_bad_files_are_left_in_place_recorded_and_skipped(built):
    cfg, run, con, manifest = built
    bad = manifest.filter(pl.col("fault_kind").is_in(BAD_FILES))
    recorded = json.loads((cfg.data_dir / "_quarantine" / "manifest.json").read_text())["files"]
    assert sorted(e["path"] for e in recorded) == sorted(bad["file"])
    for entry in recorded:
        assert (cfg.data_dir / entry["path"]).exists(), "bronze is never moved or rewritten"
        assert entry["reason"] and entry["size"] > 0 and entry["detected_at"]
    assert {p.kind for p in run.preflight.errors} == {"unreadable_file", "bad_partition"}
    skipped = dict(
        con.execute(
            "select system || '.' || table_name, skipped_file_rows from quality.reconciliation "
            "where skipped_file_rows > 0"
        ).fetchall()
    )
    # the corrupt and misplaced files' footers tell their rows; the truncated one's cannot
    assert skipped == {
        "mlops.recommendations_served": 5,
        "reviews.product_reviews": 5,
        "loyalty.points_ledger": 5,
    }
    foreign = manifest.filter(pl.col("fault_kind") == "foreign_file")["file"][0]
    assert [w.path for w in run.preflight.warnings] == [cfg.data_dir / foreign]


def test_check_exit_codes_agree_on_quarantined_bronze(built, tmp_path):
    """Bronze errors that staging quarantined are reported and fail no layer's run; bronze and
    all give the same exit code on the same data."""
    cfg = built[0]
    bronze = run_checks(cfg, "bronze", report_dir=tmp_path)
    everything = run_checks(cfg, "all", report_dir=tmp_path)
    assert bronze.exit_code == everything.exit_code == 0
    quarantined = [r for r in bronze.failures("error") if r.quarantined]
    assert quarantined, "the bad rows are still reported"
    assert all(r.quarantined for r in bronze.failures("error"))
    # the truncated and corrupt files fail the check, and count as handled: the build set them
    # aside and recorded them
    unreadable = {r.table for r in quarantined if r.check == "parquet_file_readable"}
    assert unreadable == {"social.mentions", "mlops.recommendations_served"}
    assert "rows the build quarantines" in bronze.summary()
    strict = run_checks(cfg, "bronze", report_dir=tmp_path, fail_on_error=True)
    assert strict.exit_code == 1


def test_extra_column_is_ignored_and_missing_optional_column_is_null(built):
    _, _, con, manifest = built
    extra = manifest.filter(pl.col("fault_kind") == "extra_column").row(0, named=True)
    staged = {
        r[0]
        for r in con.execute(f"describe staging.stg_{extra['system']}__{extra['table']}").fetchall()
    }
    assert extra["column"] not in staged
    missing = manifest.filter(pl.col("fault_kind") == "missing_column").row(0, named=True)
    nulls = con.execute(
        f"select count(*) from staging.stg_{missing['system']}__{missing['table']} "
        f"where _source_file = ? and {missing['column']} is not null",
        [missing["file"]],
    ).fetchone()[0]
    rows_from_file = con.execute(
        f"select count(*) from staging.stg_{missing['system']}__{missing['table']} "
        "where _source_file = ?",
        [missing["file"]],
    ).fetchone()[0]
    assert rows_from_file > 0 and nulls == 0


def test_no_valid_row_is_lost(built):
    _, _, con, _ = built
    unbalanced = con.execute(
        "select count(*) from quality.reconciliation "
        "where bronze_rows <> staging_rows + quarantined_rows + collapsed_rows"
    ).fetchone()[0]
    assert unbalanced == 0
