"""The shop's reference data: the product catalogue (with a latent quality, sizing bias and
appeal per product) and the stores. Made once per world from the seed; orders pick among them."""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate import vocab
from engagement_lake.generate.columns import US_PER_DAY
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.world import pick, weighted

MIN_PRODUCTS = 250
"""The smallest catalogue, whatever the scale: with fewer products a price band holds two or
three, and the most appealing of a busy band sells over 3 % of all order lines."""
POPULARITY_SD = 0.65
"""Spread of log product appeal: a long tail (the top fifth of products sells about half the
lines, the bottom half under a fifth) without one product dominating its price band."""


def make_products(ctx: Ctx) -> pl.DataFrame:
    rng = ctx.rng("world.products")
    n = ctx.sized(2000, floor=MIN_PRODUCTS)
    cats = list(vocab.CATEGORIES)
    cat_idx = weighted(rng, [vocab.CATEGORIES[c][0] for c in cats], n)
    sub = []
    median = np.empty(n)
    spread = np.empty(n)
    apparel = np.empty(n, dtype=bool)
    sub_u = rng.random(n)
    for i, c in enumerate(cats):  # a dozen categories, not a loop per product
        m = cat_idx == i
        subs = vocab.CATEGORIES[c][1]
        median[m], spread[m], apparel[m] = (
            vocab.CATEGORIES[c][2],
            vocab.CATEGORIES[c][3],
            vocab.CATEGORIES[c][4],
        )
        sub.append((m, subs))
    subcategory = np.empty(n, dtype=object)
    for m, subs in sub:
        subcategory[m] = np.asarray(subs, dtype=object)[(sub_u[m] * len(subs)).astype(int)]
    price = np.maximum(7.0, median * np.exp(rng.normal(0, 1, n) * spread))
    price = np.minimum(np.floor(price) + 0.99, 1499.99)
    brand_idx = rng.integers(0, len(vocab.BRANDS), n)
    fits = ("Classic", "Relaxed", "Athletic", "Slim", "Tall")
    fit_idx = weighted(rng, [0.35, 0.3, 0.15, 0.08, 0.12], n)
    adjectives = (
        "Classic",
        "Stretch",
        "Performance",
        "Premium",
        "Everyday",
        "Heritage",
        "Comfort",
        "Tech",
        "Essential",
        "Signature",
    )
    adj_idx = rng.integers(0, len(adjectives), n)
    colors = (
        "Navy",
        "Black",
        "Charcoal",
        "Khaki",
        "Olive",
        "White",
        "Burgundy",
        "Heather Grey",
        "Indigo",
        "Stone",
    )
    col_idx = rng.integers(0, len(colors), n)
    size_lo = rng.integers(1, 4, n)
    size_hi = rng.integers(5, 9, n)
    reg = np.asarray(vocab.REGULAR_SIZES, dtype=object)
    size_range = np.where(
        fit_idx == 4,
        "LT-4XLT",
        np.char.add(np.char.add(reg[size_lo].astype(str), "-"), reg[size_hi].astype(str)),
    ).astype(object)
    cat_names = np.asarray(cats, dtype=object)[cat_idx]
    size_range[cat_names == "Shoes"] = "9-16"
    size_range[cat_names == "Accessories"] = None
    start = ctx.cal.start_day
    launch = rng.integers(start - 7 * 365, start - 30, n)
    ids = np.arange(1, n + 1)
    ctx.counters["product"] = max(ctx.counters.get("product", 0), n)
    df = pl.DataFrame(
        {
            "product_num": ids,
            "category": cat_names.astype(str),
            "subcategory": subcategory.astype(str),
            "brand": np.asarray(vocab.BRANDS)[brand_idx],
            "fit_type": np.asarray(fits)[fit_idx],
            "size_range": pl.Series(size_range.tolist(), dtype=pl.String),
            "list_price": price,
            "unit_cost": np.round(price * rng.uniform(0.32, 0.55, n), 2),
            "launch_day": launch,
            "is_active": rng.random(n) < 0.95,
            "updated_us": (launch + rng.integers(0, 400, n)) * US_PER_DAY
            + rng.integers(0, US_PER_DAY, n),
            "apparel": apparel,
            "quality": np.clip(rng.beta(6, 1.6, n), 0.05, 1.0),
            "sizing_bias": rng.choice(np.array([-1, 0, 1]), n, p=[0.15, 0.7, 0.15]),
            # the regular sizes a product is cut in (S..6XL indices; tall cuts: LT..4XLT)
            "size_lo": np.where(fit_idx == 4, 2, size_lo),
            "size_hi": np.where(fit_idx == 4, 6, size_hi),
            "is_tall": fit_idx == 4,
            "popularity": _product_popularity(ctx, n),
        }
    )
    df = df.with_columns(
        product_id=pl.format("P{}", pl.col("product_num").cast(pl.String).str.zfill(5)),
        product_name=pl.concat_str(
            [
                pl.col("brand"),
                pl.lit(" "),
                pick(adjectives, adj_idx),
                pl.lit(" "),
                pick(colors, col_idx),
                pl.lit(" "),
                pl.col("subcategory"),
            ]
        ),
    )
    # updated_us must not pass the as-of date
    return df.with_columns(pl.col("updated_us").clip(upper_bound=ctx.cal.start_us - 1))


def _product_popularity(ctx: Ctx, n: int) -> np.ndarray:
    """A latent appeal per product (log-normal, mean 1): some items sell far better than their
    neighbours at the same price. Its own stream, so the other product attributes stay as they
    were."""
    rng = ctx.rng("world.products.popularity")
    sd = POPULARITY_SD
    return np.exp(rng.normal(-sd * sd / 2, sd, n))


def make_stores(ctx: Ctx) -> pl.DataFrame:
    rng = ctx.rng("world.stores")
    n = ctx.sized(60, floor=8)
    city_idx = rng.choice(len(vocab.CITIES), n, replace=n > len(vocab.CITIES))
    return pl.DataFrame(
        {
            "store_num": np.arange(1, n + 1),
            "store_id": [f"S{i:03d}" for i in range(1, n + 1)],
            "state": [vocab.CITIES[i][1] for i in city_idx],
        }
    )
