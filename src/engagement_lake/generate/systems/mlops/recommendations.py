"""Recommendations and their feedback, and personalised impressions, in customers' sessions.

Click, add-to-cart and purchase rates depend on the algorithm (``ALGORITHM_RATES``, written to
``_truth/behaviour_params.json``); a purchase is only recorded with a real follow-up order, whose
line then names the recommended product. A daily load serves today's sessions and store orders
with the same shares, contexts, slots and algorithm mix as the backfill.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from engagement_lake.generate.block import (
    Block,
    allowed,
    choose_weighted,
    enum_draw,
    expand,
    make_ids,
    next_event,
)
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.daily import Day
from engagement_lake.generate.systems.mlops.params import (
    ALGORITHM_MIX,
    ALGORITHM_RATES,
    BUY_WINDOW_DAYS,
    DEFAULT_SLOTS,
    DISMISS_RATE,
    DISPLAY_RATE,
    EMAIL_REC_SHARE,
    MINUTE,
    OFFERS,
    PERSONALISED_CONVERSION,
    PERSONALISED_SESSION_SHARE,
    RANK_DECAY,
    SECOND,
    SESSION_REC_SHARE,
    SLOTS,
    STORE_KIOSK_SHARE,
    STRATEGY_CLICK,
    STRATEGY_MIX,
    WEB_CONTEXTS,
)


def _slots(contexts: tuple[Any, ...], ctx_idx: np.ndarray) -> np.ndarray:
    per = np.asarray([SLOTS.get(c, DEFAULT_SLOTS) for c in contexts])
    return per[ctx_idx]


def recommendations(blk: Block) -> None:
    ctx, rng = blk.ctx, blk.rng("mlops.recommendations")
    now = ctx.now_us
    fqn = "mlops.recommendations_served"
    se = blk.state["sessions"]
    pc = blk.state["primary_cust"]
    known = se["person"] >= 0
    known &= pc[np.maximum(se["person"], 0)] >= 0
    sess = np.flatnonzero(known & (rng.random(len(known)) < SESSION_REC_SHARE))
    o = blk.state["orders"]
    store_o = np.flatnonzero(o["is_store"] & (rng.random(len(o["num"])) < STORE_KIOSK_SHARE))
    sd = blk.state.get("sends")
    em = (
        np.flatnonzero(sd["opened"] & (rng.random(len(sd["opened"])) < EMAIL_REC_SHARE))
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
    web_ctx = choose_weighted(rng, list(WEB_CONTEXTS.values()), len(sess))
    ctx_idx = np.r_[
        np.asarray([contexts.index(c) for c in WEB_CONTEXTS])[web_ctx],
        np.full(len(store_o), contexts.index("Store Kiosk")),
        np.full(len(em), contexts.index("Email")),
    ]
    sess_ref = np.r_[sess, np.full(len(store_o) + len(em), -1)]
    has_account = blk.state["primary_cust"][src_person] >= 0  # e-mail readers may not be customers
    src_person, src_us, ctx_idx, sess_ref = (
        x[has_account] for x in (src_person, src_us, ctx_idx, sess_ref)
    )
    slots = _slots(contexts, ctx_idx)
    owner, rank = expand(slots)
    m = len(owner)
    person = src_person[owner]
    algos, alg = enum_draw(
        rng,
        ctx,
        fqn,
        "algorithm",
        ALGORITHM_MIX,
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
    p_click = rates[alg, 0] / (1 + RANK_DECAY * rank)
    click = rng.random(m) < p_click
    dismiss = ~click & (rng.random(m) < DISMISS_RATE)
    cart = click & (rng.random(m) < rates[alg, 1])
    click_us = served + rng.integers(2 * SECOND, 5 * MINUTE, m)
    nxt = next_event(o["person"], o["us"], person, click_us, BUY_WINDOW_DAYS * US_PER_DAY)
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
    sess = np.flatnonzero(known & (rng.random(len(known)) < PERSONALISED_SESSION_SHARE))
    n = len(sess)
    strategies, st = enum_draw(
        rng,
        ctx,
        fqn,
        "strategy",
        STRATEGY_MIX,
        n,
    )
    rate = np.asarray([STRATEGY_CLICK.get(s, 0.05) for s in strategies])[st]
    displayed = rng.random(n) < DISPLAY_RATE
    clicked = displayed & (rng.random(n) < rate * 2)
    conv = se["converted"][sess] & (rng.random(n) < np.where(clicked, *PERSONALISED_CONVERSION))
    o = blk.state["orders"]
    order = se["order"][sess]
    amount = np.where(
        conv & (order >= 0),
        o["total_c"][np.maximum(order, 0)] / 100.0 if len(o["num"]) else 0.0,
        np.nan,
    )
    served = np.minimum(se["start"][sess] + rng.integers(SECOND, MINUTE, n), now - 1)
    blk.add(
        fqn,
        {
            "personalization_event_id": make_ids("personalization", ctx.take("personalization", n)),
            "customer_ref": make_ids("customer", pc[se["person"][sess]]),
            "session_id": blk.state["session_ids"].take(sess),
            "strategy": choice(strategies, st),
            "offer_id": choice(
                OFFERS, rng.integers(0, len(OFFERS), n), st == strategies.index("offer")
            ),
            "was_displayed": displayed,
            "was_clicked": clicked,
            "was_converted": conv,
            "conversion_amount": amount,
            "served_at": served,
        },
    )


def daily(d: Day) -> None:
    """Recommendations for a share of today's known sessions and the kiosk before some of today's
    store orders (same contexts, slots and algorithm mix as the backfill), clicks on them, and
    personalised impressions in today's sessions."""
    ctx = d.ctx
    rng = d.rng("mlops.recommendations")
    fqn = "mlops.recommendations_served"
    ts, to = d.today_sessions, d.today_orders
    contexts = allowed(ctx, fqn, "context")
    src_ref, src_sess, src_us, ctx_idx, src_pid = [], [], [], [], []
    if ts is not None:
        known = ts["customer_id"].is_not_null().to_numpy()
        sess = np.flatnonzero(known & (rng.random(len(known)) < SESSION_REC_SHARE))
        web = choose_weighted(rng, list(WEB_CONTEXTS.values()), len(sess))
        src_ref.append(ts["customer_id"].gather(sess))
        src_sess.append(sess)
        src_pid.append(np.asarray(ts["person_id"])[sess])
        src_us.append(ts["start"][sess] + rng.integers(SECOND, 2 * MINUTE, len(sess)))
        ctx_idx.append(np.asarray([contexts.index(c) for c in WEB_CONTEXTS])[web])
    if to is not None:
        store = np.flatnonzero(to["is_store"] & (rng.random(len(to["us"])) < STORE_KIOSK_SHARE))
        ref = pl.Series(to["customer_id"]).gather(store)
        src_ref.append(ref)
        src_sess.append(np.full(len(store), -1))
        src_pid.append(np.asarray(to["person_id"])[store])
        src_us.append(to["us"][store] - 5 * MINUTE)
        ctx_idx.append(np.full(len(store), contexts.index("Store Kiosk")))
    if src_ref:
        refs = pl.concat([r.cast(pl.String) for r in src_ref])
        sess_ref = np.concatenate(src_sess)
        us0 = np.concatenate(src_us)
        cidx = np.concatenate(ctx_idx)
        pid = np.concatenate(src_pid)
        ok = refs.is_not_null().to_numpy()
        refs, sess_ref, us0, cidx = refs.filter(pl.Series(ok)), sess_ref[ok], us0[ok], cidx[ok]
        fitmap = (
            pl.DataFrame({"person_id": pid[ok]})
            .join(
                d.people.select("person_id", "fitmap_user"),
                on="person_id",
                how="left",
                maintain_order="left",
            )["fitmap_user"]
            .fill_null(False)
            .to_numpy()
        )
        owner, rank = expand(_slots(contexts, cidx))
        n = len(owner)
        if n:
            algos, alg = enum_draw(rng, ctx, fqn, "algorithm", ALGORITHM_MIX, len(refs))
            fm = algos.index("fitmap_size_match")
            alg = np.where((alg == fm) & ~fitmap, algos.index("hybrid"), alg)[owner]
            prod = d.w.products
            rec_ids = make_ids("recommendation", ctx.take("recommendation", n))
            served = us0[owner] + rank * 10**5
            sref = sess_ref[owner]
            d.add(
                fqn,
                {
                    "recommendation_id": rec_ids,
                    "customer_ref": refs.gather(owner),
                    "session_id": _take_masked(ts["ids"], sref) if ts is not None else None,
                    "product_id": prod["product_id"].to_arrow().take(rng.integers(0, len(prod), n)),
                    "algorithm": choice(algos, alg),
                    "context": choice(contexts, cidx[owner]),
                    "slot_rank": rank + 1,
                    "score": np.round(np.clip(rng.uniform(0.5, 0.99, n) - 0.05 * rank, 0.01, 1), 4),
                    "served_at": served,
                },
            )
            rates = np.asarray([ALGORITHM_RATES[a] for a in algos])
            click = rng.random(n) < rates[alg, 0] / (1 + RANK_DECAY * rank)
            dismiss = ~click & (rng.random(n) < DISMISS_RATE)
            cart = click & (rng.random(n) < rates[alg, 1])
            click_us = served + rng.integers(2 * SECOND, 5 * MINUTE, n)
            fb = allowed(ctx, "mlops.recommendation_feedback", "feedback_type")
            rec = np.r_[np.flatnonzero(click), np.flatnonzero(dismiss), np.flatnonzero(cart)]
            t = np.r_[
                np.full(int(click.sum()), fb.index("click")),
                np.full(int(dismiss.sum()), fb.index("dismiss")),
                np.full(int(cart.sum()), fb.index("add_to_cart")),
            ]
            fus = np.r_[
                click_us[click],
                served[dismiss] + rng.integers(SECOND, 20 * SECOND, int(dismiss.sum())),
                click_us[cart] + rng.integers(10 * SECOND, 3 * MINUTE, int(cart.sum())),
            ]
            c = len(rec)
            if c:
                is_click = t == fb.index("click")
                d.add(
                    "mlops.recommendation_feedback",
                    {
                        "feedback_id": make_ids("feedback", ctx.take("feedback", c)),
                        "recommendation_id": rec_ids.take(rec),
                        "feedback_type": choice(fb, t),
                        "dwell_seconds": masked(
                            np.minimum(rng.lognormal(np.log(25), 0.9, c).astype(np.int64), 3600),
                            is_click,
                        ),
                        "order_id": None,
                        "conversion_amount": None,
                        "feedback_at": fus,
                    },
                )
    if ts is None:
        return
    known = ts["customer_id"].is_not_null().to_numpy()
    sess = np.flatnonzero(known & (rng.random(len(known)) < PERSONALISED_SESSION_SHARE))
    k = len(sess)
    if k == 0:
        return
    fqn = "mlops.personalization_events"
    strategies, st = enum_draw(rng, ctx, fqn, "strategy", STRATEGY_MIX, k)
    rate = np.asarray([STRATEGY_CLICK.get(s, 0.05) for s in strategies])[st]
    displayed = rng.random(k) < DISPLAY_RATE
    clicked = displayed & (rng.random(k) < rate * 2)
    conv = ts["converted"][sess] & (rng.random(k) < np.where(clicked, *PERSONALISED_CONVERSION))
    d.add(
        fqn,
        {
            "personalization_event_id": make_ids("personalization", ctx.take("personalization", k)),
            "customer_ref": ts["customer_id"].gather(sess),
            "session_id": ts["ids"].take(sess),
            "strategy": choice(strategies, st),
            "offer_id": choice(
                OFFERS, rng.integers(0, len(OFFERS), k), st == strategies.index("offer")
            ),
            "was_displayed": displayed,
            "was_clicked": clicked,
            "was_converted": conv,
            "conversion_amount": None,
            "served_at": ts["start"][sess] + rng.integers(SECOND, MINUTE, k),
        },
    )
