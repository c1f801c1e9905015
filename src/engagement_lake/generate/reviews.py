"""reviews: product reviews written after delivery, correlated with fit and FitMap use.

A line bought in the wrong size is reviewed more often and rated lower (topic: sizing, with the
matching fit_feedback); a low-quality product drags its ratings down (topic: quality); FitMap
users rate higher. Rating, text sentiment and title agree (4-5 positive, 3 neutral, 1-2
negative); labels go to ``_truth/texts.parquet``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate import texts
from engagement_lake.generate.block import Block, allowed, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked

HOUR = 3600 * 1_000_000
T = {t: i for i, t in enumerate(texts.TOPICS)}


def emit(blk: Block) -> None:
    ctx = blk.ctx
    rng = blk.rng("reviews")
    now = ctx.now_us
    o, it = blk.state["orders"], blk.state["items"]
    prod = blk.world.products
    m = len(it["num"])
    order = it["order"]
    person = o["person"][order]
    delivered = o["delivered_us"][order]
    fitmap = blk.col("fitmap_user")[person]
    quality = prod["quality"].to_numpy()[it["product"]]
    fit = it["fit"]
    p_review = 0.045 + 0.05 * (fit != 0) + 0.03 * fitmap + 0.04 * (quality < 0.5)
    ok = ~o["cancelled"][order] & (delivered < now)
    sel = np.flatnonzero(ok & (rng.random(m) < p_review))
    submitted = delivered[sel] + (rng.uniform(1, 30, len(sel)) * US_PER_DAY).astype(np.int64)
    keep = submitted < now - HOUR
    sel, submitted = sel[keep], submitted[keep]
    n = len(sel)
    f, q, fm = fit[sel], quality[sel], fitmap[sel]
    latent = (
        3.9 + 0.45 * fm - 1.9 * (f != 0) - 2.2 * np.maximum(0.6 - q, 0) * 2 + rng.normal(0, 0.7, n)
    )
    latent += 0.4 * it["returned"][sel] * (f == 0) * -1
    rating = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    sentiment = np.where(rating >= 4, 0, np.where(rating == 3, 1, 2))
    topic = np.where(
        f != 0,
        T["sizing"],
        np.where(
            q < 0.55,
            T["quality"],
            rng.choice(
                np.array([T["quality"], T["price"], T["shipping"], T["service"], T["sizing"]]),
                n,
                p=[0.35, 0.2, 0.15, 0.1, 0.2],
            ),
        ),
    )
    topic = np.where(fm & (f == 0) & (rng.random(n) < 0.35), T["fitmap"], topic)
    fits = allowed(ctx, "reviews.product_reviews", "fit_feedback")
    bias = prod["sizing_bias"].to_numpy()[it["product"][sel]]
    felt = np.where(f != 0, f, np.where(rng.random(n) < 0.2, bias, 0))
    fb = np.where(
        felt < 0,
        fits.index("runs_small"),
        np.where(felt > 0, fits.index("runs_large"), fits.index("true_to_size")),
    )
    apparel = it["apparel"][sel]
    words = pl.Series(prod["category"].to_numpy()[it["product"][sel]]).replace_strict(
        texts.ITEM_WORDS, default="item"
    )
    title, body = texts.review_texts(rng, topic, sentiment, words)
    statuses = allowed(ctx, "reviews.product_reviews", "moderation_status")
    pending = submitted > now - 3 * US_PER_DAY
    rejected = ~pending & (rng.random(n) < 0.02)
    st = np.where(
        pending,
        statuses.index("pending"),
        np.where(rejected, statuses.index("rejected"), statuses.index("published")),
    )
    updated = np.where(pending, submitted, submitted + rng.integers(HOUR, 48 * HOUR, n))
    updated = np.minimum(updated, now - 1)
    verified = rng.random(n) < 0.9
    age_days = (now - submitted) / US_PER_DAY
    votes = np.minimum(rng.poisson(0.02 * age_days * (1 + (rating <= 2))), 10_000)
    ids = make_ids("review", ctx.take("review", n))
    srt = np.argsort(submitted, kind="stable")
    blk.add(
        "reviews.product_reviews",
        {
            "review_id": ids,
            "customer_id": make_ids("customer", o["cust"][order[sel]]).take(srt),
            "product_id": prod["product_id"].to_arrow().take(it["product"][sel][srt]),
            "order_id": make_ids("order", o["num"][order[sel]][srt], verified[srt]),
            "rating": rating[srt],
            "title": title.gather(srt),
            "review_text": body.gather(srt),
            "fit_feedback": choice(fits, fb[srt], (apparel & (rng.random(n) < 0.85))[srt]),
            "verified_purchase": verified[srt],
            "helpful_votes": masked(votes[srt], rng.random(n) > 0.1),
            "moderation_status": choice(statuses, st[srt]),
            "submitted_at": submitted[srt],
            "updated_at": updated[srt],
        },
    )
    blk.texts.append(
        texts.truth("review", pl.Series(ids), topic[srt], sentiment[srt], submitted[srt])
    )
    blk.state["reviews"] = {
        "ids": ids,
        "ts": submitted[srt],
        "person": person[sel][srt],
        "rating": rating[srt],
    }
