"""shop: customer accounts, orders, order lines, returns, store visits and web sessions.

Orders come from the buy-till-you-die skeleton in ``world.simulate_purchases`` (timing and
spend); this module turns each into an order with lines whose prices add up to the drawn spend,
and decides returns from the true fit outcome of each line: people who buy the wrong size (more
often those with a sizing problem and no FitMap scan, and on products that run small or large)
return far more, which the gold layer should rediscover.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate import identity
from engagement_lake.generate.block import (
    Block,
    allowed,
    choose_weighted,
    enum_draw,
    expand,
    make_ids,
)
from engagement_lake.generate.columns import US_PER_DAY, cents, choice, masked
from engagement_lake.generate.people import TASTE
from engagement_lake.generate.vocab import BRANDS, CATEGORIES, CITIES, PROMO_CODES, REGULAR_SIZES
from engagement_lake.generate.world import ALL_SIZES, shift_size

CATEGORY_NAMES = tuple(CATEGORIES)

HOUR = 3600 * 1_000_000
MINUTE = 60 * 1_000_000
FIT_REASONS = ("too_small", "too_large", "poor_fit")


# ----------------------------------------------------------------------------- accounts


def accounts(blk: Block) -> None:
    """Choose the shop's customer records (with duplicates) and give them ids."""
    rng = blk.rng("shop.accounts")
    rec = identity.select_records(
        rng,
        blk.col("in_shop"),
        identity.profile("shop.customers", blk.ctx.identity_noise).duplicate,
    )
    nums = blk.ctx.take("customer", len(rec))
    primary = np.full(blk.n, -1, dtype=np.int64)
    dup = np.full(blk.n, -1, dtype=np.int64)
    primary[rec.person[~rec.is_duplicate]] = nums[~rec.is_duplicate]
    dup[rec.person[rec.is_duplicate]] = nums[rec.is_duplicate]
    first = blk.col("first_purchase_day")
    dup_signup = first + (
        rng.random(blk.n) * np.maximum(blk.ctx.cal.end_day - first, 1) * 0.6
    ).astype(np.int64)
    blk.state.update(
        cust_rec=rec, cust_num=nums, primary_cust=primary, dup_cust=dup, dup_signup_day=dup_signup
    )


def customer_ids(blk: Block, person: np.ndarray) -> object:
    """The primary shop customer id of local persons (null where they have no account)."""
    num = blk.state["primary_cust"][person]
    return make_ids("customer", num, num >= 0)


# ----------------------------------------------------------------------------- orders


def orders(blk: Block) -> None:
    """Orders, order lines and returns of the block's customers (kept in ``blk.state``)."""
    ctx, w = blk.ctx, blk.world
    rng = blk.rng("shop.orders")
    fqn = "shop.orders"
    sk = w.orders
    pidx = sk["person_idx"].to_numpy()
    a, b = np.searchsorted(pidx, [blk.lo, blk.hi])
    person = pidx[a:b] - blk.lo
    order_us = sk["order_us"].to_numpy()[a:b]
    spend = sk["spend"].to_numpy()[a:b]
    n = len(person)
    nums = ctx.take("order", n)

    # which account: the duplicate account takes some of the later orders
    dup = blk.state["dup_cust"][person]
    dup_ok = (dup >= 0) & (order_us >= blk.state["dup_signup_day"][person] * US_PER_DAY)
    use_dup = dup_ok & (rng.random(n) < 0.35)
    cust = np.where(use_dup, dup, blk.state["primary_cust"][person])

    channels = allowed(ctx, fqn, "channel")
    pref = pl.Series(blk.col("preferred_channel")).gather(person).to_numpy()
    pref_idx = np.select([pref == c for c in channels], list(range(len(channels))), 0)
    _, rand_ch = enum_draw(
        rng, ctx, fqn, "channel", {"web": 0.5, "store": 0.25, "app": 0.2, "phone": 0.05}, n
    )
    ch = np.where(rng.random(n) < 0.65, pref_idx, rand_ch)
    is_store = ch == channels.index("store")
    stores = w.stores
    n_stores = len(stores)
    home = blk.col("home_store")[person] % n_stores
    store_idx = np.where(rng.random(n) < 0.85, home, rng.integers(0, n_stores, n))

    # lines: count grows with spend; target prices split the spend (Dirichlet weights)
    k = np.clip(1 + rng.poisson(0.15 + spend / 160.0), 1, 8)
    owner, _ = expand(k)
    m = len(owner)
    e = rng.exponential(1.0, m)
    tot = np.bincount(owner, weights=e, minlength=n)
    target = spend[owner] * e / tot[owner]
    prod = w.products
    price = prod["list_price"].to_numpy()
    pidx_item = choose_products(rng, prod, target, tastes(blk.people, person[owner]))
    list_p = price[pidx_item]
    markdown = np.where(rng.random(m) < 0.15, rng.choice(np.array([0.2, 0.3, 0.4]), m), 0.0)
    unit = np.round(list_p * (1 - markdown), 2)
    qty = np.clip(np.rint(target / np.maximum(unit, 1.0)), 1, 4).astype(np.int64)
    line_c = cents(unit) * qty
    subtotal_c = np.bincount(owner, weights=line_c, minlength=n).astype(np.int64)

    # fit outcome per apparel line: -1 too small, 0 fine, +1 too large
    apparel = prod["apparel"].to_numpy()[pidx_item]
    bias = prod["sizing_bias"].to_numpy()[pidx_item]
    fitmap = blk.col("fitmap_user")[person][owner]
    problem = blk.col("size_problem")[person][owner]
    p_person = np.where(fitmap, 0.03, 0.04 + 0.30 * problem)
    p_product = np.where(fitmap, 0.04, 0.28) * (bias != 0)
    u = rng.random(m)
    person_err = apparel & (u < p_person)
    product_err = apparel & ~person_err & (u < p_person + p_product)
    direction = np.where(rng.random(m) < 0.5, -1, 1)
    fit = np.where(person_err, direction, np.where(product_err, bias, 0)).astype(np.int64)
    true_size = blk.col("size_idx")[person][owner]
    ordered = shift_size(true_size, np.where(person_err, fit, 0))
    size_idx = np.asarray([allowed(ctx, "shop.order_items", "size").index(s) for s in ALL_SIZES])[
        ordered
    ]

    # order money: promo discount, shipping, tax -> total (exact in cents)
    promo = rng.random(n) < 0.18
    promo_idx = rng.integers(0, len(PROMO_CODES), n)
    pct = np.asarray([p for _, p in PROMO_CODES])[promo_idx]
    discount_c = np.where(promo, np.rint(subtotal_c * pct), 0).astype(np.int64)
    ship_c = np.where(~is_store & (subtotal_c - discount_c < 7500), 795, 0)
    tax_rate = blk.people["state"].replace_strict(STATE_TAX, default=0.06).to_numpy()[person]
    tax_c = np.rint((subtotal_c - discount_c) * tax_rate).astype(np.int64)
    total_c = subtotal_c - discount_c + ship_c + tax_c

    # status as of the load
    now = ctx.now_us
    cancelled = rng.random(n) < 0.025
    delivered_us = np.where(
        is_store, order_us, order_us + (rng.uniform(2.5, 5.0, n) * US_PER_DAY).astype(np.int64)
    )
    shipped_us = np.where(
        is_store, order_us, order_us + (rng.uniform(0.3, 1.5, n) * US_PER_DAY).astype(np.int64)
    )

    # returns, decided per line from its fit outcome and the product's quality
    quality = prod["quality"].to_numpy()[pidx_item]
    line_delivered = delivered_us[owner]
    eligible = ~cancelled[owner] & (line_delivered < now)
    p_ret = np.where(fit != 0, 0.62, 0.03 + 0.22 * (1 - quality) ** 2)
    ret = eligible & (rng.random(m) < p_ret)
    ret_us = line_delivered + (rng.uniform(1.5, 28, m) * US_PER_DAY).astype(np.int64)
    ret &= ret_us < now
    reasons = allowed(ctx, "shop.returns", "reason")
    r_fit = np.where(fit < 0, reasons.index("too_small"), reasons.index("too_large"))
    r_fit = np.where(rng.random(m) < 0.15, reasons.index("poor_fit"), r_fit)
    r_other = np.asarray(
        [reasons.index(r) for r in ("quality", "not_as_described", "changed_mind", "late_delivery")]
    )[
        np.where(
            rng.random(m) < 0.8 * (1 - quality) + 0.1,
            0,
            choose_weighted(rng, [0.0, 0.35, 0.5, 0.15], m),
        )
    ]
    reason = np.where(fit != 0, r_fit, r_other)
    order_returned = np.bincount(owner[ret], minlength=n) > 0
    last_ret = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_ret, owner[ret], ret_us[ret])

    statuses = allowed(ctx, fqn, "status")
    st = np.where(
        cancelled,
        statuses.index("cancelled"),
        np.where(
            order_returned,
            statuses.index("returned"),
            np.where(
                delivered_us < now,
                statuses.index("delivered"),
                np.where(shipped_us < now, statuses.index("shipped"), statuses.index("placed")),
            ),
        ),
    )
    updated = np.select(
        [cancelled, order_returned, delivered_us < now, shipped_us < now],
        [order_us + rng.integers(HOUR, 20 * HOUR, n), last_ret, delivered_us, shipped_us],
        order_us,
    )
    updated = np.minimum(updated, now - 1)
    item_upd = np.minimum(order_us[owner] + rng.integers(MINUTE, 30 * MINUTE, m), now - 1)
    blk.state["orders"] = {
        "num": nums,
        "person": person,
        "cust": cust,
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
        "status": st,
        "updated": updated,
        "cancelled": cancelled,
        "delivered_us": delivered_us,
        "promo": promo,
        "promo_idx": promo_idx,
    }
    item_nums = ctx.take("order_item", m)
    blk.state["items"] = {
        "num": item_nums,
        "order": owner,
        "product": pidx_item,
        "size": size_idx,
        "apparel": apparel,
        "qty": qty,
        "unit": unit,
        "line_c": line_c,
        "fit": fit,
        "updated": item_upd,
        "recommended": rng.random(m) < 0.12,
        "returned": ret,
    }
    ri = np.flatnonzero(ret)
    rq = np.where(
        rng.random(len(ri)) < 0.85, qty[ri], 1 + (rng.random(len(ri)) * qty[ri]).astype(np.int64)
    )
    rq = np.clip(rq, 1, qty[ri])
    blk.state["returns"] = {
        "num": ctx.take("return", len(ri)),
        "item": ri,
        "order": owner[ri],
        "us": ret_us[ri],
        "reason": reason[ri],
        "qty": rq,
        "refund_c": cents(unit[ri]) * rq,
        "exchange": rng.random(len(ri)) < np.where(fit[ri] != 0, 0.45, 0.1),
        "fit": fit[ri],
    }
    _emit_orders(blk)


# ----------------------------------------------------------------------------- product choice

SIZE_MISMATCH_PENALTY = 4.0
"""Score penalty of an apparel product not cut in the person's size (rarely bought)."""
CANDIDATES = 8
PRICE_CLOSENESS = 4.0
"""Score per unit of |log(line amount / target)|: keeps order subtotals on the drawn spend."""
MIN_PRICE_FIT = 0.3
"""A favourite category qualifies for a line only if its typical prices (x 1-4 units) come
within about 1.5 standard deviations of the line's target price: keeps subtotals on spend."""


def tastes(people: pl.DataFrame, idx: np.ndarray) -> dict[str, np.ndarray]:
    """Per row of ``idx`` (people rows): favourite category indices and weights (-1 / 0 where
    absent), preferred brand indices, the taste share and the true size. People frames without
    taste columns (lakes from an older generator) buy by price and popularity only."""
    n = len(idx)
    size = people["size_idx"].to_numpy()[idx]
    if "taste_share" not in people.columns:
        return {
            "cat": np.full((n, 3), -1),
            "w": np.zeros((n, 3)),
            "brand": np.full((n, 2), -1),
            "share": np.zeros(n),
            "size": size,
        }
    cmap = {c: i for i, c in enumerate(CATEGORY_NAMES)}
    bmap = {b: i for i, b in enumerate(BRANDS)}

    def codes(col: str, mapping: dict[str, int]) -> np.ndarray:
        s = people[col].replace_strict(mapping, default=-1, return_dtype=pl.Int64)
        return s.fill_null(-1).to_numpy()[idx]

    return {
        "cat": np.stack([codes(f"taste_category_{j}", cmap) for j in (1, 2, 3)], axis=1),
        "w": np.stack(
            [people[f"taste_category_weight_{j}"].fill_null(0).to_numpy()[idx] for j in (1, 2, 3)],
            axis=1,
        ),
        "brand": np.stack([codes(f"taste_brand_{j}", bmap) for j in (1, 2)], axis=1),
        "share": people["taste_share"].to_numpy()[idx],
        "size": size,
    }


def choose_products(
    rng: np.random.Generator, prod: pl.DataFrame, target: np.ndarray, taste: dict[str, np.ndarray]
) -> np.ndarray:
    """The product of each order line: a mixture of taste and popularity, near a target price.

    With probability ``taste_share`` (and if one of the person's favourite categories sells
    near the line's target price, allowing 1-4 units) the line comes from a favourite
    category, chosen by taste weight x price fit; otherwise from the whole catalogue near the
    target price. Either way a handful of price-neighbours compete on product popularity,
    brand preference (taste lines only), cut (a size the person wears, tall cuts for tall
    people) and closeness to the target price, with Gumbel noise: a vectorised softmax draw.
    The target price is kept, so order subtotals still follow the drawn Gamma-Gamma spend.
    """
    m = len(target)
    n_prod = len(prod)
    price = prod["list_price"].to_numpy()
    cat_of = (
        prod["category"]
        .replace_strict({c: i for i, c in enumerate(CATEGORY_NAMES)}, return_dtype=pl.Int64)
        .to_numpy()
    )
    brand_of = (
        prod["brand"]
        .replace_strict({b: i for i, b in enumerate(BRANDS)}, default=-1, return_dtype=pl.Int64)
        .to_numpy()
    )
    n_cat = len(CATEGORY_NAMES)
    # taste lines: which favourite category (weight x how well its prices fit the target)
    med = np.log(np.asarray([CATEGORIES[c][2] for c in CATEGORY_NAMES]))
    spread = np.asarray([CATEGORIES[c][3] for c in CATEGORY_NAMES]) + 0.25
    cat = taste["cat"]
    has = cat >= 0
    cat_c = np.maximum(cat, 0)
    qty = np.arange(1, 5)
    log_unit = np.log(np.maximum(target, 1.0))[:, None, None] - np.log(qty)[None, None, :]
    z = (log_unit - med[cat_c][:, :, None]) / spread[cat_c][:, :, None]
    fit_q = np.exp(-0.5 * z * z)  # m x 3 favourites x 4 quantities
    fit = fit_q.max(axis=2)
    fit = np.where(fit >= MIN_PRICE_FIT, fit, 0.0)  # no favourite sells near this price
    best_q = qty[fit_q.argmax(axis=2)]
    present = np.bincount(cat_of, minlength=n_cat) > 0
    cw = taste["w"] * fit * has * present[cat_c]
    tot = cw.sum(axis=1)
    use_taste = (rng.random(m) < taste["share"]) & (tot > 0)
    u = rng.random(m) * tot
    k = np.minimum((u[:, None] > np.cumsum(cw, axis=1)).sum(axis=1), 2)
    line_cat = cat_c[np.arange(m), k]
    unit_target = target / best_q[np.arange(m), k]
    # candidates: price neighbours within the chosen category, or in the whole catalogue
    key = np.where(present[cat_of], cat_of, n_cat) * 10_000.0 + price
    by_key = np.argsort(key, kind="stable")
    skey = key[by_key]
    seg_lo = np.searchsorted(skey, np.arange(n_cat) * 10_000.0)
    seg_hi = np.searchsorted(skey, (np.arange(n_cat) + 1) * 10_000.0)
    by_price = np.argsort(price, kind="stable")
    lo = np.where(use_taste, seg_lo[line_cat], 0)
    hi = np.where(use_taste, seg_hi[line_cat], n_prod)
    at = np.where(
        use_taste,
        np.searchsorted(skey, line_cat * 10_000.0 + unit_target),
        np.searchsorted(price[by_price], target),
    )
    width = np.maximum(2, np.rint(0.06 * (hi - lo))).astype(np.int64)
    width = np.where(use_taste, width, max(4, round(0.02 * n_prod)))
    offset = (rng.random((m, CANDIDATES)) * 2 - 1) * (width[:, None] + 0.5)
    pos = at[:, None] + np.rint(offset).astype(np.int64)
    pos = np.clip(pos, lo[:, None], np.maximum(hi - 1, lo)[:, None])
    cand = np.where(use_taste[:, None], by_key[pos], by_price[np.minimum(pos, n_prod - 1)])
    # scores: popularity, brand, cut, price closeness, noise
    score = np.log(prod["popularity"].to_numpy())[cand] + rng.gumbel(size=cand.shape)
    pref = (brand_of[cand] == taste["brand"][:, :1]) | (brand_of[cand] == taste["brand"][:, 1:2])
    score += TASTE["brand_bonus"] * (pref & use_taste[:, None])
    # how far the line amount (1-4 units of the candidate) would land from the target
    cp = price[cand]
    units = np.clip(np.rint(target[:, None] / cp), 1, 4)
    score -= PRICE_CLOSENESS * np.abs(np.log(units * cp / np.maximum(target, 1.0)[:, None]))
    n_reg = len(REGULAR_SIZES)
    size = taste["size"]
    tall = size >= n_reg
    reg = np.where(tall, size - n_reg + 2, size)
    apparel = prod["apparel"].to_numpy()[cand]
    tall_cut = prod["is_tall"].to_numpy()[cand]
    cut = (reg[:, None] >= prod["size_lo"].to_numpy()[cand]) & (
        reg[:, None] <= prod["size_hi"].to_numpy()[cand]
    )
    wrong = apparel & (~cut | (tall_cut & ~tall[:, None]))
    score -= SIZE_MISMATCH_PENALTY * wrong + 1.0 * (apparel & tall[:, None] & ~tall_cut)
    return cand[np.arange(m), score.argmax(axis=1)]


STATE_TAX: dict[str, float] = {
    st: round(0.04 + (i % 6) * 0.01, 2) for i, st in enumerate(sorted({c[1] for c in CITIES}))
}
"""Sales-tax rate per state (synthetic but stable)."""


def _emit_orders(blk: Block) -> None:
    ctx = blk.ctx
    o, it, r = blk.state["orders"], blk.state["items"], blk.state["returns"]
    channels = allowed(ctx, "shop.orders", "channel")
    stores = blk.world.stores["store_id"]
    store_valid = o["is_store"]
    promo_codes = [c for c, _ in PROMO_CODES]
    order_ids = make_ids("order", o["num"])
    blk.state["order_ids"] = order_ids
    blk.add(
        "shop.orders",
        {
            "order_id": order_ids,
            "customer_id": make_ids("customer", o["cust"]),
            "order_ts": o["us"],
            "channel": choice(channels, o["channel"]),
            "store_id": choice(stores.to_list(), o["store_idx"], store_valid),
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
    sizes = allowed(ctx, "shop.order_items", "size")
    item_ids = make_ids("order_item", it["num"])
    blk.state["item_ids"] = item_ids
    blk.add(
        "shop.order_items",
        {
            "order_item_id": item_ids,
            "order_id": order_ids.take(it["order"]),
            "product_id": blk.world.products["product_id"].to_arrow().take(it["product"]),
            "size": choice(sizes, it["size"], it["apparel"]),
            "quantity": it["qty"],
            "unit_price": it["unit"],
            "line_amount": it["line_c"] / 100.0,
            "is_recommended": it["recommended"],
            "updated_at": it["updated"],
        },
    )
    blk.add(
        "shop.returns",
        {
            "return_id": make_ids("return", r["num"]),
            "order_item_id": item_ids.take(r["item"]),
            "order_id": order_ids.take(r["order"]),
            "customer_id": make_ids("customer", o["cust"][r["order"]]),
            "return_ts": r["us"],
            "reason": choice(allowed(ctx, "shop.returns", "reason"), r["reason"]),
            "quantity": r["qty"],
            "refund_amount": r["refund_c"] / 100.0,
            "is_exchange": r["exchange"],
        },
    )


# ----------------------------------------------------------------------------- customers


def customers(blk: Block) -> None:
    """The customer master: one row per account, observed with the shop's noise profile."""
    ctx = blk.ctx
    rng = blk.rng("shop.customers")
    rec = blk.state["cust_rec"]
    obs = identity.observe(
        rng, blk.people, rec, identity.profile("shop.customers", ctx.identity_noise)
    )
    n = len(rec)
    pp = blk.people[rec.person]
    gender = pp["gender"].to_numpy()
    genders = allowed(ctx, "shop.customers", "gender")
    g_idx = np.select(
        [gender == g for g in ("M", "F", "X")],
        [genders.index(g) for g in ("M", "F", "X")],
        genders.index("U"),
    )
    g_idx = np.where(rng.random(n) < 0.05, genders.index("U"), g_idx)
    tiers = allowed(ctx, "shop.customers", "loyalty_tier")
    tier = blk.state.get("person_tier", np.zeros(blk.n, dtype=np.int64))[rec.person]
    tier = np.where(rec.is_duplicate, tiers.index("Bronze"), tier)
    channels = allowed(ctx, "shop.customers", "preferred_channel")
    pref = pp["preferred_channel"].to_numpy()
    ch_idx = np.select([pref == c for c in channels], list(range(len(channels))), 0)
    signup = np.where(
        rec.is_duplicate, blk.state["dup_signup_day"][rec.person], pp["signup_day"].to_numpy()
    )
    upd_floor = np.maximum(
        signup * US_PER_DAY, blk.state.get("tier_changed_us", np.zeros(blk.n, np.int64))[rec.person]
    )
    updated = upd_floor + rng.integers(HOUR, 60 * US_PER_DAY, n)
    updated = np.minimum(updated, ctx.now_us - 1)
    ids = make_ids("customer", blk.state["cust_num"])
    blk.identity.append(
        identity.identity_truth("shop.customers", pl.Series(ids), blk.people, rec, obs)
    )
    blk.add(
        "shop.customers",
        {
            "customer_id": ids,
            "first_name": obs.first,
            "last_name": obs.last,
            "email": obs.email,
            "phone": obs.phone,
            "birth_date": obs.birth_day,
            "gender": choice(genders, g_idx),
            "address_line1": obs.street,
            "city": obs.city,
            "state": obs.state,
            "postal_code": obs.zip,
            "loyalty_tier": choice(tiers, tier, blk.col("in_loyalty")[rec.person]),
            "preferred_channel": choice(channels, ch_idx, rng.random(n) > 0.05),
            "marketing_opt_in": masked(pp["marketing_opt_in"].to_numpy(), rng.random(n) > 0.03),
            "signup_date": signup,
            "updated_at": updated,
        },
    )


def _order_refs(blk: Block, order_ref: np.ndarray) -> object:
    o = blk.state["orders"]
    return make_ids("order", o["num"][np.maximum(order_ref, 0)], order_ref >= 0)


def active_until(blk: Block) -> None:
    """When each person stopped being an active customer (dropout), or 'now' if alive."""
    alive = blk.col("alive")
    blk.state["active_until"] = np.where(alive, blk.ctx.now_us, blk.col("last_purchase_us"))
