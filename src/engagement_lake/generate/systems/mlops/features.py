"""Feature store values: monthly batch computations over the last year (plus real-time
recency), with two features drifting on purpose in the last months (``_truth/feature_drift.json``).
A daily load recomputes recency in the batch of the customers scored today.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate.block import Block, allowed, last_before, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.daily import Day
from engagement_lake.generate.systems.mlops.params import HOUR, SCORING_HOUR, customers

FEATURE_MONTHS = 12
"""Monthly batch computations over the last year (one on the first of each month)."""
FEATURE_COVERAGE = 0.15
"""Share of the active customers (an order in the year before the batch) scored each month."""
FEATURE_DRIFT = {
    "email_open_rate_30d": {
        "from_months_ago": 3,
        "mechanism": "mail-client privacy protection pre-fetches images: a growing share of "
        "recipients (25%, 45%, 65% over the last three months) report every e-mail as opened",
        "shares": (0.25, 0.45, 0.65),
    },
    "sessions_30d": {
        "from_months_ago": 2,
        "mechanism": "an app release counts resumes from background as new sessions: the "
        "30-day session count is inflated by 1.5x then 2.0x (plus up to 3 phantom sessions) "
        "in the last two months",
        "factors": (1.5, 2.0),
    },
}
"""Deliberate drift in the last months (``_truth/feature_drift.json``); other features only
move with seasonality and the customer mix, which should stay below PSI 0.1."""


def feature_months(ctx: Ctx) -> np.ndarray:
    """Batch times of the monthly feature computations: 02:00 on the first of each of the last
    ``FEATURE_MONTHS`` months up to the as-of date."""
    last = np.datetime64(ctx.as_of, "M")
    months = np.arange(last - (FEATURE_MONTHS - 1), last + 1)
    return months.astype("datetime64[D]").astype(np.int64) * US_PER_DAY + SCORING_HOUR * HOUR


def feature_drift_truth(ctx: Ctx) -> dict[str, object]:
    months = feature_months(ctx) // US_PER_DAY
    month_names = [str(np.datetime64(int(d), "D").astype("datetime64[M]")) for d in months]
    return {
        "months": month_names,
        "coverage": FEATURE_COVERAGE,
        "population": "customers with an order in the 365 days before the batch",
        "drifting_features": {
            k: {
                "from_month": month_names[-v["from_months_ago"]],
                "mechanism": v["mechanism"],
            }
            for k, v in FEATURE_DRIFT.items()
        },
        "stable_features": [
            "days_since_last_order",
            "orders_90d",
            "spend_90d",
            "tickets_90d",
            "avg_review_rating",
            "fitmap_scans",
        ],
        "note": "stable features still move a little with seasonality (90-day windows over "
        "the November/December peak) and the customer mix",
    }


def _window_count(
    person: np.ndarray, us: np.ndarray, lo: int, hi: int, n: int, weights: np.ndarray | None = None
) -> np.ndarray:
    w = (us >= lo) & (us < hi)
    return np.bincount(person[w], weights=None if weights is None else weights[w], minlength=n)


def features(blk: Block) -> None:
    """Monthly batch feature values of a sample of active customers (plus real-time recency).

    One batch on the first of each of the last twelve months, each scoring a fresh sample of
    the customers active in the year before it, so the feature store has a history whose
    distributions can be monitored (PSI against the first month). Two features drift on
    purpose in the last months (``FEATURE_DRIFT``); the rest only move with the season.
    """
    ctx, rng = blk.ctx, blk.rng("mlops.features")
    now = ctx.now_us
    people = customers(blk)
    n = blk.n
    o = blk.state["orders"]
    ok_o = ~o["cancelled"]
    op, ous, ototal = o["person"][ok_o], o["us"][ok_o], o["total_c"][ok_o] / 100.0
    sd = blk.state.get("sends")
    tk = blk.state["tickets"]
    rv = blk.state["reviews"]
    sc = blk.state["scans"]
    se = blk.state["sessions"]
    known = se["person"] >= 0
    sp, sus = se["person"][known], se["start"][known]
    names = allowed(ctx, "mlops.feature_values", "feature_name")
    batches = feature_months(ctx)
    f_person, f_name, f_val, f_us = [], [], [], []
    day = US_PER_DAY
    for mi, batch_us in enumerate(batches):  # twelve monthly batches, vectorised within
        months_ago = len(batches) - mi
        last = np.zeros(n, np.int64)
        before = ous < batch_us
        np.maximum.at(last, op[before], ous[before])
        active = people[last[people] >= batch_us - 365 * day]
        who = active[rng.random(len(active)) < FEATURE_COVERAGE]
        orders_90 = _window_count(op, ous, batch_us - 90 * day, batch_us, n)
        spend_90 = _window_count(op, ous, batch_us - 90 * day, batch_us, n, ototal)
        sends30 = np.zeros(n)
        opens30 = np.zeros(n)
        if sd is not None:
            sends30 = _window_count(sd["person"], sd["us"], batch_us - 30 * day, batch_us, n)
            opens30 = _window_count(
                sd["person"], sd["us"], batch_us - 30 * day, batch_us, n, sd["opened"] * 1.0
            )
        rc = _window_count(rv["person"], rv["ts"], 0, batch_us, n)
        rs = _window_count(rv["person"], rv["ts"], 0, batch_us, n, rv["rating"] * 1.0)
        open_rate = np.where(sends30 > 0, opens30 / np.maximum(sends30, 1), np.nan)
        sess_30 = _window_count(sp, sus, batch_us - 30 * day, batch_us, n).astype(float)
        drift = FEATURE_DRIFT["email_open_rate_30d"]
        if months_ago <= drift["from_months_ago"]:
            share = drift["shares"][drift["from_months_ago"] - months_ago]
            prefetch = rng.random(n) < share
            open_rate = np.where(prefetch & (sends30 > 0), 1.0, open_rate)
        drift = FEATURE_DRIFT["sessions_30d"]
        if months_ago <= drift["from_months_ago"]:
            factor = drift["factors"][drift["from_months_ago"] - months_ago]
            sess_30 = np.rint(sess_30 * factor) + rng.integers(0, 4, n)
        values = {
            "days_since_last_order": np.where(last > 0, (batch_us - last) / day, np.nan),
            "orders_90d": orders_90.astype(float),
            "spend_90d": np.round(spend_90, 2),
            "email_open_rate_30d": open_rate,
            "tickets_90d": _window_count(
                tk["person"], tk["created"], batch_us - 90 * day, batch_us, n
            ).astype(float),
            "avg_review_rating": np.where(rc > 0, rs / np.maximum(rc, 1), np.nan),
            "fitmap_scans": _window_count(sc["person"], sc["us"], 0, batch_us, n).astype(float),
            "sessions_30d": sess_30,
        }
        for k, name in enumerate(names):  # eight features
            v = values[name][who]
            ok = ~np.isnan(v)
            f_person.append(who[ok])
            f_name.append(np.full(int(ok.sum()), k))
            f_val.append(np.round(v[ok], 4))
            f_us.append(np.full(int(ok.sum()), batch_us))
    person = np.concatenate(f_person)
    name = np.concatenate(f_name)
    val = np.concatenate(f_val)
    cat = np.concatenate(f_us)
    n_batch = len(person)
    # real-time recomputation of recency for a sample of active customers, as of a random moment
    rt = people[rng.random(len(people)) < 0.1]
    rt_us = now - rng.integers(HOUR, 20 * US_PER_DAY, len(rt))
    lb = last_before(o["person"], o["us"], rt, rt_us)
    ok = lb >= 0
    ok[ok] &= o["us"][lb[ok]] >= rt_us[ok] - 365 * day
    rt, rt_us, lb = rt[ok], rt_us[ok], lb[ok]
    person = np.r_[person, rt]
    name = np.r_[name, np.full(len(rt), names.index("days_since_last_order"))]
    val = np.r_[val, np.round((rt_us - o["us"][lb]) / US_PER_DAY, 4)]
    ftypes = allowed(ctx, "mlops.feature_values", "feature_type")
    ft = np.r_[np.full(n_batch, ftypes.index("batch")), np.full(len(rt), ftypes.index("real_time"))]
    cat = np.r_[cat, rt_us]
    srt = np.argsort(cat, kind="stable")
    person, name, val, ft, cat = (x[srt] for x in (person, name, val, ft, cat))
    n = len(person)
    blk.add(
        "mlops.feature_values",
        {
            "feature_value_id": make_ids("feature_value", ctx.take("feature_value", n)),
            "customer_ref": make_ids("customer", blk.state["primary_cust"][person]),
            "feature_name": choice(names, name),
            "feature_value": val,
            "feature_type": choice(ftypes, ft),
            "computed_at": np.minimum(cat, now - 1),
        },
    )


def daily(d: Day, scored: pl.DataFrame) -> None:
    """Recency (days since the last order) of the customers scored today, in today's batch."""
    ctx = d.ctx
    names = allowed(ctx, "mlops.feature_values", "feature_name")
    ftypes = allowed(ctx, "mlops.feature_values", "feature_type")
    who = (
        scored.select("source_id")
        .unique(maintain_order=True)
        .join(
            d.people.join(
                d.primary("shop.customers"), on="person_id", how="inner", maintain_order="left"
            ).select("source_id", "last_purchase_us"),
            on="source_id",
            how="inner",
            maintain_order="left",
        )
    )
    last = who["last_purchase_us"].to_numpy()
    at = d.start_us + SCORING_HOUR * HOUR
    ok = (last > 0) & (last < at)
    m = int(ok.sum())
    if m == 0:
        return
    d.add(
        "mlops.feature_values",
        {
            "feature_value_id": make_ids("feature_value", ctx.take("feature_value", m)),
            "customer_ref": who["source_id"].filter(pl.Series(ok)),
            "feature_name": choice(names, np.full(m, names.index("days_since_last_order"))),
            "feature_value": np.round((at - last[ok]) / US_PER_DAY, 4),
            "feature_type": choice(ftypes, np.full(m, ftypes.index("batch"))),
            "computed_at": np.full(m, at),
        },
    )
