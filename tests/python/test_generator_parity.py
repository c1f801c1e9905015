"""Daily loads behave like the backfill: 30 daily loads after a backfill, compared with the
backfill's own last 30 days, table by table.

Each source system makes its rows in one module (``generate/systems``) for both the backfill and
a daily load; this test is what keeps the two paths from drifting apart again. Tolerances, stated
once here: means within 10 %, shares within 5 points, ranges equal, daily volumes within 15 %.
Where a month of records at this scale is too small for that tolerance to tell drift from chance
(a share of 0.2 among 25 leads has a standard error of 8 points; a day's few brand mentions), a
figure may also differ by SIGMAS standard errors of the difference, whichever is wider: with a few
dozen figures compared, a miss is a one-in-a-few-hundred chance, not noise.

A record's first version is compared (its state when it was created): later versions are status
changes, which the backfill shows as already happened and a daily load shows as they happen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from engagement_lake.generate import generate, generate_day
from engagement_lake.generate.context import Calendar, day_number
from engagement_lake.generate.pipeline import TRUTH_DIR
from engagement_lake.generate.systems.crm.leads import territory_of_state
from engagement_lake.generate.systems.crm.params import STAGE_FLOW, STAGE_PROBABILITY
from engagement_lake.generate.systems.support.rules import lifecycle

PARITY_SCALE = 0.05
PARITY_SEED = 11
DAYS = 30
MEAN_TOLERANCE = 0.10  # relative
SHARE_TOLERANCE = 0.05  # absolute, in proportion points
VOLUME_TOLERANCE = 0.15  # relative, rows per day
SIGMAS = 3.5  # standard errors of the difference a small sample's figure may also differ by


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
def parity(module_dir) -> ParityLake:
    data = module_dir("parity") / "data"
    generate(data, scale=PARITY_SCALE, seed=PARITY_SEED, progress=False)
    manifest = json.loads((data / TRUTH_DIR / "manifest.json").read_text())
    as_of = date.fromisoformat(manifest["as_of"])
    for i in range(1, DAYS + 1):
        generate_day(data, as_of + timedelta(days=i), seed=PARITY_SEED, progress=False)
    return ParityLake(data, as_of)


def assert_mean_close(name: str, backfill: pl.Series, daily: pl.Series) -> None:
    """Means within MEAN_TOLERANCE, or SIGMAS standard errors of their difference where a month
    of a heavy-tailed value (points, amounts) is too few for it."""
    bs, ds = backfill.drop_nulls().cast(pl.Float64), daily.drop_nulls().cast(pl.Float64)
    b, d = bs.mean(), ds.mean()
    assert b is not None and d is not None, f"{name}: no values ({b}, {d})"
    se = ((bs.var() or 0.0) / len(bs) + (ds.var() or 0.0) / len(ds)) ** 0.5
    assert abs(d - b) <= max(MEAN_TOLERANCE * abs(b), SIGMAS * se), (
        f"{name}: backfill mean {b:.4g} ({len(bs)}), daily {d:.4g} ({len(ds)})"
    )


def assert_shares_close(name: str, backfill: pl.Series, daily: pl.Series) -> None:
    """Every category's share (nulls a category of their own) within SHARE_TOLERANCE, or SIGMAS
    standard errors of the difference of two binomial shares where the samples are small."""
    nb, nd = len(backfill), len(daily)
    assert nb and nd, f"{name}: no values ({nb}, {nd})"
    b = backfill.fill_null("<null>").value_counts(normalize=True, name="share")
    d = daily.fill_null("<null>").value_counts(normalize=True, name="share")
    both = b.join(d, on=backfill.name, how="full", suffix="_daily", coalesce=True).fill_null(0.0)
    pooled = (pl.col("share") * nb + pl.col("share_daily") * nd) / (nb + nd)
    se = (pooled * (1 - pooled) * (1 / nb + 1 / nd)).sqrt()
    worst = both.with_columns(
        gap=(pl.col("share") - pl.col("share_daily")).abs(),
        allowed=pl.max_horizontal(pl.lit(SHARE_TOLERANCE), SIGMAS * se),
    ).sort(pl.col("gap") - pl.col("allowed"), descending=True)
    top = worst.row(0, named=True)
    assert top["gap"] <= top["allowed"], (
        f"{name}: share of {top[backfill.name]!r} is {top['share']:.3f} in the backfill ({nb}) "
        f"and {top['share_daily']:.3f} daily ({nd}); allowed {top['allowed']:.3f}"
    )


def assert_count_close(name: str, nb: int, nd: int) -> None:
    """Two windows' counts of a small group: within VOLUME_TOLERANCE or SIGMAS Poisson
    standard errors of their difference."""
    assert nb > 0, f"{name}: none in the backfill's last {DAYS} days"
    tolerance = max(VOLUME_TOLERANCE * nb, SIGMAS * (nb + nd) ** 0.5)
    assert abs(nd - nb) <= tolerance, f"{name}: {nb} in the backfill's window, {nd} daily"


def assert_volume_close(name: str, backfill: pl.DataFrame, daily: pl.DataFrame) -> None:
    """Rows a day in the two windows (see ``assert_count_close``)."""
    assert_count_close(f"{name} ({DAYS} days)", len(backfill), len(daily))


def assert_per_unit_close(
    name: str, b_events: int, b_base: int, d_events: int, d_base: int
) -> None:
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
    assert_per_unit_close("returns per order line", len(br), len(bi), len(dr), len(di))
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
    assert_per_unit_close("reviews per order line", len(b), len(bi), len(d), len(di))
    assert_mean_close("review rating", b["rating"].cast(pl.Float64), d["rating"].cast(pl.Float64))


# ----------------------------------------------------------------------------- fitmap


def test_scans(parity: ParityLake) -> None:
    b, d = parity.windows("fitmap/scans", "scan_ts", "scan_id")
    assert_per_unit_close("scans per day", len(b), DAYS, len(d), DAYS)


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


def test_lead_owner_by_territory(parity: ParityLake) -> None:
    """A lead is owned by a rep of its state's territory, in the backfill and daily alike."""
    b, d = parity.windows("crm/leads", "created_date", "lead_id")
    reps = pl.read_parquet(parity.data / "bronze" / "crm" / "sales_reps" / "*" / "*.parquet")
    territory = territory_of_state()

    def in_territory(leads: pl.DataFrame) -> pl.Series:
        rows = leads.filter(pl.col("state").is_not_null()).join(
            reps.select("sales_rep_id", "territory_id").unique(),
            left_on="owner_id",
            right_on="sales_rep_id",
            how="left",
        )
        state_territory = rows["state"].str.to_uppercase().replace_strict(territory, default=None)
        return (state_territory == rows["territory_id"]).cast(pl.Float64)

    share_b, share_d = in_territory(b).mean(), in_territory(d).mean()
    assert share_b is not None and share_d is not None
    assert share_b >= 0.9, f"backfill: {share_b:.3f} of leads owned in their territory"
    assert abs(share_b - share_d) <= SHARE_TOLERANCE, (
        f"leads owned by a rep of their state's territory: backfill {share_b:.3f}, "
        f"daily {share_d:.3f}"
    )


def test_opportunity_terms(parity: ParityLake) -> None:
    """New deals: as many a day, the same amounts (geometric mean: B2B deals make the
    arithmetic mean of a month's few dozen deals swing by more than the tolerance) and types."""
    b, d = parity.windows("crm/opportunities", "created_date", "opportunity_id")
    assert len(d) > 0, "the daily loads opened no deals"
    assert_mean_close(
        "opportunity amount (geometric mean)",
        b["amount"].cast(pl.Float64).log(),
        d["amount"].cast(pl.Float64).log(),
    )
    assert_shares_close("opportunity type", b["opportunity_type"], d["opportunity_type"])


def test_opportunity_probability(parity: ParityLake) -> None:
    """A stage entry's probability, as a multiple of the stage's default (the rep's read from
    recent activity; stage mix left out, it is what the volume checks cover), compares between
    the backfill and the daily loads; and the open deals' probabilities are not the defaults."""
    b, d = parity.windows("crm/opportunity_stage_history", "created_date", "history_id")
    default = {s: float(p) for s, p in STAGE_PROBABILITY.items() if s in STAGE_FLOW}

    def ratio(rows: pl.DataFrame) -> pl.Series:
        rows = rows.filter(pl.col("stage_name").is_in(list(default)))
        return rows["probability"].cast(pl.Float64) / rows["stage_name"].replace_strict(default)

    assert_mean_close("stage entry probability / stage default", ratio(b), ratio(d))
    con = duckdb.connect()
    glob = str(parity.data / "bronze" / "crm" / "opportunities" / "*" / "*.parquet")
    defaults = " ".join(f"when '{s}' then {p:g}" for s, p in default.items())
    for label, last_load in (("backfill", parity.as_of), ("daily", parity.as_of + timedelta(DAYS))):
        share = con.execute(
            f"""select avg((probability = case stage_name {defaults} end)::int) from (
                    select *, row_number() over (partition by opportunity_id
                        order by _loaded_at desc, _source_file desc) as _newest
                    from read_parquet(?, hive_partitioning = true) where load_date <= ?
                ) where _newest = 1 and not is_closed""",
            [glob, last_load],
        ).fetchone()[0]
        assert share <= 0.5, f"{label}: {share:.3f} of open deals carry their stage's default"
    con.close()


def test_profitability_rows(parity: ParityLake) -> None:
    """A customer's first row of a year: profit adds up, and an account signed up that year
    carries an acquisition cost of the backfill's size."""
    b, d = parity.windows("finance/customer_profitability", "as_of_date", "profitability_id")
    assert len(d) > 0, "the daily loads wrote no profitability rows"
    f = pl.col
    for name, rows in (("backfill", b), ("daily", d)):
        gap = rows.select(
            (
                f("revenue_amount")
                - f("cogs_amount")
                - f("acquisition_cost")
                - f("servicing_cost")
                - f("profit_amount")
            )
            .cast(pl.Float64)
            .abs()
            .max()
        ).item()
        assert gap <= 0.011, f"{name}: profit differs from its parts by up to {gap}"
    acq_b = b.filter(f("acquisition_cost") > 0)["acquisition_cost"].cast(pl.Float64)
    acq_d = d.filter(f("acquisition_cost") > 0)["acquisition_cost"].cast(pl.Float64)
    assert_mean_close("acquisition cost of a new account", acq_b, acq_d)


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


TICKET_STATUS_ORDER = ("Open", "In Progress", "Pending", "Resolved", "Closed")


def ticket_versions(parity: ParityLake) -> pl.DataFrame:
    """Every landed version of every ticket, in landing order."""
    glob = str(parity.data / "bronze" / "support" / "tickets" / "*" / "*.parquet")
    con = duckdb.connect()
    try:
        return con.execute(
            """
            select ticket_id, status, priority, satisfaction_score, first_response_at,
                   resolved_at, created_at, load_date, row_number() over (
                       partition by ticket_id order by _loaded_at, _source_file) as version
            from read_parquet(?, hive_partitioning = true)
            order by ticket_id, version
            """,
            [glob],
        ).pl()
    finally:
        con.close()


def test_ticket_lifecycle_continues(parity: ParityLake) -> None:
    """Daily loads move tickets on from where the backfill left them: statuses only go forward,
    a first response or a resolution once landed never changes, and every ticket (the
    backfill's open ones included) stands where its planned life puts it after the last load."""
    v = ticket_versions(parity).with_columns(
        rank=pl.col("status").replace_strict(
            {s: i for i, s in enumerate(TICKET_STATUS_ORDER)}, return_dtype=pl.Int64
        )
    )
    prev = v.with_columns(pl.all().shift(1).over("ticket_id").name.suffix("_prev")).filter(
        pl.col("version") > 1
    )
    assert len(prev) > 0, "no ticket got a second version"
    backwards = prev.filter(pl.col("rank") < pl.col("rank_prev"))
    assert backwards.is_empty(), f"statuses moved back: {backwards.head(3)}"
    for col in ("first_response_at", "resolved_at"):
        changed = prev.filter(
            pl.col(f"{col}_prev").is_not_null() & (pl.col(col) != pl.col(f"{col}_prev"))
        )
        assert changed.is_empty(), f"{col} changed after landing: {changed.head(3)}"
    latest = v.group_by("ticket_id").agg(pl.all().last()).sort("ticket_id")
    last_day = day_number(parity.as_of + timedelta(days=DAYS))
    plan = lifecycle(
        PARITY_SEED,
        PARITY_SCALE,
        latest["ticket_id"].to_numpy(),
        latest["priority"].to_numpy(),
        latest["created_at"].cast(pl.Int64).to_numpy(),
    )
    planned = np.asarray(TICKET_STATUS_ORDER)[
        plan.status(TICKET_STATUS_ORDER, Calendar.day_end_us(last_day) - 1)
    ]
    off = latest.filter(pl.Series(planned != latest["status"].to_numpy()))
    assert off.is_empty(), f"{len(off)} tickets are not where their plan puts them: {off.head(3)}"
    open_at_as_of = v.filter(
        (pl.col("load_date") == parity.as_of)
        & (pl.col("rank") < TICKET_STATUS_ORDER.index("Resolved"))
    )
    assert len(open_at_as_of) > 0, "the backfill left no ticket open"


def ticket_message_counts(parity: ParityLake) -> pl.DataFrame:
    glob = str(parity.data / "bronze" / "support" / "ticket_messages" / "*" / "*.parquet")
    con = duckdb.connect()
    try:
        return con.execute(
            "select ticket_id, count(distinct message_id) as n from read_parquet(?) group by 1",
            [glob],
        ).pl()
    finally:
        con.close()


def test_ticket_messages(parity: ParityLake) -> None:
    """Messages per ticket, for tickets opened in each window, counted after the last load.
    Chats and e-mails are conversations and calls are not, so the daily mean is taken over the
    backfill's channel mix: the channel shares are test_tickets' business, not this test's."""
    b, d = parity.windows("support/tickets", "created_at", "ticket_id")
    msgs = ticket_message_counts(parity)
    b_n = b.join(msgs, on="ticket_id", how="left").with_columns(pl.col("n").fill_null(0))
    d_n = d.join(msgs, on="ticket_id", how="left").with_columns(pl.col("n").fill_null(0))
    mix = b_n.group_by("channel").agg(share=pl.len() / len(b_n), b_mean=pl.col("n").mean())
    per = mix.join(d_n.group_by("channel").agg(d_mean=pl.col("n").mean()), on="channel")
    assert len(per) == len(mix), f"a channel has no daily tickets: {mix['channel'].to_list()}"
    b_mean = float((per["share"] * per["b_mean"]).sum())
    d_mean = float((per["share"] * per["d_mean"]).sum())
    assert abs(d_mean - b_mean) <= MEAN_TOLERANCE * b_mean, (
        f"messages per ticket: backfill {b_mean:.3f}, daily {d_mean:.3f} (backfill channel mix)"
    )


def test_ticket_satisfaction(parity: ParityLake) -> None:
    """Satisfaction of the tickets opened in each window, as they stand after the last load."""
    b, d = parity.windows("support/tickets", "created_at", "ticket_id")
    latest = ticket_versions(parity).group_by("ticket_id").agg(pl.all().last())
    b_s = b.select("ticket_id").join(latest, on="ticket_id")["satisfaction_score"]
    d_s = d.select("ticket_id").join(latest, on="ticket_id")["satisfaction_score"]
    assert_mean_close("satisfaction score", b_s.cast(pl.Float64), d_s.cast(pl.Float64))


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


def assert_proportion_close(name: str, b: tuple[float, int], d: tuple[float, int]) -> None:
    """A proportion in two samples: within SHARE_TOLERANCE or SIGMAS standard errors."""
    (pb, nb), (pd, nd) = b, d
    pooled = (pb * nb + pd * nd) / (nb + nd)
    se = (pooled * (1 - pooled) * (1 / nb + 1 / nd)) ** 0.5
    tolerance = max(SHARE_TOLERANCE, SIGMAS * se)
    assert abs(pb - pd) <= tolerance, f"{name}: backfill {pb:.3f} ({nb}), daily {pd:.3f} ({nd})"


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
        assert_proportion_close(f"conversion of {source} sessions", rb[source], rd[source])
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
    assert_proportion_close(
        "share of mentions by known customers",
        (1 - null_share(b["customer_ref"]), nb),
        (1 - null_share(d["customer_ref"]), nd),
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
