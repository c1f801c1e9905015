"""Model predictions: every deployed model version of the registry scores a share of the shop
customers every day it is live (``SCORING_SHARE_PER_DAY``), so each model has predictions in every
month of its life and can be monitored month by month.

One row builder (``score``) turns "who, when, which model" into predicted values for both paths:
a churn score separates customers already lost at the prediction time (the backfill knows when
each one stopped buying; a daily load knows who is still alive), with the separation the model's
training AUC implies; propensity models (cross-sell, affinity, next best action) separate active
from lapsed customers the same way; CLV predictions scatter around the true 12-month value. The
achieved accuracy of the backfill's predictions is measured against that truth and written to
``_truth/model_accuracy.parquet``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate.block import Block, allowed, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.daily import Day
from engagement_lake.generate.systems.mlops.params import (
    CLASSIFIER_TYPES,
    CLV_NOISE_SD,
    HOUR,
    SCORING_HOUR,
    SCORING_HOURS,
    SCORING_SHARE_PER_DAY,
    customers,
    separation,
    sigmoid,
)

FQN = "mlops.model_predictions"


def scored_models(models: pl.DataFrame) -> pl.DataFrame:
    """Registry entries that write to model_predictions (the vendor's sentiment model scores texts
    into nlp_sentiment instead)."""
    return models.filter(pl.col("model_type").is_in(list(SCORING_SHARE_PER_DAY)))


def score(
    rng: np.random.Generator,
    model: dict[str, object],
    lost: np.ndarray,
    true_clv: np.ndarray,
    us: np.ndarray,
) -> dict[str, np.ndarray]:
    """Predicted value, label (-1: none), confidence and latency of one model's predictions.

    ``lost``: the customer had stopped buying for good at the prediction time; ``true_clv``: the
    true expected 12-month value."""
    k = len(us)
    mtype = str(model["model_type"])
    if mtype == "clv":
        value = np.round(
            np.where(lost, 0.0, true_clv) * rng.lognormal(0, CLV_NOISE_SD, k)
            + rng.exponential(5, k),
            2,
        )
        conf = rng.uniform(0.4, 0.9, k)
    else:
        gap = separation(model["training_auc"])  # type: ignore[arg-type]
        signal = lost if mtype == "churn" else ~lost
        s = gap * signal + rng.normal(0, 1, k)
        value = np.round(sigmoid(1.6 * (s - gap / 2)), 4)
        conf = np.abs(value - 0.5) * 2
    label = (
        (value > 0.5).astype(np.int64) if mtype in CLASSIFIER_TYPES else np.full(k, -1, np.int64)
    )
    return {
        "value": value.astype(np.float64),
        "label": label,
        "confidence": np.round(np.clip(conf, 0, 1), 4),
        "latency_ms": np.minimum(rng.lognormal(np.log(35), 0.6, k).astype(np.int64), 60_000),
        "us": us,
    }


def batch_times(rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
    """The moment within the nightly batch of ``day`` a prediction is written."""
    return day * US_PER_DAY + SCORING_HOUR * HOUR + rng.integers(0, SCORING_HOURS * HOUR, len(day))


def add_predictions(
    ctx: Ctx,
    add: object,
    model_ids: np.ndarray,
    ptype: np.ndarray,
    customer_ref: object,
    rows: dict[str, np.ndarray],
) -> None:
    """Write the rows of ``score`` (concatenated over models) through ``add(fqn, columns)``."""
    ptypes = allowed(ctx, FQN, "prediction_type")
    n = len(rows["us"])
    lab = rows["label"]
    add(  # type: ignore[operator]
        FQN,
        {
            "prediction_id": make_ids("prediction", ctx.take("prediction", n)),
            "model_id": model_ids,
            "customer_ref": customer_ref,
            "prediction_type": choice(ptypes, [ptypes.index(t) for t in ptype]),
            "predicted_value": rows["value"],
            "predicted_label": masked(lab == 1, lab >= 0),
            "confidence": rows["confidence"],
            "latency_ms": rows["latency_ms"],
            "predicted_at": rows["us"],
        },
    )


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def predictions(blk: Block) -> None:
    """Every model version's daily scoring over its deployment, for the block's customers: a
    customer's number of predictions by a model is Poisson(share x days live since their first
    purchase), on days drawn uniformly over that span."""
    ctx, rng = blk.ctx, blk.rng("mlops.predictions")
    now = ctx.now_us
    people = customers(blk)
    first_day = blk.col("first_purchase_day")[people]
    until = blk.state["active_until"][people]
    true_clv = blk.col("true_clv_12mo")[people]
    evals = blk.state.setdefault("model_eval", [])
    today = (now - 1) // US_PER_DAY
    parts, ids, types, who_all = [], [], [], []
    for model in scored_models(blk.world.models).iter_rows(named=True):  # ten registry entries
        dep_day = max(int(model["deployed_us"]) // US_PER_DAY + 1, ctx.cal.start_day)
        dep = model["deprecated_us"]
        end_day = min(today, int(dep) // US_PER_DAY - 1) if dep is not None else today
        lo = np.maximum(first_day + 1, dep_day)
        span = np.maximum(end_day - lo + 1, 0)
        share = SCORING_SHARE_PER_DAY[model["model_type"]]
        counts = rng.poisson(share * span)
        owner = np.repeat(np.arange(len(people)), counts)
        if len(owner) == 0:
            continue
        day = lo[owner] + (rng.random(len(owner)) * span[owner]).astype(np.int64)
        us = np.minimum(batch_times(rng, day), now - 1)
        lost = until[owner] < us
        rows = score(rng, model, lost, true_clv[owner], us)
        parts.append(rows)
        ids.append(np.full(len(owner), model["model_id"], dtype=object))
        types.append(np.full(len(owner), model["model_type"], dtype=object))
        who_all.append(people[owner])
        if model["model_type"] == "churn":
            evals.append(
                {
                    "model_id": model["model_id"],
                    "prediction_type": "churn",
                    "truth_kind": "stopped buying for good before the prediction",
                    "value": rows["value"],
                    "truth": lost.astype(float),
                }
            )
        elif model["model_type"] == "clv":
            evals.append(
                {
                    "model_id": model["model_id"],
                    "prediction_type": "clv",
                    "truth_kind": "true expected 12-month value (0 once lost)",
                    "value": rows["value"],
                    "truth": np.where(lost, 0.0, true_clv[owner]),
                }
            )
    if not parts:
        return
    rows = _concat(parts)
    who = np.concatenate(who_all)
    srt = np.argsort(rows["us"], kind="stable")
    rows = {k: v[srt] for k, v in rows.items()}
    add_predictions(
        ctx,
        blk.add,
        np.concatenate(ids)[srt],
        np.concatenate(types)[srt],
        make_ids("customer", blk.state["primary_cust"][who[srt]]),
        rows,
    )


def daily(d: Day) -> pl.DataFrame:
    """Today's batch scoring by every model version live today; returns the scored customers
    (``source_id`` = shop customer id, ``model_type``, ``value``) for the next best actions."""
    ctx = d.ctx
    rng = d.rng("mlops.predictions")
    pe = d.people.join(
        d.primary("shop.customers"), on="person_id", how="inner", maintain_order="left"
    )
    pe = pe.filter(pl.col("first_purchase_day") < d.day)
    lost = ~pe["alive"].to_numpy()
    true_clv = pe["true_clv_12mo"].to_numpy()
    parts, ids, types, refs = [], [], [], []
    for model in scored_models(d.w.models).iter_rows(named=True):  # ten registry entries
        dep = model["deprecated_us"]
        live = int(model["deployed_us"]) < d.start_us and (dep is None or int(dep) > d.end_us)
        if not live or pe.is_empty():
            continue
        pick = np.flatnonzero(rng.random(len(pe)) < SCORING_SHARE_PER_DAY[model["model_type"]])
        if len(pick) == 0:
            continue
        us = batch_times(rng, np.full(len(pick), d.day))
        parts.append(score(rng, model, lost[pick], true_clv[pick], us))
        ids.append(np.full(len(pick), model["model_id"], dtype=object))
        types.append(np.full(len(pick), model["model_type"], dtype=object))
        refs.append(pe["source_id"].gather(pick))
    if not parts:
        return pl.DataFrame(
            schema={"source_id": pl.String, "model_type": pl.String, "value": pl.Float64}
        )
    rows = _concat(parts)
    ref = pl.concat(refs)
    add_predictions(ctx, d.add, np.concatenate(ids), np.concatenate(types), ref, rows)
    return pl.DataFrame(
        {"source_id": ref, "model_type": np.concatenate(types).astype(str), "value": rows["value"]}
    )


def model_accuracy(evals: list[dict[str, object]]) -> pl.DataFrame:
    """Achieved accuracy of the emitted predictions against the truth (all blocks)."""
    rows = []
    by_model: dict[tuple[str, str, str], list[tuple[np.ndarray, np.ndarray]]] = {}
    for e in evals:
        key = (str(e["model_id"]), str(e["prediction_type"]), str(e["truth_kind"]))
        by_model.setdefault(key, []).append((np.asarray(e["value"]), np.asarray(e["truth"])))
    for (model_id, ptype, kind), parts in sorted(by_model.items()):
        v = np.concatenate([p[0] for p in parts])
        t = np.concatenate([p[1] for p in parts])
        n = len(v)
        if ptype == "churn":
            rows += [
                (model_id, ptype, kind, "auc", _auc(v, t), n),
                (model_id, ptype, kind, "accuracy", float(np.mean((v > 0.5) == (t > 0.5))), n),
                (model_id, ptype, kind, "base_rate", float(np.mean(t)), n),
            ]
        elif ptype == "clv":
            rows += [
                (model_id, ptype, kind, "mae", float(np.mean(np.abs(v - t))), n),
                (
                    model_id,
                    ptype,
                    kind,
                    "pearson_r",
                    float(np.corrcoef(v, t)[0, 1]) if n > 1 else float("nan"),
                    n,
                ),
            ]
        elif ptype == "sentiment":
            rows += [(model_id, ptype, kind, "label_accuracy", float(np.mean(v == t)), n)]
    return pl.DataFrame(
        rows, schema=["model_id", "prediction_type", "truth", "metric", "value", "n"], orient="row"
    )


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties sharing their mean rank (``scipy.stats.rankdata``'s default),
    in numpy: importing scipy.stats alone costs the generator half a second."""
    values = np.asarray(values)
    order = np.argsort(values, kind="stable")
    s = values[order]
    first = np.r_[True, s[1:] != s[:-1]]
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(s)]
    ranks = np.empty(len(s), dtype=np.float64)
    ranks[order] = ((starts + ends + 1) / 2.0)[np.cumsum(first) - 1]
    return ranks


def _auc(score: np.ndarray, label: np.ndarray) -> float:
    pos = label > 0.5
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = average_ranks(score)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
