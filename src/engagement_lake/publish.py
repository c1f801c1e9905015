"""Publish gold for its readers: a serving DuckDB file and the Parquet export, swapped in whole.

dbt's working warehouse is the wrong thing to hand a BI tool or an analyst: a reader holding it
open blocks the next build (DuckDB's file lock), it carries personal data raw, and DuckDB cannot
keep foreign keys across dbt's replace-and-rename of tables. So a build that passed (models and
tests) ends here:

1. **Export.** The Parquet files are written, masked (``engagement_lake.export.masked_select``:
   personal columns pseudonymised with the keyed hash), to a new version folder under
   ``<data dir>/.published/``.
2. **Serving file.** A fresh DuckDB file is written next to its final place
   (``.gold.duckdb.partial``), its tables in the file's default schema so that ``gold.<table>``
   reads as in the working warehouse, filled from the export's files just written (so each
   value is masked once, and the two publications hold the same rows). Each table and column
   carries its dbt description as a comment, and each reference to another gold table says
   so in its column's comment. Which keys are declared is ``keys`` (``config.SERVING_KEYS``):
   by default (``referenced``) the primary keys of the tables other tables reference (the
   dimensions BI tools join to); with ``all`` every primary key and every foreign key, which
   DuckDB checks on insert. The build's tests have already proved every key, and DuckDB
   indexes both sides of each declared key, so declaring them all makes the file three times
   larger and publishing several times slower (docs/benchmarks.md). When a serving file is
   already published (and declares no foreign key), the new one starts as a copy of it and
   each table receives only its changed rows, found by key and row hash; a table whose columns
   or keys changed is written whole. It reads exactly as one written from scratch (tested).
3. **Swap.** ``<data dir>/gold`` is a symbolic link to the current version folder and is
   repointed with one atomic ``rename``; the serving file is moved into place the same way after
   a hard link keeps the previous one as ``gold.previous.duckdb``. A reader holding the previous
   file keeps reading a complete gold (the inode lives on); the next open sees the new one. A
   build killed at any point leaves the previous publication whole: the partial files are never
   under a published name, and the next publish removes them.

Keys come from the tests the build just passed, never from a hand-kept list: a column with error
``unique`` and ``not_null`` rules (or an error compound ``unique`` key) is the primary key; an
error ``relationships`` rule without a ``where`` filter, pointing at another gold table's primary
key, is a foreign key. The rules are read from the ``column_rules`` test of the model's YAML file
and its separate tests alike (``engagement_lake.manifest_tests``). Warn-level tests may fail
without failing the build, so they declare nothing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engagement_lake.config import (
    DEFAULT_SERVING_KEYS,
    SERVING_KEYS,
    SERVING_REWRITE_EVERY,
    RunConfig,
    duckdb_settings,
)
from engagement_lake.export import ExportResult
from engagement_lake.manifest_tests import (
    NOT_NULL,
    RELATIONSHIPS,
    UNIQUE,
    UNIQUE_COMBINATION,
    rules_by_model,
)
from engagement_lake.sql_text import identifier, literal

SERVING_ENV = "ENGAGEMENT_LAKE_SERVING"
SERVING_NAME = "gold.duckdb"
SERVING_SCHEMA = "main"
"""Schema of the serving file's tables (see ``write_serving``)."""
PREVIOUS_SUFFIX = ".previous"
VERSIONS_DIR = ".published"
KEEP_VERSIONS = 2
"""Export versions kept under ``.published``: the current one and the previous (rollback)."""


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str
    ref_column: str


@dataclass
class TableKeys:
    primary: tuple[str, ...] = ()
    foreign: list[ForeignKey] = field(default_factory=list)


@dataclass(frozen=True)
class PublishResult:
    export: ExportResult
    export_dir: Path
    """The version folder ``<data dir>/gold`` now points at."""
    serving: Path | None
    """The serving file, or None when only the export was published."""
    keys: dict[str, TableKeys]
    """Keys declared in the serving file, per table (see ``serving_keys``)."""
    references: dict[str, TableKeys] = field(default_factory=dict)
    """Every key the build's tests proved, per table: the foreign keys are written in their
    columns' comments whether or not they are declared."""
    serving_changes: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Rows deleted and inserted per serving table updated in place from the previous
    publication; a table not listed was written whole."""


class PublishError(RuntimeError):
    """Gold could not be published; the previous publication is untouched."""


def serving_path(cfg: RunConfig) -> Path:
    """The serving file: ``$ENGAGEMENT_LAKE_SERVING``, else ``gold.duckdb`` beside the warehouse."""
    override = os.environ.get(SERVING_ENV)
    return Path(override) if override else cfg.warehouse.parent / SERVING_NAME


def previous_path(serving: Path) -> Path:
    return serving.with_name(serving.stem + PREVIOUS_SUFFIX + serving.suffix)


def constrained_not_null(node: Mapping[str, Any]) -> set[str]:
    """Columns of a model whose enforced contract declares them ``not_null`` (the warehouse
    refuses a null there at build time, so no test repeats it)."""
    if not (node.get("config", {}).get("contract") or {}).get("enforced"):
        return set()
    return {
        name
        for name, column in (node.get("columns") or {}).items()
        if any(c.get("type") == "not_null" for c in column.get("constraints") or [])
    }


def gold_keys(manifest: Mapping[str, Any]) -> dict[str, TableKeys]:
    """Primary and foreign keys of every gold model, from its error-severity tests and its
    contract's not_null constraints."""
    gold = {
        node["unique_id"]: node.get("alias") or node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "gold"
    }
    order = {gold[uid]: list((manifest["nodes"][uid].get("columns") or {}).keys()) for uid in gold}
    unique: dict[str, set[str]] = {t: set() for t in order}
    not_null: dict[str, set[str]] = {t: set() for t in order}
    combos: dict[str, list[tuple[str, ...]]] = {t: [] for t in order}
    relations: list[tuple[str, str, str, str]] = []
    for uid, table in gold.items():
        not_null[table] |= constrained_not_null(manifest["nodes"][uid])
    for uid, rules in rules_by_model(manifest).items():
        table = gold.get(uid)
        if table is None:
            continue
        for rule in rules:
            if rule.severity != "error" or rule.where:
                continue
            if rule.kind == UNIQUE and rule.column:
                unique[table].add(rule.column)
            elif rule.kind == NOT_NULL and rule.column:
                not_null[table].add(rule.column)
            elif rule.kind == UNIQUE_COMBINATION:
                combos[table].append(rule.columns)
            elif rule.kind == RELATIONSHIPS and rule.column and rule.to:
                relations.append((table, rule.column, rule.to, str(rule.field)))
    keys: dict[str, TableKeys] = {}
    for table, columns in order.items():
        single = [c for c in columns if c in unique[table] and c in not_null[table]]
        # the table's own surrogate key when it has several unique columns
        single.sort(key=lambda c: (not c.endswith("_key"), columns.index(c)))
        if single:
            keys[table] = TableKeys((single[0],))
        elif combos[table]:
            keys[table] = TableKeys(combos[table][0])
        else:
            keys[table] = TableKeys()
    for table, column, target, ref_column in sorted(set(relations)):
        if target == table or target not in keys or keys[target].primary != (ref_column,):
            continue
        keys[table].foreign.append(ForeignKey(column, target, ref_column))
    return keys


def serving_keys(keys: Mapping[str, TableKeys], mode: str) -> dict[str, TableKeys]:
    """The keys the serving file declares under ``mode`` (``all``, or else ``referenced``), from
    every key the tests proved."""
    if mode == "all":
        return {t: TableKeys(k.primary, list(k.foreign)) for t, k in keys.items()}
    referenced = {fk.table for k in keys.values() for fk in k.foreign}
    return {t: TableKeys(k.primary if t in referenced else ()) for t, k in keys.items()}


def gold_comments(
    manifest: Mapping[str, Any], keys: Mapping[str, TableKeys]
) -> dict[str, tuple[str, dict[str, str]]]:
    """Per gold table, its description and its columns' descriptions from the dbt docs, each
    foreign key's column saying which table and column it references."""
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["schema"] != "gold":
            continue
        table = node.get("alias") or node["name"]
        columns = {
            name: " ".join(str(column.get("description") or "").split())
            for name, column in (node.get("columns") or {}).items()
        }
        for fk in keys.get(table, TableKeys()).foreign:
            note = f"References {fk.table}.{fk.ref_column}."
            columns[fk.column] = f"{columns.get(fk.column, '')} {note}".strip()
        out[table] = (" ".join(str(node.get("description") or "").split()), columns)
    return out


def creation_order(keys: Mapping[str, TableKeys]) -> list[str]:
    """Tables with every referenced table before its referrers (then by name)."""
    done: list[str] = []
    placed: set[str] = set()
    pending = sorted(keys)
    while pending:
        ready = [t for t in pending if all(fk.table in placed for fk in keys[t].foreign)]
        if not ready:
            raise PublishError(f"foreign keys form a cycle among {', '.join(pending)}")
        done += ready
        placed.update(ready)
        pending = [t for t in pending if t not in placed]
    return done


def _sweep(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@dataclass
class ServingWrite:
    """What ``write_serving`` wrote."""

    rows: dict[str, int] = field(default_factory=dict)
    """Rows per table."""
    changed: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Rows deleted and inserted per table updated in place (the others were written whole)."""


def write_serving(
    con: Any,
    work_catalog: str,
    target: Path,
    keys: Mapping[str, TableKeys],
    selects: Mapping[str, str],
    types: Mapping[str, list[tuple[str, str]]],
    comments: Mapping[str, tuple[str, Mapping[str, str]]] | None = None,
    *,
    previous: Path | None = None,
    row_keys: Mapping[str, tuple[str, ...]] | None = None,
) -> ServingWrite:
    """Create ``target`` with every gold table, ``keys`` declared, rows from ``selects`` and
    ``comments`` (table description, column descriptions) attached.

    With ``previous`` (the serving file published now) and ``row_keys`` (each table's key, as
    the build's tests proved it), ``target`` starts as a copy of ``previous``, and each table
    whose columns and declared keys have not changed receives only its changed rows
    (``_apply_changes``): a daily build changes about 5 % of gold's rows, and DuckDB writes a
    table's rows about twice as slowly as it reads them. Any other table is written whole.
    Neither path is taken when ``previous`` declares foreign keys (DuckDB refuses to delete
    rows a foreign key may reference): then every table is written whole, as it is without
    ``previous``.
    """
    out = ServingWrite()
    if previous is not None and row_keys is not None and _updatable(previous):
        shutil.copyfile(previous, target)
    else:
        previous = None
    con.execute(f"attach '{target}' as serving (read_only false)")
    try:
        # The tables live in the file's default schema: opened as gold.duckdb (catalog "gold"),
        # `gold.fct_orders` reads as in the working warehouse, and `fct_orders` alone too; a
        # schema named "gold" inside a catalog named "gold" would make `gold.x` ambiguous.
        # Foreign keys must name tables of the same catalog and schema: create them from inside.
        con.execute(f"use serving.{SERVING_SCHEMA}")
        kept = set() if previous is None else _tables(con)
        for table in sorted(kept - set(selects)):
            con.execute(f"drop table {identifier(table)}")
        kept_types = _column_types(con, "serving", SERVING_SCHEMA) if kept else {}
        kept_comments = _comments(con) if kept else {}
        for table in creation_order({t: keys[t] for t in selects}):
            key = (row_keys or {}).get(table, ())
            notes = (comments or {}).get(table, ("", {}))
            same = table in kept and _same_table(
                con, table, keys[table], types[table], kept_types.get(table, [])
            )
            if key and same:
                out.changed[table] = _apply_changes(con, table, key, selects[table], types[table])
                _comment(con, table, types[table], notes, kept_comments.get(table))
            else:
                if table in kept:
                    con.execute(f"drop table {identifier(table)}")
                _create(con, table, keys[table], types[table])
                _fill(con, table, keys[table], selects[table])
                _comment(con, table, types[table], notes)
            out.rows[table] = con.execute(f"select count(*) from {identifier(table)}").fetchone()[0]
        con.execute("checkpoint serving")
    finally:
        con.execute(f"use {identifier(work_catalog)}")
        con.execute("detach serving")
    return out


def _column_types(con: Any, catalog: str, schema: str) -> dict[str, list[tuple[str, str]]]:
    """Every table's (column, type) pairs in ``catalog.schema``, in column order: one query for
    all of them (a query per table cost a second per publication)."""
    types: dict[str, list[tuple[str, str]]] = {}
    for table, column, data_type in con.execute(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? order by table_name, ordinal_position",
        [catalog, schema],
    ).fetchall():
        types.setdefault(table, []).append((column, data_type))
    return types


def _comments(con: Any) -> dict[str, tuple[str, dict[str, str]]]:
    """The comments the serving file's tables carry now: per table, its own and its columns'."""
    tables = {
        t: c or ""
        for t, c in con.execute(
            "select table_name, comment from duckdb_tables() where database_name = 'serving' "
            "and schema_name = ?",
            [SERVING_SCHEMA],
        ).fetchall()
    }
    out: dict[str, tuple[str, dict[str, str]]] = {t: (c, {}) for t, c in tables.items()}
    for table, column, comment in con.execute(
        "select table_name, column_name, comment from duckdb_columns() "
        "where database_name = 'serving' and schema_name = ?",
        [SERVING_SCHEMA],
    ).fetchall():
        if table in out and comment:
            out[table][1][column] = comment
    return out


def _updatable(previous: Path) -> bool:
    """``previous`` is a complete serving file without foreign keys: the start of the next."""
    import duckdb

    if not previous.is_file() or previous.with_name(previous.name + ".wal").exists():
        return False
    try:
        with duckdb.connect(str(previous), read_only=True) as con:
            (foreign,) = con.execute(
                "select count(*) from duckdb_constraints() where constraint_type = 'FOREIGN KEY'"
            ).fetchone()
    except duckdb.Error:  # not a DuckDB file, or one this DuckDB cannot read: write afresh
        return False
    return foreign == 0


def _tables(con: Any) -> set[str]:
    return {
        t
        for (t,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'serving' "
            "and schema_name = ?",
            [SERVING_SCHEMA],
        ).fetchall()
    }


def _same_table(
    con: Any,
    table: str,
    keys: TableKeys,
    types: list[tuple[str, str]],
    columns: list[tuple[str, str]],
) -> bool:
    """The copied ``table``, whose columns are ``columns``, has ``types`` (names, types, order)
    and declares ``keys`` alone."""
    declared = con.execute(
        "select constraint_column_names from duckdb_constraints() where database_name = "
        "'serving' and schema_name = ? and table_name = ? and constraint_type in "
        "('PRIMARY KEY', 'FOREIGN KEY', 'UNIQUE')",
        [SERVING_SCHEMA, table],
    ).fetchall()
    wanted = [[list(keys.primary)]] if keys.primary else []
    return (
        [tuple(c) for c in columns] == [tuple(t) for t in types]
        and [[list(d[0])] for d in declared] == wanted
        and not keys.foreign
    )


def _create(con: Any, table: str, keys: TableKeys, types: list[tuple[str, str]]) -> None:
    parts = [f"{identifier(c)} {t}" for c, t in types]
    if keys.primary:
        parts.append(f"primary key ({', '.join(map(identifier, keys.primary))})")
    parts += [
        f"foreign key ({identifier(fk.column)}) references {identifier(fk.table)}"
        f"({identifier(fk.ref_column)})"
        for fk in keys.foreign
    ]
    con.execute(f"create table {identifier(table)} ({', '.join(parts)})")


def _fill(con: Any, table: str, keys: TableKeys, rows_in: str) -> None:
    if keys.primary:
        # Rows in key order build the primary key's index about twice as fast as rows in
        # random order (md5 keys), and BI tools read a table in its key order.
        order = ", ".join(map(identifier, keys.primary))
        rows_in = f"select * from ({rows_in}) as rows_in order by {order}"
    try:
        con.execute(f"insert into {identifier(table)} {rows_in}")
    except Exception as exc:  # a key the tests let through: name the table
        raise PublishError(
            f"gold.{table}: {' '.join(str(exc).split())[:300]}; nothing was published"
        ) from None


def _comment(
    con: Any,
    table: str,
    types: list[tuple[str, str]],
    notes: tuple[str, Mapping[str, str]],
    present: tuple[str, Mapping[str, str]] | None = None,
) -> None:
    """Attach ``notes`` (the table's description, its columns') to ``table``, skipping those it
    already carries (``present``: a table updated in a copy of the previous file keeps its
    comments, so a day without a docs change writes none)."""
    description, column_notes = notes
    had, had_columns = present or ("", {})
    if (description or "") != (had or ""):
        text = literal(description) if description else "null"
        con.execute(f"comment on table {identifier(table)} is {text}")
    for column, _ in types:
        note = column_notes.get(column) or ""
        if note != (had_columns.get(column) or ""):
            text = literal(note) if note else "null"  # a description removed since
            con.execute(f"comment on column {identifier(table)}.{identifier(column)} is {text}")


ROW_HASH = "_el_row_hash"


def _apply_changes(
    con: Any, table: str, key: tuple[str, ...], rows_in: str, types: list[tuple[str, str]]
) -> tuple[int, int]:
    """Make the copied ``table`` hold the rows of ``rows_in``: delete the rows whose key is gone
    or whose values changed, insert the new and changed ones; returns (deleted, inserted).

    A row is compared by its key (unique and not null, as the build's tests proved on both
    publications) and a 64-bit hash of all its columns: a changed row is missed only if its old
    and new values hash alike, about one chance in 2^64 per changed row. The table's row count
    is checked against ``rows_in`` after the change."""
    names = [identifier(c) for c, _ in types]
    keys = [identifier(c) for c in key]
    row_hash = f"hash({', '.join(names)}) as {ROW_HASH}"
    both = " and ".join(f"n.{k} = o.{k}" for k in [*keys, ROW_HASH])
    # each side's keys and row hashes, narrow, in one full join on key and hash: a row left
    # without a partner is new (insert it) or gone (delete it), a changed row is both; the full
    # rows are read only for those keys
    con.execute(
        "create or replace temp table el_changed as select "
        + ", ".join([f"n.{k} as new_{i}" for i, k in enumerate(keys)])
        + ", "
        + ", ".join([f"o.{k} as old_{i}" for i, k in enumerate(keys)])
        + f" from (select {', '.join(keys)}, {row_hash} from ({rows_in})) as n"
        + f" full join (select {', '.join(keys)}, {row_hash} from {identifier(table)}) as o"
        + f" on {both} where n.{ROW_HASH} is null or o.{ROW_HASH} is null"
    )
    removed = ", ".join(f"old_{i} as {k}" for i, k in enumerate(keys))
    added = ", ".join(f"new_{i} as {k}" for i, k in enumerate(keys))
    match = " and ".join(f"{identifier(table)}.{k} = el_removed.{k}" for k in keys)
    try:
        (deleted,) = con.execute(
            f"delete from {identifier(table)} using (select {removed} from el_changed "
            f"where old_0 is not null) as el_removed where {match}"
        ).fetchone()
        (inserted,) = con.execute(
            f"insert into {identifier(table)} ({', '.join(names)}) "
            f"select {', '.join(names)} from ({rows_in}) as n semi join "
            f"(select {added} from el_changed where new_0 is not null) as el_added "
            f"using ({', '.join(keys)})"
        ).fetchone()
        (have,) = con.execute(f"select count(*) from {identifier(table)}").fetchone()
        (want,) = con.execute(f"select count(*) from ({rows_in})").fetchone()
    except Exception as exc:  # a key the tests let through: name the table
        raise PublishError(
            f"gold.{table}: {' '.join(str(exc).split())[:300]}; nothing was published"
        ) from None
    finally:
        con.execute("drop table if exists el_changed")
    if have != want:
        raise PublishError(
            f"gold.{table}: {have} rows after applying the changes to the previous publication, "
            f"{want} in the build; nothing was published"
        )
    return deleted, inserted


def _swap_link(link: Path, version: Path) -> None:
    """Point ``link`` at ``version`` atomically (``rename`` of a new link over the old one)."""
    if link.exists() and not link.is_symlink():
        # an export folder from before publications were versioned: move it aside once
        legacy = link.parent / VERSIONS_DIR / "gold-legacy"
        _sweep(legacy)
        link.rename(legacy)
    temp = link.with_name(f".{link.name}.link")
    temp.unlink(missing_ok=True)
    temp.symlink_to(os.path.relpath(version, link.parent))
    os.replace(temp, link)


def _swap_file(partial: Path, serving: Path) -> None:
    """Move ``partial`` to ``serving``, keeping the file it replaces as the previous one."""
    previous = previous_path(serving)
    if serving.exists():
        keep = previous.with_name(f".{previous.name}.link")
        keep.unlink(missing_ok=True)
        try:
            os.link(serving, keep)  # same inode: readers of the old file are unaffected
        except OSError:  # a file system without hard links
            shutil.copy2(serving, keep)
        os.replace(keep, previous)
    os.replace(partial, serving)


def _version_number(version: Path) -> int:
    return int(version.name.split("-", 1)[1])


def _numbered_versions(versions: Path) -> list[Path]:
    """The export's version folders ``gold-N``, oldest first."""
    return sorted(
        (p for p in versions.glob("gold-*") if p.name.split("-", 1)[1].isdigit()),
        key=_version_number,
    )


def _next_version(versions: Path) -> Path:
    numbered = _numbered_versions(versions)
    return versions / f"gold-{_version_number(numbered[-1]) + 1 if numbered else 1}"


def _prune(versions: Path, current: Path) -> None:
    numbered = _numbered_versions(versions)
    for old in numbered[:-KEEP_VERSIONS]:
        if old != current:
            shutil.rmtree(old, ignore_errors=True)
    for partial in versions.glob(".gold-*.partial"):
        shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(versions / "gold-legacy", ignore_errors=True)


def publish(
    cfg: RunConfig,
    *,
    include_personal: bool = False,
    serve: bool = True,
    keys: str = DEFAULT_SERVING_KEYS,
    rewrite: bool = False,
) -> PublishResult:
    """Write the export (and, with ``serve``, the serving file) from the working warehouse, then
    swap them in.

    Call only after a build whose models and tests all passed. ``include_personal`` writes
    personal columns raw, for a copy kept as private as the warehouse; it is refused with
    ``serve``, since the serving file is what BI tools read. ``keys`` (``config.SERVING_KEYS``)
    chooses the keys the serving file declares. The new serving file starts as a copy of the
    published one and receives only the changed rows (``write_serving``), unless ``rewrite``,
    or ``keys`` is ``all`` (its foreign keys forbid deleting referenced rows), or this is a
    publication whose version number is a multiple of ``config.SERVING_REWRITE_EVERY`` (the
    space of deleted rows, which updates leave behind, is given back).
    """
    from engagement_lake.lineage import gold_classifications, load_manifest

    if serve and include_personal:
        raise PublishError("the serving file never holds personal data raw: publish it masked")
    if keys not in SERVING_KEYS:
        raise PublishError(
            f"unknown serving keys {keys!r}; choose one of {', '.join(SERVING_KEYS)}"
        )
    target_dir = cfg.artefacts
    manifest = load_manifest(target_dir / "manifest.json")
    classes = gold_classifications(manifest)
    serving = serving_path(cfg)
    partial = serving.with_name(f".{serving.name}.partial")
    if serve:
        serving.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (partial, partial.with_name(partial.name + ".wal")):
            _sweep(leftover)
    versions = cfg.data_dir / VERSIONS_DIR
    versions.mkdir(parents=True, exist_ok=True)
    version = _next_version(versions)
    staging = versions / f".{version.name}.partial"
    _sweep(staging)
    staging.mkdir()

    rewrite = rewrite or _version_number(version) % SERVING_REWRITE_EVERY == 0
    previous = serving if serve and not rewrite and keys != "all" else None
    try:
        export, declared, proved, written = _write(
            cfg,
            manifest,
            classes,
            version,
            staging,
            partial,
            include_personal,
            serve,
            keys,
            previous,
        )
    except BaseException:
        # nothing under a published name was touched: drop the partial files and re-raise
        _sweep(staging)
        if serve:
            _sweep(partial)
        raise
    staging.rename(version)
    _swap_link(cfg.data_dir / "gold", version)
    if serve:
        _swap_file(partial, serving)
    _prune(versions, version)
    return PublishResult(
        export, version, serving if serve else None, declared, proved, written.changed
    )


def _write(
    cfg: RunConfig,
    manifest: Mapping[str, Any],
    classes: Mapping[str, Mapping[str, tuple[str, str]]],
    version: Path,
    staging: Path,
    partial: Path,
    include_personal: bool,
    serve: bool,
    mode: str,
    previous: Path | None,
) -> tuple[ExportResult, dict[str, TableKeys], dict[str, TableKeys], ServingWrite]:
    """The export's files into ``staging`` and, with ``serve``, the serving file ``partial``
    filled from them (updating a copy of ``previous`` where it can); returns the
    export, the keys declared, every key the tests proved, and what the serving file got."""
    import duckdb

    from engagement_lake.export import masked_select, masking_connection

    masked: dict[str, list[str]] = {}
    files: dict[str, Path] = {}
    rows: dict[str, int] = {}
    declared: dict[str, TableKeys] = {}
    proved: dict[str, TableKeys] = {}
    served = ServingWrite()
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        # the build's memory limit and threads: at scale 10 DuckDB's default (80 % of the
        # machine) let a publish take 21 GB of 24
        for key, value in duckdb_settings().items():
            con.execute(f"set {key} = '{value}'")
        work = con.execute("select current_database()").fetchone()[0]
        masking_connection(con, manifest, classes, include_personal)
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_catalog = ? "
                "and table_schema = 'gold' and table_type = 'BASE TABLE' order by table_name",
                [work],
            ).fetchall()
        ]
        written: dict[str, str] = {}
        types = _column_types(con, work, "gold")
        for table in tables:
            select, masked[table] = masked_select(
                types[table], classes.get(table, {}), include_personal
            )
            source = f"{identifier(work)}.gold.{identifier(table)}"
            files[table] = version / f"{table}.parquet"
            path = staging / f"{table}.parquet"
            # zstd at level 1: files within 7 % of the size at the default level 3 (on gold),
            # written about a fifth faster (docs/benchmarks.md)
            con.execute(
                f"copy (select {', '.join(select)} from {source}) to '{path}' "
                "(format parquet, compression zstd, compression_level 1)"
            )
            written[table] = f"select * from read_parquet('{path}')"
            rows[table] = con.execute(f"select count(*) from {source}").fetchone()[0]
        if serve:
            tested = gold_keys(manifest)
            present = set(tables)
            proved = {
                t: TableKeys(
                    tested.get(t, TableKeys()).primary,
                    [fk for fk in tested.get(t, TableKeys()).foreign if fk.table in present],
                )
                for t in tables
            }
            declared = serving_keys(proved, mode)
            comments = gold_comments(manifest, proved)
            served = write_serving(
                con,
                work,
                partial,
                declared,
                written,
                types,
                comments,
                previous=previous,
                row_keys={t: k.primary for t, k in proved.items()},
            )
    export = ExportResult(
        {t: cfg.data_dir / "gold" / p.name for t, p in files.items()}, masked, rows
    )
    return export, declared, proved, served
