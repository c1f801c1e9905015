"""shop: store visits and web sessions (accounts, catalogue, orders and returns:
``generate/systems/shop``).
"""

from __future__ import annotations

import numpy as np

from engagement_lake.generate.block import Block, allowed, enum_draw, expand, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.daily import HOUR, MINUTE
from engagement_lake.generate.systems.shop.accounts import customer_ids

# ----------------------------------------------------------------------------- visits


def store_visits(blk: Block) -> None:
    """Store visits: purchases in store, FitMap scans in store, returns and browsing visits."""
    ctx, rng = blk.ctx, blk.rng("shop.store_visits")
    o, r = blk.state["orders"], blk.state["returns"]
    types = allowed(ctx, "shop.store_visits", "visit_type")
    n_stores = len(blk.world.stores)
    home = blk.col("home_store") % n_stores
    parts = []
    # purchases in store
    so = np.flatnonzero(o["is_store"])
    dur = rng.integers(10, 90, len(so))
    parts.append(
        (
            o["person"][so],
            o["store_idx"][so],
            o["us"][so] - dur * MINUTE,
            dur,
            np.where(
                rng.random(len(so)) < 0.85, types.index("walk_in"), types.index("appointment")
            ),
            np.ones(len(so), bool),
        )
    )
    # FitMap scans taken in a store
    sc = blk.state.get("store_scans")
    if sc is not None:
        d = rng.integers(10, 40, len(sc["person"]))
        parts.append(
            (
                sc["person"],
                sc["store_idx"],
                sc["us"] - 2 * MINUTE,
                d,
                np.full(len(d), types.index("fitmap_scan")),
                rng.random(len(d)) < 0.4,
            )
        )
    # returns brought back to a store
    rs = rng.random(len(r["num"])) < 0.35
    rp = o["person"][r["order"][rs]]
    d = rng.integers(5, 25, int(rs.sum()))
    parts.append(
        (
            rp,
            home[rp],
            r["us"][rs] - d * MINUTE,
            d,
            np.full(len(d), types.index("return")),
            np.zeros(len(d), bool),
        )
    )
    # click-and-collect pickups
    web = np.flatnonzero(~o["is_store"] & ~o["cancelled"] & (rng.random(len(o["num"])) < 0.08))
    pick_us = o["us"][web] + rng.integers(US_PER_DAY, 3 * US_PER_DAY, len(web))
    keep = pick_us < ctx.now_us
    web, pick_us = web[keep], pick_us[keep]
    d = rng.integers(3, 15, len(web))
    parts.append(
        (
            o["person"][web],
            home[o["person"][web]],
            pick_us,
            d,
            np.full(len(d), types.index("pickup")),
            np.zeros(len(d), bool),
        )
    )
    # browsing visits of customers who like the store
    shop_p = np.flatnonzero(blk.col("in_shop"))
    pref_store = blk.col("preferred_channel")[shop_p] == "store"
    cnt = rng.poisson(np.where(pref_store, 2.5, 0.3) * blk.col("engagement")[shop_p] * 2)
    owner, _ = expand(cnt)
    vp = shop_p[owner]
    lo, hi = _active_window(blk, vp)
    t = ctx.cal.sample(rng, lo, hi)
    d = rng.integers(5, 60, len(vp))
    parts.append(
        (vp, home[vp], t, d, np.full(len(vp), types.index("walk_in")), np.zeros(len(vp), bool))
    )
    person = np.concatenate([p[0] for p in parts])
    store = np.concatenate([p[1] for p in parts])
    ts = np.concatenate([p[2] for p in parts])
    dur = np.concatenate([p[3] for p in parts])
    vt = np.concatenate([p[4] for p in parts])
    bought = np.concatenate([p[5] for p in parts])
    keep = (ts >= ctx.cal.start_us) & (ts < ctx.now_us)
    person, store, ts, dur, vt, bought = (x[keep] for x in (person, store, ts, dur, vt, bought))
    srt = np.argsort(ts, kind="stable")
    person, store, ts, dur, vt, bought = (x[srt] for x in (person, store, ts, dur, vt, bought))
    has_cust = blk.state["primary_cust"][person] >= 0
    person, store, ts, dur, vt, bought = (x[has_cust] for x in (person, store, ts, dur, vt, bought))
    blk.add(
        "shop.store_visits",
        {
            "visit_id": make_ids("store_visit", ctx.take("store_visit", len(person))),
            "customer_id": customer_ids(blk, person),
            "store_id": choice(blk.world.stores["store_id"].to_list(), store),
            "visit_ts": ts,
            "duration_minutes": dur,
            "visit_type": choice(types, vt),
            "made_purchase": bought,
        },
    )


def _active_window(blk: Block, person: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per local person: from a month before the first purchase to a while after dropping out."""
    ctx = blk.ctx
    lo = np.maximum(
        blk.col("first_purchase_day")[person] * US_PER_DAY - 30 * US_PER_DAY, ctx.cal.start_us
    )
    until = blk.state["active_until"][person]
    hi = np.minimum(until + 90 * US_PER_DAY, ctx.now_us)
    hi = np.maximum(hi, lo + HOUR)
    return lo, hi


def web_sessions(blk: Block) -> None:
    """Sessions: one per web/app order (converted) plus browsing and anonymous sessions."""
    ctx, rng = blk.ctx, blk.rng("shop.web_sessions")
    fqn = "shop.web_sessions"
    o = blk.state["orders"]
    channels = allowed(ctx, "shop.orders", "channel")
    conv = np.flatnonzero(np.isin(o["channel"], [channels.index("web"), channels.index("app")]))
    shop_p = np.flatnonzero(blk.col("in_shop"))
    lam = blk.col("lambda_week")[shop_p]
    cnt = rng.poisson(1.0 + 9.0 * blk.col("engagement")[shop_p] + 40 * lam)
    owner, _ = expand(cnt)
    bp = shop_p[owner]
    lo, hi = _active_window(blk, bp)
    browse_us = ctx.cal.sample(rng, lo, hi)
    n_anon = int(0.12 * (len(conv) + len(bp)))
    anon_us = ctx.cal.sample(rng, np.full(n_anon, ctx.cal.start_us), np.full(n_anon, ctx.now_us))
    nc, nb = len(conv), len(bp)
    n = nc + nb + n_anon
    person = np.concatenate([o["person"][conv], bp, np.full(n_anon, -1)])
    dur_min = np.concatenate([rng.integers(4, 45, nc), rng.integers(1, 30, nb + n_anon)])
    start = np.concatenate([o["us"][conv] - dur_min[:nc] * MINUTE, browse_us, anon_us])
    end = start + dur_min * MINUTE + rng.integers(0, 5 * MINUTE, n)
    converted = np.zeros(n, bool)
    converted[:nc] = True
    order_ref = np.full(n, -1)
    order_ref[:nc] = conv
    srt = np.argsort(start, kind="stable")
    person, dur_min, start, end, converted, order_ref = (
        x[srt] for x in (person, dur_min, start, end, converted, order_ref)
    )
    devices, dev = enum_draw(
        rng,
        ctx,
        fqn,
        "device_type",
        {"desktop": 0.38, "mobile": 0.45, "tablet": 0.07, "app": 0.10},
        n,
    )
    is_app_order = converted & (o["channel"][np.maximum(order_ref, 0)] == channels.index("app"))
    web_order_on_app = converted & ~is_app_order & (dev == devices.index("app"))
    dev = np.where(
        is_app_order, devices.index("app"), np.where(web_order_on_app, devices.index("mobile"), dev)
    )
    sources, src = enum_draw(
        rng,
        ctx,
        fqn,
        "traffic_source",
        {
            "direct": 0.25,
            "organic_search": 0.27,
            "paid_search": 0.14,
            "email": 0.14,
            "social": 0.1,
            "referral": 0.05,
            "affiliate": 0.05,
        },
        n,
    )
    camp = blk.world.campaigns
    send = camp["send_day"].to_numpy() * US_PER_DAY
    ci = np.searchsorted(send, start, side="right") - 1
    has_utm = np.isin(src, [sources.index(s) for s in ("email", "paid_search", "social")]) & (
        ci >= 0
    )
    pv = np.clip(1 + rng.geometric(0.18, n) + converted * rng.integers(3, 12, n), 1, 500)
    viewed = np.minimum(rng.binomial(pv, 0.45), 500)
    cart = converted | (rng.random(n) < 0.17)
    known = person >= 0
    blk.state["sessions"] = {
        "person": person,
        "start": start,
        "converted": converted,
        "cart": cart,
        "order": order_ref,
    }
    ids = make_ids("session", ctx.take("session", n))
    blk.state["session_ids"] = ids
    valid_cust = known & (blk.state["primary_cust"][np.maximum(person, 0)] >= 0)
    blk.add(
        fqn,
        {
            "session_id": ids,
            "customer_id": _session_customers(blk, person, order_ref, valid_cust),
            "session_start": start,
            "session_end": masked(end, rng.random(n) > 0.04),
            "device_type": choice(devices, dev),
            "traffic_source": choice(sources, src),
            "utm_campaign": choice(camp["campaign_id"].to_list(), np.maximum(ci, 0), has_utm),
            "page_views": pv,
            "products_viewed": viewed,
            "added_to_cart": cart,
            "converted": converted,
            "order_id": _order_refs(blk, order_ref),
        },
    )


def _session_customers(
    blk: Block, person: np.ndarray, order_ref: np.ndarray, valid: np.ndarray
) -> object:
    o = blk.state["orders"]
    num = np.where(
        order_ref >= 0,
        o["cust"][np.maximum(order_ref, 0)],
        blk.state["primary_cust"][np.maximum(person, 0)],
    )
    return make_ids("customer", num, valid | (order_ref >= 0))


def _order_refs(blk: Block, order_ref: np.ndarray) -> object:
    o = blk.state["orders"]
    return make_ids("order", o["num"][np.maximum(order_ref, 0)], order_ref >= 0)
