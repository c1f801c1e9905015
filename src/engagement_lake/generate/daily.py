"""The working state of one daily load, shared by every source system's daily rows.

``Bronze`` reads what earlier loads landed; ``Day`` carries the day's context, the world's
people and identity records, and collects the frames each system adds. System modules under
``generate/systems`` import this, and ``generate/increment.py`` runs them in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engagement_lake.contracts import Contract
from engagement_lake.generate import world
from engagement_lake.generate.columns import US_PER_DAY
from engagement_lake.generate.context import Ctx

HOUR = 3600 * 1_000_000
MINUTE = 60 * 1_000_000
LATE_SHARE = 0.05
REPLAY_SHARE = 0.002
REPLAY_MAX = 200


# ----------------------------------------------------------------------------- bronze access


class Bronze:
    """Reads what earlier loads landed (skipping files a fault made unreadable)."""

    def __init__(
        self, data_dir: Path, contracts: dict[str, Contract], faults: pl.DataFrame
    ) -> None:
        self.data_dir = data_dir
        self.contracts = contracts
        bad_files = faults.filter(
            pl.col("fault_kind").is_in(
                [
                    "truncated_file",
                    "corrupt_pages",
                    "bad_partition",
                    "extra_column",
                    "missing_column",
                    "uncastable_value",
                ]
            )
        )["file"].to_list()
        self.bad_files = set(bad_files)
        self.fault_keys = {
            (f"{s}.{t}", k)
            for s, t, k in faults.filter(pl.col("source_key").is_not_null())
            .select("system", "table", "source_key")
            .iter_rows()
        }
        self.con = duckdb.connect()
        self.con.execute("SET threads TO 2")

    def files(self, fqn: str) -> list[str]:
        c = self.contracts[fqn]
        root = self.data_dir / "bronze" / c.system / c.table
        out = []
        for f in sorted(root.glob("load_date=*/*.parquet")):
            if str(f.relative_to(self.data_dir)) not in self.bad_files:
                out.append(str(f))
        return out

    def latest(self, fqn: str, where: str = "TRUE", columns: str | None = None) -> pl.DataFrame:
        """The newest version of every key (by load, then file), ordered by key."""
        c = self.contracts[fqn]
        files = self.files(fqn)
        cols = ", ".join(f'"{x.name}"' for x in c.columns) if columns is None else columns
        if not files:
            return pl.DataFrame()
        pk = f'"{c.primary_key[0]}"'
        sql = f"""
            SELECT {cols} FROM (
                SELECT *, row_number() OVER (PARTITION BY {pk}
                    ORDER BY _loaded_at DESC, _source_file DESC) AS _rn
                FROM read_parquet({files!r}, union_by_name = true)
                WHERE {pk} IS NOT NULL
            ) WHERE _rn = 1 AND ({where}) ORDER BY {pk}"""
        df = self.con.execute(sql).pl()
        keys = {k for f, k in self.fault_keys if f == fqn}
        if keys and len(df):
            df = df.filter(~pl.col(c.primary_key[0]).cast(pl.String).is_in(sorted(keys)))
        return df

    def query(self, sql: str) -> pl.DataFrame:
        return self.con.execute(sql).pl()

    def scan(self, fqn: str) -> str:
        return f"read_parquet({self.files(fqn)!r}, union_by_name = true)"

    def replay_rows(self, fqn: str, rng: np.random.Generator) -> pa.Table | None:
        """Exact copies of a few rows of the most recent earlier load of ``fqn``."""
        c = self.contracts[fqn]
        files = self.files(fqn)
        if not files:
            return None
        last_dir = Path(files[-1]).parent
        part_files = [f for f in files if Path(f).parent == last_dir]
        table = pa.concat_tables(
            [pq.read_table(f, columns=[x.name for x in c.columns]) for f in part_files],
            promote_options="permissive",
        )
        pk = c.primary_key[0]
        keys = {k for f, k in self.fault_keys if f == fqn}
        mask = pc.is_valid(table.column(pk)).to_numpy(zero_copy_only=False)
        if keys:
            mask &= ~np.isin(
                table.column(pk).cast(pa.string()).to_numpy(zero_copy_only=False), sorted(keys)
            )
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            return None
        k = int(np.clip(round(REPLAY_SHARE * len(idx)), 1, REPLAY_MAX))
        pick = np.sort(rng.choice(idx, min(k, len(idx)), replace=False))
        return table.take(pick)


# ----------------------------------------------------------------------------- day state


@dataclass
class Day:
    """Working state of one daily load."""

    data_dir: Path
    ctx: Ctx
    w: world.World
    bronze: Bronze
    people: pl.DataFrame
    ident: pl.DataFrame
    tables: dict[str, list[Any]] = field(default_factory=dict)
    new_identity: list[pl.DataFrame] = field(default_factory=list)
    new_texts: list[pl.DataFrame] = field(default_factory=list)
    new_people_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    today_orders: dict[str, Any] | None = None
    today_sessions: dict[str, Any] | None = None
    session_draft: Any = None
    """The day's web sessions before e-mail attribution (``systems.shop.sessions.Draft``)."""
    new_members: pl.DataFrame | None = None

    @property
    def day(self) -> int:
        assert self.ctx.day is not None
        return self.ctx.day

    @property
    def start_us(self) -> int:
        return self.day * US_PER_DAY

    @property
    def end_us(self) -> int:
        return self.ctx.now_us

    def rng(self, name: str) -> np.random.Generator:
        return self.ctx.rng("day." + name)

    def add(self, fqn: str, frame: dict[str, Any] | pl.DataFrame) -> None:
        if isinstance(frame, pl.DataFrame):
            if frame.is_empty():
                return
            frame = {c: frame[c] for c in frame.columns}
        self.tables.setdefault(fqn, []).append(frame)

    def times(self, rng: np.random.Generator, n: int, late: bool = True) -> np.ndarray:
        """Event times of the day (06:00-23:00); a few are 1-3 days late."""
        us = self.start_us + rng.integers(6 * HOUR, 23 * HOUR, n)
        if late and n:
            shift = (rng.random(n) < LATE_SHARE) * rng.integers(1, 4, n) * US_PER_DAY
            us = us - shift
        return us

    def primary(self, system: str) -> pl.DataFrame:
        """person_id -> primary record id in one identity system."""
        return (
            self.ident.filter((pl.col("source_system") == system) & ~pl.col("is_duplicate"))
            .unique("person_id", keep="first", maintain_order=True)
            .select("person_id", "source_id")
        )


def load_people(path: Path) -> pl.DataFrame:
    df = pl.read_parquet(path)
    return df.with_columns(
        birth_day=pl.col("birth_date").cast(pl.Int32).cast(pl.Int64),
        first_purchase_day=pl.col("first_purchase_date").cast(pl.Int32).cast(pl.Int64),
        signup_day=pl.col("signup_date").cast(pl.Int32).cast(pl.Int64),
    ).drop("birth_date", "first_purchase_date", "signup_date", "last_purchase_at", "is_customer")


def idx_of_people(d: Day, person_ids: np.ndarray) -> np.ndarray:
    pid = d.people["person_id"].to_numpy()
    return np.searchsorted(pid, person_ids)
