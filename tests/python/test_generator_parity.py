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
    b, d = parity.windows("shop/returns", "return_ts", "return_id")
    assert_shares_close("return reason", b["reason"], d["reason"])


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


# ----------------------------------------------------------------------------- loyalty and mlops


def test_points_ledger(parity: ParityLake) -> None:
    b, d = parity.windows("loyalty/points_ledger", "entry_ts", "ledger_id")
    assert_volume_close("ledger entries per day", b, d)
    assert_mean_close(
        "points per entry", b["points"].cast(pl.Float64), d["points"].cast(pl.Float64)
    )


def test_tier_changes(parity: ParityLake) -> None:
    """Upgrades and annual-review downgrades per day. Enrolments are left out: they follow the
    sign-ups of new people, whose pace is the shop's (a member's own tier moves are loyalty's)."""
    b, d = parity.windows("loyalty/tier_changes", "changed_at", "tier_change_id")
    moves = pl.col("change_reason") != "enrolment"
    assert_volume_close("tier changes per day", b.filter(moves), d.filter(moves))
    assert_shares_close(
        "tier change reason", b.filter(moves)["change_reason"], d.filter(moves)["change_reason"]
    )


def test_predictions_per_model(parity: ParityLake) -> None:
    b, d = parity.windows("mlops/model_predictions", "predicted_at", "prediction_id")
    models = sorted(set(b["model_id"].to_list()) | set(d["model_id"].to_list()))
    assert len(models) >= 5, f"only {models} scored in the window"
    for model in models:
        assert_volume_close(
            f"predictions per day of {model}",
            b.filter(pl.col("model_id") == model),
            d.filter(pl.col("model_id") == model),
        )


def test_recommendation_serves(parity: ParityLake) -> None:
    """Recommendations per web session of a known customer (the sessions' own volume is the
    shop's parity), and the mix of contexts and algorithms."""
    b, d = parity.windows("mlops/recommendations_served", "served_at", "recommendation_id")
    sb, sd = parity.windows("shop/web_sessions", "session_start", "session_id")
    web = pl.col("session_id").is_not_null()
    known = pl.col("customer_id").is_not_null()
    per_b = b.filter(web).height / sb.filter(known).height
    per_d = d.filter(web).height / sd.filter(known).height
    assert abs(per_d - per_b) <= MEAN_TOLERANCE * per_b, (
        f"recommendations per known session: backfill {per_b:.3f}, daily {per_d:.3f}"
    )
    assert_shares_close("recommendation algorithm", b["algorithm"], d["algorithm"])


def test_experiment_events(parity: ParityLake) -> None:
    """Events per assignment made in the window, and their mix. A running experiment assigns a
    shrinking pool of not-yet-assigned customers (a constant daily hazard each), so its events
    per day fall as it runs, in the backfill and the daily loads alike."""
    ab, ad = parity.windows("mlops/experiment_assignments", "assigned_at", "assignment_id")
    b, d = parity.windows("mlops/experiment_events", "event_ts", "experiment_event_id")
    assert ab.height and ad.height, "no assignments in a window"
    per_b, per_d = b.height / ab.height, d.height / ad.height
    assert abs(per_d - per_b) <= MEAN_TOLERANCE * per_b, (
        f"experiment events per assignment: backfill {per_b:.3f}, daily {per_d:.3f}"
    )
    assert_shares_close("experiment event type", b["event_type"], d["event_type"])
