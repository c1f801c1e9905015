"""The checks' ledger of validated rows: reusing a row that passed never changes a result.

Every run with the ledger is compared with a run without it on the same table: same success,
same unexpected and element counts, same samples. The table spans three GX chunks and holds
failing rows, so recording passes per row (not per chunk) is exercised too.
"""

from __future__ import annotations

import contextlib

import duckdb
import pytest

from duckdb_holder import held_by_another_process
from engagement_lake.quality import gx_engine
from engagement_lake.quality import suites as S
from engagement_lake.quality.checked_rows import CheckedRows, ledger_path
from engagement_lake.quality.gx_engine import GxValidator
from engagement_lake.quality.suite_run import run_suite
from engagement_lake.quality.suites import Expect, TableSuite
from statement_log import Recording

ROWS = 5_000
CHUNK = 2_048  # DuckDB's vector: the table streams as three chunks


@pytest.fixture(scope="module")
def validator() -> GxValidator:
    return GxValidator()


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute(
        f"""
        create table orders as
        select i as order_id,
               case when i % 997 = 0 then 'lost' else ['new', 'paid', 'sent'][1 + i % 3] end
                   as status,
               case when i % 1999 = 0 then null else 'C' || i end as customer_id,
               timestamp '2024-01-01' + to_hours(i) as ordered_at
        from range({ROWS}) as t(i)
        """
    )
    con.execute("update orders set ordered_at = timestamp '1990-05-01' where order_id = 4242")
    yield con
    con.close()


def _suite(value_set=("new", "paid", "sent")) -> TableSuite:
    expectations = [
        Expect(S.NOT_NULL, "customer_id", S.ERROR, {"column": "customer_id"}),
        Expect(S.IN_SET, "status", S.ERROR, {"column": "status", "value_set": list(value_set)}),
        Expect(
            S.BETWEEN,
            "ordered_at",
            S.ERROR,
            {"column": "ordered_at", "min_value": S._bound("2000-01-01"), "max_value": None},
        ),
        Expect(S.REGEX, "customer_id", S.WARNING, {"column": "customer_id", "regex": r"^C\d+$"}),
    ]
    return TableSuite("silver", "orders", "orders", expectations, index_columns=("order_id",))


def _run(con, validator, suite, ledger=None):
    validator.ledger = ledger
    try:
        results, rows = run_suite(con, suite, validator, chunk_rows=CHUNK)
    finally:
        validator.ledger = None
    return [
        (r.column, r.check, r.success, r.unexpected_count, r.element_count, r.sample)
        for r in results
    ], rows


def test_a_second_check_reuses_the_rows_that_passed_and_reports_the_same(
    con, validator, tmp_path
) -> None:
    suite = _suite()
    plain, rows = _run(con, validator, suite)
    failing = {  # what the table was built to fail: 6 lost, 3 without customer, 1 too old
        (column, check): count for column, check, _, count, _, _ in plain if count
    }
    assert failing == {
        ("customer_id", S.NOT_NULL): 3,
        ("status", S.IN_SET): 6,
        ("ordered_at", S.BETWEEN): 1,
    }
    assert rows == ROWS and all(elements == ROWS for *_, elements, _ in plain)

    path = ledger_path(tmp_path / "warehouse.duckdb")
    first = CheckedRows(path)
    assert _run(con, validator, suite, first) == (plain, rows)
    assert (first.reused_rows, first.validated_rows) == (0, ROWS)
    first.close()

    second = CheckedRows(path)
    assert _run(con, validator, suite, second) == (plain, rows)
    bad = con.execute(
        "select count(*) from orders where customer_id is null or status not in "
        "('new', 'paid', 'sent') or ordered_at < timestamp '2000-01-01'"
    ).fetchone()[0]
    assert bad == 9  # order 0 is both lost and without customer
    assert (second.reused_rows, second.validated_rows) == (ROWS - bad, bad)
    second.close()


def test_a_table_whose_rows_all_passed_before_never_reaches_gx(con, validator, tmp_path) -> None:
    """A check whose rows the ledger all holds neither imports GX nor makes its context, and
    reports what a validation of every row reports."""
    con.execute(
        "delete from orders where customer_id is null or status not in ('new', 'paid', 'sent') "
        "or ordered_at < timestamp '2000-01-01'"
    )
    suite = _suite()
    plain, rows = _run(con, validator, suite)
    assert rows == ROWS - 9 and all(ok and not n for _, _, ok, n, _, _ in plain)
    path = ledger_path(tmp_path / "warehouse.duckdb")
    first = CheckedRows(path)
    _run(con, validator, suite, first)
    first.close()

    fresh = GxValidator()
    second = CheckedRows(path)
    recording = Recording(con)
    assert _run(recording, fresh, suite, second) == (plain, rows)
    assert (second.reused_rows, second.validated_rows) == (ROWS - 9, 0)
    assert fresh._made is None, "GX was made for a table with nothing to validate"
    # nothing new passed and the rule is the same: the ledger is not written at all
    assert recording.writes() == []
    assert sum("duckdb_databases()" in q for q in recording.statements) == 1
    second.close()

    con.execute("insert into orders values (9001, 'paid', 'C9001', timestamp '2025-01-01')")
    third = CheckedRows(path)
    found, _ = _run(con, fresh, suite, third)
    assert (third.reused_rows, third.validated_rows) == (ROWS - 9, 1)
    assert fresh._made is not None and all(ok for _, _, ok, *_ in found)
    third.close()
    # the new row's pass was recorded: a fourth check validates nothing
    fourth = CheckedRows(path)
    assert _run(con, fresh, suite, fourth)[1] == ROWS - 8
    assert (fourth.reused_rows, fourth.validated_rows) == (ROWS - 8, 0)
    fourth.close()


def test_changed_and_new_rows_are_validated_and_a_changed_rule_starts_afresh(
    con, validator, tmp_path
) -> None:
    path = ledger_path(tmp_path / "warehouse.duckdb")
    ledger = CheckedRows(path)
    _run(con, validator, _suite(), ledger)
    ledger.close()
    con.execute("update orders set status = 'gone' where order_id = 10")  # was passing
    con.execute(
        "insert into orders values (9001, 'paid', 'C9001', timestamp '2025-01-01'), "
        "(9002, 'paid', null, timestamp '2025-01-01')"
    )
    plain, rows = _run(con, validator, _suite())
    ledger = CheckedRows(path)
    assert _run(con, validator, _suite(), ledger) == (plain, rows)
    assert dict(((c, k), n) for c, k, _, n, _, _ in plain)[("status", S.IN_SET)] == 7
    bad = con.execute(
        "select count(*) from orders where customer_id is null or status not in "
        "('new', 'paid', 'sent') or ordered_at < timestamp '2000-01-01'"
    ).fetchone()[0]
    assert ledger.validated_rows == bad + 1  # the failing rows and the new passing one
    ledger.close()

    wider = _suite(("new", "paid", "sent", "lost", "gone"))
    plain, rows = _run(con, validator, wider)
    ledger = CheckedRows(path)
    assert _run(con, validator, wider, ledger) == (plain, rows)
    assert (ledger.reused_rows, ledger.validated_rows) == (0, ROWS + 2)
    ledger.close()


def test_gx_builds_each_configuration_once_and_judges_the_same(con, validator, monkeypatch):
    """Within a chunk's validation an expectation's configuration is built once, not dozens of
    times; the results are those of GX left alone, and GX's property is back after the run."""
    from great_expectations.expectations.expectation import Expectation

    plain = Expectation.__dict__["configuration"]
    builds: list[int] = []
    counting = property(lambda self: builds.append(1) or plain.fget(self))
    monkeypatch.setattr(Expectation, "configuration", counting)
    once = _run(con, validator, _suite())
    built_once = len(builds)
    assert Expectation.__dict__["configuration"] is counting
    builds.clear()
    monkeypatch.setattr(gx_engine, "configurations_built_once", contextlib.nullcontext)
    assert _run(con, validator, _suite()) == once
    assert once[0][1][3] == 6  # the six lost orders, in both
    assert 0 < built_once * 5 < len(builds), (built_once, len(builds))


def test_a_rule_gx_cannot_evaluate_fails_instead_of_passing_empty(con, validator) -> None:
    """GX reports a metric that raised per metric id, with no counts; that is a failure. (A
    day alone as a bound reaches GX as a date, which pandas cannot compare with timestamps;
    the suites give GX midnight of that day instead.)"""
    day = {"column": "ordered_at", "min_value": "2000-01-01", "max_value": None}
    suite = TableSuite(
        "silver", "orders", "orders", [Expect(S.BETWEEN, "ordered_at", S.ERROR, day)]
    )
    validator.ledger = None
    (result,), _ = run_suite(con, suite, validator, chunk_rows=CHUNK)
    assert not result.success
    assert "GX raised" in result.note


def test_date_bounds_reach_gx_as_timestamps() -> None:
    assert S._bound("2000-01-01") == "2000-01-01T00:00:00"
    assert S._bound(S.dt.date(2000, 1, 1)) == "2000-01-01T00:00:00"
    assert S._bound(10) == 10


def test_a_ledger_held_by_another_check_is_skipped_not_waited_for(tmp_path) -> None:
    path = ledger_path(tmp_path / "warehouse.duckdb")
    CheckedRows(path).close()
    with held_by_another_process(path):
        assert CheckedRows.open(path) is None
    reopened = CheckedRows.open(path)
    assert reopened is not None
    reopened.close()
