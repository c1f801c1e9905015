"""shop catalogue: which product each order line buys, the catalogue as the shop sends it, and
the daily repricing of a few products.

Products themselves (category, price, quality, sizing bias, latent popularity) are reference
data made once by ``catalog.make_products``; this module decides how people pick among them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from engagement_lake.generate.daily import HOUR, Day
from engagement_lake.generate.people import TASTE
from engagement_lake.generate.systems.shop import params as P
from engagement_lake.generate.vocab import BRANDS, CATEGORIES, REGULAR_SIZES

CATEGORY_NAMES = tuple(CATEGORIES)


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
    qty = np.arange(1, P.MAX_QUANTITY + 1)
    log_unit = np.log(np.maximum(target, 1.0))[:, None, None] - np.log(qty)[None, None, :]
    z = (log_unit - med[cat_c][:, :, None]) / spread[cat_c][:, :, None]
    fit_q = np.exp(-0.5 * z * z)  # m x 3 favourites x 4 quantities
    fit = fit_q.max(axis=2)
    fit = np.where(fit >= P.MIN_PRICE_FIT, fit, 0.0)  # no favourite sells near this price
    present = np.bincount(cat_of, minlength=n_cat) > 0
    cw = taste["w"] * fit * has * present[cat_c]
    tot = cw.sum(axis=1)
    use_taste = (rng.random(m) < taste["share"]) & (tot > 0)
    u = rng.random(m) * tot
    k = np.minimum((u[:, None] > np.cumsum(cw, axis=1)).sum(axis=1), 2)
    line_cat = cat_c[np.arange(m), k]
    # units of the line: drawn by how well each count prices a unit in the category (not the
    # best count, which would plan every unit at the category's median price and crown the
    # product sitting there)
    fq = fit_q[np.arange(m), k, :]
    cum = np.cumsum(fq, axis=1)
    pick = (rng.random(m)[:, None] * cum[:, -1:] > cum).sum(axis=1)
    unit_target = target / qty[np.minimum(pick, len(qty) - 1)]
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
    width = np.maximum(P.MIN_WINDOW, np.rint(P.CATEGORY_WINDOW * (hi - lo))).astype(np.int64)
    width = np.where(use_taste, width, max(2 * P.MIN_WINDOW, round(P.CATALOGUE_WINDOW * n_prod)))
    # keep the whole window inside the range: a target below (above) every price draws among
    # the cheapest (dearest) few, instead of every candidate collapsing onto the extreme one
    width = np.minimum(width, np.maximum((hi - lo - 1) // 2, 0))
    at = np.clip(at, lo + width, np.maximum(hi - 1 - width, lo + width))
    offset = (rng.random((m, P.CANDIDATES)) * 2 - 1) * (width[:, None] + 0.5)
    pos = at[:, None] + np.rint(offset).astype(np.int64)
    pos = np.clip(pos, lo[:, None], np.maximum(hi - 1, lo)[:, None])
    cand = np.where(use_taste[:, None], by_key[pos], by_price[np.minimum(pos, n_prod - 1)])
    # scores: popularity, brand, cut, price closeness, noise
    score = np.log(prod["popularity"].to_numpy())[cand] + rng.gumbel(size=cand.shape)
    pref = (brand_of[cand] == taste["brand"][:, :1]) | (brand_of[cand] == taste["brand"][:, 1:2])
    score += TASTE["brand_bonus"] * (pref & use_taste[:, None])
    # how far the line amount (1-4 units of the candidate) would land from the target
    # (a line planned below every candidate buys one unit of any of them: closeness is then
    # measured from the cheapest candidate, so popularity, not a few cents, decides)
    cp = price[cand]
    units = np.clip(np.rint(target[:, None] / cp), 1, P.MAX_QUANTITY)
    ref = np.maximum(np.maximum(target, 1.0), cp.min(axis=1))[:, None]
    score -= P.PRICE_CLOSENESS * np.abs(np.log(units * cp / ref))
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
    score -= P.SIZE_MISMATCH_PENALTY * wrong + P.TALL_ON_REGULAR_PENALTY * (
        apparel & tall[:, None] & ~tall_cut
    )
    return cand[np.arange(m), score.argmax(axis=1)]


def frame(p: pl.DataFrame) -> dict[str, Any]:
    """``shop.products`` as the backfill lands it: the whole catalogue, once."""
    return {
        "product_id": p["product_id"],
        "product_name": p["product_name"],
        "category": p["category"],
        "subcategory": p["subcategory"],
        "brand": p["brand"],
        "size_range": p["size_range"],
        "fit_type": p["fit_type"],
        "list_price": p["list_price"].to_numpy(),
        "unit_cost": p["unit_cost"].to_numpy(),
        "launch_date": p["launch_day"].to_numpy(),
        "is_active": p["is_active"].to_numpy(),
        "updated_at": p["updated_us"].to_numpy(),
    }


def daily(d: Day) -> None:
    """A few active products are repriced (new versions of their catalogue rows)."""
    rng = d.rng("products")
    prod = d.bronze.latest("shop.products", "is_active")
    if prod.is_empty():
        return
    k = max(1, round(len(prod) * P.REPRICE_SHARE))
    pick = np.sort(rng.choice(len(prod), min(k, len(prod)), replace=False))
    rows = prod[pick]
    price = rows["list_price"].cast(pl.Float64).to_numpy()
    factor = rng.uniform(*P.REPRICE_FACTOR, len(rows))
    new = np.maximum(np.floor(price * factor) + 0.99, P.MIN_LIST_PRICE)
    upd = d.start_us + rng.integers(P.REPRICE_HOURS[0] * HOUR, P.REPRICE_HOURS[1] * HOUR, len(rows))
    d.add(
        "shop.products",
        rows.with_columns(
            list_price=pl.Series(np.round(new, 2)),
            updated_at=pl.Series(upd).cast(pl.Datetime("us")),
        ),
    )
