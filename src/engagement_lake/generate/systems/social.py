"""social: public mentions of the brand, some by known customers, for the backfill and a daily load.

A mention by a known customer reflects what happened to them (a customer who returned items for
fit complains about sizing; a FitMap user praises the scan); anonymous mentions follow a general
mix. Both paths draw from the same yearly rates (times the season's intensity): the backfill
over each customer's time since their first purchase, a daily load for its one day. Labels go to
``_truth/texts.parquet``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate import texts
from engagement_lake.generate.block import Block, choose_weighted, enum_draw, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.daily import Day
from engagement_lake.generate.vocab import LAST_COMMON, MALE_FIRST
from engagement_lake.generate.world import pick

T = {t: i for i, t in enumerate(texts.TOPICS)}

MENTIONS_PER_CUSTOMER_YEAR = 0.05
"""Mentions a year by a known shop customer, from their first purchase on."""
ANONYMOUS_MENTIONS_PER_PERSON_YEAR = 0.07
"""Mentions a year by strangers, per person of the world."""
NEGATIVE_BASE, NEGATIVE_PER_FIT_RETURN, NEGATIVE_ANONYMOUS = 0.15, 0.3, 0.25
POSITIVE_FITMAP, POSITIVE_CUSTOMER, POSITIVE_ANONYMOUS = 0.55, 0.4, 0.45
TOPIC_MIX = {
    "sizing": 0.25,
    "quality": 0.2,
    "shipping": 0.12,
    "price": 0.15,
    "service": 0.13,
    "fitmap": 0.15,
}
PLATFORM_MIX = {"Twitter": 0.3, "Facebook": 0.25, "Instagram": 0.25, "TikTok": 0.12, "Reddit": 0.08}
FIT_REASONS = ("too_small", "too_large", "poor_fit")


def _rows(
    ctx: Ctx,
    rng: np.random.Generator,
    linked: np.ndarray,
    first: pl.Series,
    last: pl.Series,
    fit_returns: np.ndarray,
    fitmap: np.ndarray,
    ts: np.ndarray,
    customer_id: object,
) -> tuple[dict[str, object], np.ndarray, np.ndarray]:
    """The mentions' columns, topics and sentiments (0 positive, 1 neutral, 2 negative)."""
    n = len(linked)
    p_neg = np.where(
        linked,
        np.clip(NEGATIVE_BASE + NEGATIVE_PER_FIT_RETURN * fit_returns, 0, 0.9),
        NEGATIVE_ANONYMOUS,
    )
    p_pos = np.where(
        linked, np.where(fitmap, POSITIVE_FITMAP, POSITIVE_CUSTOMER), POSITIVE_ANONYMOUS
    )
    u = rng.random(n)
    sentiment = np.where(u < p_neg, 2, np.where(u < p_neg + p_pos * (1 - p_neg), 0, 1))
    topic = np.asarray([T[t] for t in TOPIC_MIX])[choose_weighted(rng, list(TOPIC_MIX.values()), n)]
    topic = np.where(linked & (fit_returns > 0) & (sentiment == 2), T["sizing"], topic)
    topic = np.where(linked & fitmap & (sentiment == 0) & (rng.random(n) < 0.5), T["fitmap"], topic)
    first = pl.select(
        pl.when(pl.Series(linked))
        .then(first)
        .otherwise(pick(MALE_FIRST, rng.integers(0, len(MALE_FIRST), n)))
    ).to_series()
    last = pl.select(
        pl.when(pl.Series(linked))
        .then(last)
        .otherwise(pick(LAST_COMMON, rng.integers(0, len(LAST_COMMON), n)))
    ).to_series()
    handle = pl.concat_str(
        [
            pl.lit("@"),
            first.str.to_lowercase(),
            pl.lit("_"),
            last.str.to_lowercase().str.slice(0, 3),
            pl.Series(rng.integers(1, 999, n)).cast(pl.String),
        ]
    )
    platforms, plat = enum_draw(rng, ctx, "social.mentions", "platform", PLATFORM_MIX, n)
    likes = np.minimum(rng.lognormal(1.5, 1.6, n).astype(np.int64), 10_000_000)
    shares = np.minimum((likes * rng.uniform(0, 0.3, n)).astype(np.int64), 10_000_000)
    comments = np.minimum((likes * rng.uniform(0, 0.2, n)).astype(np.int64), 10_000_000)
    body = texts.social_post(rng, topic, sentiment, pl.Series(["clothes"] * n))
    cols = {
        "mention_id": make_ids("mention", ctx.take("mention", n)),
        "platform": choice(platforms, plat),
        "author_handle": identity_null(handle, rng.random(n) < 0.03),
        "customer_ref": customer_id,
        "mention_text": body,
        "likes": likes,
        "shares": masked(shares, rng.random(n) > 0.05),
        "comments": masked(comments, rng.random(n) > 0.05),
        "is_brand_tagged": body.str.contains("@DXL", literal=True).to_numpy(),
        "posted_at": ts,
    }
    return cols, topic, sentiment


def emit(blk: Block) -> None:
    ctx = blk.ctx
    rng = blk.rng("social")
    now = ctx.now_us
    shop_people = np.flatnonzero(blk.state["primary_cust"] >= 0)
    lo = np.maximum(blk.col("first_purchase_day")[shop_people] * US_PER_DAY, ctx.cal.start_us)
    lo = np.minimum(lo, now)
    days = ctx.cal.cumulative(np.full(len(lo), now)) - ctx.cal.cumulative(lo)
    cnt = rng.poisson(MENTIONS_PER_CUSTOMER_YEAR / 365.0 * days)
    owner = np.repeat(np.arange(len(shop_people)), cnt)
    n_anon = int(
        rng.poisson(
            ANONYMOUS_MENTIONS_PER_PERSON_YEAR
            / 365.0
            * blk.n
            * float(
                ctx.cal.cumulative(np.asarray([now]))[0]
                - ctx.cal.cumulative(np.asarray([ctx.cal.start_us]))[0]
            )
        )
    )
    person = np.r_[shop_people[owner], np.full(n_anon, -1)].astype(np.int64)
    ts = np.r_[
        ctx.cal.sample(rng, lo[owner], np.full(len(owner), now)),
        ctx.cal.sample(rng, np.full(n_anon, ctx.cal.start_us), np.full(n_anon, now)),
    ]
    linked = person >= 0
    r = blk.state["returns"]
    fit_returns = np.zeros(blk.n)
    np.add.at(fit_returns, blk.state["orders"]["person"][r["order"]], (r["fit"] != 0).astype(float))
    srt = np.argsort(ts, kind="stable")
    person, linked, ts = person[srt], linked[srt], ts[srt]
    pp = np.maximum(person, 0)
    cols, topic, sentiment = _rows(
        ctx,
        rng,
        linked,
        blk.people["first_name"].gather(pp),
        blk.people["last_name"].gather(pp),
        fit_returns[pp],
        blk.col("fitmap_user")[pp],
        ts,
        make_ids("customer", blk.state["primary_cust"][pp], linked),
    )
    blk.add("social.mentions", cols)
    blk.texts.append(texts.truth("social", pl.Series(cols["mention_id"]), topic, sentiment, ts))


def daily(d: Day) -> None:
    """The day's mentions, by the same rates (fit returns read from bronze)."""
    ctx = d.ctx
    rng = d.rng("social")
    season = ctx.cal.intensity[d.day - ctx.cal.grid_lo]
    pe = d.people
    shop_map = (
        d.primary("shop.customers")
        .join(pe.select("person_id", "first_purchase_day"), on="person_id", how="inner")
        .filter(pl.col("first_purchase_day") <= d.day)
    )
    cnt = rng.poisson(MENTIONS_PER_CUSTOMER_YEAR / 365.0 * season, len(shop_map))
    owner = np.repeat(np.arange(len(shop_map)), cnt)
    n_anon = int(rng.poisson(ANONYMOUS_MENTIONS_PER_PERSON_YEAR / 365.0 * len(pe) * season))
    n = len(owner) + n_anon
    if n == 0:
        return
    linked = np.r_[np.ones(len(owner), bool), np.zeros(n_anon, bool)]
    pick_i = np.r_[owner, np.zeros(n_anon, np.int64)]
    cust = (
        shop_map["source_id"].cast(pl.String).gather(pick_i)
        if len(shop_map)
        else pl.Series([None] * n)
    )
    pid = shop_map["person_id"].to_numpy()[pick_i] if len(shop_map) else np.zeros(n, np.int64)
    fit = d.bronze.query(f"""
        SELECT customer_id, count(*) AS n FROM {d.bronze.scan("shop.returns")}
        WHERE reason IN {FIT_REASONS} GROUP BY 1""")
    fit_by_cust = dict(zip(fit["customer_id"].to_list(), fit["n"].to_list(), strict=True))
    fit_returns = np.asarray([float(fit_by_cust.get(c, 0)) for c in cust.to_list()])
    idx = np.clip(np.searchsorted(pe["person_id"].to_numpy(), pid), 0, len(pe) - 1)
    ts = d.times(rng, n)
    cols, topic, sentiment = _rows(
        ctx,
        rng,
        linked,
        pe["first_name"].gather(idx),
        pe["last_name"].gather(idx),
        fit_returns,
        pe["fitmap_user"].to_numpy()[idx],
        ts,
        pl.select(pl.when(pl.Series(linked)).then(cust)).to_series(),
    )
    d.add("social.mentions", cols)
    d.new_texts.append(texts.truth("social", pl.Series(cols["mention_id"]), topic, sentiment, ts))


def identity_null(s: pl.Series, mask: np.ndarray) -> pl.Series:
    return pl.select(pl.when(pl.Series(mask)).then(None).otherwise(s)).to_series()
