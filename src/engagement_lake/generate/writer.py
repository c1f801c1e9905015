"""Parquet landing: ``bronze/<system>/<table>/load_date=YYYY-MM-DD/part-NNNN.parquet``.

The writer is the only place that knows the file layout and the landing metadata. It converts
each emitter frame to the contract's Arrow schema (contract column order, exact physical types),
appends ``_loaded_at``, ``_source_file`` (path relative to the data folder) and ``_batch_id``,
splits large frames into parts of at most ``MAX_PART_ROWS`` rows, and writes the files on a
background thread so that generating the next block overlaps with compressing this one (the
Parquet encoder releases the GIL). Writes are deterministic: same frames, same bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from engagement_lake.contracts import METADATA_COLUMNS, Contract
from engagement_lake.generate.columns import arrow_type, to_arrow

MAX_PART_ROWS = 500_000
ROW_GROUP_ROWS = 131_072
COMPRESSION = "zstd"
WRITER_THREADS = 2
"""Parquet encoding releases the GIL: two encoder threads keep both cores busy while the main
thread generates the next block."""


def source_schema(contract: Contract) -> pa.Schema:
    """Arrow schema of the contract's own columns, in contract order.

    Every field is nullable in Parquet (OPTIONAL): bronze lands what the source sent, and a
    required column that arrives null is a contract violation for staging to quarantine, not a
    file the landing refuses to write.
    """
    return pa.schema([pa.field(c.name, arrow_type(c.physical_type)) for c in contract.columns])


def contract_schema(contract: Contract) -> pa.Schema:
    """Arrow schema of a bronze file: contract columns, then the landing metadata."""
    return pa.schema(
        list(source_schema(contract))
        + [pa.field(c.name, arrow_type(c.physical_type)) for c in METADATA_COLUMNS]
    )


REFERENCE_TABLES = {
    "shop.products",
    "marketing.campaigns",
    "crm.sales_reps",
    "crm.territories",
    "mlops.model_registry",
    "mlops.experiments",
}
LOW_CARDINALITY = {
    "store_id",
    "variant_id",
    "model_version",
    "topics",
    "currency",
    "promo_code",
    "link_url",
    "subject",
    "stage",
    "utm_campaign",
    "offer_id",
    "commission_period",
    "state",
    "mailing_state",
    "title",
}


def dictionary_columns(contract: Contract) -> list[str]:
    """Columns worth dictionary pages: enums, keys of small reference tables, landing metadata.

    Dictionary-encoding unique ids costs encoder time for nothing (it falls back to plain
    pages), so it is switched on only where values repeat.
    """
    cols = [
        c.name
        for c in contract.columns
        if c.allowed_values
        or c.name in LOW_CARDINALITY
        or (c.reference is not None and c.reference.table_fqn in REFERENCE_TABLES)
    ]
    return [*cols, "_source_file", "_batch_id"]


def plain(table: pa.Table, contract: Contract) -> pa.Table:
    """The table with dictionary-encoded strings decoded (for concatenation and edits)."""
    return table.cast(source_schema(contract)) if table.schema != source_schema(contract) else table


def relative_part(contract: Contract, load_date: date, part: int) -> str:
    return (
        f"bronze/{contract.system}/{contract.table}/load_date={load_date.isoformat()}/"
        f"part-{part:04d}.parquet"
    )


def write_table(path: Path, table: pa.Table, dictionary: list[str] | bool = True) -> None:
    """Write one Parquet file.

    ``store_schema=False``: the file's Parquet types alone describe it (string, int64,
    decimal(p,s), date, timestamp[us] without time zone), so dictionary-encoded input columns
    read back as plain strings.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(dictionary, list):
        dictionary = [c for c in dictionary if c in table.schema.names]
    pq.write_table(
        table,
        path,
        compression=COMPRESSION,
        row_group_size=ROW_GROUP_ROWS,
        use_dictionary=dictionary,
        store_schema=False,
    )


class LakeWriter:
    """Writes one load (backfill or day) of every table."""

    def __init__(
        self,
        data_dir: Path,
        contracts: dict[str, Contract],
        load_date: date,
        batch_id: str,
        loaded_at_us: int,
        on_write: Callable[[str, int], None] | None = None,
        background: bool = True,
    ) -> None:
        self.data_dir = data_dir
        self.contracts = contracts
        self.load_date = load_date
        self.batch_id = batch_id
        self.loaded_at_us = loaded_at_us
        self.on_write = on_write
        self.rows: dict[str, int] = {fqn: 0 for fqn in contracts}
        self.files: list[Path] = []
        self._next_part: dict[str, int] = {}
        self._pool = ThreadPoolExecutor(max_workers=WRITER_THREADS) if background else None
        self._pending: list[Future[None]] = []
        self._lock = threading.Lock()

    # -------------------------------------------------------------------------------- parts
    def next_part(self, fqn: str) -> tuple[int, str]:
        part = self._next_part.get(fqn, 0)
        self._next_part[fqn] = part + 1
        return part, relative_part(self.contracts[fqn], self.load_date, part)

    def arrow(self, fqn: str, columns: dict[str, Any], n: int) -> pa.Table:
        """The contract-typed table of an emitter frame (without metadata columns)."""
        contract = self.contracts[fqn]
        unknown = set(columns) - {c.name for c in contract.columns}
        if unknown:
            raise KeyError(f"{fqn}: columns {sorted(unknown)} are not in the contract")
        arrays = []
        for col in contract.columns:
            try:
                arr = to_arrow(columns.get(col.name), col, n)
            except Exception as exc:  # pragma: no cover - a bug in an emitter
                raise TypeError(f"{fqn}.{col.name}: {exc}") from exc
            if len(arr) != n:
                raise ValueError(f"{fqn}.{col.name}: {len(arr)} values for {n} rows")
            arrays.append(arr)
        expected = source_schema(contract)
        fields = [
            pa.field(f.name, a.type) if pa.types.is_dictionary(a.type) else f
            for f, a in zip(expected, arrays, strict=True)
        ]
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))

    def with_metadata(self, table: pa.Table, rel: str) -> pa.Table:
        n = table.num_rows
        loaded = pa.array(np.full(n, self.loaded_at_us, dtype=np.int64)).view(pa.timestamp("us"))
        # one value per file: dictionary arrays, so neither a column of n copies of the string
        # is built nor does the Parquet encoder hash n strings to find that they are equal
        zeros = pa.array(np.zeros(n, dtype=np.int32))
        meta = [
            loaded,
            pa.DictionaryArray.from_arrays(zeros, pa.array([rel], type=pa.string())),
            pa.DictionaryArray.from_arrays(zeros, pa.array([self.batch_id], type=pa.string())),
        ]
        for col, arr in zip(METADATA_COLUMNS, meta, strict=True):
            table = table.append_column(pa.field(col.name, arr.type), arr)
        return table

    def write(self, fqn: str, columns: dict[str, Any], n: int) -> list[tuple[str, int, int]]:
        """Write a frame as one or more parts; returns (relative file, first row, end row)."""
        table = self.arrow(fqn, columns, n)
        return self.write_arrow(fqn, table)

    def write_arrow(self, fqn: str, table: pa.Table) -> list[tuple[str, int, int]]:
        out = []
        n = table.num_rows
        for start in range(0, max(n, 1), MAX_PART_ROWS):
            piece = table.slice(start, MAX_PART_ROWS)
            _, rel = self.next_part(fqn)
            self._submit(
                self.data_dir / rel,
                self.with_metadata(piece, rel),
                dictionary_columns(self.contracts[fqn]),
            )
            out.append((rel, start, start + piece.num_rows))
            self.rows[fqn] += piece.num_rows
            if self.on_write:
                self.on_write(fqn, piece.num_rows)
        return out

    def write_raw(self, rel: str, table: pa.Table) -> Path:
        """Write a table as is (schema-drift fault files): no conversion, no row accounting."""
        path = self.data_dir / rel
        self._submit(path, table)
        return path

    def _submit(self, path: Path, table: pa.Table, dictionary: list[str] | bool = True) -> None:
        self.files.append(path)
        if self._pool is None:
            write_table(path, table, dictionary)
            return
        # bound the queue (memory): a few tables waiting for the encoders
        while len(self._pending) >= WRITER_THREADS + 1:
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(write_table, path, table, dictionary))

    def close(self) -> None:
        for f in self._pending:
            f.result()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
