"""The one consistent world every source system observes: people, catalogue, organisation.

Everything here is a true fact about the synthetic business; the source emitters only *observe*
it (with their own noise). The truth is what `_truth/` records and what the gold layer should
be able to rediscover:

- people: name, gender, birth date, address (US state + ZIP), e-mail, phone, body measures and
  size, FitMap use, a propensity to buy the wrong size, which systems know them;
- buy-till-you-die purchasing (BG/NBD): per-person purchase rate lambda ~ Gamma(r, alpha) per
  week, dropout probability p ~ Beta(a, b) after each repeat purchase, seasonal Poisson
  purchasing while alive; spend per order from the Gamma-Gamma model (p, q, v);
- the catalogue (with a latent quality and sizing bias per product), stores, sales territories,
  sales reps (with a true skill), campaigns, experiments (with true effects) and ML models.

All of it is vectorised: one numpy/polars expression per attribute over all people, never a
loop per person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from engagement_lake.generate import vocab
from engagement_lake.generate.columns import US_PER_DAY
from engagement_lake.generate.context import Ctx, day_number

PEOPLE_AT_SCALE_1 = 100_000

# Buy-till-you-die population parameters (time unit: week). Recorded in _truth/clv_params.json.
BGNBD = {"r": 0.55, "alpha": 5.0, "a": 0.85, "b": 5.0}
GAMMA_GAMMA = {"p": 6.0, "q": 3.8, "v": 52.0}

SYSTEM_SHARES = {
    "shop": 0.88,
    "marketing": 0.62,
    "loyalty": 0.50,
    "support": 0.38,
    "crm": 0.30,
    "lead": 0.20,
}
"""Share of people known to each system (loyalty is a share of shop customers)."""


@dataclass
class World:
    """Truth shared by all emitters of one run."""

    people: pl.DataFrame
    products: pl.DataFrame
    stores: pl.DataFrame
    territories: pl.DataFrame
    reps: pl.DataFrame
    campaigns: pl.DataFrame
    experiments: pl.DataFrame
    variants: pl.DataFrame
    models: pl.DataFrame
    orders: pl.DataFrame
    """Order skeleton from the BG/NBD simulation: person index, time, spend."""


# ----------------------------------------------------------------------------- helpers


def weighted(rng: np.random.Generator, weights: list[float] | np.ndarray, n: int) -> np.ndarray:
    """``n`` category indices drawn with the given (unnormalised) weights."""
    w = np.asarray(weights, dtype=np.float64)
    return np.searchsorted(np.cumsum(w / w.sum()), rng.random(n), side="right").clip(0, len(w) - 1)


def pick(values: tuple[str, ...] | list[str], idx: np.ndarray) -> pl.Series:
    return pl.Series(values=list(values), dtype=pl.String).gather(idx)


def size_from_measures(chest: np.ndarray, height: np.ndarray) -> np.ndarray:
    """Index into REGULAR_SIZES + TALL_SIZES of the true top size."""
    bounds = np.array([96, 104, 112, 120, 128, 136, 144, 152])
    reg = np.searchsorted(bounds, chest, side="right")  # 0..8 -> S..6XL
    tall = (height >= 190) & (reg >= 2) & (reg <= 6)  # L..4XL have tall variants
    idx = reg.copy()
    idx[tall] = len(vocab.REGULAR_SIZES) + (reg[tall] - 2)
    return idx


ALL_SIZES = vocab.REGULAR_SIZES + vocab.TALL_SIZES


def shift_size(idx: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Move a size up/down by ``step`` within its own (regular or tall) run."""
    n_reg = len(vocab.REGULAR_SIZES)
    tall = idx >= n_reg
    out = idx + step
    out = np.where(tall, np.clip(out, n_reg, len(ALL_SIZES) - 1), np.clip(out, 0, n_reg - 1))
    return out


# ----------------------------------------------------------------------------- reference


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


def make_territories(ctx: Ctx) -> pl.DataFrame:
    rows = [
        (f"T{i + 1:02d}", name, region, ",".join(states))
        for i, (name, region, states) in enumerate(vocab.TERRITORIES)
    ]
    rng = ctx.rng("world.territories")
    start = ctx.cal.start_us
    upd = start - rng.integers(30, 900, len(rows)) * US_PER_DAY
    return pl.DataFrame(
        rows, schema=["territory_id", "territory_name", "region", "states"], orient="row"
    ).with_columns(updated_us=pl.Series(upd))


def make_reps(ctx: Ctx) -> pl.DataFrame:
    rng = ctx.rng("world.reps")
    n = ctx.sized(80, floor=12)
    teams = ("Clienteling", "B2B Uniforms", "Big & Tall Direct", "Inside Sales")
    team_idx = np.arange(n) % 4
    rng.shuffle(team_idx[4:])
    rate_base = np.array([0.05, 0.03, 0.04, 0.02])[team_idx]
    first = pick(
        vocab.MALE_FIRST + vocab.FEMALE_FIRST,
        rng.integers(0, len(vocab.MALE_FIRST) + len(vocab.FEMALE_FIRST), n),
    )
    last = pick(vocab.LAST_COMMON, rng.integers(0, len(vocab.LAST_COMMON), n))
    ids = np.arange(1, n + 1)
    ctx.counters["sales_rep"] = max(ctx.counters.get("sales_rep", 0), n)
    manager = np.full(n, -1)
    for t in range(4):
        members = np.flatnonzero(team_idx == t)
        if len(members):
            manager[members[1:]] = members[0]
    hire = ctx.cal.start_day - rng.integers(-700, 3000, n)
    hire[manager == -1] = ctx.cal.start_day - rng.integers(1500, 3000, int((manager == -1).sum()))
    active = rng.random(n) > 0.1
    active[manager == -1] = True
    df = pl.DataFrame(
        {
            "rep_num": ids,
            "sales_rep_id": [f"R{i:04d}" for i in ids],
            "employee_id": [f"E{10000 + 37 * i:05d}" for i in ids],
            "first": first,
            "last": last,
            "territory_id": [f"T{(i % len(vocab.TERRITORIES)) + 1:02d}" for i in range(n)],
            "sales_team": np.asarray(teams)[team_idx],
            "team_idx": team_idx,
            "manager_idx": manager,
            "commission_rate": np.round(rate_base + rng.uniform(-0.005, 0.01, n), 4),
            "hire_day": hire,
            "is_active": active,
            "skill": np.exp(rng.normal(0, 0.3, n)),
            "speed": np.exp(rng.normal(0, 0.25, n)),
        }
    )
    df = df.with_columns(
        full_name=pl.concat_str([pl.col("first"), pl.lit(" "), pl.col("last")]),
        email=pl.concat_str(
            [
                pl.col("first").str.to_lowercase(),
                pl.lit("."),
                pl.col("last").str.to_lowercase(),
                pl.col("rep_num").cast(pl.String),
                pl.lit("@dxl-sales.example.com"),
            ]
        ),
        manager_id=pl.when(pl.col("manager_idx") >= 0)
        .then(pl.format("R{}", (pl.col("manager_idx") + 1).cast(pl.String).str.zfill(4)))
        .otherwise(None),
    )
    upd = np.maximum(hire, ctx.cal.start_day) * US_PER_DAY + rng.integers(0, 900, n) * US_PER_DAY
    return df.with_columns(updated_us=pl.Series(np.minimum(upd, ctx.cal.end_us - 1)))


CAMPAIGN_TYPES = (
    "Promotional",
    "Newsletter",
    "Abandoned Cart",
    "Product Recommendation",
    "Loyalty Reward",
    "Survey",
)
SUBJECTS = {
    "Promotional": (
        "Big & Tall deals: up to 40% off",
        "This weekend only: extra 20% off",
        "Your size is in stock - and on sale",
    ),
    "Newsletter": (
        "New arrivals in your size",
        "The fit guide: this season's essentials",
        "Style notes for the month",
    ),
    "Abandoned Cart": ("You left something in your cart", "Still thinking it over?"),
    "Product Recommendation": ("Picked for you, in your size", "Customers like you loved these"),
    "Loyalty Reward": ("Your points are waiting", "A reward for our members"),
    "Survey": ("Tell us how we did", "Two minutes to help us fit you better"),
}
SEGMENTS = (
    "All Subscribers",
    "Gold & Platinum",
    "Lapsed 90 Days",
    "FitMap Users",
    "New Subscribers",
    "Recent Buyers",
)


CAMPAIGN_WEEKDAY = 0
"""Campaigns go out weekly, on days whose number is this modulo 7 (0: Thursdays)."""


def make_campaigns(
    ctx: Ctx,
    n: int | None = None,
    day_lo: int | None = None,
    day_hi: int | None = None,
    stream: str = "world.campaigns",
) -> pl.DataFrame:
    """Campaigns with send dates in [day_lo, day_hi] (default: the history window).

    By default one campaign a week (on CAMPAIGN_WEEKDAY), whatever the scale, each reaching a
    share of its segment: e-mail events grow linearly with the number of people, and a month
    holds the same campaigns in the backfill as in daily loads. With ``n``, that many campaigns
    on random days of the range.
    """
    rng = ctx.rng(stream)
    share_factor = 1.0
    lo = ctx.cal.start_day + 3 if day_lo is None else day_lo
    hi = ctx.cal.end_day - 1 if day_hi is None else day_hi
    if n is None:
        send = np.arange(lo, hi + 1)
        send = send[send % 7 == CAMPAIGN_WEEKDAY]
        n = len(send)
    else:
        send = np.sort(rng.integers(lo, hi + 1, n))
    type_idx = weighted(rng, [0.35, 0.2, 0.12, 0.15, 0.1, 0.08], n)
    channel_idx = weighted(rng, [0.78, 0.14, 0.08], n)
    nums = ctx.take("campaign", n)
    subj = []
    u = rng.random(n)
    for i in range(n):  # a few hundred campaigns at most
        options = SUBJECTS[CAMPAIGN_TYPES[type_idx[i]]]
        subj.append(options[int(u[i] * len(options))])
    seg_idx = np.where(
        type_idx == 4, 1, np.where(type_idx == 0, 0, rng.integers(0, len(SEGMENTS), n))
    )
    months = send.astype("datetime64[D]").astype(str)
    names = [
        f"{CAMPAIGN_TYPES[t]} {m[:7]} #{k}" for t, m, k in zip(type_idx, months, nums, strict=True)
    ]
    return pl.DataFrame(
        {
            "campaign_num": nums,
            "campaign_id": [f"CMP{k:05d}" for k in nums],
            "campaign_name": names,
            "campaign_type": np.asarray(CAMPAIGN_TYPES)[type_idx],
            "type_idx": type_idx,
            "channel": np.asarray(("email", "sms", "push"))[channel_idx],
            "subject_line": subj,
            "audience_segment": np.asarray(SEGMENTS)[seg_idx],
            "send_day": send,
            "audience_share": np.minimum(rng.uniform(0.08, 0.24, n) * share_factor, 0.95),
            "share_factor": np.full(n, min(share_factor, 1.0)),
            "budget": np.round(rng.lognormal(8.5, 0.7, n), 2).clip(100, 250000),
            "updated_us": (send - rng.integers(1, 10, n)) * US_PER_DAY
            + rng.integers(0, US_PER_DAY, n),
        }
    )


EXPERIMENT_DEFS = (
    # name, metric, surface, variants, intended split, base rate, relative effects, status, srm
    (
        "FitMap size filter on PLP",
        "conversion",
        "web",
        ("control", "treatment"),
        (50, 50),
        0.060,
        (0.0, 0.45),
        "completed",
        False,
    ),
    (
        "Free shipping threshold $75",
        "conversion",
        "web",
        ("control", "treatment"),
        (50, 50),
        0.055,
        (0.0, 0.0),
        "completed",
        False,
    ),
    (
        "Tall-fit hero banner",
        "click_through",
        "app",
        ("control", "treatment"),
        (50, 50),
        0.110,
        (0.0, 0.35),
        "completed",
        False,
    ),
    (
        "Loyalty points reminder e-mail",
        "conversion",
        "email",
        ("control", "treatment"),
        (50, 50),
        0.040,
        (0.0, 0.60),
        "completed",
        False,
    ),
    (
        "Kiosk size recommender",
        "conversion",
        "store_kiosk",
        ("control", "treatment"),
        (50, 50),
        0.080,
        (0.0, 0.0),
        "completed",
        True,
    ),
    (
        "Checkout upsell carousel",
        "revenue_per_user",
        "web",
        ("control", "variant_b", "variant_c"),
        (34, 33, 33),
        0.050,
        (0.0, 0.40, -0.30),
        "completed",
        False,
    ),
    (
        "Search re-rank by fit",
        "conversion",
        "app",
        ("control", "treatment"),
        (50, 50),
        0.070,
        (0.0, 0.40),
        "stopped",
        False,
    ),
    (
        "Win-back discount 15%",
        "conversion",
        "email",
        ("control", "treatment"),
        (50, 50),
        0.030,
        (0.0, 0.80),
        "running",
        False,
    ),
    (
        "Size chart redesign",
        "click_through",
        "web",
        ("control", "treatment"),
        (50, 50),
        0.090,
        (0.0, 0.0),
        "running",
        False,
    ),
    (
        "Personal stylist chat",
        "conversion",
        "web",
        ("control", "treatment"),
        (50, 50),
        0.050,
        (0.0, 0.15),
        "draft",
        False,
    ),
)
EXPERIMENT_COVERAGE = 0.65
"""Share of the customers active during an experiment who get assigned to it."""


def make_experiments(ctx: Ctx) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Experiments (one row each) and their variants with true conversion rates and effects."""
    rng = ctx.rng("world.experiments")
    start, end = ctx.cal.start_day, ctx.cal.end_day
    exps, variants = [], []
    span = end - start
    for i, (name, metric, surface, vs, split, base, effects, status, srm) in enumerate(
        EXPERIMENT_DEFS
    ):
        if status == "draft":
            s_day, e_day = end + 14, None
        elif status == "running":
            s_day, e_day = end - 45 - 10 * i % 30, None
        else:
            s_day = start + 60 + int(i * span / (len(EXPERIMENT_DEFS) + 1))
            e_day = s_day + (21 if status == "stopped" else 42)
        exps.append(
            {
                "experiment_num": i + 1,
                "experiment_id": f"EXP{i + 1:03d}",
                "experiment_name": name,
                "hypothesis": f"{name} raises {metric.replace('_', ' ')}.",
                "primary_metric": metric,
                "surface": surface,
                "variants": ",".join(vs),
                "traffic_split": "/".join(str(s) for s in split),
                "status": status,
                "start_day": s_day,
                "end_day": e_day,
                "is_srm": srm,
                "coverage": EXPERIMENT_COVERAGE * rng.uniform(0.8, 1.0),
            }
        )
        # SRM: the assignment service drops part of the treatment group (55/45 observed)
        actual = np.array(split, dtype=float)
        if srm:
            actual = np.array([55.0, 45.0])
        for k, v in enumerate(vs):
            rate = base * (1 + effects[k])
            variants.append(
                {
                    "experiment_id": f"EXP{i + 1:03d}",
                    "variant_id": v,
                    "variant_idx": k,
                    "true_conversion_rate": rate,
                    "true_effect": rate - base,
                    "true_relative_effect": effects[k],
                    "intended_share": split[k] / sum(split),
                    "actual_share": actual[k] / actual.sum(),
                    "is_srm": srm,
                    "true_click_rate": min(0.9, 2.5 * rate),
                    "mean_revenue": 95.0,
                }
            )
    ctx.counters["experiment"] = max(ctx.counters.get("experiment", 0), len(exps))
    return pl.DataFrame(exps), pl.DataFrame(variants)


MODEL_DEFS = (
    ("churn-xgb", "1.0", "churn", "xgboost", 0.74, -900, -400),
    ("churn-xgb", "2.0", "churn", "xgboost", 0.83, -400, None),
    ("cross-sell-mf", "1.0", "cross_sell", "matrix_factorization", 0.71, -800, None),
    ("clv-bgnbd", "1.0", "clv", "bg_nbd", None, -1000, -300),
    ("clv-bgnbd", "1.1", "clv", "bg_nbd", None, -300, None),
    ("affinity-rf", "1.0", "product_affinity", "random_forest", 0.69, -700, None),
    ("nba-logreg", "1.0", "next_best_action", "logistic_regression", 0.66, -1000, -500),
    ("nba-xgb", "2.0", "next_best_action", "xgboost", 0.72, -500, None),
    ("sentiment-vendor", "2.3", "sentiment", "transformer", 0.88, -1000, -200),
    ("sentiment-vendor", "2.4", "sentiment", "transformer", 0.91, -200, None),
)


def make_models(ctx: Ctx) -> pl.DataFrame:
    end = ctx.cal.end_day
    rows = []
    for i, (name, version, mtype, algo, auc, dep, depr) in enumerate(MODEL_DEFS):
        dep_day = end + dep
        rows.append(
            {
                "model_num": i + 1,
                "model_id": f"MDL{i + 1:03d}",
                "model_name": name,
                "model_version": version,
                "model_type": mtype,
                "algorithm": algo,
                "training_auc": auc,
                "deployed_us": (dep_day * US_PER_DAY) + 10 * 3600 * 10**6,
                "deprecated_us": None
                if depr is None
                else (end + depr) * US_PER_DAY + 9 * 3600 * 10**6,
                "is_active": depr is None,
            }
        )
    ctx.counters["model"] = max(ctx.counters.get("model", 0), len(rows))
    return pl.DataFrame(
        rows, schema_overrides={"training_auc": pl.Float64, "deprecated_us": pl.Int64}
    )


def day_number_2015() -> int:
    from datetime import date

    return day_number(date(2015, 1, 1))


# ----------------------------------------------------------------------------- BG/NBD


def simulate_purchases(
    ctx: Ctx, people: pl.DataFrame, end_us: int | None = None, stream: str = "world.purchases"
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Buy-till-you-die purchasing for shop customers, fully vectorised.

    Each customer makes a first purchase at ``first_purchase_day``; repeat purchases follow a
    Poisson process with rate lambda x seasonality; after each repeat purchase the customer
    drops out with probability p. Drawing N ~ Poisson(lambda * Lambda(T)) arrivals and
    D ~ Geometric(p) gives x = min(N, D) observed repeats and alive = N < D; the repeat times
    are the first x of N sorted uniform arrivals in cumulative-intensity space. Spend per order
    ~ Gamma(p, nu) with nu per person (Gamma-Gamma).

    Returns (orders skeleton sorted by person and time, per-person outcome).
    """
    rng = ctx.rng(stream)
    end_us = ctx.cal.end_us if end_us is None else end_us
    cust = people.filter(pl.col("in_shop"))
    idx = np.flatnonzero(people["in_shop"].to_numpy())
    n = len(cust)
    lam_day = cust["lambda_week"].to_numpy() / 7.0
    p = cust["p_dropout"].to_numpy()
    first_us = cust["first_purchase_day"].to_numpy() * US_PER_DAY + rng.integers(
        7 * 3600 * 10**6, 22 * 3600 * 10**6, n
    )
    first_us = np.minimum(first_us, end_us - 1)
    a = ctx.cal.cumulative(first_us)
    b = ctx.cal.cumulative(np.full(n, end_us))
    exposure = np.maximum(b - a, 0.0)
    N = rng.poisson(lam_day * exposure)
    D = rng.geometric(np.clip(p, 1e-6, 1.0))
    x = np.minimum(N, D)
    alive = N < D
    owner = np.repeat(np.arange(n), N)
    u = rng.random(len(owner))
    order = np.lexsort((u, owner))
    owner, u = owner[order], u[order]
    starts = np.concatenate([[0], np.cumsum(N)[:-1]])
    rank = np.arange(len(owner)) - starts[owner]
    keep = rank < x[owner]
    owner, u = owner[keep], u[keep]
    rep_us = ctx.cal.inverse(a[owner] + u * exposure[owner])
    rep_us = np.clip(rep_us, first_us[owner] + 60 * 10**6, end_us - 1)
    all_owner = np.concatenate([np.arange(n), owner])
    all_us = np.concatenate([first_us, rep_us])
    srt = np.lexsort((all_us, all_owner))
    all_owner, all_us = all_owner[srt], all_us[srt]
    nu = cust["nu"].to_numpy()
    spend = rng.gamma(GAMMA_GAMMA["p"], 1.0 / nu[all_owner])
    spend = np.clip(spend, 8.0, 6000.0)
    orders = pl.DataFrame(
        {
            "person_idx": idx[all_owner].astype(np.int64),
            "order_us": all_us,
            "spend": spend,
        }
    )
    last_us = np.full(n, 0, dtype=np.int64)
    np.maximum.at(last_us, all_owner, all_us)
    outcome = pl.DataFrame(
        {
            "person_id": cust["person_id"],
            "n_repeat": x.astype(np.int64),
            "alive": alive,
            "first_purchase_us": first_us,
            "last_purchase_us": last_us,
            "exposure_days": exposure,
        }
    )
    return orders, outcome
