"""reviews: product reviews written after delivery, correlated with fit and FitMap use.

Reviews follow purchases: whether a delivered line is reviewed, and when, is decided per line
(keyed by the line, like its return, see ``shop.fates``), so the backfill and a daily load review
the same lines the same way and a popular product gathers reviews only as it gathers sales.
A line bought in the wrong size is reviewed more often and rated lower (topic: sizing, with the
matching fit_feedback); a low-quality product drags its ratings down (topic: quality); FitMap
users rate higher. Rating, text sentiment and title agree (4-5 positive, 3 neutral, 1-2
negative); labels go to ``_truth/texts.parquet``. Moderation (pending, then published or
rejected) is keyed by the review, so a daily load publishes a pending review when the backfill
would have.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from engagement_lake.generate import texts
from engagement_lake.generate.block import Block, allowed, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.context import Calendar, Ctx
from engagement_lake.generate.daily import HOUR, Day
from engagement_lake.generate.systems.shop import fates
from engagement_lake.generate.systems.shop import params as shop_params
from engagement_lake.generate.systems.shop.returns import recent_lines

FQN = "reviews.product_reviews"
T = {t: i for i, t in enumerate(texts.TOPICS)}

# ----------------------------------------------------------------------------- parameters

REVIEW_BASE = 0.045
REVIEW_MISFIT = 0.05
REVIEW_FITMAP = 0.03
REVIEW_LOW_QUALITY = 0.04
LOW_QUALITY = 0.5
"""A delivered line is reviewed with probability REVIEW_BASE, plus REVIEW_MISFIT if it did not
fit, REVIEW_FITMAP for a FitMap user, REVIEW_LOW_QUALITY for a product below LOW_QUALITY."""
REVIEW_DAYS = (1.0, 30.0)
"""Days from delivery to the review."""
RATING_BASE = 3.9
RATING_FITMAP = 0.45
RATING_MISFIT = -1.9
RATING_QUALITY_FLOOR = 0.6
RATING_PER_QUALITY_GAP = -4.4
RATING_RETURNED = -0.4
RATING_NOISE = 0.7
"""Latent rating: base + FitMap user + misfit + per quality point below the floor + returned
(a line that fit) + Normal(0, noise) noise, rounded into 1-5."""
QUALITY_TOPIC_BELOW = 0.55
OTHER_TOPICS = {"quality": 0.35, "price": 0.2, "shipping": 0.15, "service": 0.1, "sizing": 0.2}
FITMAP_TOPIC_SHARE = 0.35
"""Topic: sizing for a misfit, quality below QUALITY_TOPIC_BELOW, else OTHER_TOPICS; a FitMap
user's well-fitting line is about FitMap with probability FITMAP_TOPIC_SHARE."""
FELT_BIAS_SHARE = 0.2
FIT_FEEDBACK_SHARE = 0.85
"""A line that fit still feels like its product's sizing bias this often; apparel reviews give
fit feedback this often."""
MODERATION_HOURS = (1.0, 72.0)
REJECTED_SHARE = 0.02
"""Hours from submission to moderation; reviews rejected."""
VERIFIED_SHARE = 0.9
VOTES_PER_DAY = 0.02
MISSING_VOTES_SHARE = 0.1
"""Reviews linked to their order; helpful votes a day of age (doubled for low ratings); reviews
whose vote count the platform does not send."""


def line_reviews(
    seed: int,
    item_num: np.ndarray,
    fit: np.ndarray,
    fitmap: np.ndarray,
    quality: np.ndarray,
    delivered_us: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(reviewed, submitted_us) per delivered line, keyed by the line."""
    u = fates.keyed_uniforms(seed, "reviews.line", item_num, 2)
    p = REVIEW_BASE + REVIEW_MISFIT * (fit != 0) + REVIEW_FITMAP * fitmap
    p = p + REVIEW_LOW_QUALITY * (quality < LOW_QUALITY)
    lo, hi = REVIEW_DAYS
    return u[:, 0] < p, delivered_us + ((lo + u[:, 1] * (hi - lo)) * US_PER_DAY).astype(np.int64)


def moderation(
    ctx: Ctx, review_num: np.ndarray, submitted: np.ndarray, now: int
) -> tuple[np.ndarray, np.ndarray]:
    """(status index, updated_at) of reviews as seen at ``now``."""
    u = fates.keyed_uniforms(ctx.seed, "reviews.moderation", review_num, 2)
    lo, hi = MODERATION_HOURS
    moderated = submitted + ((lo + u[:, 0] * (hi - lo)) * HOUR).astype(np.int64)
    statuses = allowed(ctx, FQN, "moderation_status")
    done = moderated < now
    st = np.where(
        ~done,
        statuses.index("pending"),
        np.where(u[:, 1] < REJECTED_SHARE, statuses.index("rejected"), statuses.index("published")),
    )
    return st, np.where(done, moderated, submitted)


def review_rows(
    ctx: Ctx,
    rng: np.random.Generator,
    now: int,
    products: pl.DataFrame,
    line: dict[str, np.ndarray],
    customer_ids: pa.Array,
    order_ids: pa.Array,
) -> tuple[dict[str, Any], pl.DataFrame, dict[str, Any]]:
    """Review rows of the reviewed lines ``line`` (product, fit, quality, fitmap, apparel,
    returned, submitted), sorted by submission; returns (rows, text truth, state)."""
    srt = np.argsort(line["submitted"], kind="stable")
    line = {k: v[srt] for k, v in line.items()}
    customer_ids, order_ids = customer_ids.take(srt), order_ids.take(srt)
    n = len(srt)
    f, q, fm = line["fit"], line["quality"], line["fitmap"]
    latent = (
        RATING_BASE
        + RATING_FITMAP * fm
        + RATING_MISFIT * (f != 0)
        + RATING_PER_QUALITY_GAP * np.maximum(RATING_QUALITY_FLOOR - q, 0)
        + RATING_RETURNED * (line["returned"] & (f == 0))
        + rng.normal(0, RATING_NOISE, n)
    )
    rating = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    sentiment = np.where(rating >= 4, 0, np.where(rating == 3, 1, 2))
    other = np.asarray([T[t] for t in OTHER_TOPICS])
    topic = np.where(
        f != 0,
        T["sizing"],
        np.where(
            q < QUALITY_TOPIC_BELOW,
            T["quality"],
            rng.choice(other, n, p=list(OTHER_TOPICS.values())),
        ),
    )
    topic = np.where(fm & (f == 0) & (rng.random(n) < FITMAP_TOPIC_SHARE), T["fitmap"], topic)
    fits = allowed(ctx, FQN, "fit_feedback")
    bias = products["sizing_bias"].to_numpy()[line["product"]]
    felt = np.where(f != 0, f, np.where(rng.random(n) < FELT_BIAS_SHARE, bias, 0))
    fb = np.where(
        felt < 0,
        fits.index("runs_small"),
        np.where(felt > 0, fits.index("runs_large"), fits.index("true_to_size")),
    )
    words = pl.Series(products["category"].to_numpy()[line["product"]]).replace_strict(
        texts.ITEM_WORDS, default="item"
    )
    title, body = texts.review_texts(rng, topic, sentiment, words)
    nums = ctx.take("review", n)
    submitted = line["submitted"]
    status, updated = moderation(ctx, nums, submitted, now)
    verified = rng.random(n) < VERIFIED_SHARE
    age_days = (now - submitted) / US_PER_DAY
    votes = np.minimum(rng.poisson(VOTES_PER_DAY * age_days * (1 + (rating <= 2))), 10_000)
    ids = make_ids("review", nums)
    rows = {
        "review_id": ids,
        "customer_id": customer_ids,
        "product_id": products["product_id"].to_arrow().take(line["product"]),
        "order_id": pc.if_else(pa.array(verified), order_ids, pa.nulls(n, pa.string())),
        "rating": rating,
        "title": title,
        "review_text": body,
        "fit_feedback": choice(fits, fb, line["apparel"] & (rng.random(n) < FIT_FEEDBACK_SHARE)),
        "verified_purchase": verified,
        "helpful_votes": masked(votes, rng.random(n) >= MISSING_VOTES_SHARE),
        "moderation_status": choice(allowed(ctx, FQN, "moderation_status"), status),
        "submitted_at": submitted,
        "updated_at": np.minimum(updated, now - 1),
    }
    truth = texts.truth("review", pl.Series(ids), topic, sentiment, submitted)
    return (
        rows,
        truth,
        {
            "ids": ids,
            "ts": submitted,
            "rating": rating,
            "order": srt,
            "topic": topic,
            "verified": verified,
        },
    )


# ----------------------------------------------------------------------------- backfill


def emit(blk: Block) -> None:
    """Reviews of the block's delivered lines written before the end of history."""
    ctx, now = blk.ctx, blk.ctx.now_us
    o, it, r = blk.state["orders"], blk.state["items"], blk.state["returns"]
    prod = blk.world.products
    order = it["order"]
    person = o["person"][order]
    delivered = o["delivered_us"][order]
    fitmap = blk.col("fitmap_user")[person]
    quality = prod["quality"].to_numpy()[it["product"]]
    reviewed, submitted = line_reviews(ctx.seed, it["num"], it["fit"], fitmap, quality, delivered)
    sel = np.flatnonzero(
        reviewed & ~o["cancelled"][order] & (delivered < now) & (submitted < now - HOUR)
    )
    ret_us = np.full(len(order), np.iinfo(np.int64).max)
    ret_us[r["item"]] = r["us"]
    line = {
        "product": it["product"][sel],
        "fit": it["fit"][sel],
        "quality": quality[sel],
        "fitmap": fitmap[sel],
        "apparel": it["apparel"][sel],
        "returned": ret_us[sel] < submitted[sel],
        "submitted": submitted[sel],
    }
    order_ids = blk.state["order_ids"].take(order[sel])
    customers = make_ids("customer", o["cust"][order[sel]])
    rows, truth, st = review_rows(ctx, blk.rng("reviews"), now, prod, line, customers, order_ids)
    blk.add(FQN, rows)
    blk.texts.append(truth)
    blk.state["reviews"] = {
        "ids": st["ids"],
        "ts": st["ts"],
        "person": person[sel][st["order"]],
        "rating": st["rating"],
        "topic": st["topic"],
        # the order as the review names it (-1 when the review is not linked to its order)
        "order": np.where(st["verified"], order[sel][st["order"]], -1),
    }


# ----------------------------------------------------------------------------- daily


def daily(d: Day) -> None:
    """Pending reviews whose moderation falls today; reviews of recent lines due today."""
    ctx = d.ctx
    rng = d.rng("reviews")
    pend = d.bronze.latest(FQN, "moderation_status = 'pending'")
    if len(pend):
        num = pend["review_id"].str.extract(r"(\d+)", 1).cast(pl.Int64)
        pend = pend.filter(num.is_not_null() & pend["submitted_at"].is_not_null())
        num = num.drop_nulls().to_numpy()
        submitted = pend["submitted_at"].cast(pl.Int64).to_numpy()
        status, updated = moderation(ctx, num, submitted, d.end_us)
        names = np.asarray(allowed(ctx, FQN, "moderation_status"), dtype=object)
        new = pl.Series(names[status].astype(str))
        done = (new != "pending").to_numpy()
        d.add(
            FQN,
            pend.with_columns(
                moderation_status=new,
                updated_at=pl.Series(np.clip(updated, d.start_us, d.end_us - 1)).cast(
                    pl.Datetime("us")
                ),
            ).filter(pl.Series(done)),
        )
    window = shop_params.DELIVERY_DAYS[1] + REVIEW_DAYS[1] + 1
    lines = recent_lines(d, window, unreturned_only=False)
    if lines is None:
        return
    df = lines["frame"]
    fitmap = d.people["fitmap_user"].to_numpy()[lines["person"]]
    reviewed, submitted = line_reviews(
        ctx.seed,
        df["item_num"].to_numpy(),
        lines["fit"],
        fitmap,
        lines["quality"],
        lines["delivered_us"],
    )
    prev = Calendar.day_end_us(d.day - 1)  # the previous load's end of events
    due = reviewed & ~lines["cancelled"]
    due &= (submitted >= prev - HOUR) & (submitted < d.end_us - HOUR)
    sel = np.flatnonzero(due)
    if len(sel) == 0:
        return
    back = lines["back"]
    line = {
        "product": lines["product"][sel],
        "fit": lines["fit"][sel],
        "quality": lines["quality"][sel],
        "fitmap": fitmap[sel],
        "apparel": lines["apparel"][sel],
        "returned": back["returned"][sel] & (back["us"][sel] < submitted[sel]),
        "submitted": submitted[sel],
    }
    sub = df[sel]
    rows, truth, _ = review_rows(
        ctx,
        rng,
        d.end_us,
        d.w.products,
        line,
        sub["customer_id"].to_arrow(),
        sub["order_id"].to_arrow(),
    )
    d.add(FQN, rows)
    d.new_texts.append(truth)
