"""shop orders and order lines, for the backfill and a daily load from one row builder.

Purchases come from the buy-till-you-die skeleton (``world.simulate_purchases`` for the backfill,
the same process one day at a time in a daily load): when a person buys and how much they mean
to spend. ``build`` turns each purchase into an order whose lines' prices add up to that spend,
with its channel, money (markdowns, promotion, shipping, tax) and life (``fates``: cancelled,
shipped, delivered, lines that misfit and come back). The backfill shows each order as it stands
at the end of history; a daily load lands new orders as they stand at the end of their day and
resends an order when its status moves on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from engagement_lake.generate import world
from engagement_lake.generate.block import Block, allowed, choose_weighted, expand, make_ids
from engagement_lake.generate.columns import US_PER_DAY, cents, choice
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.daily import HOUR, MINUTE, Day
from engagement_lake.generate.systems.shop import fates
from engagement_lake.generate.systems.shop import params as P
from engagement_lake.generate.systems.shop.products import choose_products, tastes
from engagement_lake.generate.vocab import PROMO_CODES

AddRows = Callable[[str, dict[str, Any]], None]


def build(
    ctx: Ctx,
    rng: np.random.Generator,
    w: world.World,
    people: pl.DataFrame,
    person: np.ndarray,
    order_us: np.ndarray,
    spend: np.ndarray,
    now: int,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Orders, lines and returns (as of ``now``) of purchases by ``people`` rows ``person``.

    Returns the backfill's state dicts ``orders``, ``items`` and ``returns`` (index arrays into
    each other, money in cents); the caller chooses the customer account of each order."""
    n = len(person)
    nums = ctx.take("order", n)
    channels = allowed(ctx, "shop.orders", "channel")
    pref = people["preferred_channel"].to_numpy()[person]
    pref_idx = np.select([pref == c for c in channels], list(range(len(channels))), 0)
    mix = choose_weighted(rng, [P.CHANNEL_MIX.get(c, 0.0) for c in channels], n)
    ch = np.where(rng.random(n) < P.PREFERRED_CHANNEL_SHARE, pref_idx, mix)
    is_store = ch == channels.index("store")
    n_stores = len(w.stores)
    home = people["home_store"].to_numpy()[person] % n_stores
    store_idx = np.where(rng.random(n) < P.HOME_STORE_SHARE, home, rng.integers(0, n_stores, n))

    # lines: count grows with spend, but no planned line far below the cheapest products;
    # target prices split the spend (Dirichlet weights, concentrated: lines of similar size)
    k = 1 + rng.poisson(P.LINES_BASE + spend / P.SPEND_PER_EXTRA_LINE)
    k = np.clip(np.minimum(k, spend // P.MIN_LINE_TARGET), 1, P.MAX_LINES).astype(np.int64)
    owner, _ = expand(k)
    m = len(owner)
    e = rng.gamma(P.LINE_SPLIT_SHAPE, 1.0, m)
    tot = np.bincount(owner, weights=e, minlength=n)
    target = spend[owner] * e / tot[owner]
    prod = w.products
    item = choose_products(rng, prod, target, tastes(people, person[owner]))
    markdown = np.where(rng.random(m) < P.MARKDOWN_SHARE, rng.choice(np.array(P.MARKDOWNS), m), 0)
    unit = np.round(prod["list_price"].to_numpy()[item] * (1 - markdown), 2)
    qty = np.clip(np.rint(target / np.maximum(unit, 1.0)), 1, P.MAX_QUANTITY).astype(np.int64)
    line_c = cents(unit) * qty
    subtotal_c = np.bincount(owner, weights=line_c, minlength=n).astype(np.int64)

    # fit of each apparel line; a person's own sizing error shows in the size ordered
    item_nums = ctx.take("order_item", m)
    apparel = prod["apparel"].to_numpy()[item]
    who = person[owner]
    fit, wrong_size = fates.line_fit(
        ctx.seed,
        item_nums,
        apparel,
        prod["sizing_bias"].to_numpy()[item],
        people["fitmap_user"].to_numpy()[who],
        people["size_problem"].to_numpy()[who],
    )
    ordered = world.shift_size(people["size_idx"].to_numpy()[who], np.where(wrong_size, fit, 0))
    sizes = allowed(ctx, "shop.order_items", "size")
    size_idx = np.asarray([sizes.index(s) for s in world.ALL_SIZES])[ordered]

    # money: promotion discount, shipping, tax -> total (exact in cents)
    promo = rng.random(n) < P.PROMO_SHARE
    promo_idx = rng.integers(0, len(PROMO_CODES), n)
    pct = np.asarray([p for _, p in PROMO_CODES])[promo_idx]
    discount_c = np.where(promo, np.rint(subtotal_c * pct), 0).astype(np.int64)
    ship_c = np.where(
        ~is_store & (subtotal_c - discount_c < P.FREE_SHIPPING_CENTS), P.SHIPPING_CENTS, 0
    )
    state = people["state"].gather(person)
    tax_rate = state.replace_strict(P.STATE_TAX, default=P.DEFAULT_TAX).to_numpy()
    tax_c = np.rint((subtotal_c - discount_c) * tax_rate).astype(np.int64)
    total_c = subtotal_c - discount_c + ship_c + tax_c

    # life: cancelled / shipped / delivered, lines coming back, status as of now
    life = fates.order_timeline(ctx.seed, nums, order_us, is_store)
    quality = prod["quality"].to_numpy()[item]
    back = fates.line_returns(
        ctx, item_nums, fit, quality, qty, life["delivered_us"][owner], life["cancelled"][owner]
    )
    ret = back["returned"] & (back["us"] < now)
    last_ret = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_ret, owner[ret], back["us"][ret])
    status, changed = fates.order_status(ctx, life, last_ret, now)
    updated = np.minimum(np.where(changed > 0, changed, order_us + MINUTE), now - 1)
    item_upd = order_us[owner] + rng.integers(*P.ITEM_UPDATE_MINUTES, m) * MINUTE
    orders = {
        "num": nums,
        "person": person,
        "us": order_us,
        "spend": spend,
        "channel": ch,
        "is_store": is_store,
        "store_idx": store_idx,
        "total_c": total_c,
        "subtotal_c": subtotal_c,
        "discount_c": discount_c,
        "ship_c": ship_c,
        "tax_c": tax_c,
        "status": status,
        "updated": updated,
        "cancelled": life["cancelled"],
        "delivered_us": life["delivered_us"],
        "promo": promo,
        "promo_idx": promo_idx,
    }
    items = {
        "num": item_nums,
        "order": owner,
        "product": item,
        "size": size_idx,
        "apparel": apparel,
        "qty": qty,
        "unit": unit,
        "line_c": line_c,
        "fit": fit,
        "updated": np.minimum(item_upd, now - 1),
        "recommended": rng.random(m) < P.RECOMMENDED_SHARE,
        "returned": ret,
    }
    ri = np.flatnonzero(ret)
    returns = {
        "num": ctx.take("return", len(ri)),
        "item": ri,
        "order": owner[ri],
        "us": back["us"][ri],
        "reason": back["reason"][ri],
        "qty": back["qty"][ri],
        "refund_c": cents(unit[ri]) * back["qty"][ri],
        "exchange": back["exchange"][ri],
        "fit": fit[ri],
    }
    return orders, items, returns


def emit(
    ctx: Ctx,
    add: AddRows,
    w: world.World,
    o: dict[str, Any],
    it: dict[str, Any],
    r: dict[str, Any],
    customer_ids: pa.Array,
) -> tuple[pa.Array, pa.Array]:
    """Land orders, lines and returns; ``customer_ids`` is the account of each order.

    Returns the order ids and line ids."""
    channels = allowed(ctx, "shop.orders", "channel")
    promo_codes = [c for c, _ in PROMO_CODES]
    order_ids = make_ids("order", o["num"])
    add(
        "shop.orders",
        {
            "order_id": order_ids,
            "customer_id": customer_ids,
            "order_ts": o["us"],
            "channel": choice(channels, o["channel"]),
            "store_id": choice(w.stores["store_id"].to_list(), o["store_idx"], o["is_store"]),
            "status": choice(allowed(ctx, "shop.orders", "status"), o["status"]),
            "currency": choice(
                allowed(ctx, "shop.orders", "currency"), np.zeros(len(o["num"]), int)
            ),
            "subtotal_amount": o["subtotal_c"] / 100.0,
            "discount_amount": o["discount_c"] / 100.0,
            "shipping_amount": o["ship_c"] / 100.0,
            "tax_amount": o["tax_c"] / 100.0,
            "total_amount": o["total_c"] / 100.0,
            "promo_code": choice(promo_codes, o["promo_idx"], o["promo"]),
            "updated_at": o["updated"],
        },
    )
    item_ids = make_ids("order_item", it["num"])
    add(
        "shop.order_items",
        {
            "order_item_id": item_ids,
            "order_id": order_ids.take(it["order"]),
            "product_id": w.products["product_id"].to_arrow().take(it["product"]),
            "size": choice(allowed(ctx, "shop.order_items", "size"), it["size"], it["apparel"]),
            "quantity": it["qty"],
            "unit_price": it["unit"],
            "line_amount": it["line_c"] / 100.0,
            "is_recommended": it["recommended"],
            "updated_at": it["updated"],
        },
    )
    if len(r["num"]):
        add(
            "shop.returns",
            {
                "return_id": make_ids("return", r["num"]),
                "order_item_id": item_ids.take(r["item"]),
                "order_id": order_ids.take(r["order"]),
                "customer_id": customer_ids.take(r["order"]),
                "return_ts": r["us"],
                "reason": choice(allowed(ctx, "shop.returns", "reason"), r["reason"]),
                "quantity": r["qty"],
                "refund_amount": r["refund_c"] / 100.0,
                "is_exchange": r["exchange"],
            },
        )
    return order_ids, item_ids


# ----------------------------------------------------------------------------- backfill


def orders(blk: Block) -> None:
    """Orders, order lines and returns of the block's customers (kept in ``blk.state``)."""
    ctx, w = blk.ctx, blk.world
    rng = blk.rng("shop.orders")
    sk = w.orders
    pidx = sk["person_idx"].to_numpy()
    a, b = np.searchsorted(pidx, [blk.lo, blk.hi])
    person = pidx[a:b] - blk.lo
    order_us = sk["order_us"].to_numpy()[a:b]
    o, it, r = build(
        ctx, rng, w, blk.people, person, order_us, sk["spend"].to_numpy()[a:b], ctx.now_us
    )
    # which account: the duplicate account takes some of the orders placed after it opened
    n = len(person)
    dup = blk.state["dup_cust"][person]
    dup_ok = (dup >= 0) & (order_us >= blk.state["dup_signup_day"][person] * US_PER_DAY)
    use_dup = dup_ok & (rng.random(n) < P.DUPLICATE_ORDER_SHARE)
    o["cust"] = np.where(use_dup, dup, blk.state["primary_cust"][person])
    blk.state.update(orders=o, items=it, returns=r)
    order_ids, item_ids = emit(ctx, blk.add, w, o, it, r, make_ids("customer", o["cust"]))
    blk.state.update(order_ids=order_ids, item_ids=item_ids)


# ----------------------------------------------------------------------------- daily


def daily(d: Day) -> None:
    """Today's purchases of customers still alive, and new sign-ups' first orders.

    The buy-till-you-die process one day on: each alive customer buys with probability
    1 - exp(-lambda x seasonality), spends Gamma(p, nu) and, after a repeat purchase, drops
    out with probability p; new sign-ups make their first purchase today."""
    ctx = d.ctx
    rng = d.rng("orders")
    pe = d.people
    shop_map = d.primary("shop.customers")
    pid = pe["person_id"].to_numpy()
    alive = pe["alive"].to_numpy() & pe["in_shop"].to_numpy()
    lam_day = pe["lambda_week"].to_numpy() / 7.0 * ctx.cal.intensity[d.day - ctx.cal.grid_lo]
    buy = alive & (rng.random(len(pe)) < 1 - np.exp(-lam_day))
    buy |= np.isin(pid, d.new_people_ids)
    buy &= np.isin(pid, shop_map["person_id"].to_numpy())
    who = np.flatnonzero(buy)
    n = len(who)
    if n == 0:
        return
    is_new = np.isin(pid[who], d.new_people_ids)
    us = np.where(is_new, d.start_us + rng.integers(11 * HOUR, 22 * HOUR, n), d.times(rng, n))
    nu = pe["nu"].to_numpy()[who]
    spend = np.clip(rng.gamma(world.GAMMA_GAMMA["p"], 1.0 / nu), 8.0, 6000.0)
    drop = ~is_new & (rng.random(n) < pe["p_dropout"].to_numpy()[who])
    alive_new = pe["alive"].to_numpy().copy()
    alive_new[who[drop]] = False
    n_rep = pe["n_repeat"].to_numpy().copy()
    n_rep[who[~is_new]] += 1
    last = pe["last_purchase_us"].to_numpy().copy()
    last[who] = np.maximum(last[who], us)
    first = pe["first_purchase_us"].to_numpy().copy()
    first[who[is_new]] = us[is_new]
    d.people = pe.with_columns(
        alive=pl.Series(alive_new),
        n_repeat=pl.Series(n_rep),
        last_purchase_us=pl.Series(last),
        first_purchase_us=pl.Series(first),
    )
    o, it, r = build(ctx, rng, d.w, pe, who, us, spend, d.end_us)
    cust_ids = (
        pl.DataFrame({"person_id": pid[who]})
        .join(shop_map, on="person_id", how="left", maintain_order="left")["source_id"]
        .to_arrow()
    )
    order_ids, _ = emit(ctx, d.add, d.w, o, it, r, cust_ids)
    unit_cost = d.w.products["unit_cost"].to_numpy()[it["product"]]
    d.today_orders = {
        "person": who,
        "person_id": pid[who],
        "num": o["num"],
        "ids": order_ids,
        "us": us,
        "total_c": o["total_c"],
        "customer_id": pl.Series(cust_ids),
        "is_store": o["is_store"],
        "channel": o["channel"],
        "cogs": np.bincount(it["order"], weights=unit_cost * it["qty"], minlength=n),
    }


def order_updates(d: Day) -> None:
    """Orders whose status moved on today (placed -> shipped -> delivered, or cancelled) are
    resent with the new status, from the same life ``build`` gave them when they were placed."""
    since = d.start_us - int(P.DELIVERY_DAYS[1] + 2) * US_PER_DAY
    df = d.bronze.latest(
        "shop.orders", f"status IN ('placed', 'shipped') AND epoch_us(order_ts) >= {since}"
    )
    if df.is_empty():
        return
    num = df["order_id"].str.extract(r"(\d+)", 1).cast(pl.Int64)
    df = df.filter(num.is_not_null())
    num = num.drop_nulls().to_numpy()
    us = df["order_ts"].cast(pl.Int64).to_numpy()
    life = fates.order_timeline(d.ctx.seed, num, us, (df["channel"] == "store").to_numpy())
    status, changed = fates.order_status(d.ctx, life, np.zeros(len(df), np.int64), d.end_us)
    names = allowed(d.ctx, "shop.orders", "status")
    new = pl.Series(np.asarray(names, dtype=object)[status].astype(str))
    moved = (new != df["status"]).to_numpy()
    if not moved.any():
        return
    upd = np.clip(changed, d.start_us, d.end_us - 1)
    d.add(
        "shop.orders",
        df.with_columns(status=new, updated_at=pl.Series(upd).cast(pl.Datetime("us"))).filter(
            pl.Series(moved)
        ),
    )
