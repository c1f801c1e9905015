"""A block of people and everything they do: the unit of generation and of memory.

Big event tables are generated block by block (a fixed number of people per block), so memory
stays bounded as the scale grows while ids, which come from run-wide sequences advanced in a
fixed order, stay unique and deterministic. Emitters read the block's people and what earlier
emitters produced (orders before returns, returns before tickets, ...) and add finished tables
to ``Block.tables``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from engagement_lake.generate.columns import digit_ids
from engagement_lake.generate.context import ID_FORMATS, Ctx
from engagement_lake.generate.world import World

BLOCK_PEOPLE = 25_000
"""People per block: bounds the generator's working set independently of the scale."""


@dataclass
class Frame:
    """One table's columns (numpy / Arrow / Polars values) ready for the writer."""

    columns: dict[str, Any]
    n: int


@dataclass
class Block:
    ctx: Ctx
    world: World
    index: int
    lo: int
    hi: int
    people: pl.DataFrame
    tables: dict[str, list[Frame]] = field(default_factory=dict)
    identity: list[pl.DataFrame] = field(default_factory=list)
    texts: list[pl.DataFrame] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    """Intermediate results shared between emitters (orders, items, returns, ...)."""
    arrow: dict[str, list[pa.Table]] = field(default_factory=dict)
    """The finished tables as contract-typed Arrow, ready for the writer."""

    @property
    def n(self) -> int:
        return self.hi - self.lo

    def rng(self, name: str) -> np.random.Generator:
        return self.ctx.rng(name, self.index)

    def add(self, fqn: str, columns: dict[str, Any], n: int | None = None) -> None:
        if n is None:
            n = _length(columns)
        self.tables.setdefault(fqn, []).append(Frame(columns, n))

    def col(self, name: str) -> np.ndarray:
        return self.people[name].to_numpy()


def _length(columns: dict[str, Any]) -> int:
    for v in columns.values():
        if v is not None and not isinstance(v, str | int | float | bool):
            return len(v)
    raise ValueError("cannot infer the row count of a frame with only scalar columns")


def make_ids(sequence: str, nums: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Format id numbers of a sequence (``O000000123``); null where ``valid`` is False."""
    prefix, width = ID_FORMATS[sequence]
    if prefix is None:
        return pa.array(np.asarray(nums, dtype=np.int64), mask=None if valid is None else ~valid)
    arr = digit_ids(prefix, np.where(valid, nums, 0) if valid is not None else nums, width)
    if valid is not None and not np.asarray(valid).all():
        valid = np.asarray(valid, dtype=bool)
        bufs = arr.buffers()
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
        arr = pa.Array.from_buffers(
            pa.string(), len(arr), [bitmap, bufs[1], bufs[2]], null_count=int((~valid).sum())
        )
    return arr


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ``counts[i]`` children of parent i: (parent index, rank within parent) per child."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    rank = np.arange(len(owner)) - starts[owner]
    return owner, rank


def group_cumsum(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Running sum of ``values`` within runs of equal ``owner`` (owner must be sorted)."""
    c = np.cumsum(values)
    if len(c) == 0:
        return c
    start = np.r_[True, owner[1:] != owner[:-1]]
    first_idx = np.flatnonzero(start)
    base = np.repeat(c[first_idx] - values[first_idx], np.diff(np.r_[first_idx, len(owner)]))
    return c - base


def next_event(
    ev_owner: np.ndarray, ev_us: np.ndarray, q_owner: np.ndarray, q_us: np.ndarray, within_us: int
) -> np.ndarray:
    """Index of each query owner's first event at or after ``q_us`` and before q_us + within_us.

    Events must be sorted by (owner, time). -1 where there is none.
    """
    if len(ev_owner) == 0:
        return np.full(len(q_owner), -1, dtype=np.int64)
    sec = 1_000_000
    base = int(min(ev_us.min(initial=0), q_us.min(initial=0)) // sec) - 1
    span = 10**10
    ek = ev_owner.astype(np.int64) * span + (ev_us // sec - base)
    qk = q_owner.astype(np.int64) * span + (q_us // sec - base)
    pos = np.searchsorted(ek, qk, side="left")
    ok = pos < len(ek)
    pos_c = np.minimum(pos, len(ek) - 1)
    ok &= ev_owner[pos_c] == q_owner
    ok &= ev_us[pos_c] < q_us + within_us
    return np.where(ok, pos_c, -1)


def last_before(
    ev_owner: np.ndarray, ev_us: np.ndarray, q_owner: np.ndarray, q_us: np.ndarray
) -> np.ndarray:
    """Index of each query owner's last event strictly before ``q_us`` (-1 if none)."""
    if len(ev_owner) == 0:
        return np.full(len(q_owner), -1, dtype=np.int64)
    sec = 1_000_000
    base = int(min(ev_us.min(initial=0), q_us.min(initial=0)) // sec) - 1
    span = 10**10
    ek = ev_owner.astype(np.int64) * span + (ev_us // sec - base)
    qk = q_owner.astype(np.int64) * span + (q_us // sec - base)
    pos = np.searchsorted(ek, qk, side="left") - 1
    ok = pos >= 0
    pos_c = np.maximum(pos, 0)
    ok &= ev_owner[pos_c] == q_owner
    return np.where(ok, pos_c, -1)


def choose_weighted(
    rng: np.random.Generator, weights: list[float] | tuple[float, ...], n: int
) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    return np.searchsorted(np.cumsum(w / w.sum()), rng.random(n), side="right").clip(0, len(w) - 1)


def allowed(ctx: Ctx, fqn: str, column: str) -> tuple[Any, ...]:
    """A column's allowed values, straight from its contract."""
    values = ctx.contracts[fqn].column(column).allowed_values
    if values is None:
        raise KeyError(f"{fqn}.{column} has no allowed values in its contract")
    return values


def enum_draw(
    rng: np.random.Generator, ctx: Ctx, fqn: str, column: str, weights: dict[str, float], n: int
) -> tuple[tuple[Any, ...], np.ndarray]:
    """Draw indices into a column's contract-allowed values with weights given by value.

    Values the contract allows but ``weights`` does not mention get weight 0; a weight for a
    value the contract does not allow is an error (the contract changed under the generator).
    """
    values = allowed(ctx, fqn, column)
    unknown = set(weights) - set(values)
    if unknown:
        raise KeyError(f"{fqn}.{column}: {sorted(unknown)} not allowed by the contract")
    w = [weights.get(v, 0.0) for v in values]
    return values, choose_weighted(rng, w, n)
