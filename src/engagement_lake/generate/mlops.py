"""mlops: the personalisation platform's outputs -- experiments, model predictions, features,
recommendations and their feedback, personalised impressions, next best actions and the
vendor's sentiment scores.

Every output has a known truth:
- experiments: assignment follows each variant's true share (one experiment deliberately
  breaks its intended split: a sample-ratio mismatch) and conversions follow each variant's true
  rate (``_truth/experiments.parquet``);
- recommendations: click, add-to-cart and purchase rates depend on the algorithm
  (``_truth/behaviour_params.json``); a purchase is only recorded with a real follow-up order;
- churn predictions are noisy functions of the person's true alive flag, CLV predictions of the
  true 12-month value; the achieved accuracy is measured and written to
  ``_truth/model_accuracy.parquet``;
- the vendor scores part of the texts with a noisy score around the true sentiment.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate.block import (
    Block,
    allowed,
    choose_weighted,
    enum_draw,
    expand,
    last_before,
    make_ids,
    next_event,
)
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.context import Ctx

HOUR = 3600 * 1_000_000
MINUTE = 60 * 1_000_000
SECOND = 1_000_000

# algorithm -> (click rate at rank 1, add-to-cart given click, purchase given cart & an order)
ALGORITHM_RATES = {
    "collaborative_filtering": (0.060, 0.30, 0.50),
    "content_based": (0.045, 0.27, 0.45),
    "hybrid": (0.075, 0.33, 0.55),
    "popularity": (0.035, 0.24, 0.40),
    "fitmap_size_match": (0.095, 0.42, 0.65),
}
STRATEGY_CLICK = {
    "hero_banner": 0.04,
    "size_filter": 0.12,
    "offer": 0.08,
    "content_block": 0.03,
    "search_rerank": 0.10,
}
NLP_CENTER = {0: 0.6, 1: 0.0, 2: -0.6}
NLP_NOISE = 0.3
NLP_SCORED_SHARE = {
    "review": 0.7,
    "ticket_message": 0.4,
    "call_transcript": 0.6,
    "survey": 0.6,
    "social": 0.8,
}


def behaviour_params() -> dict[str, object]:
    return {
        "recommendation_algorithm_rates": {
            k: {
                "click_rate_rank1": v[0],
                "add_to_cart_given_click": v[1],
                "purchase_given_cart_and_order_within_3d": v[2],
            }
            for k, v in ALGORITHM_RATES.items()
        },
        "rank_decay": "click rate x 1 / (1 + 0.15 x (slot_rank - 1))",
        "personalization_click_rate": STRATEGY_CLICK,
        "vendor_sentiment": {
            "center": {"positive": 0.6, "neutral": 0.0, "negative": -0.6},
            "noise_sd": NLP_NOISE,
            "label_thresholds": [-0.25, 0.25],
            "scored_share": NLP_SCORED_SHARE,
        },
    }


def _model(blk: Block, name: str, version: str) -> tuple[str, int]:
    m = blk.world.models.filter(
        (pl.col("model_name") == name) & (pl.col("model_version") == version)
    )
    return str(m["model_id"][0]), int(m["deployed_us"][0])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def customers(blk: Block) -> np.ndarray:
    """Local persons with a shop account, the population the platform scores."""
    return np.flatnonzero(blk.state["primary_cust"] >= 0)


def emit(blk: Block) -> None:
    experiments(blk)
    predictions(blk)
    features(blk)
    recommendations(blk)
    personalization(blk)
    next_best_actions(blk)
    nlp_sentiment(blk)


# ----------------------------------------------------------------------------- experiments


def experiments(blk: Block) -> None:
    ctx, rng = blk.ctx, blk.rng("mlops.experiments")
    now = ctx.now_us
    exps, variants = blk.world.experiments, blk.world.variants
    people = customers(blk)
    a_exp, a_person, a_var, a_us = [], [], [], []
    for i in range(len(exps)):  # ten experiments
        start_day = int(exps["start_day"][i])
        end_day = exps["end_day"][i]
        lo = start_day * US_PER_DAY
        hi = min(now, (int(end_day) + 1) * US_PER_DAY if end_day is not None else now)
        if lo >= hi or len(people) == 0:
            continue
        first = blk.col("first_purchase_day")[people] * US_PER_DAY
        elig = people[(first < hi) & (blk.state["active_until"][people] + 60 * US_PER_DAY > lo)]
        k = int(rng.binomial(len(elig), float(exps["coverage"][i])))
        chosen = rng.choice(elig, k, replace=False) if k else np.zeros(0, np.int64)
        chosen = np.sort(chosen)
        v = variants.filter(pl.col("experiment_id") == exps["experiment_id"][i])
        share = v["actual_share"].to_numpy()
        var = choose_weighted(rng, list(share), k)
        us = np.maximum(lo, first[np.searchsorted(people, chosen)]) if k else np.zeros(0, np.int64)
        us = us + (rng.random(k) * np.maximum(hi - us, 1)).astype(np.int64)
        a_exp.append(np.full(k, i))
        a_person.append(chosen)
        a_var.append(var)
        a_us.append(np.minimum(us, now - 1))
    if not a_exp:
        return
    e, p, v, us = (np.concatenate(x) for x in (a_exp, a_person, a_var, a_us))
    srt = np.lexsort((us, e))
    e, p, v, us = e[srt], p[srt], v[srt], us[srt]
    n = len(e)
    var_tab = variants.with_columns(exp_idx=pl.col("experiment_id").str.slice(3).cast(pl.Int64) - 1)
    key = var_tab["exp_idx"].to_numpy() * 10 + var_tab["variant_idx"].to_numpy()
    order = np.argsort(key)
    row = order[np.searchsorted(key[order], e * 10 + v)]
    conv_rate = var_tab["true_conversion_rate"].to_numpy()[row]
    click_rate = var_tab["true_click_rate"].to_numpy()[row]
    variant_id = var_tab["variant_id"].to_arrow().take(row)
    exp_ids = exps["experiment_id"].to_arrow()
    cust = blk.state["primary_cust"][p]
    blk.add(
        "mlops.experiment_assignments",
        {
            "assignment_id": make_ids("assignment", ctx.take("assignment", n)),
            "experiment_id": exp_ids.take(e),
            "customer_ref": make_ids("customer", cust),
            "variant_id": variant_id,
            "assigned_at": us,
        },
    )
    end_us = np.asarray(
        [(int(d) + 1) * US_PER_DAY if d is not None else now for d in exps["end_day"].to_list()]
    )[e]
    end_us = np.minimum(end_us, now)
    clicked = rng.random(n) < click_rate
    converted = rng.random(n) < conv_rate
    types = allowed(ctx, "mlops.experiment_events", "event_type")
    expo_us = us + rng.integers(SECOND, 30 * SECOND, n)
    click_us = expo_us + rng.integers(5 * SECOND, 10 * MINUTE, n)
    conv_us = expo_us + (rng.random(n) * np.maximum(end_us - expo_us, 1) * 0.5).astype(np.int64)
    ev_a = np.r_[np.arange(n), np.flatnonzero(clicked), np.flatnonzero(converted)]
    ev_t = np.r_[
        np.full(n, types.index("exposure")),
        np.full(int(clicked.sum()), types.index("click")),
        np.full(int(converted.sum()), types.index("conversion")),
    ]
    ev_us = np.r_[expo_us, click_us[clicked], conv_us[converted]]
    revenue = np.r_[
        np.full(n + int(clicked.sum()), np.nan),
        np.round(rng.gamma(4.0, 95.0 / 4.0, int(converted.sum())), 2),
    ]
    keep = ev_us < now - 1
    srt = np.flatnonzero(keep)[np.lexsort((ev_t[keep], ev_us[keep]))]
    ev_a, ev_t, ev_us, revenue = ev_a[srt], ev_t[srt], ev_us[srt], revenue[srt]
    m = len(ev_a)
    blk.add(
        "mlops.experiment_events",
        {
            "experiment_event_id": make_ids("experiment_event", ctx.take("experiment_event", m)),
            "experiment_id": exp_ids.take(e[ev_a]),
            "customer_ref": make_ids("customer", cust[ev_a]),
            "event_type": choice(types, ev_t),
            "revenue": revenue,
            "event_ts": ev_us,
        },
    )


# ----------------------------------------------------------------------------- predictions


def predictions(blk: Block) -> None:
    ctx, rng = blk.ctx, blk.rng("mlops.predictions")
    now = ctx.now_us
    people = customers(blk)
    alive = blk.col("alive")
    first = blk.col("first_purchase_day") * US_PER_DAY
    ptypes = allowed(ctx, "mlops.model_predictions", "prediction_type")
    parts = []
    evals = blk.state.setdefault("model_eval", [])

    def run(
        name: str,
        version: str,
        ptype: str,
        run_us: int,
        who: np.ndarray,
        value: np.ndarray,
        label: np.ndarray | None,
        truth: np.ndarray | None,
        truth_kind: str,
    ) -> None:
        model_id, _ = _model(blk, name, version)
        k = len(who)
        us = run_us + rng.integers(0, 4 * HOUR, k)
        conf = np.clip(
            np.abs(value - 0.5) * 2 if label is not None else rng.uniform(0.4, 0.9, k), 0, 1
        )
        parts.append(
            (
                np.full(k, model_id, dtype=object),
                who,
                np.full(k, ptypes.index(ptype)),
                value,
                label if label is not None else np.full(k, -1),
                conf,
                us,
            )
        )
        if truth is not None:
            evals.append(
                {
                    "model_id": model_id,
                    "prediction_type": ptype,
                    "truth_kind": truth_kind,
                    "value": value,
                    "truth": truth,
                }
            )

    # churn: the deprecated v1 a year ago and the current v2 last month (v2 separates better)
    t_old = now - 450 * US_PER_DAY
    old = people[first[people] < t_old]
    dead_old = ~alive[old]
    s_old = 0.8 * dead_old + rng.normal(0, 1, len(old))
    run(
        "churn-xgb",
        "1.0",
        "churn",
        t_old,
        old,
        np.round(_sigmoid(1.5 * (s_old - 0.4)), 4),
        _sigmoid(1.5 * (s_old - 0.4)) > 0.5,
        None,
        "",
    )
    t_new = now - 20 * US_PER_DAY
    cur = people[first[people] < t_new]
    dead = ~alive[cur]
    s = 1.35 * dead + rng.normal(0, 1, len(cur))
    p_churn = np.round(_sigmoid(1.6 * (s - 0.65)), 4)
    run(
        "churn-xgb",
        "2.0",
        "churn",
        t_new,
        cur,
        p_churn,
        p_churn > 0.5,
        dead.astype(float),
        "not alive at the as-of date",
    )
    # CLV: predicted 12-month value around the true expected value
    t_clv = now - 10 * US_PER_DAY
    cv = people[first[people] < t_clv]
    true_clv = blk.col("true_clv_12mo")[cv]
    pred = np.round(true_clv * rng.lognormal(0, 0.35, len(cv)) + rng.exponential(5, len(cv)), 2)
    run("clv-bgnbd", "1.1", "clv", t_clv, cv, pred, None, true_clv, "true expected 12-month value")
    # cross-sell, affinity, next-best-action scores (no truth kept)
    cs = people[first[people] < t_clv]
    v = np.round(rng.beta(2, 5, len(cs)), 4)
    run("cross-sell-mf", "1.0", "cross_sell", now - 15 * US_PER_DAY, cs, v, v > 0.5, None, "")
    af = cs[rng.random(len(cs)) < 0.5]
    v = np.round(rng.beta(2, 3, len(af)), 4)
    run("affinity-rf", "1.0", "product_affinity", now - 12 * US_PER_DAY, af, v, v > 0.5, None, "")
    nb = cs[rng.random(len(cs)) < 0.5]
    v = np.round(rng.beta(3, 3, len(nb)), 4)
    run("nba-xgb", "2.0", "next_best_action", now - 8 * US_PER_DAY, nb, v, v > 0.5, None, "")
    model = np.concatenate([x[0] for x in parts])
    who = np.concatenate([x[1] for x in parts])
    pt = np.concatenate([x[2] for x in parts])
    val = np.concatenate([x[3] for x in parts]).astype(np.float64)
    lab = np.concatenate([np.asarray(x[4], dtype=np.int64) for x in parts])
    conf = np.concatenate([x[5] for x in parts])
    us = np.concatenate([x[6] for x in parts])
    us = np.minimum(us, now - 1)
    n = len(who)
    blk.add(
        "mlops.model_predictions",
        {
            "prediction_id": make_ids("prediction", ctx.take("prediction", n)),
            "model_id": model,
            "customer_ref": make_ids("customer", blk.state["primary_cust"][who]),
            "prediction_type": choice(ptypes, pt),
            "predicted_value": val,
            "predicted_label": masked(lab == 1, lab >= 0),
            "confidence": np.round(conf, 4),
            "latency_ms": np.minimum(rng.lognormal(np.log(35), 0.6, n).astype(np.int64), 60_000),
            "predicted_at": us,
        },
    )


# ----------------------------------------------------------------------------- features


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
    return months.astype("datetime64[D]").astype(np.int64) * US_PER_DAY + 2 * HOUR


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


# ----------------------------------------------------------------------------- recommendations


def recommendations(blk: Block) -> None:
    ctx, rng = blk.ctx, blk.rng("mlops.recommendations")
    now = ctx.now_us
    fqn = "mlops.recommendations_served"
    se = blk.state["sessions"]
    pc = blk.state["primary_cust"]
    known = se["person"] >= 0
    known &= pc[np.maximum(se["person"], 0)] >= 0
    sess = np.flatnonzero(known & (rng.random(len(known)) < 0.25))
    o = blk.state["orders"]
    store_o = np.flatnonzero(o["is_store"] & (rng.random(len(o["num"])) < 0.1))
    sd = blk.state.get("sends")
    em = (
        np.flatnonzero(sd["opened"] & (rng.random(len(sd["opened"])) < 0.05))
        if sd is not None
        else np.zeros(0, np.int64)
    )
    contexts = allowed(ctx, fqn, "context")
    src_person = np.r_[
        se["person"][sess],
        o["person"][store_o],
        sd["person"][em] if sd is not None else np.zeros(0, np.int64),
    ]
    src_us = np.r_[
        se["start"][sess] + rng.integers(SECOND, 2 * MINUTE, len(sess)),
        o["us"][store_o] - 5 * MINUTE,
        (sd["us"][em] if sd is not None else np.zeros(0, np.int64)),
    ]
    web_ctx = choose_weighted(rng, [0.45, 0.35, 0.2], len(sess))
    ctx_idx = np.r_[
        np.asarray([contexts.index(c) for c in ("Homepage", "Product Page", "Cart")])[web_ctx],
        np.full(len(store_o), contexts.index("Store Kiosk")),
        np.full(len(em), contexts.index("Email")),
    ]
    sess_ref = np.r_[sess, np.full(len(store_o) + len(em), -1)]
    has_account = blk.state["primary_cust"][src_person] >= 0  # e-mail readers may not be customers
    src_person, src_us, ctx_idx, sess_ref = (
        x[has_account] for x in (src_person, src_us, ctx_idx, sess_ref)
    )
    slots = np.where(ctx_idx == contexts.index("Homepage"), 6, 4)
    owner, rank = expand(slots)
    m = len(owner)
    person = src_person[owner]
    algos, alg = enum_draw(
        rng,
        ctx,
        fqn,
        "algorithm",
        {
            "collaborative_filtering": 0.3,
            "content_based": 0.2,
            "hybrid": 0.25,
            "popularity": 0.15,
            "fitmap_size_match": 0.1,
        },
        len(src_person),
    )
    fm = blk.col("fitmap_user")[src_person]
    alg = np.where((alg == algos.index("fitmap_size_match")) & ~fm, algos.index("hybrid"), alg)
    alg = alg[owner]
    prod = blk.world.products
    n_prod = len(prod)
    popular = np.minimum(rng.zipf(1.6, m) - 1, n_prod - 1)
    apparel = np.flatnonzero(prod["apparel"].to_numpy())
    product = np.where(
        alg == algos.index("popularity"),
        popular,
        np.where(
            alg == algos.index("fitmap_size_match"),
            apparel[rng.integers(0, len(apparel), m)],
            rng.integers(0, n_prod, m),
        ),
    )
    score = np.round(np.clip(rng.uniform(0.5, 0.99, m) - 0.05 * rank, 0.01, 1), 4)
    served = np.minimum(src_us[owner] + rank * 10**5, now - 1)
    keep = served >= ctx.cal.start_us
    owner, rank, person, alg, product, score, served = (
        x[keep] for x in (owner, rank, person, alg, product, score, served)
    )
    m = len(owner)
    # feedback (decided before the products are written: a purchase names what was bought)
    rates = np.asarray([ALGORITHM_RATES[a] for a in algos])
    p_click = rates[alg, 0] / (1 + 0.15 * rank)
    click = rng.random(m) < p_click
    dismiss = ~click & (rng.random(m) < 0.02)
    cart = click & (rng.random(m) < rates[alg, 1])
    click_us = served + rng.integers(2 * SECOND, 5 * MINUTE, m)
    nxt = next_event(o["person"], o["us"], person, click_us, 3 * US_PER_DAY)
    buy = cart & (nxt >= 0) & (rng.random(m) < rates[alg, 2])
    line = _bought_line(blk, rng, nxt, buy)
    buy &= line >= 0
    it = blk.state["items"]
    bl = line[buy]
    product[buy] = it["product"][bl]
    it["recommended"][bl] = True
    unit = np.full(m, np.nan)
    unit[buy] = it["unit"][bl]
    rec_ids = make_ids("recommendation", ctx.take("recommendation", m))
    sref = sess_ref[owner]
    blk.add(
        fqn,
        {
            "recommendation_id": rec_ids,
            "customer_ref": make_ids("customer", blk.state["primary_cust"][person]),
            "session_id": _take_masked(blk.state["session_ids"], sref),
            "product_id": prod["product_id"].to_arrow().take(product),
            "algorithm": choice(algos, alg),
            "context": choice(contexts, ctx_idx[owner]),
            "slot_rank": rank + 1,
            "score": score,
            "served_at": served,
        },
    )
    types = allowed(ctx, "mlops.recommendation_feedback", "feedback_type")
    fb_rec = np.r_[
        np.flatnonzero(click), np.flatnonzero(dismiss), np.flatnonzero(cart), np.flatnonzero(buy)
    ]
    fb_t = np.r_[
        np.full(int(click.sum()), types.index("click")),
        np.full(int(dismiss.sum()), types.index("dismiss")),
        np.full(int(cart.sum()), types.index("add_to_cart")),
        np.full(int(buy.sum()), types.index("purchase")),
    ]
    fb_us = np.r_[
        click_us[click],
        served[dismiss] + rng.integers(SECOND, 20 * SECOND, int(dismiss.sum())),
        click_us[cart] + rng.integers(10 * SECOND, 3 * MINUTE, int(cart.sum())),
        np.maximum(
            o["us"][np.maximum(nxt[buy], 0)] if len(o["us"]) else served[buy],
            click_us[buy] + MINUTE,
        ),
    ]
    keep = fb_us < now - 1
    srt = np.flatnonzero(keep)[np.argsort(fb_us[keep], kind="stable")]
    fb_rec, fb_t, fb_us = fb_rec[srt], fb_t[srt], fb_us[srt]
    k = len(fb_rec)
    is_buy = fb_t == types.index("purchase")
    is_click = fb_t == types.index("click")
    order_ref = np.where(is_buy, nxt[fb_rec], -1)
    blk.add(
        "mlops.recommendation_feedback",
        {
            "feedback_id": make_ids("feedback", ctx.take("feedback", k)),
            "recommendation_id": rec_ids.take(fb_rec),
            "feedback_type": choice(types, fb_t),
            "dwell_seconds": masked(
                np.minimum(rng.lognormal(np.log(25), 0.9, k).astype(np.int64), 3600), is_click
            ),
            "order_id": make_ids(
                "order",
                o["num"][np.maximum(order_ref, 0)] if len(o["num"]) else np.zeros(k, np.int64),
                order_ref >= 0,
            ),
            "conversion_amount": np.where(is_buy, unit[fb_rec], np.nan),
            "feedback_at": fb_us,
        },
    )


def _bought_line(
    blk: Block, rng: np.random.Generator, order: np.ndarray, buy: np.ndarray
) -> np.ndarray:
    """For each purchase feedback, one line of the follow-up order (-1 elsewhere).

    The recommended product becomes that line's product and the line is flagged
    ``is_recommended``: a purchase attributed to a recommendation names an order that really
    contains the recommended product (the order lines are written after all emitters ran, so
    flagging the shared array here reaches the bronze table)."""
    it = blk.state["items"]
    out = np.full(len(order), -1, dtype=np.int64)
    if not buy.any() or len(it["order"]) == 0:
        return out
    o = order[buy]
    start = np.searchsorted(it["order"], o, side="left")
    count = np.searchsorted(it["order"], o, side="right") - start
    out[buy] = start + (rng.random(len(o)) * count).astype(np.int64)
    return out


def _take_masked(arr: object, idx: np.ndarray) -> object:
    import pyarrow as pa

    assert isinstance(arr, pa.Array)
    if len(arr) == 0:
        return pa.nulls(len(idx), type=arr.type)
    return arr.take(pa.array(np.maximum(idx, 0), mask=idx < 0))


def personalization(blk: Block) -> None:
    ctx, rng = blk.ctx, blk.rng("mlops.personalization")
    now = ctx.now_us
    fqn = "mlops.personalization_events"
    se = blk.state["sessions"]
    pc = blk.state["primary_cust"]
    known = se["person"] >= 0
    known &= pc[np.maximum(se["person"], 0)] >= 0
    sess = np.flatnonzero(known & (rng.random(len(known)) < 0.4))
    n = len(sess)
    strategies, st = enum_draw(
        rng,
        ctx,
        fqn,
        "strategy",
        {
            "hero_banner": 0.3,
            "size_filter": 0.2,
            "offer": 0.2,
            "content_block": 0.15,
            "search_rerank": 0.15,
        },
        n,
    )
    rate = np.asarray([STRATEGY_CLICK.get(s, 0.05) for s in strategies])[st]
    displayed = rng.random(n) < 0.95
    clicked = displayed & (rng.random(n) < rate * 2)
    conv = se["converted"][sess] & (rng.random(n) < np.where(clicked, 0.6, 0.15))
    o = blk.state["orders"]
    order = se["order"][sess]
    amount = np.where(
        conv & (order >= 0),
        o["total_c"][np.maximum(order, 0)] / 100.0 if len(o["num"]) else 0.0,
        np.nan,
    )
    offers = ("OFF-SAVE10", "OFF-BIGTALL20", "OFF-FREESHIP", "OFF-FITMAP15")
    served = np.minimum(se["start"][sess] + rng.integers(SECOND, MINUTE, n), now - 1)
    blk.add(
        fqn,
        {
            "personalization_event_id": make_ids("personalization", ctx.take("personalization", n)),
            "customer_ref": make_ids("customer", pc[se["person"][sess]]),
            "session_id": blk.state["session_ids"].take(sess),
            "strategy": choice(strategies, st),
            "offer_id": choice(
                offers, rng.integers(0, len(offers), n), st == strategies.index("offer")
            ),
            "was_displayed": displayed,
            "was_clicked": clicked,
            "was_converted": conv,
            "conversion_amount": amount,
            "served_at": served,
        },
    )


def next_best_actions(blk: Block) -> None:
    ctx, rng = blk.ctx, blk.rng("mlops.nba")
    now = ctx.now_us
    fqn = "mlops.next_best_actions"
    people = customers(blk)
    alive = blk.col("alive")
    r = blk.state["returns"]
    fit_ret = np.zeros(blk.n)
    np.add.at(fit_ret, blk.state["orders"]["person"][r["order"]], (r["fit"] != 0).astype(float))
    actions = allowed(ctx, fqn, "action_type")
    triggers = allowed(ctx, fqn, "trigger")
    chans = allowed(ctx, fqn, "channel")
    A = {a: actions.index(a) for a in actions}
    TR = {t: triggers.index(t) for t in triggers}
    C = {c: chans.index(c) for c in chans}
    u = rng.random((6, len(people)))
    rules = [
        (
            ~alive[people] & (u[0] < 0.7) | alive[people] & (u[0] < 0.1),
            A["win_back_discount"],
            TR["churn_risk"],
            C["email"],
            0.12,
        ),
        (
            (fit_ret[people] > 0) & (u[1] < 0.8),
            A["offer_fitmap_scan"],
            TR["sizing_issue"],
            C["app"],
            0.25,
        ),
        (
            (blk.state["person_tier"][people] >= 1) & (u[2] < 0.5),
            A["loyalty_reward"],
            TR["threshold"],
            C["app"],
            0.35,
        ),
        (
            (blk.col("first_purchase_day")[people] * US_PER_DAY > now - 120 * US_PER_DAY)
            & (u[3] < 0.8),
            A["collection_email"],
            TR["lifecycle_event"],
            C["email"],
            0.1,
        ),
        (
            (blk.state.get("primary_contact", np.full(blk.n, -1))[people] >= 0) & (u[4] < 0.6),
            A["sales_follow_up"],
            TR["schedule"],
            C["store_associate"],
            0.2,
        ),
        (
            (fit_ret[people] > 1) & (u[5] < 0.5),
            A["service_recovery"],
            TR["threshold"],
            C["call_center"],
            0.4,
        ),
    ]
    who, act, trig, chan, acc = [], [], [], [], []
    for mask, a, t, c, p in rules:  # six business rules
        idx = people[mask]
        who.append(idx)
        act.append(np.full(len(idx), a))
        trig.append(np.full(len(idx), t))
        chan.append(np.full(len(idx), c))
        acc.append(np.full(len(idx), p))
    who, act, trig, chan, acc = (np.concatenate(x) for x in (who, act, trig, chan, acc))
    n = len(who)
    first = blk.col("first_purchase_day")[who] * US_PER_DAY
    lo = np.maximum(first, now - 180 * US_PER_DAY)
    offered = ctx.cal.sample(rng, lo, np.full(n, now - HOUR))
    expires = offered + 14 * US_PER_DAY
    acc = np.where((act == A["win_back_discount"]) & alive[who], 0.3, acc)
    uu = rng.random(n)
    outcomes = allowed(ctx, fqn, "outcome")
    responded = uu < acc + 0.15
    res_us = offered + (rng.random(n) * 10 * US_PER_DAY).astype(np.int64)
    done = responded & (res_us < now)
    out = np.where(
        done,
        np.where(uu < acc, outcomes.index("accepted"), outcomes.index("declined")),
        np.where(
            expires < now,
            np.where(rng.random(n) < 0.5, outcomes.index("expired"), outcomes.index("ignored")),
            -1,
        ),
    )
    out_us = np.where(done, res_us, expires)
    srt = np.argsort(offered, kind="stable")
    who, act, trig, chan, offered, expires, out, out_us = (
        x[srt] for x in (who, act, trig, chan, offered, expires, out, out_us)
    )
    old_id, _ = _model(blk, "nba-logreg", "1.0")
    new_id, new_dep = _model(blk, "nba-xgb", "2.0")
    model = np.where(offered >= new_dep, new_id, old_id).astype(object)
    blk.add(
        fqn,
        {
            "action_id": make_ids("next_best_action", ctx.take("next_best_action", n)),
            "customer_ref": make_ids("customer", blk.state["primary_cust"][who]),
            "model_id": model,
            "action_type": choice(actions, act),
            "channel": choice(chans, chan),
            "priority": rng.integers(1, 6, n),
            "trigger": choice(triggers, trig),
            "offered_at": offered,
            "expires_at": expires,
            "outcome": choice(outcomes, np.maximum(out, 0), out >= 0),
            "outcome_at": masked(np.minimum(out_us, now - 1), (out >= 0) & (out_us < now)),
        },
    )


# ----------------------------------------------------------------------------- vendor NLP


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
