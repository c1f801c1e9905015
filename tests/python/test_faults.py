"""The fault policy end to end, on data generated with --faults and its manifest:
every injected bad row is quarantined with the right reason; schema drift is absorbed or named;
an unreadable file stops the build before any layer is touched, or is set aside on request;
and reconciliation still holds."""

from __future__ import annotations

import shutil

import duckdb
import polars as pl
import pytest

from engagement_lake.config import RunConfig
from engagement_lake.dbt_runner import BronzeFileError, build

ROW_FAULTS = {
    "null_primary_key",
    "unknown_allowed_value",
    "out_of_range",
    "unparsable_date",
    "orphan_foreign_key",
}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    from engagement_lake.generate import generate

    root = tmp_path_factory.mktemp("faulty")
    data = root / "data"
    generate(data, scale=0.01, seed=11, faults=True, progress=False)
    manifest = pl.read_parquet(data / "_truth" / "faults.parquet")
    return root, data, manifest


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
    assert kinds == ROW_FAULTS | {"extra_column", "missing_column", "truncated_file"}


def test_truncated_file_stops_the_build_before_any_layer(faulty, tmp_path):
    _, data, manifest = faulty
    truncated = manifest.filter(pl.col("fault_kind") == "truncated_file")["file"][0]
    cfg = RunConfig(data, tmp_path / "w.duckdb", target_dir=tmp_path / "target")
    with pytest.raises(BronzeFileError) as info:
        build(cfg, progress=False)
    message = str(info.value)
    assert "\n" not in message
    assert truncated in message
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


def test_unreadable_file_is_set_aside_whole(built):
    cfg, _, _, manifest = built
    truncated = manifest.filter(pl.col("fault_kind") == "truncated_file")["file"][0]
    assert not (cfg.data_dir / truncated).exists()
    assert (cfg.data_dir / "_quarantine" / truncated).exists()


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
