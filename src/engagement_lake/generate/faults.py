"""Opt-in fault injection: labelled contract violations, schema drift and a truncated file.

Faulty rows are *copies* of real rows with a fresh primary key (from the top of the key space,
so they can never collide with generated keys) and exactly one broken value, appended to the
table's last part file of the load; nothing references them, so a fault never cascades into
orphans elsewhere. Every injected fault is listed in ``_truth/faults.parquet`` with
(system, table, file, source_key, fault_kind, column); tests re-detect each kind from the files
and compare the sets exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from engagement_lake.contracts import Contract
from engagement_lake.generate.context import ID_FORMATS
from engagement_lake.generate.writer import LakeWriter, write_table

ROW_FAULT_KINDS = (
    "null_primary_key",
    "missing_required",
    "unknown_allowed_value",
    "out_of_range",
    "unparsable_date",
    "orphan_foreign_key",
    "uncastable_value",
)
"""Faults in single rows: the build quarantines each row with this reason."""
FILE_FAULT_KINDS = (
    "extra_column",
    "missing_column",
    "truncated_file",
    "corrupt_pages",
    "bad_partition",
    "foreign_file",
)
"""Faults in whole files or folders: absorbed (drift), named by the preflight, or set aside."""
FAULT_KINDS = ROW_FAULT_KINDS + FILE_FAULT_KINDS

PK_SEQUENCE = {
    "shop.orders": "order",
    "shop.returns": "return",
    "shop.customers": "customer",
    "marketing.email_events": "email_event",
    "support.ticket_messages": "message",
    "mlops.recommendations_served": "recommendation",
    "crm.opportunities": "opportunity",
    "support.tickets": "ticket",
    "reviews.product_reviews": "review",
    "fitmap.scans": "scan",
    "crm.leads": "lead",
    "loyalty.points_ledger": "ledger",
    "social.mentions": "mention",
}


@dataclass(frozen=True)
class RowFault:
    kind: str
    fqn: str
    column: str
    value: Any


ROW_FAULTS: tuple[RowFault, ...] = (
    RowFault("null_primary_key", "shop.orders", "order_id", None),
    RowFault("null_primary_key", "marketing.email_events", "event_id", None),
    RowFault("null_primary_key", "support.ticket_messages", "message_id", None),
    RowFault("null_primary_key", "mlops.recommendations_served", "recommendation_id", None),
    RowFault("unknown_allowed_value", "shop.orders", "status", "lost_in_transit"),
    RowFault("unknown_allowed_value", "crm.opportunities", "stage_name", "Closed Maybe"),
    RowFault("unknown_allowed_value", "support.tickets", "priority", "Critical"),
    RowFault("unknown_allowed_value", "marketing.email_events", "event_type", "forward"),
    RowFault("out_of_range", "crm.opportunities", "amount", Decimal("750000.00")),
    RowFault("out_of_range", "shop.returns", "refund_amount", Decimal("-15.00")),
    RowFault("out_of_range", "reviews.product_reviews", "rating", 9),
    RowFault("out_of_range", "fitmap.scans", "height_cm", Decimal("999.9")),
    # dates outside the contract's window: before its minimum (the unknown member's date among
    # them), after its maximum, or later than the day the row landed
    RowFault("out_of_range", "shop.orders", "order_ts", datetime(1900, 1, 1)),
    RowFault("out_of_range", "shop.orders", "order_ts", datetime(2999, 1, 1)),
    RowFault("out_of_range", "shop.customers", "birth_date", "9999-12-31"),
    RowFault("out_of_range", "shop.customers", "birth_date", "2999-12-31"),
    RowFault("out_of_range", "shop.customers", "birth_date", "0001-01-01"),
    RowFault("out_of_range", "shop.customers", "signup_date", date(2099, 12, 31)),
    # whitespace is not a value
    RowFault("missing_required", "support.ticket_messages", "body", "   "),
    RowFault("missing_required", "crm.opportunities", "opportunity_name", " "),
    RowFault("unparsable_date", "crm.leads", "created_date", "2026-02-30"),
    RowFault("unparsable_date", "crm.leads", "created_date", "not a date"),
    RowFault("unparsable_date", "shop.customers", "birth_date", "31/12/1980"),
    RowFault("unparsable_date", "shop.customers", "birth_date", "N/A"),
    RowFault("orphan_foreign_key", "shop.orders", "customer_id", "C9999990"),
    RowFault("orphan_foreign_key", "reviews.product_reviews", "product_id", "P99990"),
    RowFault("orphan_foreign_key", "support.tickets", "requester_id", 999_999_990),
    RowFault("orphan_foreign_key", "loyalty.points_ledger", "member_id", "L99999990"),
)
"""Four rows per row-level kind, spread over tables; the same plan for every load."""

EXTRA_COLUMN = ("shop.orders", "gift_message")
MISSING_COLUMN = ("support.tickets", "subject")
TRUNCATED = "social.mentions"
CORRUPT_PAGES = "mlops.recommendations_served"
UNCASTABLE = ("shop.orders", "discount_amount", "abc")
"""A decimal column that arrives as text in one file, one value of which is not a number."""
BAD_PARTITION = ("reviews.product_reviews", "load_date={day:%d.%m.%Y}")
"""A partition folder whose date is not YYYY-MM-DD (one per load, so no load overwrites)."""
NO_PARTITION = ("loyalty.points_ledger", "{day:%Y-%m-%d}")
"""A dated folder without the ``load_date=`` key."""
FOREIGN_FILE = ("shop.orders", "export.csv")
DRIFT_ROWS = 5

IDENTITY_TABLES = {"shop.customers", "crm.leads"}


def fresh_key(fqn: str, k: int) -> Any:
    """A primary key from the top of the table's key space (never generated otherwise)."""
    prefix, width = ID_FORMATS[PK_SEQUENCE[fqn]]
    num = 10**width - 1 - k
    return num if prefix is None else f"{prefix}{num:0{width}d}"


def _set(table: pa.Table, name: str, values: list[Any]) -> pa.Table:
    i = table.schema.get_field_index(name)
    field = table.schema.field(i)
    return table.set_column(i, field, pa.array(values, type=field.type))


class FaultInjector:
    """Applies the plan to one load and collects the manifest rows."""

    def __init__(
        self, contracts: dict[str, Contract], load_index: int, rng: np.random.Generator
    ) -> None:
        self.contracts = contracts
        self.load_index = load_index
        self.rng = rng
        self.manifest: list[dict[str, Any]] = []
        self.identity: list[dict[str, Any]] = []
        self._k: dict[str, int] = {}

    def _key(self, fqn: str) -> Any:
        k = self._k.get(fqn, 0)
        self._k[fqn] = k + 1
        return fresh_key(fqn, self.load_index * 100 + k)

    def row_faults(
        self, fqn: str, table: pa.Table, person_of: dict[str, int] | None = None
    ) -> pa.Table:
        """Append this table's faulty copies to ``table`` (the load's last frame of it)."""
        plan = [f for f in ROW_FAULTS if f.fqn == fqn]
        if not plan or table.num_rows == 0:
            return table
        contract = self.contracts[fqn]
        pk = contract.primary_key[0]
        rows = []
        pending = []
        for f in plan:
            src = int(self.rng.integers(0, table.num_rows))
            row = table.slice(src, 1)
            original_key = row.column(pk)[0].as_py()
            key = None if f.kind == "null_primary_key" else self._key(fqn)
            row = _set(row, pk, [key])
            if f.kind != "null_primary_key":
                row = _set(row, f.column, [f.value])
            rows.append(row)
            pending.append((f, key, original_key))
            if fqn in IDENTITY_TABLES and key is not None and person_of is not None:
                self.identity.append(
                    {
                        "source_system": fqn,
                        "source_id": str(key),
                        "person_id": person_of.get(str(original_key)),
                        "is_duplicate": True,
                    }
                )
        self._pending = (fqn, table.num_rows, pending)
        return pa.concat_tables([table, *rows])

    def record_rows(self, written: list[tuple[str, int, int]]) -> None:
        """After writing: attribute the appended faulty rows to the part file holding them."""
        fqn, start, pending = self._pending
        system, table = fqn.split(".")
        for offset, (f, key, _) in enumerate(pending):
            pos = start + offset
            rel = next(r for r, a, b in written if a <= pos < b)
            self.manifest.append(
                {
                    "system": system,
                    "table": table,
                    "file": rel,
                    "source_key": None if key is None else str(key),
                    "fault_kind": f.kind,
                    "column": f.column,
                }
            )

    def _entry(self, fqn: str, rel: str, kind: str, column: str | None, key: Any = None) -> None:
        system, table = fqn.split(".")
        self.manifest.append(
            {
                "system": system,
                "table": table,
                "file": rel,
                "source_key": None if key is None else str(key),
                "fault_kind": kind,
                "column": column,
            }
        )

    def _rows(self, samples: dict[str, pa.Table], fqn: str) -> pa.Table | None:
        """A few sample rows of the table under fresh keys, or None without a sample."""
        base = samples.get(fqn)
        if base is None or base.num_rows == 0:
            return None
        pk = self.contracts[fqn].primary_key[0]
        idx = self.rng.choice(base.num_rows, min(DRIFT_ROWS, base.num_rows), replace=False)
        rows = base.take(np.sort(idx))
        return _set(rows, pk, [self._key(fqn) for _ in range(rows.num_rows)])

    def hostile_files(self, writer: LakeWriter, samples: dict[str, pa.Table]) -> None:
        """Files a hostile source sends: a decimal column as text with one non-number, data pages
        corrupt behind an intact footer, a malformed partition folder, a file outside any
        partition, and a CSV dropped into a table folder."""
        fqn, column, bad = UNCASTABLE
        rows = self._rows(samples, fqn)
        if rows is not None:
            i = rows.schema.get_field_index(column)
            text = [None if v is None else str(v) for v in rows.column(column).to_pylist()]
            text[0] = bad
            rows = rows.set_column(i, pa.field(column, pa.string()), pa.array(text))
            _, rel = writer.next_part(fqn)
            writer.rows[fqn] += rows.num_rows
            writer.write_raw(rel, writer.with_metadata(rows, rel))
            key = rows.column(self.contracts[fqn].primary_key[0])[0].as_py()
            self._entry(fqn, rel, "uncastable_value", column, key)
        rows = self._rows(samples, CORRUPT_PAGES)
        if rows is not None:
            _, rel = writer.next_part(CORRUPT_PAGES)
            path = writer.data_dir / rel
            write_table(path, writer.with_metadata(rows, rel))
            writer.files.append(path)
            writer.rows[CORRUPT_PAGES] += rows.num_rows
            import pyarrow.parquet as pq

            chunk = pq.read_metadata(path).row_group(0).column(0)
            with path.open("r+b") as fh:  # the first page header: the footer stays intact
                fh.seek(chunk.dictionary_page_offset or chunk.data_page_offset)
                fh.write(b"\xff" * 16)
            self._entry(CORRUPT_PAGES, rel, "corrupt_pages", None)
        for (fqn, folder), kind in (
            (BAD_PARTITION, "bad_partition"),
            (NO_PARTITION, "bad_partition"),
        ):
            rows = self._rows(samples, fqn)
            if rows is None:
                continue
            _, rel = writer.next_part(fqn)
            rel = str(
                Path(rel).parent.parent / folder.format(day=writer.load_date) / Path(rel).name
            )
            writer.rows[fqn] += rows.num_rows
            writer.write_raw(rel, writer.with_metadata(rows, rel))
            self._entry(fqn, rel, kind, None)
        fqn, name = FOREIGN_FILE
        _, rel = writer.next_part(fqn)
        rel = str(Path(rel).parent / name)
        path = writer.data_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("order_id,note\nO0000000001,exported by hand\n")
        self._entry(fqn, rel, "foreign_file", None)

    def file_faults(self, writer: LakeWriter, samples: dict[str, pa.Table]) -> None:
        """Schema drift (extra / missing column) and one truncated file, as separate parts;
        then the hostile files."""
        for (fqn, column), kind in (
            (EXTRA_COLUMN, "extra_column"),
            (MISSING_COLUMN, "missing_column"),
            ((TRUNCATED, None), "truncated_file"),
        ):
            base = samples.get(fqn)
            if base is None or base.num_rows == 0:
                continue
            contract = self.contracts[fqn]
            pk = contract.primary_key[0]
            idx = self.rng.choice(base.num_rows, min(DRIFT_ROWS, base.num_rows), replace=False)
            rows = base.take(np.sort(idx))
            rows = _set(rows, pk, [self._key(fqn) for _ in range(rows.num_rows)])
            _, rel = writer.next_part(fqn)
            if kind == "extra_column":
                rows = rows.append_column(
                    pa.field(column, pa.string()), pa.array(["Happy birthday!"] * rows.num_rows)
                )
            elif kind == "missing_column":
                rows = rows.drop_columns([column])
            table = writer.with_metadata(rows, rel)
            path = writer.data_dir / rel
            writer.rows[fqn] += rows.num_rows
            if kind == "truncated_file":
                write_table(path, table)  # synchronously: the bytes are cut right after
                writer.files.append(path)
                size = path.stat().st_size
                with path.open("r+b") as fh:
                    fh.truncate(size // 2)
            else:
                writer.write_raw(rel, table)
            system, tname = fqn.split(".")
            self.manifest.append(
                {
                    "system": system,
                    "table": tname,
                    "file": rel,
                    "source_key": None,
                    "fault_kind": kind,
                    "column": column,
                }
            )
        self.hostile_files(writer, samples)


def manifest_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {
        "system": pl.String,
        "table": pl.String,
        "file": pl.String,
        "source_key": pl.String,
        "fault_kind": pl.String,
        "column": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def read_manifest(path: Path) -> pl.DataFrame:
    if not path.exists():
        return manifest_frame([])
    return pl.read_parquet(path)
