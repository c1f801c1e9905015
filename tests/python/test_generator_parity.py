"""Daily loads behave like the backfill: 30 daily loads after a backfill, compared with the
backfill's own last 30 days, table by table.

Each source system makes its rows in one module (``generate/systems``) for both the backfill and
a daily load; this test is what keeps the two paths from drifting apart again. Tolerances, stated
once here: means within 10 %, shares within 5 points, ranges equal, daily volumes within 15 %
(a month of days at this scale has Poisson noise of a few per cent); a rate or count measured on a
small group (conversion of one traffic source, a day's few brand mentions) within 5 points
(15 %) or 3.5 standard errors, whichever is wider: with half a dozen such groups compared, a
miss is a one-in-a-few-hundred chance, not noise.

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
RATE_SIGMAS = 3.5  # standard errors a small group's rate or count may differ by


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


# ----------------------------------------------------------------------------- web and marketing


def conversion_by_source(sessions: pl.DataFrame) -> dict[str, tuple[float, int]]:
    """Conversion rate and session count of each traffic source with 100+ sessions."""
    rates = sessions.group_by("traffic_source").agg(
        pl.len().alias("n"), pl.col("converted").cast(pl.Float64).mean().alias("rate")
    )
    return {
        r["traffic_source"]: (r["rate"], r["n"])
        for r in rates.iter_rows(named=True)
        if r["n"] >= 100
    }


def assert_rate_close(name: str, b: tuple[float, int], d: tuple[float, int]) -> None:
    (pb, nb), (pd, nd) = b, d
    pooled = (pb * nb + pd * nd) / (nb + nd)
    se = (pooled * (1 - pooled) * (1 / nb + 1 / nd)) ** 0.5
    tolerance = max(SHARE_TOLERANCE, RATE_SIGMAS * se)
    assert abs(pb - pd) <= tolerance, f"{name}: backfill {pb:.3f} ({nb}), daily {pd:.3f} ({nd})"


def assert_count_close(name: str, nb: int, nd: int) -> None:
    """Two windows' counts of a small group: within VOLUME_TOLERANCE or RATE_SIGMAS Poisson
    standard errors of their difference."""
    assert nb > 0, f"{name}: none in the backfill's last {DAYS} days"
    tolerance = max(VOLUME_TOLERANCE * nb, RATE_SIGMAS * (nb + nd) ** 0.5)
    assert abs(nd - nb) <= tolerance, f"{name}: {nb} in the backfill's window, {nd} daily"


def test_web_sessions(parity: ParityLake) -> None:
    b, d = parity.windows("shop/web_sessions", "session_start", "session_id")
    assert_volume_close("sessions per day", b, d)
    assert_shares_close("traffic source", b["traffic_source"], d["traffic_source"])
    assert_shares_close("device", b["device_type"], d["device_type"])
    assert_shares_close(
        "known customer",
        b["customer_id"].is_null().cast(pl.String),
        d["customer_id"].is_null().cast(pl.String),
    )
    rb, rd = conversion_by_source(b), conversion_by_source(d)
    assert set(rb) == set(rd), f"sources with 100+ sessions: backfill {rb}, daily {rd}"
    for source in rb:
        assert_rate_close(f"conversion of {source} sessions", rb[source], rd[source])
    spread = max(r for r, _ in rb.values()) - min(r for r, _ in rb.values())
    assert spread >= SHARE_TOLERANCE, f"conversion hardly depends on the source: {rb}"
    assert_mean_close(
        "cart share", b["added_to_cart"].cast(pl.Float64), d["added_to_cart"].cast(pl.Float64)
    )


def triggered_campaigns(parity: ParityLake) -> list[str]:
    glob = str(parity.data / "bronze" / "marketing" / "campaigns" / "*" / "*.parquet")
    con = duckdb.connect()
    try:
        rows = con.execute(
            "select distinct campaign_id from read_parquet(?, union_by_name = true) "
            "where campaign_type = 'Abandoned Cart'",
            [glob],
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def test_email_events(parity: ParityLake) -> None:
    """Triggered sends follow sessions day by day; broadcasts are four or five campaigns a
    month with segment-sized audiences, too lumpy for a daily volume: their rates are
    compared instead."""
    b, d = parity.windows("marketing/email_events", "event_ts", "event_id")
    triggered = pl.col("campaign_id").is_in(triggered_campaigns(parity))
    sent = pl.col("event_type") == "sent"
    assert_volume_close(
        "abandoned-cart sends per day", b.filter(sent & triggered), d.filter(sent & triggered)
    )

    def rate(frame: pl.DataFrame, kind: str) -> float:
        return frame.filter(pl.col("event_type") == kind).height / max(frame.filter(sent).height, 1)

    for kind in ("delivered", "open", "click", "convert"):
        assert abs(rate(b, kind) - rate(d, kind)) <= SHARE_TOLERANCE / 2, (
            f"{kind} per send: backfill {rate(b, kind):.4f}, daily {rate(d, kind):.4f}"
        )


def test_journey_events(parity: ParityLake) -> None:
    """Journeys this system triggers (abandoned sessions, silence, birthdays) day by day; the
    stage mix of every journey (welcome and onboarding follow sign-ups and scans)."""
    b, d = parity.windows("marketing/journey_events", "event_ts", "journey_event_id")
    own = pl.col("journey_name").is_in(["Abandoned Cart", "Win Back", "Birthday"])
    assert_volume_close("triggered journey events per day", b.filter(own), d.filter(own))
    for journey in ("Abandoned Cart", "Win Back", "Welcome", "Post Purchase"):
        one = pl.col("journey_name") == journey
        assert_shares_close(f"{journey} stages", b.filter(one)["stage"], d.filter(one)["stage"])
    for journey in ("Abandoned Cart", "Win Back", "Birthday"):
        one = pl.col("journey_name") == journey
        assert_count_close(f"{journey} events", b.filter(one).height, d.filter(one).height)


def test_social_mentions(parity: ParityLake) -> None:
    """A few mentions a day at this scale: volume and the share by known customers, each within
    its sampling error."""
    b, d = parity.windows("social/mentions", "posted_at", "mention_id")
    nb, nd = len(b), len(d)
    assert_count_close("mentions", nb, nd)
    assert_rate_close(
        "share of mentions by known customers",
        (1 - null_share(b["customer_ref"]), nb),
        (1 - null_share(d["customer_ref"]), nd),
    )
