"""Bronze judged per file: a file is read once, and the results are those of reading them all.

Each run with the ledger is compared with a run without it on the same files: same success,
same unexpected and element counts, same samples. The tables are two bronze-like folders of
Parquet files, one per load date, read as the checks read bronze (``parquet_reader``).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from engagement_lake.quality import per_file
from engagement_lake.quality import suites as S
from engagement_lake.quality.checked_rows import (
    ROWS_PASSED,
    CheckedRows,
    ledger_path,
    parquet_reader,
)
from engagement_lake.quality.gx_engine import GxValidator
from engagement_lake.quality.per_file import ROW_RULES
from engagement_lake.quality.suite_run import run_suite
from engagement_lake.quality.suites import Expect, TableSuite
from statement_log import WRITES, Recording


@pytest.fixture(scope="module")
def validator() -> GxValidator:
    return GxValidator()


def _write(folder: Path, day: str, rows: str) -> Path:
    """One load of a table: ``rows`` is a SELECT of its columns."""
    path = folder / f"load_date={day}" / "part-0000.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(f"copy ({rows}) to '{path}' (format parquet)")
    return path


def _customers(ids: range, *, day: str) -> str:
    return (
        f"select 'C' || i as customer_id, 'Name ' || i as full_name, "
        f"timestamp '{day}' as _loaded_at from range({ids.start}, {ids.stop}) as t(i)"
    )


def _orders(ids: range, customer_of: str, *, day: str, blank: int | None = None) -> str:
    name = f"case when i = {blank} then '  ' else 'paid' end" if blank is not None else "'paid'"
    return (
        f"select 'O' || i as order_id, 'C' || ({customer_of}) as customer_id, {name} as status, "
        f"cast(i as varchar) as amount, timestamp '{day}' as _loaded_at "
        f"from range({ids.start}, {ids.stop}) as t(i)"
    )


def _rule(check: str, column: str, where: str) -> Expect:
    return Expect(
        check,
        column,
        S.ERROR,
        {
            "query": f"select count(*) from ${{table}} where {where}",
            "operator": "mustBe",
            "threshold": 0,
        },
        engine="duckdb",
        row_condition=where,
    )


def _suites() -> tuple[TableSuite, TableSuite]:
    customers = TableSuite(
        "bronze",
        "shop.customers",
        "bronze__shop__customers",
        [Expect(S.NOT_NULL, "customer_id", S.ERROR, {"column": "customer_id"})],
        index_columns=("customer_id",),
    )
    orders = TableSuite(
        "bronze",
        "shop.orders",
        "bronze__shop__orders",
        [
            Expect(S.NOT_NULL, "order_id", S.ERROR, {"column": "order_id"}),
            _rule(S.NOT_BLANK, "status", "status is not null and trim(status) = ''"),
            _rule(
                S.CASTABLE,
                "amount",
                "amount is not null and try_cast(amount as decimal(12, 2)) is null",
            ),
            Expect(
                S.FOREIGN_KEY,
                "customer_id",
                S.ERROR,
                {
                    "column": "customer_id",
                    "parent": "shop.customers",
                    "parent_column": "customer_id",
                },
                engine="duckdb",
            ),
        ],
        index_columns=("order_id",),
    )
    return customers, orders


def _check(
    tmp_path: Path,
    validator: GxValidator,
    ledger: CheckedRows | None,
    statements: list[str] | None = None,
):
    """Both suites as the bronze run checks them; the results of the orders suite.
    ``statements``: gets the text of every statement run on the check's connection."""
    files = {
        table: sorted((tmp_path / "bronze" / table).rglob("*.parquet"))
        for table in ("shop.customers", "shop.orders")
    }
    customers, orders = _suites()
    con = duckdb.connect() if statements is None else Recording(duckdb.connect(), statements)
    for suite in (customers, orders):
        con.execute(
            f"create temp view {suite.relation} as select * from "
            f"{parquet_reader(files[suite.table])}"
        )
    validator.ledger = ledger
    try:
        results, rows = run_suite(
            con,
            orders,
            validator,
            parents={"shop.customers": customers.relation},
            files=files["shop.orders"],
            parent_files=files,
        )
    finally:
        validator.ledger = None
        if ledger is not None:
            ledger.release(con)
        con.close()
    return [
        (r.column, r.check, r.success, r.unexpected_count, r.element_count, r.sample)
        for r in results
    ], rows


def _same_as_reading_every_file(tmp_path: Path, validator: GxValidator) -> CheckedRows:
    """A run with the ledger reports exactly what a run without it reports; returns the
    ledger (closed) for its counts."""
    plain = _check(tmp_path, validator, None)
    ledger = CheckedRows(ledger_path(tmp_path / "warehouse.duckdb"))
    assert _check(tmp_path, validator, ledger) == plain
    ledger.close()
    return ledger


def _clean(tmp_path: Path, kind_prefix: str) -> set[str]:
    with duckdb.connect(str(ledger_path(tmp_path / "warehouse.duckdb")), read_only=True) as con:
        return {
            Path(f).parent.name
            for (f,) in con.execute(
                "select file from clean_files where suite = 'bronze.shop.orders' "
                "and starts_with(kind, ?) and not ends_with(kind, ':parent')",
                [kind_prefix],
            ).fetchall()
        }


def test_each_file_is_judged_once_and_the_results_are_those_of_every_file(
    tmp_path: Path, validator: GxValidator, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers = tmp_path / "bronze" / "shop.customers"
    orders = tmp_path / "bronze" / "shop.orders"
    _write(customers, "2026-01-01", _customers(range(0, 50), day="2026-01-01"))
    _write(orders, "2026-01-01", _orders(range(0, 100), "i % 50", day="2026-01-01"))

    first = _same_as_reading_every_file(tmp_path, validator)
    assert first.validated_rows == 100
    # the first check validates every row, then finds the files whose rows all passed
    assert _clean(tmp_path, ROWS_PASSED) == {"load_date=2026-01-01"}
    second = _same_as_reading_every_file(tmp_path, validator)
    # the file whose rows all passed is not read again: its rows are reused, none hashed
    assert (second.reused_rows, second.validated_rows) == (100, 0)
    assert (
        _clean(tmp_path, ROW_RULES) == _clean(tmp_path, "foreign_key") == {"load_date=2026-01-01"}
    )
    # nor is anything read or written: the same clean files are not written again
    statements: list[str] = []
    ledger = CheckedRows(ledger_path(tmp_path / "warehouse.duckdb"))
    _check(tmp_path, validator, ledger, statements)
    ledger.close()
    assert [q for q in statements if q.startswith(WRITES)] == []
    assert not [q for q in statements if "__checked_split" in q and q.startswith("create")]
    assert (ledger.reused_rows, ledger.validated_rows) == (100, 0)

    # a clean day, then a day with a blank status and an order of a customer who never landed
    _write(customers, "2026-01-02", _customers(range(50, 60), day="2026-01-02"))
    _write(orders, "2026-01-02", _orders(range(100, 120), "50 + i % 10", day="2026-01-02"))
    _write(orders, "2026-01-03", _orders(range(120, 130), "i", day="2026-01-03", blank=125))
    counted: list[str] = []
    original = per_file.files_filter

    def spy(files):
        counted.extend(Path(f).parent.name for f in files)
        return original(files)

    monkeypatch.setattr(per_file, "files_filter", spy)
    ledger = CheckedRows(ledger_path(tmp_path / "warehouse.duckdb"))
    third, _ = _check(tmp_path, validator, ledger)
    ledger.close()
    monkeypatch.undo()
    # the row rules and the foreign key each count the two new files alone
    assert sorted(counted) == sorted(["load_date=2026-01-02", "load_date=2026-01-03"] * 2)
    assert (ledger.reused_rows, ledger.validated_rows) == (100, 30)
    assert third == _check(tmp_path, validator, None)[0]
    found, _ = _check(tmp_path, validator, None)
    failing = {(check, n) for _, check, ok, n, _, _ in found if not ok}
    assert failing == {(S.NOT_BLANK, 1), (S.FOREIGN_KEY, 10)}
    assert _clean(tmp_path, ROW_RULES) == {"load_date=2026-01-01", "load_date=2026-01-02"}
    assert _clean(tmp_path, "foreign_key") == {"load_date=2026-01-01", "load_date=2026-01-02"}

    # the parents land: the orphans are counted again, now with their parents
    _write(customers, "2026-01-03", _customers(range(120, 130), day="2026-01-03"))
    _same_as_reading_every_file(tmp_path, validator)
    found, _ = _check(tmp_path, validator, None)
    assert {(check, n) for _, check, ok, n, _, _ in found if not ok} == {(S.NOT_BLANK, 1)}

    # a row GX fails keeps its file out of the clean ones: it is validated on every check
    _write(
        orders,
        "2026-01-04",
        "select null::varchar as order_id, 'C1' as customer_id, 'paid' as status, "
        "'3' as amount, timestamp '2026-01-04' as _loaded_at",
    )
    _same_as_reading_every_file(tmp_path, validator)
    again = _same_as_reading_every_file(tmp_path, validator)
    assert again.validated_rows == 1
    assert "load_date=2026-01-04" not in _clean(tmp_path, ROWS_PASSED)
    assert "load_date=2026-01-04" in _clean(tmp_path, ROW_RULES)


def test_a_file_rewritten_or_a_parent_lost_is_judged_again(
    tmp_path: Path, validator: GxValidator
) -> None:
    customers = tmp_path / "bronze" / "shop.customers"
    orders = tmp_path / "bronze" / "shop.orders"
    parent = _write(customers, "2026-01-01", _customers(range(0, 50), day="2026-01-01"))
    _write(customers, "2026-01-02", _customers(range(50, 60), day="2026-01-02"))
    day_one = _write(orders, "2026-01-01", _orders(range(0, 100), "i % 60", day="2026-01-01"))
    _same_as_reading_every_file(tmp_path, validator)
    assert _clean(tmp_path, "foreign_key") == {"load_date=2026-01-01"}

    # a replayed day rewrites its file: a new size or time means it is read again
    stat = day_one.stat()
    _write(orders, "2026-01-01", _orders(range(0, 100), "i % 60", day="2026-01-01", blank=7))
    os.utime(day_one, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    _same_as_reading_every_file(tmp_path, validator)
    found, _ = _check(tmp_path, validator, None)
    assert {(check, n) for _, check, ok, n, _, _ in found if not ok} == {(S.NOT_BLANK, 1)}

    # a parent file replayed without some customers: the child's clean files count no more
    _write(customers, "2026-01-02", _customers(range(50, 55), day="2026-01-02"))
    os.utime(
        customers / "load_date=2026-01-02" / "part-0000.parquet",
        ns=(parent.stat().st_atime_ns, parent.stat().st_mtime_ns + 2_000_000_000),
    )
    _same_as_reading_every_file(tmp_path, validator)
    found, _ = _check(tmp_path, validator, None)
    orphans = [n for _, check, ok, n, _, _ in found if check == S.FOREIGN_KEY]
    assert orphans == [5]  # customers 55 to 59 each ordered once (i % 60)


def test_a_new_column_in_a_later_file_judges_every_file_again(
    tmp_path: Path, validator: GxValidator
) -> None:
    """All files read as one relation: a column one file adds is null in the others, and a
    type it changes changes how the others read, so the earlier verdicts no longer apply."""
    _write(
        tmp_path / "bronze" / "shop.customers",
        "2026-01-01",
        _customers(range(0, 50), day="2026-01-01"),
    )
    orders = tmp_path / "bronze" / "shop.orders"
    _write(orders, "2026-01-01", _orders(range(0, 10), "i", day="2026-01-01"))
    _same_as_reading_every_file(tmp_path, validator)
    _write(
        orders,
        "2026-01-02",
        "select 'O99' as order_id, 'C1' as customer_id, 'paid' as status, 12.5 as amount, "
        "timestamp '2026-01-02' as _loaded_at, 'web' as channel",
    )
    with duckdb.connect(str(ledger_path(tmp_path / "warehouse.duckdb")), read_only=True) as con:
        before = set(
            con.execute(
                "select distinct fingerprint from clean_files where kind = ?", [ROW_RULES]
            ).fetchall()
        )
    _same_as_reading_every_file(tmp_path, validator)
    with duckdb.connect(str(ledger_path(tmp_path / "warehouse.duckdb")), read_only=True) as con:
        after = set(
            con.execute(
                "select distinct fingerprint from clean_files where kind = ?", [ROW_RULES]
            ).fetchall()
        )
    assert before and after and not before & after
    assert _clean(tmp_path, ROW_RULES) == {"load_date=2026-01-01", "load_date=2026-01-02"}


def test_a_column_named_like_duckdbs_file_column_reads_every_file(
    tmp_path: Path, validator: GxValidator
) -> None:
    """A bronze column called ``filename`` hides the virtual column that names each row's
    file, so nothing is judged per file, and every check reads every file as before."""
    _write(
        tmp_path / "bronze" / "shop.customers",
        "2026-01-01",
        _customers(range(0, 50), day="2026-01-01"),
    )
    orders = tmp_path / "bronze" / "shop.orders"
    with_name = "select *, 'export.csv' as filename from ({})"
    _write(orders, "2026-01-01", with_name.format(_orders(range(0, 10), "i", day="2026-01-01")))
    _same_as_reading_every_file(tmp_path, validator)
    _write(
        orders,
        "2026-01-02",
        with_name.format(_orders(range(10, 20), "i", day="2026-01-02", blank=12)),
    )
    again = _same_as_reading_every_file(tmp_path, validator)
    assert (again.reused_rows, again.validated_rows) == (10, 10)  # every file hashed
    found, _ = _check(tmp_path, validator, None)
    assert {(check, n) for _, check, ok, n, _, _ in found if not ok} == {(S.NOT_BLANK, 1)}
    assert _clean(tmp_path, "") == set()
