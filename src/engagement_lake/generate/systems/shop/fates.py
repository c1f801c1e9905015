"""What happens to an order and its lines after they are placed, as a function of their ids.

An order is cancelled, shipped and delivered; a line fits or not and may come back weeks later.
The backfill sees all of it at once, a daily load one day at a time: a line bought during the
backfill may be returned in the first daily loads, a line bought today in three weeks. So these
fates are drawn from uniforms keyed by (seed, purpose, order or line number), not from a stream
consumed in order: any later load recomputes exactly the fate the backfill or an earlier load
drew, from bronze alone, and emits the events that fall on its day.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engagement_lake.generate.block import allowed
from engagement_lake.generate.columns import US_PER_DAY
from engagement_lake.generate.context import Ctx, stream_key
from engagement_lake.generate.systems.shop import params as P

HOUR = 3600 * 1_000_000
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def keyed_uniforms(seed: int, purpose: str, keys: np.ndarray, k: int) -> np.ndarray:
    """``(len(keys), k)`` uniforms in [0, 1): splitmix64 of (seed, purpose, key, column).

    Independent across purposes, keys and columns; the same for the same inputs in any process.
    """
    base = np.uint64((int(seed) * 0x9E3779B97F4A7C15 + stream_key(purpose)) % 2**64)
    keys = np.asarray(keys, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        z = keys[:, None] * np.uint64(k) + np.arange(k, dtype=np.uint64)[None, :]
        z = z * _GOLDEN + base
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _between(u: np.ndarray, lo_hi: tuple[float, float]) -> np.ndarray:
    return lo_hi[0] + u * (lo_hi[1] - lo_hi[0])


# ----------------------------------------------------------------------------- orders


def order_timeline(
    seed: int, order_num: np.ndarray, order_us: np.ndarray, is_store: np.ndarray
) -> dict[str, np.ndarray]:
    """Per order: cancelled or not, and when it is cancelled, shipped and delivered."""
    u = keyed_uniforms(seed, "shop.order_life", order_num, 4)
    cancelled = u[:, 0] < P.CANCEL_SHARE
    cancel_us = order_us + (_between(u[:, 1], P.CANCEL_HOURS) * HOUR).astype(np.int64)
    shipped = order_us + (_between(u[:, 2], P.SHIP_DAYS) * US_PER_DAY).astype(np.int64)
    delivered = order_us + (_between(u[:, 3], P.DELIVERY_DAYS) * US_PER_DAY).astype(np.int64)
    return {
        "cancelled": cancelled,
        "cancel_us": cancel_us,
        "shipped_us": np.where(is_store, order_us, shipped),
        "delivered_us": np.where(is_store, order_us, delivered),
    }


def order_status(
    ctx: Ctx, life: dict[str, np.ndarray], returned_us: np.ndarray, now: int
) -> tuple[np.ndarray, np.ndarray]:
    """(status index, time of the last change) of each order as seen at ``now``.

    ``returned_us`` is the time of the order's last return before ``now`` (0: none).
    """
    statuses = allowed(ctx, "shop.orders", "status")
    live = ~life["cancelled"]  # a cancelled order is never shipped
    cancelled = life["cancelled"] & (life["cancel_us"] < now)
    returned = live & (returned_us > 0)
    delivered = live & (life["delivered_us"] < now)
    shipped = live & (life["shipped_us"] < now)
    st = np.select(
        [cancelled, returned, delivered, shipped],
        [statuses.index(s) for s in ("cancelled", "returned", "delivered", "shipped")],
        statuses.index("placed"),
    )
    changed = np.select(
        [cancelled, returned, delivered, shipped],
        [life["cancel_us"], returned_us, life["delivered_us"], life["shipped_us"]],
        0,
    )  # 0: still as placed
    return st, changed


# ----------------------------------------------------------------------------- lines


def line_fit(
    seed: int,
    item_num: np.ndarray,
    apparel: np.ndarray,
    bias: np.ndarray,
    fitmap: np.ndarray,
    problem: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(fit, wrong_size) per line: fit -1 too small, 0 fine, +1 too large; ``wrong_size`` when
    the person ordered a size off their own (then the ordered size is shifted by ``fit``).

    People with a sizing problem and no FitMap scan order the wrong size more often; products
    that run small or large misfit unless FitMap warned the buyer."""
    u = keyed_uniforms(seed, "shop.line_fit", item_num, 2)
    p_person = np.where(
        fitmap, P.WRONG_SIZE_FITMAP, P.WRONG_SIZE_BASE + P.WRONG_SIZE_PER_PROBLEM * problem
    )
    p_product = np.where(fitmap, P.PRODUCT_MISFIT_FITMAP, P.PRODUCT_MISFIT) * (bias != 0)
    person_err = apparel & (u[:, 0] < p_person)
    product_err = apparel & ~person_err & (u[:, 0] < p_person + p_product)
    direction = np.where(u[:, 1] < 0.5, -1, 1)
    fit = np.where(person_err, direction, np.where(product_err, bias, 0)).astype(np.int64)
    return fit, person_err


def line_returns(
    ctx: Ctx,
    item_num: np.ndarray,
    fit: np.ndarray,
    quality: np.ndarray,
    qty: np.ndarray,
    delivered_us: np.ndarray,
    cancelled: np.ndarray,
) -> dict[str, Any]:
    """Whether each line comes back, when, why, how many units and whether it is exchanged.

    Lines that do not fit mostly come back (too small / too large, some ``poor_fit``); lines
    that fit come back more often the poorer the product, then mostly for quality."""
    u = keyed_uniforms(ctx.seed, "shop.line_return", item_num, 8)
    p_ret = np.where(
        fit != 0, P.RETURN_MISFIT, P.RETURN_BASE + P.RETURN_PER_QUALITY_GAP * (1 - quality) ** 2
    )
    ret = ~cancelled & (u[:, 0] < p_ret)
    ret_us = delivered_us + (_between(u[:, 1], P.RETURN_DAYS) * US_PER_DAY).astype(np.int64)
    reasons = allowed(ctx, "shop.returns", "reason")
    r_fit = np.where(fit < 0, reasons.index("too_small"), reasons.index("too_large"))
    r_fit = np.where(u[:, 2] < P.POOR_FIT_SHARE, reasons.index("poor_fit"), r_fit)
    other = list(P.OTHER_REASONS)
    w = np.cumsum(list(P.OTHER_REASONS.values()))
    k = np.minimum(np.searchsorted(w / w[-1], u[:, 4], side="right"), len(other) - 1)
    r_other = np.where(
        u[:, 3] < P.QUALITY_REASON[0] * (1 - quality) + P.QUALITY_REASON[1],
        reasons.index("quality"),
        np.asarray([reasons.index(r) for r in other])[k],
    )
    part = 1 + (u[:, 6] * qty).astype(np.int64)
    rq = np.clip(np.where(u[:, 5] < P.FULL_RETURN_SHARE, qty, part), 1, qty)
    exchange = u[:, 7] < np.where(fit != 0, P.EXCHANGE_MISFIT, P.EXCHANGE_OTHER)
    return {
        "returned": ret,
        "us": ret_us,
        "reason": np.where(fit != 0, r_fit, r_other),
        "qty": rq,
        "exchange": exchange,
    }
