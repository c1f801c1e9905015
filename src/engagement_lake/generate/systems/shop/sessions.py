"""shop web sessions and store visits, for the backfill and for a daily load.

A session either ends in an order (every web or app order has one), or is browsing; e-mail
sessions exist only because an e-mail was clicked (``marketing`` adds them, minutes after the
click, for the same person). Conversion is not a flat rate: the traffic source of an order's
session is drawn with weight ``share x lift`` while browsing draws with weight ``share``, so the
odds of converting are proportional to the source's lift (direct and paid search convert,
social mostly browses); loyalty members browse less for each order they place (higher tiers
convert better) and a lapsed customer still browses for a while without buying.

Both paths build their rows with the same functions and parameters: the backfill draws each
person's browsing over their active window from the per-day rates below, a daily load draws
one day of it. Sessions are built in two steps: ``Draft`` holds the order, browsing and
anonymous sessions, ``marketing`` turns some order sessions into e-mail sessions and adds the
sessions its clicks open, then the rows are written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from engagement_lake.generate.block import Block, allowed, choose_weighted, expand, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.daily import HOUR, MINUTE, Day

# ----------------------------------------------------------------------------- parameters

SOURCE_SHARE = {
    "direct": 0.28,
    "organic_search": 0.30,
    "paid_search": 0.16,
    "social": 0.12,
    "referral": 0.07,
    "affiliate": 0.07,
}
"""Traffic sources of sessions that no e-mail opened (e-mail sessions come from clicks)."""
CONVERSION_LIFT = {
    "direct": 1.5,
    "organic_search": 0.9,
    "paid_search": 1.2,
    "social": 0.35,
    "referral": 0.8,
    "affiliate": 1.1,
    "email": 1.3,
}
"""Relative odds of a session of each source ending in an order (and of filling a cart)."""
BROWSE_BASE_PER_DAY = 0.0035
BROWSE_PER_ENGAGEMENT = 0.026
BROWSE_PER_WEEKLY_ORDER = 0.13
"""Browsing sessions a day of an active customer: base + engagement x ... + purchase rate
(orders a week) x ...; scaled by the season's intensity of the day."""
BROWSE_TIER_FACTOR = (1.0, 0.85, 0.7, 0.55)
"""Browsing of loyalty members by tier (Bronze..Platinum): loyal members browse less per order."""
LAPSED_BROWSE_FACTOR = 0.5
LAPSED_BROWSE_DAYS = 90
"""After dropping out a customer keeps browsing (at half the rate) for three months, buying
nothing."""
PRE_PURCHASE_DAYS = 30
"""Browsing starts a month before the first purchase."""
ANONYMOUS_SHARE = 0.12
"""Anonymous sessions per known session (never convert: no account, no order)."""
DEVICE_SHARE = {"desktop": 0.38, "mobile": 0.45, "tablet": 0.07, "app": 0.10}
CART_BASE = 0.13
"""Chance a browsing session fills a cart, times its source's lift."""
ORDER_SESSION_MINUTES = (4, 45)
BROWSE_SESSION_MINUTES = (1, 30)
CLICK_SESSION_SHARE = 0.92
"""Share of e-mail clicks that open a tracked session (the rest: blocked cookies, bounces)."""
CLICK_TO_SESSION_MINUTES = (0, 3)
UTM_SOURCES = ("email", "paid_search", "social")
"""Sources whose sessions carry a campaign tag."""

STORE_BROWSE_VISITS = (2.5, 0.3)
"""Browsing store visits over the active window x 2 x engagement: store-preferring
customers, others."""


def _source_weights(sources: tuple[str, ...], converted: bool) -> list[float]:
    return [SOURCE_SHARE.get(s, 0.0) * (CONVERSION_LIFT[s] if converted else 1.0) for s in sources]


# ----------------------------------------------------------------------------- the draft


@dataclass
class Draft:
    """Sessions before e-mail attribution. ``person``: block-local index (backfill) or
    person id (daily), -1 anonymous; ``order``: index into the orders, -1 none; ``source``:
    index into the contract's traffic sources; ``campaign``: campaign id or None."""

    person: np.ndarray
    start: np.ndarray
    minutes: np.ndarray
    converted: np.ndarray
    order: np.ndarray
    source: np.ndarray
    cart: np.ndarray
    campaign: np.ndarray
    nums: np.ndarray
    """Session numbers (the id without its prefix): keys of the e-mail triggers' hashes."""

    @property
    def ids(self) -> pa.Array:
        return make_ids("session", self.nums)

    def take(self, idx: np.ndarray) -> Draft:
        return Draft(**{f: getattr(self, f)[idx] for f in Draft.__dataclass_fields__})

    def __len__(self) -> int:
        return len(self.person)

    def abandoned(self) -> np.ndarray:
        """Known, non-e-mail sessions that filled a cart and bought nothing."""
        return np.flatnonzero(self.cart & ~self.converted & (self.person >= 0))


def _draft(
    ctx: Ctx,
    rng: np.random.Generator,
    order_person: np.ndarray,
    order_us: np.ndarray,
    order_idx: np.ndarray,
    browse_person: np.ndarray,
    browse_us: np.ndarray,
    anon_us: np.ndarray,
) -> Draft:
    """The order, browsing and anonymous sessions (no e-mail ones yet), sorted by start."""
    fqn = "shop.web_sessions"
    sources = allowed(ctx, fqn, "traffic_source")
    nc, nb, na = len(order_person), len(browse_person), len(anon_us)
    n = nc + nb + na
    minutes = np.r_[
        rng.integers(*ORDER_SESSION_MINUTES, nc), rng.integers(*BROWSE_SESSION_MINUTES, nb + na)
    ]
    start = np.r_[order_us - minutes[:nc] * MINUTE, browse_us, anon_us].astype(np.int64)
    converted = np.r_[np.ones(nc, bool), np.zeros(nb + na, bool)]
    src = np.r_[
        choose_weighted(rng, _source_weights(sources, True), nc),
        choose_weighted(rng, _source_weights(sources, False), nb + na),
    ]
    lift = np.asarray([CONVERSION_LIFT.get(s, 1.0) for s in sources])[src]
    cart = converted | (rng.random(n) < CART_BASE * lift)
    srt = np.argsort(start, kind="stable")
    person = np.r_[order_person, browse_person, np.full(na, -1)].astype(np.int64)
    order = np.r_[order_idx, np.full(nb + na, -1)].astype(np.int64)
    return Draft(
        person=person[srt],
        start=start[srt],
        minutes=minutes[srt],
        converted=converted[srt],
        order=order[srt],
        source=src[srt],
        cart=cart[srt],
        campaign=np.full(n, None, dtype=object),
        nums=ctx.take("session", n),
    )


def add_click_sessions(
    ctx: Ctx,
    rng: np.random.Generator,
    draft: Draft,
    person: np.ndarray,
    click_us: np.ndarray,
    campaign: np.ndarray,
) -> Draft:
    """The sessions e-mail clicks open: same person, minutes after the click, source e-mail."""
    sources = allowed(ctx, "shop.web_sessions", "traffic_source")
    opened = rng.random(len(person)) < CLICK_SESSION_SHARE
    person, click_us, campaign = person[opened], click_us[opened], campaign[opened]
    k = len(person)
    start = (
        click_us
        + rng.integers(CLICK_TO_SESSION_MINUTES[0], CLICK_TO_SESSION_MINUTES[1] + 1, k) * MINUTE
    )
    start = start + rng.integers(1_000_000, 60_000_000, k)
    return Draft(
        person=np.r_[draft.person, person.astype(np.int64)],
        start=np.r_[draft.start, start.astype(np.int64)],
        minutes=np.r_[draft.minutes, rng.integers(*BROWSE_SESSION_MINUTES, k)],
        converted=np.r_[draft.converted, np.zeros(k, bool)],
        order=np.r_[draft.order, np.full(k, -1, np.int64)],
        source=np.r_[draft.source, np.full(k, sources.index("email"))],
        cart=np.r_[draft.cart, rng.random(k) < CART_BASE * CONVERSION_LIFT["email"]],
        campaign=np.r_[draft.campaign, campaign.astype(object)],
        nums=np.r_[draft.nums, ctx.take("session", k)],
    )


def _columns(
    ctx: Ctx,
    rng: np.random.Generator,
    dr: Draft,
    app_order: np.ndarray,
    campaigns: pl.DataFrame,
    customer_id: object,
    order_id: object,
) -> dict[str, object]:
    """The contract's columns of the sessions (device, pages, end, tags) from the draft."""
    fqn = "shop.web_sessions"
    n = len(dr)
    sources = allowed(ctx, fqn, "traffic_source")
    devices, dev = (
        allowed(ctx, fqn, "device_type"),
        choose_weighted(
            rng, [DEVICE_SHARE.get(v, 0.0) for v in allowed(ctx, fqn, "device_type")], n
        ),
    )
    web_order_on_app = dr.converted & ~app_order & (dev == devices.index("app"))
    dev = np.where(
        app_order, devices.index("app"), np.where(web_order_on_app, devices.index("mobile"), dev)
    )
    # paid and social sessions carry the latest campaign's tag; e-mail sessions their own
    send = campaigns["send_day"].to_numpy() * US_PER_DAY
    ci = np.searchsorted(send, dr.start, side="right") - 1
    tagged = np.isin(dr.source, [sources.index(s) for s in UTM_SOURCES if s != "email"])
    tagged &= ci >= 0
    ids = campaigns["campaign_id"].to_list()
    utm = np.asarray(
        [ids[i] if ok else None for i, ok in zip(np.maximum(ci, 0), tagged, strict=True)],
        dtype=object,
    )
    utm = np.where(dr.campaign != None, dr.campaign, utm)  # noqa: E711 (object array)
    pv = np.clip(1 + rng.geometric(0.18, n) + dr.converted * rng.integers(3, 12, n), 1, 500)
    end = dr.start + dr.minutes * MINUTE + rng.integers(0, 5 * MINUTE, n)
    return {
        "session_id": dr.ids,
        "customer_id": customer_id,
        "session_start": dr.start,
        "session_end": masked(end, rng.random(n) > 0.04),
        "device_type": choice(devices, dev),
        "traffic_source": choice(sources, dr.source),
        "utm_campaign": pa.array(utm.tolist(), type=pa.string()),
        "page_views": pv,
        "products_viewed": np.minimum(rng.binomial(pv, 0.45), 500),
        "added_to_cart": dr.cart,
        "converted": dr.converted,
        "order_id": order_id,
    }


def _browse_rate(engagement: np.ndarray, lam_week: np.ndarray, tier: np.ndarray) -> np.ndarray:
    """Browsing sessions a day (at average season) of active customers; ``tier`` -1 for
    non-members, else 0..3."""
    base = BROWSE_BASE_PER_DAY + BROWSE_PER_ENGAGEMENT * engagement
    base = base + BROWSE_PER_WEEKLY_ORDER * lam_week
    factor = np.where(tier >= 0, np.asarray(BROWSE_TIER_FACTOR)[np.maximum(tier, 0)], 1.0)
    return base * factor


# ----------------------------------------------------------------------------- backfill


def _active_window(blk: Block, person: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per local person: from a month before the first purchase to the drop-out (or now)."""
    ctx = blk.ctx
    lo = np.maximum(
        blk.col("first_purchase_day")[person] * US_PER_DAY - PRE_PURCHASE_DAYS * US_PER_DAY,
        ctx.cal.start_us,
    )
    hi = np.minimum(blk.state["active_until"][person], ctx.now_us)
    hi = np.maximum(hi, lo + HOUR)
    return lo, hi


def _lapsed_window(blk: Block, person: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per local person: the months after dropping out (empty for those still active)."""
    now = blk.ctx.now_us
    until = blk.state["active_until"][person]
    lo = np.minimum(until, now)
    hi = np.where(until < now, np.minimum(until + LAPSED_BROWSE_DAYS * US_PER_DAY, now), lo)
    return lo, hi


def _member_tier(blk: Block, person: np.ndarray) -> np.ndarray:
    member = blk.state.get("primary_member", np.full(blk.n, -1))[person] >= 0
    return np.where(member, blk.state["person_tier"][person], -1)


def draft_sessions(blk: Block) -> None:
    """Order sessions (one per web or app order), browsing and anonymous sessions of a block."""
    ctx, rng = blk.ctx, blk.rng("shop.web_sessions")
    o = blk.state["orders"]
    channels = allowed(ctx, "shop.orders", "channel")
    conv = np.flatnonzero(np.isin(o["channel"], [channels.index("web"), channels.index("app")]))
    shop_p = np.flatnonzero(blk.col("in_shop"))
    rate = _browse_rate(
        blk.col("engagement")[shop_p], blk.col("lambda_week")[shop_p], _member_tier(blk, shop_p)
    )
    parts_p, parts_t = [], []
    for window, factor in ((_active_window, 1.0), (_lapsed_window, LAPSED_BROWSE_FACTOR)):
        lo, hi = window(blk, shop_p)
        effective_days = ctx.cal.cumulative(hi) - ctx.cal.cumulative(lo)
        cnt = rng.poisson(rate * factor * np.maximum(effective_days, 0.0))
        owner, _ = expand(cnt)
        parts_p.append(shop_p[owner])
        parts_t.append(ctx.cal.sample(rng, lo[owner], hi[owner]))
    bp, bt = np.concatenate(parts_p), np.concatenate(parts_t)
    n_anon = int(rng.poisson(ANONYMOUS_SHARE * (len(conv) + len(bp))))
    anon = ctx.cal.sample(rng, np.full(n_anon, ctx.cal.start_us), np.full(n_anon, ctx.now_us))
    blk.state["session_draft"] = _draft(
        ctx, rng, o["person"][conv], o["us"][conv], conv, bp, bt, anon
    )


def web_sessions(blk: Block) -> None:
    """Write the block's sessions (the draft plus what e-mail made of it)."""
    ctx, rng = blk.ctx, blk.rng("shop.web_sessions.rows")
    dr: Draft = blk.state["session_draft"]
    keep = np.flatnonzero((dr.start >= ctx.cal.start_us) & (dr.start < ctx.now_us))
    dr = dr.take(keep)
    o = blk.state["orders"]
    channels = allowed(ctx, "shop.orders", "channel")
    ref = np.maximum(dr.order, 0)
    app_order = (dr.order >= 0) & (o["channel"][ref] == channels.index("app"))
    known = dr.person >= 0
    pc = blk.state["primary_cust"]
    num = np.where(dr.order >= 0, o["cust"][ref], pc[np.maximum(dr.person, 0)])
    valid = (dr.order >= 0) | (known & (pc[np.maximum(dr.person, 0)] >= 0))
    blk.state["sessions"] = {
        "person": dr.person,
        "start": dr.start,
        "converted": dr.converted,
        "cart": dr.cart,
        "order": dr.order,
    }
    blk.state["session_ids"] = dr.ids
    blk.add(
        "shop.web_sessions",
        _columns(
            ctx,
            rng,
            dr,
            app_order,
            blk.world.campaigns,
            make_ids("customer", num, valid),
            make_ids("order", o["num"][ref], dr.order >= 0),
        ),
    )


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
    cnt = rng.poisson(
        np.where(pref_store, *STORE_BROWSE_VISITS) * blk.col("engagement")[shop_p] * 2
    )
    owner, _ = expand(cnt)
    vp = shop_p[owner]
    lo, hi = _active_window(blk, vp)
    hi = np.maximum(np.minimum(hi + LAPSED_BROWSE_DAYS * US_PER_DAY, ctx.now_us), lo + HOUR)
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
            "customer_id": make_ids("customer", blk.state["primary_cust"][person]),
            "store_id": choice(blk.world.stores["store_id"].to_list(), store),
            "visit_ts": ts,
            "duration_minutes": dur,
            "visit_type": choice(types, vt),
            "made_purchase": bought,
        },
    )


# ----------------------------------------------------------------------------- daily


def people_tier(d: Day, idx: np.ndarray) -> np.ndarray:
    """Loyalty tier index (0..3) of people rows that are loyalty members, else -1."""
    members = d.primary("loyalty.members")["person_id"].to_numpy()
    pe = d.people
    tiers = ("Bronze", "Silver", "Gold", "Platinum")
    t = pe["loyalty_tier"].to_numpy()[idx]
    t_idx = np.select([t == x for x in tiers], list(range(len(tiers))), -1)
    return np.where(np.isin(pe["person_id"].to_numpy()[idx], members), t_idx, -1)


def draft_day(d: Day) -> None:
    """Today's order sessions, browsing of active and lapsed customers, anonymous sessions."""
    ctx = d.ctx
    rng = d.rng("sessions")
    pe = d.people
    to = d.today_orders
    shop_ids = d.primary("shop.customers")["person_id"].to_numpy()
    pid = pe["person_id"].to_numpy()
    in_shop = np.isin(pid, shop_ids)
    alive = pe["alive"].to_numpy()
    last = pe["last_purchase_us"].to_numpy()
    lapsed = ~alive & (last > 0) & (last + LAPSED_BROWSE_DAYS * US_PER_DAY > d.start_us)
    who = np.flatnonzero(in_shop & (alive | lapsed))
    rate = _browse_rate(
        pe["engagement"].to_numpy()[who], pe["lambda_week"].to_numpy()[who], people_tier(d, who)
    )
    rate = rate * np.where(lapsed[who], LAPSED_BROWSE_FACTOR, 1.0)
    rate = rate * ctx.cal.intensity[d.day - ctx.cal.grid_lo]
    cnt = rng.poisson(rate)
    owner, _ = expand(cnt)
    bp = pid[who[owner]]
    bt = d.times(rng, len(bp))
    chans = allowed(ctx, "shop.orders", "channel")
    web = (
        np.zeros(0, np.int64)
        if to is None
        else np.flatnonzero(np.isin(to["channel"], [chans.index("web"), chans.index("app")]))
    )
    n_anon = int(rng.poisson(ANONYMOUS_SHARE * (len(web) + len(bp))))
    d.session_draft = _draft(
        ctx,
        rng,
        to["person_id"][web] if to is not None else np.zeros(0, np.int64),
        to["us"][web] if to is not None else np.zeros(0, np.int64),
        web,
        bp,
        bt,
        d.times(rng, n_anon),
    )


def daily(d: Day) -> None:
    """Write today's sessions (after e-mail attribution) and store visits."""
    ctx = d.ctx
    rng = d.rng("sessions.rows")
    dr: Draft = d.session_draft
    keep = np.flatnonzero(dr.start < d.end_us)
    dr = dr.take(keep)
    to = d.today_orders
    shop_map = d.primary("shop.customers")
    chans = allowed(ctx, "shop.orders", "channel")
    ref = np.maximum(dr.order, 0)
    has_order = dr.order >= 0
    app_order = has_order & (
        (to["channel"][ref] == chans.index("app")) if to is not None else False
    )
    cust = pl.DataFrame({"person_id": dr.person}).join(
        shop_map, on="person_id", how="left", maintain_order="left"
    )["source_id"]
    if to is not None and has_order.any():
        order_cust = to["customer_id"].gather(ref)
        cust = pl.select(pl.when(pl.Series(has_order)).then(order_cust).otherwise(cust)).to_series()
        order_id = pa.array(
            np.where(
                has_order, np.asarray(to["ids"].to_pylist(), dtype=object)[ref], None
            ).tolist(),
            type=pa.string(),
        )
    else:
        order_id = pa.nulls(len(dr), pa.string())
    d.add(
        "shop.web_sessions",
        _columns(ctx, rng, dr, np.asarray(app_order, bool), d.w.campaigns, cust, order_id),
    )
    d.today_sessions = {
        "ids": dr.ids,
        "person_id": dr.person,
        "start": dr.start,
        "customer_id": cust,
        "converted": dr.converted,
    }
    _store_visits_day(d, rng)


def _store_visits_day(d: Day, rng: np.random.Generator) -> None:
    """Today's store purchases plus browsing visits of store-preferring customers."""
    ctx = d.ctx
    pe = d.people
    to = d.today_orders
    if to is None:
        return
    shop_map = d.primary("shop.customers")
    alive = np.flatnonzero(
        pe["alive"].to_numpy()
        & np.isin(pe["person_id"].to_numpy(), shop_map["person_id"].to_numpy())
    )
    so = np.flatnonzero(to["is_store"])
    types = allowed(ctx, "shop.store_visits", "visit_type")
    extra = alive[rng.random(len(alive)) < 0.003]
    m = len(so) + len(extra)
    if not m:
        return
    vp = np.r_[to["person_id"][so], pe["person_id"].to_numpy()[extra]]
    vus = np.r_[to["us"][so] - 20 * MINUTE, d.times(rng, len(extra))]
    vc = pl.DataFrame({"person_id": vp}).join(
        shop_map, on="person_id", how="left", maintain_order="left"
    )["source_id"]
    home = (
        pl.DataFrame({"person_id": vp})
        .join(
            pe.select("person_id", "home_store"), on="person_id", how="left", maintain_order="left"
        )["home_store"]
        .to_numpy()
    )
    d.add(
        "shop.store_visits",
        {
            "visit_id": make_ids("store_visit", ctx.take("store_visit", m)),
            "customer_id": vc,
            "store_id": choice(d.w.stores["store_id"].to_list(), home % len(d.w.stores)),
            "visit_ts": vus,
            "duration_minutes": rng.integers(5, 90, m),
            "visit_type": choice(types, np.full(m, types.index("walk_in"))),
            "made_purchase": np.r_[np.ones(len(so), bool), np.zeros(len(extra), bool)],
        },
    )
