"""Hostile input that never reaches dbt: a wrong data folder, bad files and folders in bronze, a
copied warehouse, a busy warehouse, and every CLI input mistake — each refused in one line,
before anything is touched. (The hostile rows themselves are in test_faults.py, built once.)"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from duckdb_holder import held_by_another_process
from engagement_lake import cli
from engagement_lake.config import RunConfig
from engagement_lake.contracts import load_contracts
from engagement_lake.dbt_runner import BronzeFileError, build, preflight
from engagement_lake.preflight import (
    BAD_PARTITION,
    FOREIGN_FILE,
    MISSING_REQUIRED_COLUMN,
    UNKNOWN_TABLE,
    UNREADABLE,
    NoBronzeError,
    record_quarantine,
    scan,
)
from engagement_lake.quality import run_checks


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The CLI as a user runs it (one-line errors included); exit code and stderr."""
    code = cli.main(list(args))
    err = capsys.readouterr().err
    return code, err


def _one_error_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


# ----------------------------------------------------------------------------- a wrong path


def test_build_refuses_a_data_folder_that_does_not_exist(lake, tmp_path, capsys):
    before = _digest(lake.cfg.warehouse)
    typo = tmp_path / "dta"
    code, err = _run(
        capsys, "build", "--data-dir", str(typo), "--warehouse", str(lake.cfg.warehouse)
    )
    line = _one_error_line(err)
    assert code == 1
    assert f"data folder {typo} does not exist; check --data-dir" in line
    assert _digest(lake.cfg.warehouse) == before, "the warehouse must not be touched"
    assert not typo.exists(), "nothing may be exported into a folder that held no bronze"


def test_build_refuses_a_folder_without_bronze(lake, tmp_path):
    empty = tmp_path / "empty"
    (empty / "bronze" / "shop").mkdir(parents=True)
    with pytest.raises(BronzeFileError, match="holds no bronze"):
        build(RunConfig(empty, lake.cfg.warehouse), progress=False)
    assert not (empty / "gold").exists()


def test_build_refuses_fewer_source_tables_than_the_warehouse_was_built_from(lake, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(lake.cfg.data_dir / "bronze", data / "bronze")
    shutil.rmtree(data / "bronze" / "shop" / "orders")
    shutil.rmtree(data / "bronze" / "support" / "tickets")
    cfg = RunConfig(data, lake.cfg.warehouse, target_dir=tmp_path / "target")
    with pytest.raises(BronzeFileError) as info:
        preflight(cfg)
    message = str(info.value)
    assert "\n" not in message
    assert (
        "lacks 2 source table(s) the warehouse was built from (shop.orders, support.tickets)"
        in (message)
    )
    assert "--allow-missing-sources shop.orders,support.tickets" in message
    with pytest.raises(BronzeFileError, match=r"\(support\.tickets\)"):
        preflight(cfg, allow_missing_sources=["shop.orders"])
    checked = preflight(cfg, allow_missing_sources=["shop.orders", "support.tickets"])
    assert "shop.orders" not in checked.files and checked.errors == []
    with pytest.raises(BronzeFileError, match=r"names no contract table: shop\.ordres"):
        preflight(cfg, allow_missing_sources=["shop.ordres"])


def test_check_refuses_a_missing_data_folder_for_bronze_and_all(tmp_path, capsys):
    typo = tmp_path / "nope"
    for layer in ("bronze", "all"):
        with pytest.raises(NoBronzeError):
            run_checks(RunConfig(typo, tmp_path / "w.duckdb"), layer, report_dir=tmp_path)
        code, err = _run(capsys, "check", "--layer", layer, "--data-dir", str(typo))
        assert code == 1
        assert "does not exist; check --data-dir" in _one_error_line(err)


# ----------------------------------------------------------------------------- bad files


def _table(n: int = 4, **columns: list) -> pa.Table:
    base = {"order_id": [f"O{i:010d}" for i in range(n)], "customer_id": ["C0000001"] * n}
    base.update(columns)
    return pa.table(base)


@pytest.fixture
def contracts():
    return load_contracts()


def _write(path: Path, table: pa.Table) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def _orders_file(lake, root: Path, rel: str) -> Path:
    """A real shop.orders file copied into a hand-made bronze folder at ``rel``."""
    source = sorted(lake.cfg.data_dir.glob("bronze/shop/orders/*/*.parquet"))[0]
    target = root / "bronze" / "shop" / "orders" / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    return target


def test_preflight_decodes_every_page_not_only_the_footer(lake, tmp_path, contracts):
    good = _orders_file(lake, tmp_path, "load_date=2026-06-30/part-0000.parquet")
    bad = _orders_file(lake, tmp_path, "load_date=2026-06-30/part-0001.parquet")
    chunk = pq.read_metadata(bad).row_group(0).column(0)
    with bad.open("r+b") as fh:
        fh.seek(chunk.dictionary_page_offset or chunk.data_page_offset)
        fh.write(b"\xff" * 16)
    assert pq.read_metadata(bad).num_rows > 0, "the footer still opens"
    result = scan(tmp_path, contracts, ["shop.orders"])
    (problem,) = result.errors
    assert (problem.kind, problem.path, problem.table) == (UNREADABLE, bad, "shop.orders")
    assert problem.rows == pq.read_metadata(good).num_rows
    assert result.files["shop.orders"] == [good]


def test_preflight_names_bad_partitions_foreign_files_and_unknown_tables(lake, tmp_path, contracts):
    _orders_file(lake, tmp_path, "load_date=2026-06-30/part-0000.parquet")
    not_a_date = _orders_file(lake, tmp_path, "load_date=notadate/part-0000.parquet")
    no_key = _orders_file(lake, tmp_path, "2026-06-30/part-0000.parquet")
    impossible = _orders_file(lake, tmp_path, "load_date=2026-02-30/part-0000.parquet")
    loose = _orders_file(lake, tmp_path, "part-0009.parquet")
    csv = tmp_path / "bronze/shop/orders/load_date=2026-06-30/export.csv"
    csv.write_text("order_id\nO1\n")
    (tmp_path / "bronze/shop/coupons/load_date=2026-06-30").mkdir(parents=True)
    result = scan(tmp_path, contracts)
    found = {(p.kind, p.path) for p in result.problems}
    assert found == {
        (BAD_PARTITION, not_a_date),
        (BAD_PARTITION, no_key),
        (BAD_PARTITION, impossible),
        (BAD_PARTITION, loose),
        (FOREIGN_FILE, csv),
        (UNKNOWN_TABLE, tmp_path / "bronze/shop/coupons"),
    }
    assert {p.kind for p in result.errors} == {BAD_PARTITION}
    line = next(p for p in result.problems if p.path == not_a_date).line(tmp_path)
    assert line == (
        "bronze shop.orders: bronze/shop/orders/load_date=notadate/part-0000.parquet: bad "
        "partition (in folder 'load_date=notadate'; bronze files live in load_date=YYYY-MM-DD/)"
    )


def test_preflight_names_a_missing_required_column_before_any_model(lake, tmp_path, contracts):
    path = _orders_file(lake, tmp_path, "load_date=2026-06-30/part-0000.parquet")
    pq.write_table(pq.read_table(path).drop_columns(["channel"]), path)
    cfg = RunConfig(tmp_path, tmp_path / "w.duckdb", target_dir=tmp_path / "target")
    with pytest.raises(BronzeFileError) as info:
        preflight(cfg)
    (line,) = str(info.value).splitlines()
    assert line.startswith(
        "bronze shop.orders: bronze/shop/orders/load_date=2026-06-30/part-0000.parquet: "
        "missing required column ('channel' not in the file); the build did not start"
    )
    assert scan(tmp_path, contracts).errors[0].kind == MISSING_REQUIRED_COLUMN
    assert not cfg.warehouse.exists()


def test_each_file_is_decoded_once_per_content(lake, tmp_path, contracts):
    a = _orders_file(lake, tmp_path, "load_date=2026-06-30/part-0000.parquet")
    _orders_file(lake, tmp_path, "load_date=2026-07-01/part-0000.parquet")
    assert scan(tmp_path, contracts).decoded == 2
    assert scan(tmp_path, contracts).decoded == 0
    pq.write_table(pq.read_table(a).slice(0, 3), a)  # new content at the same path
    again = scan(tmp_path, contracts)
    assert again.decoded == 1 and again.rows["shop.orders"] > 3


def test_the_bronze_checks_decode_only_what_the_preflight_has_not(
    lake, tmp_path, contracts, monkeypatch
):
    """The quality checks' file scan shares the preflight's cache: after a preflight, no file is
    decoded again; a file rewritten since is."""
    from engagement_lake import preflight as pf
    from engagement_lake.quality.bronze import scan_bronze_files

    a = _orders_file(lake, tmp_path, "load_date=2026-06-30/part-0000.parquet")
    _orders_file(lake, tmp_path, "load_date=2026-07-01/part-0000.parquet")
    assert scan(tmp_path, contracts).decoded == 2
    decoded: list[Path] = []
    real = pf.decode_parquet
    monkeypatch.setattr(pf, "decode_parquet", lambda path: decoded.append(path) or real(path))
    orders = contracts["shop.orders"]
    assert len(scan_bronze_files(tmp_path, orders).readable) == 2 and decoded == []
    a.write_bytes(a.read_bytes()[:-40])  # truncated since: a new size, decoded again
    found = scan_bronze_files(tmp_path, orders)
    assert decoded == [a] and list(found.unreadable) == [a] and len(found.readable) == 1


def test_a_selection_checks_only_the_tables_it_reads(lake, tmp_path, contracts):
    _orders_file(lake, tmp_path, "load_date=2026-06-30/part-0000.parquet")
    _write(tmp_path / "bronze/support/tickets/load_date=2026-06-30/part-0000.parquet", _table())
    with (tmp_path / "bronze/support/tickets/load_date=2026-06-30/part-0000.parquet").open(
        "r+b"
    ) as fh:
        fh.truncate(40)
    assert scan(tmp_path, contracts, ["shop.orders"]).errors == []
    assert [p.table for p in scan(tmp_path, contracts).errors] == ["support.tickets"]


def test_quarantine_manifest_keeps_each_bad_file_it_saw(lake, tmp_path, contracts):
    bad = _orders_file(lake, tmp_path, "load_date=2026-06-30/part-0000.parquet")
    bad.write_bytes(b"not parquet at all")
    first = scan(tmp_path, contracts).errors
    record_quarantine(tmp_path, first)
    record_quarantine(tmp_path, first)  # the same file again: no second entry
    bad.write_bytes(b"another broken body, longer")
    record_quarantine(tmp_path, scan(tmp_path, contracts).errors)
    import json

    entries = json.loads((tmp_path / "_quarantine" / "manifest.json").read_text())["files"]
    assert [(e["path"], e["size"], e["kind"]) for e in entries] == [
        ("bronze/shop/orders/load_date=2026-06-30/part-0000.parquet", 18, UNREADABLE),
        ("bronze/shop/orders/load_date=2026-06-30/part-0000.parquet", 27, UNREADABLE),
    ]
    assert all(e["reason"] and e["detected_at"] for e in entries)
    assert bad.exists(), "bronze is never moved or rewritten"


# ----------------------------------------------------------------------------- the warehouse


def test_a_copied_and_renamed_warehouse_reads_every_view(lake, tmp_path):
    copy = tmp_path / "renamed_copy.duckdb"
    shutil.copy(lake.cfg.warehouse, copy)
    manifest = json.loads((lake.cfg.target_dir / "manifest.json").read_text())
    view_models = sum(
        1
        for uid, node in manifest["nodes"].items()
        if uid.startswith("model.") and node["config"].get("materialized") == "view"
    )
    with duckdb.connect(str(copy), read_only=True) as con:
        views = con.execute(
            "select schema_name, view_name from duckdb_views() where not internal"
        ).fetchall()
        # every model dbt built as a view is there: none, since staging is tables too, so no
        # query of the copy depends on the bronze folder or the catalog name it was built with
        assert len(views) == view_models == 0
        for schema, view in views:
            con.execute(f'select count(*) from "{schema}"."{view}"').fetchone()
        staged = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'staging'"
        ).fetchall()
        assert len(staged) > 90  # a base and a staged model per bronze table
        for (table,) in staged:
            con.execute(f'select count(*) from staging."{table}"').fetchone()
        bound = con.execute(
            "select view_name from duckdb_views() where not internal and sql ilike ?",
            [f"%{lake.cfg.warehouse.stem}.%"],
        ).fetchall()
        assert bound == [], "no view may name the catalog it was built in"


def test_a_busy_warehouse_is_one_line(lake, tmp_path, capsys):
    db = tmp_path / "busy.duckdb"
    with held_by_another_process(db, "create schema quality"):
        code, err = _run(
            capsys, "build", "--data-dir", str(lake.cfg.data_dir), "--warehouse", str(db)
        )
        line = _one_error_line(err)
        assert code == 1
        assert f"{db} is in use by another process" in line and "retry" in line
        code, err = _run(capsys, "check", "--layer", "gold", "--warehouse", str(db))
        assert code == 1 and "is in use by another process" in _one_error_line(err)


# ----------------------------------------------------------------------------- CLI input


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["generate", "--scale", "inf"], 1, "--scale must be a positive finite number, not inf"),
        (["generate", "--scale", "nan"], 1, "--scale must be a positive finite number, not nan"),
        (["generate", "--scale", "-1"], 1, "--scale must be a positive finite number"),
        (["generate", "--scale", "1e9"], 1, "--scale 1e+09 needs about 10,000,000,000,000,000"),
        (["generate", "--seed", "1e23"], 2, "Invalid value for '--seed'"),
        (["generate", "--seed", str(10**23)], 2, "less than or equal to 9223372036854775807"),
        (["build", "--unreadable", "ignore"], 2, "'ignore' is not one of 'fail', 'quarantine'"),
        (["check", "--layer", "platinum"], 2, "'platinum' is not one of 'bronze', 'silver'"),
        (["frobnicate"], 2, "No such command 'frobnicate'"),
    ],
)
def test_cli_input_errors_are_one_line(args, code, needle, tmp_path, capsys):
    target = tmp_path / "data"
    extra = ["--data-dir", str(target)] if args[0] == "generate" else []
    got, err = _run(capsys, *args, *extra)
    assert got == code
    assert needle in _one_error_line(err)
    assert not target.exists(), "nothing may be written for a refused request"


def test_generate_into_a_file_is_one_line(tmp_path, capsys):
    a_file = tmp_path / "passwd"
    a_file.write_text("root:x:0:0\n")
    code, err = _run(capsys, "generate", "--scale", "0.001", "--data-dir", str(a_file))
    assert code == 1
    assert f"--data-dir {a_file} is a file, not a folder" in _one_error_line(err)
    assert a_file.read_text() == "root:x:0:0\n"


def test_huge_scale_is_refused_before_allocating(tmp_path):
    from engagement_lake.generate.limits import check_request, estimate

    with pytest.raises(ValueError, match="Choose --scale") as info:
        check_request(tmp_path, 1e9, 42)
    assert "PB of Parquet" in str(info.value)
    assert estimate(1).rows == 10_000_000
    assert check_request(tmp_path, 0.01, 42).disk_bytes == pytest.approx(2e6)


def test_unexpected_errors_are_one_line_and_debug_shows_the_traceback(capsys, monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError("something deep\nbroke")

    monkeypatch.setattr("engagement_lake.demo.summary", boom)
    code, err = _run(capsys, "summary", "--warehouse", __file__)
    assert code == 1
    assert _one_error_line(err) == (
        "error: RuntimeError: something deep broke (rerun with --debug for the traceback)"
    )
    with pytest.raises(RuntimeError, match="something deep"):
        cli.main(["--debug", "summary", "--warehouse", __file__])


def test_a_selection_resolves_the_sources_its_models_read(lake):
    from engagement_lake.dbt_runner import selected_sources

    assert selected_sources(["stg_shop__orders"], lake.cfg) == {"shop.orders", "shop.customers"}
    assert "support.tickets" not in selected_sources(["+fct_orders"], lake.cfg)
