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
