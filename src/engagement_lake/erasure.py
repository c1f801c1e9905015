"""Right to erasure: ``engagement-lake forget CUSTOMER`` removes one person from everything built.

A person who asks to be forgotten must disappear from every derived table (silver, gold,
history, marts, quality), from the export and the serving file, and from the publications kept
for rollback; and stay gone when the same source records arrive again. Bronze is the source
systems' raw landing and is left alone: it is removed when the source system deletes it. So:

1. **Resolve** the customer by the project's one lookup rule (``engagement_lake.mdm.lookup``):
   an ambiguous id is refused with its candidates, never guessed.
2. **Record** the request in the erasure register ``<data dir>/_erasure/requests.parquet``: one
   row per source id the person has in the crosswalk, with its identity table's contract and
   key column, the golden id, and the data's as-of date (never the wall clock). Staging drops
   every bronze row of those ids, and every row referencing them (``macros/staging/erasure.sql``),
   on this and every later build.
3. **Delete** the person's rows from ``silver.customer_id_ledger``, the one table a build does
   not rebuild from bronze (it carries ids forward between builds).
4. **Rebuild and republish** everything: a surgical delete would leave the person inside every
   aggregate (daily summaries, cohorts, RFM buckets, the CLV model's fit), which only a rebuild
   from the remaining rows removes. Then the previous serving file and export folders, which
   still hold the person, are replaced by the new publication, and the quality checks' ledger
   of validated rows (``engagement_lake.quality.checked_rows``: hashes of raw values, the
   person's among them) is deleted; the next check validates every row again.

The register holds source ids in the clear (see docs/privacy.md, "Erasure", for why).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from engagement_lake.config import RunConfig
from engagement_lake.quality.checked_rows import remove_ledger

REGISTER = Path("_erasure") / "requests.parquet"
REGISTER_COLUMNS = (
    ("request_id", "varchar"),
    ("customer_id", "varchar"),
    ("source_system", "varchar"),
    ("contract", "varchar"),
    ("id_column", "varchar"),
    ("source_id", "varchar"),
    ("requested_as_of", "date"),
)
LEDGER = "silver.customer_id_ledger"
WAREHOUSE_SCHEMAS = ("staging", "quality", "silver", "history", "gold")


class ErasureError(RuntimeError):
    """The request could not be carried out; the message says how far it got."""


@dataclass(frozen=True)
class ErasedPerson:
    """Who a request names: golden ids (current and absorbed) and every source id."""

    customer_id: str
    golden_ids: tuple[str, ...]
    source_ids: tuple[tuple[str, str, str, str], ...]
    """(source_system, contract, id_column, source_id) of each identity record."""
    as_of: date


@dataclass
class ForgetResult:
    request_id: str
    person: ErasedPerson
    removed: dict[str, int] = field(default_factory=dict)
    """Rows removed per table (warehouse ``schema.table``, ``export:table``, ``serving:table``)."""
    already_requested: bool = False
    ledger_rows: int = 0
    """Events deleted from the id ledger before the rebuild."""


def register_path(data_dir: Path) -> Path:
    return Path(data_dir) / REGISTER


def read_register(data_dir: Path) -> list[dict[str, object]]:
    """Every row of the erasure register (empty without one)."""
    path = register_path(data_dir)
    if not path.exists():
        return []
    with duckdb.connect() as con:
        cursor = con.execute("select * from read_parquet(?) order by all", [str(path)])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _erased_by(data_dir: Path | None, customer: str) -> str | None:
    """The request that already erased the id ``customer`` (golden, source or system:id)."""
    wanted = customer.strip().lower()
    for row in read_register(data_dir) if data_dir is not None else ():
        spelled = {
            str(row["customer_id"]).lower(),
            str(row["source_id"]).lower(),
            f"{row['source_system']}:{row['source_id']}".lower(),
        }
        if wanted in spelled:
            return str(row["request_id"])
    return None


def find_person(warehouse: Path, customer: str, data_dir: Path | None = None) -> ErasedPerson:
    """The person ``customer`` names, with every id they hold, read from the working warehouse.

    An id the register already holds is reported as erased (by which request) rather than as
    unknown, when ``data_dir`` is given.
    """
    from engagement_lake.analyst.connection import analyst_connection
    from engagement_lake.mdm.lookup import AmbiguousCustomer, id_systems, resolve_customer

    systems = {s.source_system: s for s in id_systems()}
    with analyst_connection(warehouse, read_views=False) as con:
        try:
            match = resolve_customer(con, customer)
        except AmbiguousCustomer:
            raise
        except LookupError:
            request = _erased_by(data_dir, customer)
            if request is None:
                raise
            raise ErasureError(
                f"customer {customer.strip()!r} is already erased (request {request})"
            ) from None
        golden = match.customer_id
        absorbed = [
            row[0]
            for row in con.execute(
                "select absorbed_customer_id from silver.customer_id_redirects "
                "where survivor_customer_id = ? order by 1",
                [golden],
            ).fetchall()
        ]
        records = con.execute(
            "select source_system, source_id from silver.customer_xref where customer_id = ? "
            "order by 1, 2",
            [golden],
        ).fetchall()
        as_of = con.execute(
            "select max(cast(_loaded_at as date)) from silver.int_customer_identities_unioned"
        ).fetchone()[0]
    unknown = sorted({system for system, _ in records if system not in systems})
    if unknown:
        raise ErasureError(
            f"silver.customer_xref has system {unknown[0]!r}, which seeds/mdm/"
            "customer_id_systems.csv does not list: add it before erasing"
        )
    return ErasedPerson(
        golden,
        (golden, *absorbed),
        tuple(
            (system, systems[system].contract, systems[system].id_column, source_id)
            for system, source_id in records
        ),
        as_of,
    )


def request_id_for(person: ErasedPerson) -> str:
    """Deterministic: the same request on the same data gets the same id."""
    digest = hashlib.sha256(f"{person.customer_id}|{person.as_of}".encode()).hexdigest()
    return f"ERA-{digest[:12]}"


def record_request(data_dir: Path, person: ErasedPerson) -> tuple[str, bool]:
    """Append the person's ids to the register (atomically); (request id, already there)."""
    request_id = request_id_for(person)
    rows = read_register(data_dir)
    if any(row["request_id"] == request_id for row in rows):
        return request_id, True
    rows += [
        {
            "request_id": request_id,
            "customer_id": person.customer_id,
            "source_system": system,
            "contract": contract,
            "id_column": id_column,
            "source_id": source_id,
            "requested_as_of": person.as_of,
        }
        for system, contract, id_column, source_id in person.source_ids
    ]
    path = register_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    columns = ", ".join(f"{name} {kind}" for name, kind in REGISTER_COLUMNS)
    with duckdb.connect() as con:
        con.execute(f"create table register ({columns})")
        con.executemany(
            f"insert into register values ({', '.join('?' for _ in REGISTER_COLUMNS)})",
            [[row[name] for name, _ in REGISTER_COLUMNS] for row in rows],
        )
        con.execute(f"copy (select * from register order by all) to '{partial}' (format parquet)")
    os.replace(partial, path)
    return request_id, False


def delete_from_ledger(warehouse: Path, person: ErasedPerson) -> int:
    """Remove the person's events from the id ledger (the state builds carry forward)."""
    ids = [source_id for _, _, _, source_id in person.source_ids]
    systems = [system for system, _, _, _ in person.source_ids]
    with duckdb.connect(str(warehouse)) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'silver' and table_name = 'customer_id_ledger'"
        ).fetchone()[0]
        if not exists:
            return 0
        before = con.execute(f"select count(*) from {LEDGER}").fetchone()[0]
        con.execute(
            f"delete from {LEDGER} where (source_system, source_id) in "
            "(select unnest(?::varchar[]), unnest(?::varchar[])) "
            "or customer_id in (select unnest(?::varchar[])) "
            "or survivor_customer_id in (select unnest(?::varchar[]))",
            [systems, ids, list(person.golden_ids), list(person.golden_ids)],
        )
        return before - con.execute(f"select count(*) from {LEDGER}").fetchone()[0]


def row_counts(cfg: RunConfig) -> dict[str, int]:
    """Rows of every table of the working warehouse, the export and the serving file."""
    from engagement_lake.publish import serving_path

    counts: dict[str, int] = {}
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in "
            f"({', '.join(repr(s) for s in WAREHOUSE_SCHEMAS)}) order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            counts[f"{schema}.{table}"] = con.execute(
                f'select count(*) from "{schema}"."{table}"'
            ).fetchone()[0]
    export = cfg.data_dir / "gold"
    with duckdb.connect() as con:
        for path in sorted(export.glob("*.parquet")) if export.exists() else ():
            counts[f"export:{path.stem}"] = con.execute(
                "select count(*) from read_parquet(?)", [str(path)]
            ).fetchone()[0]
    serving = serving_path(cfg)
    if serving.exists():
        with duckdb.connect(str(serving), read_only=True) as con:
            for (table,) in con.execute(
                "select table_name from information_schema.tables order by 1"
            ).fetchall():
                counts[f"serving:{table}"] = con.execute(
                    f'select count(*) from "{table}"'
                ).fetchone()[0]
    return counts


def drop_previous_publications(cfg: RunConfig, current: Path) -> list[Path]:
    """Replace the rollback copies (they hold the person) by the current publication."""
    from engagement_lake.publish import VERSIONS_DIR, previous_path, serving_path

    removed: list[Path] = []
    for folder in sorted((cfg.data_dir / VERSIONS_DIR).glob("*")):
        if folder.resolve() != current.resolve():
            shutil.rmtree(folder) if folder.is_dir() else folder.unlink()
            removed.append(folder)
    serving = serving_path(cfg)
    previous = previous_path(serving)
    if previous.exists() or previous.is_symlink():
        previous.unlink()
        removed.append(previous)
        if serving.exists():
            # the rollback is the current file now: same inode, no erased person in either
            os.link(serving, previous)
    return removed


def forget(
    cfg: RunConfig,
    customer: str,
    *,
    rebuild: Callable[[RunConfig], object] | None = None,
    progress: bool = False,
) -> ForgetResult:
    """Erase one person: record the request, clear the ledger, rebuild, republish, purge."""
    from engagement_lake.dbt_runner import build
    from engagement_lake.publish import publish

    person = find_person(cfg.warehouse, customer, cfg.data_dir)
    if not person.source_ids:
        raise ErasureError(f"customer {customer!r} ({person.customer_id}) has no source records")
    before = row_counts(cfg)
    request_id, already = record_request(cfg.data_dir, person)
    ledger_rows = delete_from_ledger(cfg.warehouse, person)
    try:
        if rebuild is None:
            build(cfg, progress=progress)
        else:
            rebuild(cfg)
        published = publish(cfg)
    except Exception as exc:
        raise ErasureError(
            f"request {request_id} is recorded in {register_path(cfg.data_dir)}, but the rebuild "
            f"failed ({' '.join(str(exc).split())[:300]}); run `engagement-lake build` to finish"
        ) from None
    drop_previous_publications(cfg, published.export_dir)
    remove_ledger(cfg.warehouse)
    after = row_counts(cfg)
    removed = {
        table: before[table] - after.get(table, 0)
        for table in before
        if before[table] != after.get(table, 0)
    }
    return ForgetResult(request_id, person, removed, already, ledger_rows)
