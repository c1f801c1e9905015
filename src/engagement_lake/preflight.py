"""The bronze preflight: read what the build will read, before any model runs.

A build that meets a bad file half-way through the DAG leaves gold half rebuilt, and a build
pointed at the wrong folder would happily "rebuild" every layer from nothing. So before dbt
starts, every bronze file of the tables the build reads is checked here, in one pass, with one
report:

- the data folder holds bronze at all, and no fewer source tables than the warehouse was last
  built from (a mistyped ``--data-dir`` must never empty the warehouse);
- every Parquet file decodes in full, not only its footer (a file with corrupt data pages has an
  intact footer);
- every file sits in a well-formed partition folder ``load_date=YYYY-MM-DD`` (anything else
  either breaks every read of the table or is silently skipped by the glob);
- every file carries the columns its contract requires;
- files that are not Parquet (a ``.csv`` dropped into a table folder) and folders of tables no
  contract describes are reported; the build never reads them.

Bronze is never rewritten. With ``--unreadable quarantine`` a bad file is left where it is,
recorded in ``DIR/_quarantine/manifest.json`` (path, reason, size, rows, when) and skipped by path:
the build then reads the table from the list of its good files.

Decoding every file costs time, so each file is checked once per content: a cache
(``DIR/_preflight/checked.json``) keyed by path, size and modification time keeps a daily build
to the new files.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from engagement_lake.contracts import Contract
from engagement_lake.sql_text import literal

PARTITION = re.compile(r"^load_date=(\d{4}-\d{2}-\d{2})$")
CACHE_FILE = Path("_preflight") / "checked.json"
QUARANTINE_MANIFEST = Path("_quarantine") / "manifest.json"
CACHE_VERSION = 1

# Problem kinds. Errors stop the build (or set the file aside on request); warnings are reported.
UNREADABLE = "unreadable_file"
BAD_PARTITION = "bad_partition"
MISSING_REQUIRED_COLUMN = "missing_required_column"
FOREIGN_FILE = "foreign_file"
UNKNOWN_TABLE = "unknown_table"
ERROR_KINDS = (UNREADABLE, BAD_PARTITION, MISSING_REQUIRED_COLUMN)


class PreflightError(RuntimeError):
    """Bronze the build must not start on; the message is one line per problem, each complete."""


class WarehouseBusyError(PreflightError):
    """Another process holds the warehouse file open for writing."""


def busy_message(exc: BaseException) -> str:
    """DuckDB's lock error as one line that names the holder and the fix."""
    text = " ".join(str(exc).split())
    holder = text.split("Conflicting lock is held in", 1)[-1].split(". See", 1)[0].strip()
    path = text.split('file "', 1)[-1].split('"', 1)[0] if 'file "' in text else "the warehouse"
    return (
        f"{path} is in use by another process ({holder}); close that process (or its DuckDB "
        "session) and retry"
    )


class NoBronzeError(PreflightError):
    """The data folder holds no bronze, or fewer source tables than the warehouse was built from."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bronze file or folder."""

    kind: str
    path: Path
    table: str | None
    reason: str
    size: int = 0
    rows: int | None = None

    @property
    def is_error(self) -> bool:
        return self.kind in ERROR_KINDS

    def line(self, data_dir: Path) -> str:
        """The problem as one self-contained line."""
        where = _relative(self.path, data_dir)
        table = f"bronze {self.table}: " if self.table else ""
        return f"{table}{where}: {self.kind.replace('_', ' ')} ({self.reason})"


@dataclass
class Preflight:
    """What the build may read, and what is wrong."""

    data_dir: Path
    scope: set[str] = field(default_factory=set)
    """The contract tables checked (``system.table``): all, or those a selection reads."""
    files: dict[str, list[Path]] = field(default_factory=dict)
    """Good files per contract table (``system.table``) in scope."""
    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    """Rows in the good files, per table."""
    decoded: int = 0
    """Files decoded in this run (the rest came from the cache)."""
    contracts: Mapping[str, Contract] = field(default_factory=dict, repr=False)
    """The contracts the files were checked against."""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def skipped(self) -> dict[str, list[Problem]]:
        """Error problems grouped by table: the files a quarantining build leaves out."""
        out: dict[str, list[Problem]] = {}
        for p in self.errors:
            if p.table is not None:
                out.setdefault(p.table, []).append(p)
        return out

    def dbt_vars(self) -> dict[str, Any]:
        """The vars that make the staging macros read only the good files of affected tables."""
        skipped = self.skipped()
        return {
            "bronze_files": {
                fqn: [str(p.resolve()) for p in self.files.get(fqn, [])] for fqn in skipped
            },
            "bronze_skipped_rows": {
                fqn: sum(p.rows or 0 for p in problems) for fqn, problems in skipped.items()
            },
        }


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _one_line(exc: BaseException) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in str(exc))
    return " ".join(text.split())[:300] or type(exc).__name__


# ----------------------------------------------------------------------------- cache


def _load_cache(data_dir: Path) -> dict[str, Any]:
    path = data_dir / CACHE_FILE
    try:
        cache = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return cache.get("files", {}) if cache.get("version") == CACHE_VERSION else {}


def _save_cache(data_dir: Path, entries: Mapping[str, Any]) -> None:
    path = data_dir / CACHE_FILE
    # a read-only data folder: checking again next time is the only cost
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": CACHE_VERSION, "files": entries}, sort_keys=True))
        tmp.replace(path)


def decode_parquet_cached(data_dir: Path, paths: Iterable[Path]) -> dict[Path, dict[str, Any]]:
    """``decode_parquet`` of each path, through the preflight's cache of checked files (a file
    keeps its verdict while its size and modification time stay): the quality checks ask the
    same question of the same files the build's preflight has just answered."""
    cache = _load_cache(data_dir)
    fresh: dict[str, Any] = {}
    out: dict[Path, dict[str, Any]] = {}
    for path in paths:
        key, entry, decoded = _cached_decode(path, cache)
        if decoded:
            fresh[key] = entry
        out[path] = entry
    if fresh:
        _save_cache(data_dir, {**cache, **fresh})
    return out


def _cached_decode(path: Path, cache: Mapping[str, Any]) -> tuple[str, dict[str, Any], bool]:
    """The cache key of ``path``, its entry, and whether it was decoded now: a cached verdict
    holds while the file keeps its size and modification time."""
    stat = path.stat()
    key = str(path.resolve())
    entry = cache.get(key)
    if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
        return key, entry, False
    return key, {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, **decode_parquet(path)}, True


def decode_parquet(path: Path) -> dict[str, Any]:
    """Decode every page of a Parquet file; its column names and rows, or why it fails."""
    import pyarrow.parquet as pq

    rows = None
    try:
        parquet = pq.ParquetFile(path)
        rows = parquet.metadata.num_rows
        names = parquet.schema_arrow.names
        for group in range(parquet.num_row_groups):
            parquet.read_row_group(group)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        return {"error": _one_line(exc), "rows": rows}
    return {"columns": names, "rows": rows}


# ----------------------------------------------------------------------------- scan


def bronze_tables(data_dir: Path, contracts: Mapping[str, Contract]) -> set[str]:
    """Contract tables with at least one Parquet file under ``bronze/`` (any partition)."""
    bronze = data_dir / "bronze"
    return {
        fqn
        for fqn, c in contracts.items()
        if (bronze / c.system / c.table).is_dir()
        and any((bronze / c.system / c.table).rglob("*.parquet"))
    }


def require_bronze(data_dir: Path, contracts: Mapping[str, Contract]) -> set[str]:
    """The tables bronze holds; raises ``NoBronzeError`` when the folder holds none."""
    if not data_dir.exists():
        raise NoBronzeError(
            f"data folder {data_dir} does not exist; check --data-dir "
            "(or run `engagement-lake generate` first)"
        )
    if not data_dir.is_dir():
        raise NoBronzeError(f"data folder {data_dir} is a file, not a folder; check --data-dir")
    found = bronze_tables(data_dir, contracts)
    if not found:
        raise NoBronzeError(
            f"{data_dir} holds no bronze (no bronze/<system>/<table>/load_date=YYYY-MM-DD/"
            "*.parquet for any contract); check --data-dir. Nothing was built or exported."
        )
    return found


def check_sources_kept(
    found: Collection[str], previous: Collection[str], allow_missing: Collection[str] = ()
) -> None:
    """Refuse bronze that lacks tables the warehouse was built from, unless each is allowed."""
    missing = sorted(set(previous) - set(found) - set(allow_missing))
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise NoBronzeError(
            f"bronze lacks {len(missing)} source table(s) the warehouse was built from ({shown}); "
            "check --data-dir, or pass --allow-missing-sources "
            f"{','.join(missing)} to rebuild without them"
        )


def previous_sources(warehouse: Path) -> set[str]:
    """Tables with rows in the last build of ``warehouse`` (from quality.reconciliation): a
    DuckDB file, or the spark target's folder."""
    import duckdb

    if not warehouse.exists():
        return set()
    if warehouse.is_dir():
        from engagement_lake.parity import spark_table_path

        # the spark target's folder: the reconciliation is a folder of Parquet files
        files = spark_table_path(warehouse, "quality", "reconciliation")
        if not any(files.glob("*.parquet")):
            return set()
        con = duckdb.connect()
        relation = f"read_parquet({literal(files / '*.parquet')})"
    else:
        try:
            con = duckdb.connect(str(warehouse), read_only=True)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WarehouseBusyError(busy_message(exc)) from None
            raise
        relation = "quality.reconciliation"
    try:
        for counted in ("bronze_rows + skipped_file_rows", "bronze_rows"):
            try:
                rows = con.execute(
                    f"select system || '.' || table_name from {relation} where {counted} > 0"
                ).fetchall()
            except duckdb.Error:  # an older layout, or a warehouse never built
                continue
            return {r[0] for r in rows}
        return set()
    finally:
        con.close()


def scan(
    data_dir: Path,
    contracts: Mapping[str, Contract],
    tables: Iterable[str] | None = None,
) -> Preflight:
    """Check every file of ``tables`` (default: every contract table) and the bronze folder's
    layout; nothing is moved or written except the cache of checked files."""
    scope = set(contracts) if tables is None else set(tables)
    result = Preflight(data_dir, scope, contracts=contracts)
    bronze = data_dir / "bronze"
    cache = _load_cache(data_dir)
    fresh: dict[str, Any] = {}
    by_folder = {(c.system, c.table): fqn for fqn, c in contracts.items()}
    systems = {c.system for c in contracts.values()}
    for system_dir in sorted(p for p in bronze.iterdir() if p.is_dir()) if bronze.is_dir() else []:
        for table_dir in sorted(system_dir.iterdir()):
            fqn = by_folder.get((system_dir.name, table_dir.name))
            if fqn is None:
                if tables is None and table_dir.is_dir():
                    known = "" if system_dir.name in systems else " (unknown system)"
                    result.problems.append(
                        Problem(
                            UNKNOWN_TABLE,
                            table_dir,
                            None,
                            f"no contract describes this table{known}; the build ignores it",
                        )
                    )
                continue
            if fqn not in scope:
                continue
            _scan_table(result, contracts[fqn], fqn, table_dir, cache, fresh)
    _save_cache(data_dir, {**cache, **fresh})
    return result


def _scan_table(
    result: Preflight,
    contract: Contract,
    fqn: str,
    table_dir: Path,
    cache: Mapping[str, Any],
    fresh: dict[str, Any],
) -> None:
    required = [c.name for c in contract.columns if c.required]
    good = result.files.setdefault(fqn, [])
    result.rows.setdefault(fqn, 0)
    for path in sorted(table_dir.rglob("*")):
        if path.is_dir():
            continue
        size = path.stat().st_size
        parent = path.parent.name if path.parent != table_dir else None
        partition = PARTITION.match(parent) if parent else None
        if path.suffix != ".parquet":
            result.problems.append(
                Problem(FOREIGN_FILE, path, fqn, "not a Parquet file; the build ignores it", size)
            )
            continue
        if path.parent.parent != table_dir or partition is None or not _is_date(partition[1]):
            where = "directly in the table folder" if parent is None else f"in folder {parent!r}"
            result.problems.append(
                Problem(
                    BAD_PARTITION,
                    path,
                    fqn,
                    f"{where}; bronze files live in load_date=YYYY-MM-DD/",
                    size,
                    _footer_rows(path),
                )
            )
            continue
        key, entry, decoded = _cached_decode(path, cache)
        result.decoded += decoded
        fresh[key] = entry
        if "error" in entry:
            result.problems.append(
                Problem(UNREADABLE, path, fqn, entry["error"], size, entry["rows"])
            )
            continue
        lacking = [c for c in required if c not in entry["columns"]]
        if lacking:
            result.problems.append(
                Problem(
                    MISSING_REQUIRED_COLUMN,
                    path,
                    fqn,
                    f"{', '.join(repr(c) for c in lacking)} not in the file",
                    size,
                    entry["rows"],
                )
            )
            continue
        good.append(path)
        result.rows[fqn] += entry["rows"] or 0


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _footer_rows(path: Path) -> int | None:
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(path).num_rows
    except Exception:  # unreadable as well as misplaced: the row count is simply unknown
        return None


# ----------------------------------------------------------------------------- quarantine


def quarantined_paths(data_dir: Path) -> set[Path]:
    """Files a build has set aside (from the quarantine manifest)."""
    try:
        entries = json.loads((data_dir / QUARANTINE_MANIFEST).read_text())["files"]
    except (OSError, ValueError, KeyError):
        return set()
    return {data_dir / e["path"] for e in entries}


def record_quarantine(data_dir: Path, problems: Iterable[Problem]) -> Path:
    """Add the files a build set aside to ``DIR/_quarantine/manifest.json`` (one entry per path
    and content; a later bad file at the same path is a new entry, never an overwrite)."""
    path = data_dir / QUARANTINE_MANIFEST
    try:
        entries = json.loads(path.read_text())["files"]
    except (OSError, ValueError, KeyError):
        entries = []
    seen = {(e["path"], e["size"], e.get("mtime_ns")) for e in entries}
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    for p in problems:
        mtime = p.path.stat().st_mtime_ns if p.path.exists() else None
        key = (_relative(p.path, data_dir), p.size, mtime)
        if key in seen:
            continue
        seen.add(key)
        entry = {k: v for k, v in asdict(p).items() if k != "path"}
        entries.append({"path": key[0], **entry, "mtime_ns": mtime, "detected_at": now})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"files": entries}, indent=2) + "\n")
    os.replace(tmp, path)
    return path
