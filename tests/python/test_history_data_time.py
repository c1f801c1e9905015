"""History in data time, reproducible from bronze.

The test lake (scale 0.02) grows by three daily loads, each followed by an incremental build:
warehouse A saw every day. Warehouse B is built once, from scratch, from the same bronze (the
session's ``daily_lake``, shared with test_incremental.py, which compares every other table).
Every history table must be equal row for row in both (order aside): history is a function of
bronze, not of which builds happened to run. And every date in it comes from the data: validity
starts at a source's updated_at on or before the latest load, trends are dated by load dates.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest

from conftest import DailyLake
from engagement_lake.quality import plausibility

HISTORY_TABLES = (
    "customer_history",
    "opportunity_history",
    "customer_health_history",
    "customer_segment_history",
    "customer_value_history",
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warehouses(daily_lake: DailyLake) -> DailyLake:
    """The session's daily lake (conftest): built after each daily load, and from scratch."""
    return daily_lake


def _bronze_load_dates(data: Path) -> list[date]:
    folders = {p.name for p in (data / "bronze").glob("*/*/load_date=*")}
    return sorted(date.fromisoformat(name.split("=", 1)[1]) for name in folders)


@pytest.mark.parametrize("table", HISTORY_TABLES)
def test_day_by_day_and_from_scratch_give_the_same_history(
    warehouses: DailyLake, table: str
) -> None:
    with warehouses.connect() as con:
        counts = con.execute(
            f"select (select count(*) from daily.history.{table}),"
            f" (select count(*) from scratch.history.{table})"
        ).fetchone()
        only_daily = con.execute(
            f"select count(*) from (select * from daily.history.{table}"
            f" except all select * from scratch.history.{table})"
        ).fetchone()[0]
        only_scratch = con.execute(
            f"select count(*) from (select * from scratch.history.{table}"
            f" except all select * from daily.history.{table})"
        ).fetchone()[0]
    assert counts[0] == counts[1] > 0, counts
    assert (only_daily, only_scratch) == (0, 0), table


def test_the_trends_have_a_point_per_load_date_and_clv_per_month(warehouses: DailyLake) -> None:
    """Health and RFM have a point per load date; CLV, which refits every point on every build,
    the newest load date of each month: the backfill's month end and the daily loads' newest."""
    assert _bronze_load_dates(warehouses.daily.data_dir) == warehouses.loads
    monthly = [warehouses.loads[0], warehouses.loads[-1]]
    assert warehouses.loads[0].month != warehouses.loads[1].month == warehouses.loads[-1].month
    with warehouses.connect() as con:
        for table in HISTORY_TABLES[2:]:
            dates = [
                r[0]
                for r in con.execute(
                    f"select distinct as_of_date from daily.history.{table} order by 1"
                ).fetchall()
            ]
            expected = monthly if table == "customer_value_history" else warehouses.loads
            assert dates == expected, table
            # one row per customer and date, the latest flagged once
            dupes, latest = con.execute(
                f"select count(*) - count(distinct (customer_id, as_of_date)),"
                f" count(distinct as_of_date) filter (where is_latest)"
                f" from daily.history.{table}"
            ).fetchone()
            assert (dupes, latest) == (0, 1), table


def test_validity_dates_come_from_the_data(warehouses: DailyLake) -> None:
    """valid_from is a source's updated_at, never later than the end of the latest load day (the
    build ran months after it: 2026-12 on this machine, never in the data); the load-date columns
    are load dates of bronze."""
    last = warehouses.loads[-1]
    end = datetime.combine(last + timedelta(days=1), datetime.min.time())
    loads = set(warehouses.loads)
    with warehouses.connect() as con:
        for table, loaded in (
            ("customer_history", "known_from_load_date"),
            ("opportunity_history", "loaded_on"),
        ):
            low, high, load_dates, open_rows, keys = con.execute(
                f"select min(valid_from), max(valid_from), list(distinct {loaded}),"
                f" count(*) filter (where is_current), count(distinct {table.split('_')[0]}_id)"
                f" from daily.history.{table}"
            ).fetchone()
            assert high < end, (table, high)
            assert low.year >= 2000, (table, low)
            assert set(load_dates) <= loads, (table, load_dates)
            assert open_rows == keys, table  # one current version per key
            # the daily loads changed something: versions first known after the backfill
            assert set(load_dates) & set(warehouses.loads[1:]), table
        changed = con.execute(
            "select count(*) from daily.history.opportunity_history"
            " where loaded_on > ? and cast(valid_from as date) > ?",
            [warehouses.loads[0], warehouses.loads[0]],
        ).fetchone()[0]
        assert changed > 0


def test_a_daily_change_closes_the_previous_version(warehouses: DailyLake) -> None:
    """An opportunity the daily loads changed: its versions chain (each valid_to is the next
    valid_from) and the newest is the one staging holds as current."""
    with warehouses.connect() as con:
        row = con.execute(
            """
            select opportunity_id from daily.history.opportunity_history
            group by opportunity_id
            having count(*) > 1 and min(loaded_on) = ?
            order by opportunity_id limit 1
            """,
            [warehouses.loads[0]],
        ).fetchone()
        assert row is not None, "no backfill opportunity changed in the daily loads"
        versions = con.execute(
            "select stage, amount, valid_from, valid_to, is_current"
            " from daily.history.opportunity_history where opportunity_id = ? order by valid_from",
            [row[0]],
        ).fetchall()
        current = con.execute(
            "select stage, amount, updated_at from daily.staging.stg_crm__opportunities"
            " where opportunity_id = ?",
            [row[0]],
        ).fetchone()
    for (*_, valid_to, is_current), (_, _, next_from, _, _) in pairwise(versions):
        assert valid_to == next_from and not is_current
    assert versions[-1][3] is None and versions[-1][4]
    assert (versions[-1][0], versions[-1][1], versions[-1][2]) == current


def test_history_plausibility_checks_pass(warehouses: DailyLake) -> None:
    checks = tuple(c for c in plausibility.CHECKS if c.name.startswith("history_"))
    assert len(checks) >= 2
    with duckdb.connect(str(warehouses.daily.warehouse), read_only=True) as con:
        results = plausibility.run(con, checks)
    for r in results:
        assert r.passed, f"{r.check.name}: {r.observed} (bound {r.check.bound()})"


def test_the_newest_clv_point_is_the_current_fit(warehouses: DailyLake) -> None:
    """The CLV trend's newest date is the lake's as-of date, and its rows are
    customer_value_predictions' (taken, not fitted twice); the earlier dates are fits of their
    own (other parameters)."""
    with warehouses.connect() as con:
        newest, earlier_params = con.execute(
            "select max(as_of_date), count(distinct bgnbd_r)"
            " from daily.history.int_customer_value_predictions_history"
        ).fetchone()
        current = "select * from daily.silver.customer_value_predictions"
        point = (
            "select * exclude (as_of_date) from"
            f" daily.history.int_customer_value_predictions_history where as_of_date = '{newest}'"
        )
        differ = [
            con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
            for a, b in ((current, point), (point, current))
        ]
        rows = con.execute(f"select count(*) from ({current})").fetchone()[0]
    assert newest == warehouses.loads[-1]
    assert differ == [0, 0] and rows > 0
    assert earlier_params == 2  # the backfill's month end, and the newest load
