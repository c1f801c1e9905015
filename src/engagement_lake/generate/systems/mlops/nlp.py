"""The vendor's sentiment scores: part of the texts (``NLP_SCORED_SHARE`` by source) get a noisy
score around their true sentiment, by the model version live when they were scored. The same
builder scores the backfill's texts and a daily load's new ones.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate.block import Block, allowed, make_ids
from engagement_lake.generate.columns import choice
from engagement_lake.generate.daily import Day
from engagement_lake.generate.systems.mlops.params import (
    HOUR,
    MINUTE,
    NLP_CENTER,
    NLP_NOISE,
    NLP_SCORED_SHARE,
    _model,
)


def nlp_sentiment(blk: Block, texts_frames: list[pl.DataFrame] | None = None) -> None:
    ctx, rng = blk.ctx, blk.rng("mlops.nlp")
    now = ctx.now_us
    frames = texts_frames if texts_frames is not None else blk.texts
    if not frames:
        return
    tx = pl.concat(frames)
    share = tx["source_type"].replace_strict(NLP_SCORED_SHARE, default=0.5).to_numpy()
    pick = rng.random(len(tx)) < share
    tx = tx.filter(pl.Series(pick))
    n = len(tx)
    sent_idx = (
        tx["sentiment"].replace_strict({"positive": 0, "neutral": 1, "negative": 2}).to_numpy()
    )
    center = np.asarray([NLP_CENTER[0], NLP_CENTER[1], NLP_CENTER[2]])[sent_idx]
    score = np.round(np.clip(center + rng.normal(0, NLP_NOISE, n), -1, 1), 4)
    labels = allowed(ctx, "mlops.nlp_sentiment", "sentiment_label")
    lab = np.where(
        score > 0.25,
        labels.index("Positive"),
        np.where(score < -0.25, labels.index("Negative"), labels.index("Neutral")),
    )
    scored = np.minimum(tx["ts_us"].to_numpy() + rng.integers(MINUTE, 6 * HOUR, n), now - 1)
    new_id, new_dep = _model(blk, "sentiment-vendor", "2.4")
    version = np.where(scored >= new_dep, "2.4", "2.3").astype(object)
    from engagement_lake.generate.texts import TOPICS

    wrong_topic = rng.random(n) < 0.15
    topic = tx["topic"].to_numpy().astype(object)
    topic = np.where(
        wrong_topic, np.asarray(TOPICS, dtype=object)[rng.integers(0, len(TOPICS), n)], topic
    )
    srt = np.argsort(scored, kind="stable")
    types = allowed(ctx, "mlops.nlp_sentiment", "source_type")
    st_idx = tx["source_type"].replace_strict({t: i for i, t in enumerate(types)}).to_numpy()
    langs = allowed(ctx, "mlops.nlp_sentiment", "language")
    blk.add(
        "mlops.nlp_sentiment",
        {
            "sentiment_id": make_ids("sentiment", ctx.take("sentiment", n)),
            "source_type": choice(types, st_idx[srt]),
            "source_id": tx["source_id"].gather(srt),
            "sentiment_score": score[srt],
            "sentiment_label": choice(labels, lab[srt]),
            "magnitude": np.round(np.clip(np.abs(score) + rng.uniform(0, 0.2, n), 0, 1), 4)[srt],
            "topics": topic[srt],
            "language": choice(langs, np.full(n, langs.index("en"))),
            "model_version": version[srt],
            "scored_at": scored[srt],
        },
    )
    evals = blk.state.setdefault("model_eval", [])
    truth_label = np.asarray(
        [labels.index("Positive"), labels.index("Neutral"), labels.index("Negative")]
    )[sent_idx]
    evals.append(
        {
            "model_id": new_id,
            "prediction_type": "sentiment",
            "truth_kind": "sentiment label",
            "value": lab.astype(float),
            "truth": truth_label.astype(float),
        }
    )


def daily(d: Day) -> None:
    """The vendor scores part of today's texts."""
    if not d.new_texts:
        return
    blk = Block(ctx=d.ctx, world=d.w, index=0, lo=0, hi=0, people=pl.DataFrame())
    nlp_sentiment(blk, d.new_texts)
    for fr in blk.tables.get("mlops.nlp_sentiment", []):
        d.add("mlops.nlp_sentiment", fr.columns)
