"""social: public mentions of the brand, some by known customers.

A mention by a known customer reflects what happened to them (a customer who returned items for
fit complains about sizing; a FitMap user praises the scan); anonymous mentions follow a general
mix. Labels go to ``_truth/texts.parquet``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate import texts
from engagement_lake.generate.block import Block, enum_draw, make_ids
from engagement_lake.generate.columns import choice, masked
from engagement_lake.generate.vocab import LAST_COMMON, MALE_FIRST
from engagement_lake.generate.world import pick

T = {t: i for i, t in enumerate(texts.TOPICS)}


def emit(blk: Block) -> None:
    ctx = blk.ctx
    rng = blk.rng("social")
    now = ctx.now_us
    n = int(rng.poisson(0.3 * blk.n))
    linked = rng.random(n) < 0.3
    shop_people = np.flatnonzero(blk.state["primary_cust"] >= 0)
    person = np.where(
        linked & (len(shop_people) > 0),
        shop_people[rng.integers(0, max(len(shop_people), 1), n)] if len(shop_people) else -1,
        -1,
    )
    linked = person >= 0
    r = blk.state["returns"]
    fit_returns = np.zeros(blk.n)
    np.add.at(fit_returns, blk.state["orders"]["person"][r["order"]], (r["fit"] != 0).astype(float))
    pp = np.maximum(person, 0)
    p_neg = np.where(linked, np.clip(0.15 + 0.3 * fit_returns[pp], 0, 0.9), 0.25)
    p_pos = np.where(linked, np.where(blk.col("fitmap_user")[pp], 0.55, 0.4), 0.45)
    u = rng.random(n)
    sentiment = np.where(u < p_neg, 2, np.where(u < p_neg + p_pos * (1 - p_neg), 0, 1))
    topic = rng.choice(
        np.array([T["sizing"], T["quality"], T["shipping"], T["price"], T["service"], T["fitmap"]]),
        n,
        p=[0.25, 0.2, 0.12, 0.15, 0.13, 0.15],
    )
    topic = np.where(linked & (fit_returns[pp] > 0) & (sentiment == 2), T["sizing"], topic)
    topic = np.where(
        linked & blk.col("fitmap_user")[pp] & (sentiment == 0) & (rng.random(n) < 0.5),
        T["fitmap"],
        topic,
    )
    lo = np.where(
        linked,
        np.maximum(blk.col("first_purchase_day")[pp] * 86_400_000_000, ctx.cal.start_us),
        ctx.cal.start_us,
    )
    ts = ctx.cal.sample(rng, lo, np.full(n, now))
    srt = np.argsort(ts, kind="stable")
    person, linked, sentiment, topic, ts = (x[srt] for x in (person, linked, sentiment, topic, ts))
    pp = np.maximum(person, 0)
    first = pl.select(
        pl.when(pl.Series(linked))
        .then(blk.people["first_name"].gather(pp))
        .otherwise(pick(MALE_FIRST, rng.integers(0, len(MALE_FIRST), n)))
    ).to_series()
    last = pl.select(
        pl.when(pl.Series(linked))
        .then(blk.people["last_name"].gather(pp))
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
    platforms, plat = enum_draw(
        rng,
        ctx,
        "social.mentions",
        "platform",
        {"Twitter": 0.3, "Facebook": 0.25, "Instagram": 0.25, "TikTok": 0.12, "Reddit": 0.08},
        n,
    )
    likes = np.minimum(rng.lognormal(1.5, 1.6, n).astype(np.int64), 10_000_000)
    shares = np.minimum((likes * rng.uniform(0, 0.3, n)).astype(np.int64), 10_000_000)
    comments = np.minimum((likes * rng.uniform(0, 0.2, n)).astype(np.int64), 10_000_000)
    body = texts.social_post(rng, topic, sentiment, pl.Series(["clothes"] * n))
    ids = make_ids("mention", ctx.take("mention", n))
    blk.add(
        "social.mentions",
        {
            "mention_id": ids,
            "platform": choice(platforms, plat),
            "author_handle": identity_null(handle, rng.random(n) < 0.03),
            "customer_ref": make_ids("customer", blk.state["primary_cust"][pp], linked),
            "mention_text": body,
            "likes": likes,
            "shares": masked(shares, rng.random(n) > 0.05),
            "comments": masked(comments, rng.random(n) > 0.05),
            "is_brand_tagged": body.str.contains("@DXL", literal=True).to_numpy(),
            "posted_at": ts,
        },
    )
    blk.texts.append(texts.truth("social", pl.Series(ids), topic, sentiment, ts))


def identity_null(s: pl.Series, mask: np.ndarray) -> pl.Series:
    return pl.select(pl.when(pl.Series(mask)).then(None).otherwise(s)).to_series()
