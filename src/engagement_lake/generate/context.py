"""Shared run context: seeded random streams, the calendar with its seasonality, id sequences.

Determinism rules live here so that every emitter follows them without thinking:
- every random stream is ``np.random.default_rng([seed, crc32(name), *ints])`` -- never the
  process-randomised ``hash()`` -- so the same seed gives the same data in any process;
- ids come from named sequences (``Ctx.take``); blocks of people that run side by side take
  interleaved lanes of each sequence, so a block's ids never depend on thread timing; the
  sequences are persisted in ``_truth/state.json`` so daily loads continue them without
  collisions;
- time is measured in integer microseconds (timestamps) and integer days (dates) since the Unix
  epoch, against the fixed as-of date, never the wall clock.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np

from engagement_lake.contracts import Contract
from engagement_lake.generate.columns import US_PER_DAY

EPOCH = date(1970, 1, 1)

# Monthly purchase intensity (Jan..Dec): the November/December peak the gold layer should find.
MONTH_SEASONALITY = (0.85, 0.80, 0.90, 0.95, 1.00, 0.95, 0.90, 0.95, 0.90, 1.00, 1.45, 1.75)
# Day-of-week intensity (Mon..Sun).
WEEKDAY_SEASONALITY = (0.92, 0.92, 0.95, 0.97, 1.04, 1.12, 1.08)

HISTORY_YEARS = 3

# Id sequences: name -> (prefix, digits). Integer ids (support) use prefix None.
ID_FORMATS: dict[str, tuple[str | None, int]] = {
    "customer": ("C", 7),
    "order": ("O", 9),
    "order_item": ("OI", 10),
    "return": ("RT", 9),
    "store_visit": ("SV", 10),
    "session": ("WS", 10),
    "product": ("P", 5),
    "contact": ("003", 12),
    "lead": ("00Q", 12),
    "opportunity": ("006", 12),
    "stage_history": ("OSH", 10),
    "activity": ("00T", 12),
    "quote": ("0Q0", 12),
    "commission": ("COM", 9),
    "quota": ("QTA", 8),
    "referral": ("REF", 8),
    "sales_rep": ("R", 4),
    "territory": ("T", 2),
    "requester": (None, 9),
    "ticket": (None, 9),
    "message": (None, 10),
    "call": ("CALL", 9),
    "survey": ("SR", 9),
    "subscriber": ("SUB", 8),
    "campaign": ("CMP", 5),
    "email_event": ("EE", 11),
    "journey_event": ("JE", 10),
    "member": ("L", 8),
    "ledger": ("PL", 10),
    "tier_change": ("TC", 9),
    "review": ("RV", 9),
    "scan": ("FM", 9),
    "mention": ("SM", 9),
    "model": ("MDL", 3),
    "prediction": ("PR", 11),
    "feature_value": ("FV", 11),
    "experiment": ("EXP", 3),
    "assignment": ("EA", 10),
    "experiment_event": ("EV", 11),
    "personalization": ("PE", 10),
    "recommendation": ("REC", 11),
    "feedback": ("RF", 10),
    "next_best_action": ("NBA", 10),
    "sentiment": ("NLP", 10),
    "profitability": ("FP", 10),
    "person": (None, 12),
}


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - EPOCH).days


def stream_key(name: str) -> int:
    """A stable 32-bit key for a stream name (crc32, unlike ``hash`` not salted per process)."""
    return zlib.crc32(name.encode())


class Calendar:
    """The history window and its seasonality, with inverse-CDF sampling of event times.

    ``cum`` is the cumulative intensity at each day boundary of a grid that extends well past
    the as-of date (daily loads sample from it too). Sampling uniformly in cumulative-intensity
    space between two bounds and mapping back gives times that follow the seasonal intensity
    exactly, for any per-row window, without a Python loop.
    """

    def __init__(self, as_of: date) -> None:
        self.as_of = as_of
        day_of_month = min(as_of.day, 28) if as_of.month == 2 else as_of.day
        start = date(as_of.year - HISTORY_YEARS, as_of.month, day_of_month) + timedelta(days=1)
        self.start = start
        self.start_day = day_number(start)
        self.end_day = day_number(as_of)
        self.n_days = self.end_day - self.start_day + 1
        self.grid_lo = self.start_day - 3 * 366 - 400
        self.grid_hi = self.end_day + 3 * 366
        days = np.arange(self.grid_lo, self.grid_hi + 1)
        dt = days.astype("datetime64[D]")
        month = dt.astype("datetime64[M]").astype(np.int64) % 12
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
        season = np.asarray(MONTH_SEASONALITY)[month] * np.asarray(WEEKDAY_SEASONALITY)[weekday]
        season = season / season.mean()
        self.intensity = season
        self.cum = np.concatenate([[0.0], np.cumsum(season)])
        self.grid_days = np.arange(self.grid_lo, self.grid_hi + 2, dtype=np.float64)

    # boundaries in microseconds ------------------------------------------------------------
    @property
    def start_us(self) -> int:
        return self.start_day * US_PER_DAY

    @property
    def end_us(self) -> int:
        """Exclusive end of the backfill's event times: 23:00 on the as-of date."""
        return self.day_end_us(self.end_day)

    @staticmethod
    def day_end_us(day: int) -> int:
        """Events of a load day end at 23:00; the landing runs at 23:30."""
        return day * US_PER_DAY + 23 * 3600 * 1_000_000

    def cumulative(self, us: np.ndarray) -> np.ndarray:
        """Cumulative seasonal intensity at times ``us`` (in 'effective days')."""
        d = np.asarray(us, dtype=np.float64) / US_PER_DAY
        return np.interp(d, self.grid_days, self.cum)

    def inverse(self, lam: np.ndarray) -> np.ndarray:
        d = np.interp(lam, self.cum, self.grid_days)
        return (d * US_PER_DAY).astype(np.int64)

    def sample(
        self, rng: np.random.Generator, lo_us: Any, hi_us: Any, n: int | None = None
    ) -> np.ndarray:
        """Seasonal random times in [lo, hi) per row (bounds broadcast)."""
        lo = np.asarray(lo_us, dtype=np.int64)
        hi = np.asarray(hi_us, dtype=np.int64)
        size = n if n is not None else np.broadcast(lo, hi).shape[0]
        a, b = self.cumulative(lo), self.cumulative(hi)
        u = rng.random(size)
        t = self.inverse(a + u * (b - a))
        return np.clip(t, lo, np.maximum(lo, hi - 1))


@dataclass
class Ctx:
    """Everything an emitter needs besides its own inputs."""

    seed: int
    scale: float
    as_of: date
    contracts: dict[str, Contract]
    cal: Calendar
    counters: dict[str, int] = field(default_factory=dict)
    faults: bool = False
    day: int | None = None
    """For daily loads: the load day (days since epoch); None for the backfill."""
    identity_noise: str = "realistic"
    """How much the identity systems garble people (``identity.NOISE_LEVELS``)."""

    def rng(self, name: str, *keys: int) -> np.random.Generator:
        """An independent, reproducible stream for one purpose (and block/chunk)."""
        extra = [int(k) for k in keys]
        if self.day is not None:
            extra.append(int(self.day))
        return np.random.default_rng([self.seed, stream_key(name), *extra])

    id_lanes: int = 1
    """Blocks generated side by side share each sequence as interleaved lanes (see for_block)."""
    id_lane: int = 0
    id_base: dict[str, int] = field(default_factory=dict)
    """Where the sequences stood when the lanes opened."""

    def take(self, sequence: str, n: int) -> np.ndarray:
        """The next ``n`` numbers of an id sequence (1-based; contiguous within one lane)."""
        start = self.counters.get(sequence, 0)
        self.counters[sequence] = start + int(n)
        local = np.arange(start, start + int(n), dtype=np.int64)
        if self.id_lanes == 1:
            return self.id_base.get(sequence, 0) + local + 1
        return self.id_base.get(sequence, 0) + local * self.id_lanes + self.id_lane + 1

    def for_block(self, index: int, lanes: int) -> Ctx:
        """The context of block ``index`` of ``lanes`` blocks that may run concurrently.

        Block ``b`` numbers its ids ``base + b + 1, base + b + 1 + lanes, ...``: what a block
        gets depends only on its own draws, never on how far another block has got, so blocks
        can run on several threads and the data stays the same for the same seed. With one
        block the ids are exactly the serial ones.
        """
        return replace(
            self, counters={}, id_lanes=lanes, id_lane=index, id_base=dict(self.counters)
        )

    def merge_blocks(self, blocks: list[Ctx]) -> None:
        """Advance the run-wide sequences past every id the blocks handed out."""
        for b in blocks:
            for seq, used in b.counters.items():
                if used:
                    top = b.id_base.get(seq, 0) + (used - 1) * b.id_lanes + b.id_lane + 1
                    self.counters[seq] = max(self.counters.get(seq, 0), top)

    def sized(self, base: float, floor: int = 1) -> int:
        """A count that scales with the scale factor, with a floor for small scales."""
        return max(floor, round(base * self.scale))

    @property
    def loaded_at_us(self) -> int:
        d = self.day if self.day is not None else self.cal.end_day
        return d * US_PER_DAY + (23 * 60 + 30) * 60 * 1_000_000

    @property
    def now_us(self) -> int:
        """Exclusive upper bound of event times in the current load."""
        d = self.day if self.day is not None else self.cal.end_day
        return Calendar.day_end_us(d)
