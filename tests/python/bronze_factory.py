"""Small, contract-valid bronze tables built from the contracts alone.

The staging mechanism is tested on these rather than on the generator's world so that each
contract rule can be broken on purpose, one row at a time, with a known expected reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from engagement_lake.contracts import Column, Contract

AS_OF = datetime(2026, 6, 30, 6, 0, 0)
_PATTERN = re.compile(r"^\^(?P<prefix>[A-Za-z0-9]*)\[(?P<cls>[^\]]+)\]\{(?P<n>\d+)\}\$$")


def arrow_type(col: Column) -> pa.DataType:
    physical = col.physical_type.upper()
    if physical.startswith("DECIMAL"):
        precision, scale = (int(x) for x in re.findall(r"\d+", physical))
        return pa.decimal128(precision, scale)
    return {
        "VARCHAR": pa.string(),
        "BIGINT": pa.int64(),
        "INTEGER": pa.int32(),
        "DOUBLE": pa.float64(),
        "BOOLEAN": pa.bool_(),
        "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us"),
    }[physical]


def _key(col: Column, i: int) -> object:
    if col.logical_type == "integer":
        return i + 1
    match = _PATTERN.match(col.pattern or "")
    if match:
        return f"{match['prefix']}{i + 1:0{int(match['n'])}d}"
    return f"{col.name}-{i + 1:06d}"


def _value(col: Column, i: int, parents: Mapping[str, list[object]]) -> object:
    if col.primary_key:
        return _key(col, i)
    if col.reference is not None:
        keys = parents.get(f"{col.reference.table_fqn}.{col.reference.column}")
        if keys:
            return keys[i % len(keys)]
        return None if not col.required else _key(col, i)
    if col.allowed_values:
        return col.allowed_values[i % len(col.allowed_values)]
    kind = col.standardize
    if kind == "email":
        return f"  Person.{i}@Example.COM "
    if kind == "phone":
        return f"(555) 01{i % 10}-{1000 + i:04d}"
    if kind == "state":
        return "ny"
    if kind == "postcode":
        return f"{10000 + i:05d}"
    if kind in ("name", "address"):
        return f"  sMITH  {chr(97 + i % 26)}son "
    if col.logical_type == "integer":
        low = int(col.minimum) if col.minimum is not None else 0
        high = int(col.maximum) if col.maximum is not None else low + 100
        return low + i % (high - low + 1)
    if col.logical_type == "number":
        low = float(col.minimum) if col.minimum is not None else 0.0
        high = float(col.maximum) if col.maximum is not None else low + 100.0
        value = low + (high - low) * ((i * 37) % 100) / 100
        if col.physical_type.upper().startswith("DECIMAL"):
            scale = int(re.findall(r"\d+", col.physical_type)[1])
            return Decimal(f"{value:.{scale}f}")
        return value
    if col.logical_type == "boolean":
        return i % 2 == 0
    if col.logical_type == "date":
        day = date(2024, 1, 1) + timedelta(days=i)
        return day.isoformat() if col.physical_type == "VARCHAR" else day
    if col.logical_type == "timestamp":
        moment = datetime(2024, 1, 1, 12) + timedelta(days=i, minutes=i)
        return moment.isoformat(sep=" ") if col.physical_type == "VARCHAR" else moment
    if col.pattern:
        match = _PATTERN.match(col.pattern)
        if match:
            return f"{match['prefix']}{i % 1000:0{int(match['n'])}d}"
        if col.pattern.startswith("^[0-9]{4}-[0-9]{2}"):
            return "2024-01"
        if col.pattern == "^[0-9]{2}$":
            return f"{30 + i % 20}"
    return f"{col.name} {i}"


def build_rows(
    contracts: Mapping[str, Contract], rows_per_table: int = 6
) -> dict[str, list[dict[str, object]]]:
    """Valid rows for every table, parents before children so foreign keys resolve."""
    pending = dict(contracts)
    keys: dict[str, list[object]] = {}
    tables: dict[str, list[dict[str, object]]] = {}
    while pending:
        progressed = False
        for fqn, contract in list(pending.items()):
            needed = {
                c.reference.table_fqn
                for c in contract.columns
                if c.reference is not None and c.reference.required and c.reference.table_fqn != fqn
            }
            if not needed <= set(tables):
                continue
            rows = [
                {c.name: _value(c, i, keys) for c in contract.columns}
                for i in range(rows_per_table)
            ]
            tables[fqn] = rows
            for col in contract.columns:
                keys[f"{fqn}.{col.name}"] = [r[col.name] for r in rows if r[col.name] is not None]
            del pending[fqn]
            progressed = True
        assert progressed, f"reference cycle among {sorted(pending)}"
    return tables


def write_table(
    data_dir: Path,
    contract: Contract,
    rows: list[dict[str, object]],
    *,
    load_date: date | None = None,
    batch_id: str = "backfill",
    part: int = 0,
    drop_columns: tuple[str, ...] = (),
    extra_columns: Mapping[str, list[object]] | None = None,
) -> Path:
    """Land rows as one bronze Parquet file with the landing metadata columns."""
    load_date = load_date or AS_OF.date()
    rel = (
        Path("bronze")
        / contract.system
        / contract.table
        / f"load_date={load_date}"
        / f"part-{part:04d}.parquet"
    )
    path = data_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays, fields = [], []
    for col in contract.columns:
        if col.name in drop_columns:
            continue
        typ = arrow_type(col)
        arrays.append(pa.array([r.get(col.name) for r in rows], type=typ))
        fields.append(pa.field(col.name, typ))
    for name, values in (extra_columns or {}).items():
        arrays.append(pa.array(values))
        fields.append(pa.field(name, arrays[-1].type))
    loaded = datetime.combine(load_date, AS_OF.time())
    n = len(rows)
    arrays += [
        pa.array([loaded] * n, type=pa.timestamp("us")),
        pa.array([str(rel)] * n, type=pa.string()),
        pa.array([batch_id] * n, type=pa.string()),
    ]
    fields += [
        pa.field("_loaded_at", pa.timestamp("us")),
        pa.field("_source_file", pa.string()),
        pa.field("_batch_id", pa.string()),
    ]
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), path)
    return path


def write_lake(
    data_dir: Path, contracts: Mapping[str, Contract], rows_per_table: int = 6
) -> dict[str, list[dict[str, object]]]:
    tables = build_rows(contracts, rows_per_table)
    for fqn, rows in tables.items():
        write_table(data_dir, contracts[fqn], rows)
    return tables
