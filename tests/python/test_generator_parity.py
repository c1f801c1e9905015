"""Daily loads behave like the backfill: 30 daily loads after a backfill, compared with the
backfill's own last 30 days, table by table.

Each source system makes its rows in one module (``generate/systems``) for both the backfill and
a daily load; this test is what keeps the two paths from drifting apart again. Tolerances, stated
once here: means within 10 %, shares within 5 points, ranges equal, daily volumes within 15 %
(a month of days at this scale has Poisson noise of a few per cent).

A record's first version is compared (its state when it was created): later versions are status
changes, which the backfill shows as already happened and a daily load shows as they happen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from engagement_lake.generate import generate, generate_day
from engagement_lake.generate.pipeline import TRUTH_DIR

PARITY_SCALE = 0.05
PARITY_SEED = 11
DAYS = 30
MEAN_TOLERANCE = 0.10  # relative
SHARE_TOLERANCE = 0.05  # absolute, in proportion points
VOLUME_TOLERANCE = 0.15  # relative, rows per day
SIGMAS = 3.0  # a rate of rare events (a few a day): within this many standard errors


@dataclass
class ParityLake:
    data: Path
    as_of: date

    def windows(self, table: str, ts: str, key: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(backfill rows created in its last DAYS days, daily rows created in the DAYS days
        after), each record in its first version; ``table`` is ``system/table``."""
        glob = str(self.data / "bronze" / table / "*" / "*.parquet")
        lo = self.as_of - timedelta(days=DAYS - 1)
        hi = self.as_of + timedelta(days=DAYS)
        con = duckdb.connect()
        try:
            rows = con.execute(
                f"""
                with firsts as (
                    select *, row_number() over (
                        partition by "{key}" order by _loaded_at, _source_file) as _version
                    from read_parquet(?, hive_partitioning = true, union_by_name = true)
                    where "{key}" is not null
                )
                select * exclude (_version), cast("{ts}" as date) as _event_date from firsts
                where _version = 1 and cast("{ts}" as date) between ? and ?
                """,
                [glob, lo, hi],
            ).pl()
        finally:
            con.close()
        day = pl.col("_event_date")
        backfill = rows.filter((pl.col("load_date") == self.as_of) & (day <= self.as_of))
        daily = rows.filter((pl.col("load_date") > self.as_of) & (day > self.as_of))
        return backfill, daily

    def history(self, table: str, key: str) -> pl.DataFrame:
        """Every record of the backfill, in its first version: the reference for a mix that does
        not change with time when a month of it is too small a sample (a few hundred rows)."""
        glob = str(self.data / "bronze" / table / "*" / "*.parquet")
        con = duckdb.connect()
        try:
            return con.execute(
                f"""
                select * from read_parquet(?, hive_partitioning = true, union_by_name = true)
                where load_date = ? and "{key}" is not null
                qualify row_number() over (
                    partition by "{key}" order by _loaded_at, _source_file) = 1
                """,
                [glob, self.as_of],
            ).pl()
        finally:
            con.close()


@pytest.fixture(scope="module")
def parity(tmp_path_factory: pytest.TempPathFactory) -> ParityLake:
    data = tmp_path_factory.mktemp("parity") / "data"
    generate(data, scale=PARITY_SCALE, seed=PARITY_SEED, progress=False)
    manifest = json.loads((data / TRUTH_DIR / "manifest.json").read_text())
    as_of = date.fromisoformat(manifest["as_of"])
    for i in range(1, DAYS + 1):
        generate_day(data, as_of + timedelta(days=i), seed=PARITY_SEED, progress=False)
    return ParityLake(data, as_of)


def assert_mean_close(name: str, backfill: pl.Series, daily: pl.Series) -> None:
    b, d = backfill.drop_nulls().mean(), daily.drop_nulls().mean()
    assert b is not None and d is not None, f"{name}: no values ({b}, {d})"
    assert abs(d - b) <= MEAN_TOLERANCE * abs(b), f"{name}: backfill mean {b:.4g}, daily {d:.4g}"


def assert_shares_close(name: str, backfill: pl.Series, daily: pl.Series) -> None:
    """Every category's share (nulls a category of their own) within SHARE_TOLERANCE."""
    b = backfill.fill_null("<null>").value_counts(normalize=True, name="share")
    d = daily.fill_null("<null>").value_counts(normalize=True, name="share")
    both = b.join(d, on=backfill.name, how="full", suffix="_daily", coalesce=True).fill_null(0.0)
    worst = both.with_columns(gap=(pl.col("share") - pl.col("share_daily")).abs()).sort(
        "gap", descending=True
    )
    top = worst.row(0, named=True)
    assert top["gap"] <= SHARE_TOLERANCE, (
        f"{name}: share of {top[backfill.name]!r} is {top['share']:.3f} in the backfill and "
        f"{top['share_daily']:.3f} daily"
    )


def assert_volume_close(name: str, backfill: pl.DataFrame, daily: pl.DataFrame) -> None:
    b, d = len(backfill) / DAYS, len(daily) / DAYS
    assert b > 0, f"{name}: the backfill made none in its last {DAYS} days"
    assert abs(d - b) <= VOLUME_TOLERANCE * b, (
        f"{name}: {b:.1f} a day in the backfill, {d:.1f} daily"
    )


def assert_rate_close(name: str, b_events: int, b_base: int, d_events: int, d_base: int) -> None:
    """Events per unit of a base (returns per order line, scans per day), each side Poisson:
    within MEAN_TOLERANCE, or SIGMAS standard errors where a month of them is too few for it."""
    b, d = b_events / b_base, d_events / d_base
    se = (b_events / b_base**2 + d_events / d_base**2) ** 0.5
    assert abs(d - b) <= max(MEAN_TOLERANCE * b, SIGMAS * se), (
        f"{name}: backfill {b:.4g} ({b_events} / {b_base}), daily {d:.4g} ({d_events} / {d_base})"
    )


def null_share(s: pl.Series) -> float:
    return s.null_count() / max(len(s), 1)


# ----------------------------------------------------------------------------- shop


def test_order_value(parity: ParityLake) -> None:
    b, d = parity.windows("shop/orders", "order_ts", "order_id")
    assert_volume_close("orders per day", b, d)
    assert_mean_close(
        "order total", b["total_amount"].cast(pl.Float64), d["total_amount"].cast(pl.Float64)
    )
    assert_shares_close("order channel", b["channel"], d["channel"])


def test_return_reasons(parity: ParityLake) -> None:
    """The daily month's reasons against the backfill's whole history (its last month holds
    under two hundred returns: a share can stray by 5 points by chance alone)."""
    _, d = parity.windows("shop/returns", "return_ts", "return_id")
    b = parity.history("shop/returns", "return_id")
    assert_shares_close("return reason", b["reason"], d["reason"])


def test_order_lines(parity: ParityLake) -> None:
    """Lines per order and units per line: the same spend split the same way."""
    b, d = parity.windows("shop/order_items", "updated_at", "order_item_id")
    assert_mean_close(
        "lines per order",
        b.group_by("order_id").len()["len"].cast(pl.Float64),
        d.group_by("order_id").len()["len"].cast(pl.Float64),
    )
    assert_mean_close(
        "units per line", b["quantity"].cast(pl.Float64), d["quantity"].cast(pl.Float64)
    )


def test_return_rate(parity: ParityLake) -> None:
    """Returns keep pace with sales: returns per order line landed in the same window."""
    br, dr = parity.windows("shop/returns", "return_ts", "return_id")
    bi, di = parity.windows("shop/order_items", "updated_at", "order_item_id")
    assert_rate_close("returns per order line", len(br), len(bi), len(dr), len(di))
    fit = ["too_small", "too_large", "poor_fit"]
    assert_mean_close(
        "share of returns for fit",
        parity.history("shop/returns", "return_id")["reason"].is_in(fit).cast(pl.Float64),
        dr["reason"].is_in(fit).cast(pl.Float64),
    )


# ----------------------------------------------------------------------------- reviews


def test_reviews(parity: ParityLake) -> None:
    """Reviews follow delivered lines at the same rate, rated the same way."""
    b, d = parity.windows("reviews/product_reviews", "submitted_at", "review_id")
    bi, di = parity.windows("shop/order_items", "updated_at", "order_item_id")
    assert_rate_close("reviews per order line", len(b), len(bi), len(d), len(di))
    assert_mean_close("review rating", b["rating"].cast(pl.Float64), d["rating"].cast(pl.Float64))


# ----------------------------------------------------------------------------- fitmap


def test_scans(parity: ParityLake) -> None:
    b, d = parity.windows("fitmap/scans", "scan_ts", "scan_id")
    assert_rate_close("scans per day", len(b), DAYS, len(d), DAYS)


# ----------------------------------------------------------------------------- crm


def test_lead_score(parity: ParityLake) -> None:
    b, d = parity.windows("crm/leads", "created_date", "lead_id")
    assert_mean_close(
        "lead score", b["lead_score"].cast(pl.Float64), d["lead_score"].cast(pl.Float64)
    )
    assert abs(null_share(b["lead_score"]) - null_share(d["lead_score"])) <= SHARE_TOLERANCE, (
        f"lead score null share: backfill {null_share(b['lead_score']):.3f}, "
        f"daily {null_share(d['lead_score']):.3f}"
    )
    assert_shares_close("lead source", b["lead_source"], d["lead_source"])


# ----------------------------------------------------------------------------- support


def test_tickets(parity: ParityLake) -> None:
    b, d = parity.windows("support/tickets", "created_at", "ticket_id")
    assert_volume_close("tickets per day", b, d)
    assert_shares_close("ticket channel", b["channel"], d["channel"])
    assert_shares_close("ticket priority", b["priority"], d["priority"])
    agents = {x for x in b["agent_id"].drop_nulls().unique().to_list()}
    daily_agents = {x for x in d["agent_id"].drop_nulls().unique().to_list()}
    assert (min(daily_agents), max(daily_agents)) == (min(agents), max(agents)), (
        f"agent ids: daily {min(daily_agents)}..{max(daily_agents)}, "
        f"backfill {min(agents)}..{max(agents)}"
    )
