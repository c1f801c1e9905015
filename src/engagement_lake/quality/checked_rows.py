"""Rows already validated: GX judges only the rows it has not seen pass.

Every GX expectation the checks run is a column map (not null, in a set, between, a pattern, a
length, a date format): it judges each row on that row's values alone. A row whose checked
values passed every expectation of its table yesterday passes them today, so re-validating it
costs time and proves nothing. A daily load changes a few percent of the rows of silver and
gold and adds only new files to bronze; the rest is what the previous check already judged.

The ledger is a DuckDB file beside the warehouse (``<warehouse>.checked-rows.duckdb``). It holds,
per table suite, the 64-bit DuckDB ``hash`` of the checked columns of every row that passed all
of the suite's GX expectations, and the suite's fingerprint: the expectations (type, column,
arguments), the checked columns' types and the DuckDB and GX versions. A check run:

1. hashes every row of the table in DuckDB and splits the rows whose hash the ledger holds (they
   are counted, not validated) from the rest, which stream through GX as before;
2. counts a reused row as an element of every expectation with no unexpected value (what GX would
   report for it); samples come from the rows validated, as a reused row has nothing to show;
3. adds to the suite's ledger the hashes of the validated rows that no expectation named among
   its unexpected rows (GX's ``COMPLETE`` result names each by its hash); a chunk in which an
   expectation raised is not recorded at all. Hashes of rows gone since cost space, never
   correctness (a row that comes back passed before), so the ledger is rewritten as the hashes
   of the rows present now that passed only once they are a quarter of it.

A different fingerprint (a changed rule, a retyped column, another DuckDB or GX) starts the
suite's ledger afresh, so every row is judged again.

Bronze files are written once, so for a bronze suite the ledger also keeps the files whose
rows' hashes it all holds (``clean_files``, kind ``ROWS_PASSED``, with each file's size,
modification time and row count): such a file is not read at all, its rows count as reused, and
only the files added or rewritten since are hashed. The same table keeps the files found clean
by bronze's row rules and foreign keys (``quality.per_file``). The rest of what concerns a
whole table (uniqueness, silver's and gold's foreign keys, row counts, SQL rules,
reconciliation, freshness) is counted in DuckDB on every run, never reused.

The one approximation: two different rows with the same 64-bit hash. A new failing row is
reused in error only if its hash equals one of its suite's passed rows: with ``n`` passed rows
and ``m`` new failing ones the chance is about ``m·n / 2⁶⁴`` (10⁻¹¹ for a hundred failing rows
against three million). ``engagement-lake check --all-rows`` validates every row and rebuilds
the ledger. The hashes are of raw values, so the ledger stays in the working area beside the
warehouse, like the warehouse itself, and an erasure deletes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engagement_lake.quality import suites as S
from engagement_lake.quality.suites import Expect, TableSuite
from engagement_lake.sql_text import identifier, literal

LEDGER_SUFFIX = ".checked-rows.duckdb"
HASH_COLUMN = "__checked_row_hash"
"""The column each streamed chunk carries its rows' hashes in (GX names it in unexpected rows)."""
_FORMAT = 1
"""Bumped when what a hash covers changes, so that an old ledger is started afresh."""
_SPLIT = "__checked_split"
"""Temp table of one suite's run: every row's hash, and the values of the rows to validate."""
_CATALOG = "checked_rows"
"""The name the ledger is attached under on the checks' connections."""
_CLEAN_FILES_COLUMNS = ("suite", "kind", "fingerprint", "file", "size", "mtime_ns", "row_count")
_STALE_SHARE = 0.25
"""Share of a suite's ledger that may be hashes of rows gone since before it is rewritten."""


def ledger_path(warehouse: Path) -> Path:
    """Where the ledger of the checks of ``warehouse`` lives."""
    return warehouse.with_name(warehouse.name + LEDGER_SUFFIX)


def remove_ledger(warehouse: Path) -> None:
    """Delete the ledger of ``warehouse`` (and its write-ahead log): the next check validates
    every row again."""
    ledger = ledger_path(warehouse)
    for path in (ledger, ledger.with_name(ledger.name + ".wal")):
        path.unlink(missing_ok=True)


def _table(suite: str) -> str:
    """The ledger table of a suite (suite names hold dots and quotes; this name never does)."""
    return "rows_" + hashlib.sha256(suite.encode()).hexdigest()[:16]


ROWS_PASSED = "rows_passed"
"""Kind of clean file whose every row's hash is in its suite's ledger (see ``CheckedRows``)."""
FILE_COLUMN = "filename"
"""DuckDB's virtual column naming the file each Parquet row comes from."""


@dataclass(frozen=True)
class FileStat:
    """A bronze file as it was when judged: a file whose size or modification time changed
    since (a replayed day) is judged again."""

    size: int
    mtime_ns: int
    rows: int = 0

    @classmethod
    def of(cls, path: Path | str, rows: int = 0) -> FileStat:
        stat = Path(path).stat()
        return cls(stat.st_size, stat.st_mtime_ns, rows)

    def same_file(self, other: FileStat | None) -> bool:
        return other is not None and (self.size, self.mtime_ns) == (other.size, other.mtime_ns)


def parquet_reader(files: Sequence[Path | str]) -> str:
    """How the checks read a bronze table: all its files as one relation, columns by name."""
    paths = ", ".join(literal(str(f)) for f in files)
    return f"read_parquet([{paths}], union_by_name = true, hive_partitioning = false)"


def files_filter(files: Iterable[str]) -> str:
    """A condition on ``FILE_COLUMN`` keeping ``files``: DuckDB then opens only those."""
    names = [literal(f) for f in files]
    return f"{FILE_COLUMN} in ({', '.join(names)})" if names else "false"


@dataclass
class SuitePass:
    """One suite's use of the ledger in one run."""

    suite: str
    fingerprint: str
    query: str
    """SQL of the rows GX must validate: the needed columns and ``HASH_COLUMN``."""
    reused: int
    """Rows whose hash the ledger held: counted as passed, not validated."""
    extend: bool
    """Whether the suite's ledger is kept and the new passes added to it (else it is rewritten
    from this run's passes: a new suite, a changed fingerprint, ``--all-rows``, or a ledger
    with too many hashes of rows gone since)."""
    split: bool = False
    """Whether the rows were split against the ledger (the temp table ``_SPLIT`` exists)."""
    to_validate: int | None = None
    """Rows the split left for GX (None: not split, every row is validated)."""
    passed: list[Any] = field(default_factory=list)
    """Numpy arrays of the hashes of validated rows that passed everything."""
    kept_files: dict[str, FileStat] = field(default_factory=dict)
    """Bronze files whose rows all passed before and were not read (counted in ``reused``)."""
    read_files: dict[str, FileStat] = field(default_factory=dict)
    """Bronze files read this run (the split's ``_file`` column): clean once all their rows
    are in the ledger."""
    file_hashes: str | None = None
    """Without a split: SQL of every row's hash and file, to find the clean files once the
    ledger is written."""
    known: bool = False
    """Whether the ledger's ``suites`` table already holds the suite under this fingerprint."""
    clean_before: dict[str, FileStat] = field(default_factory=dict)
    """The suite's clean files as this run found them (unchanged ones need no rewrite)."""


class CheckedRows:
    """The ledger of one check run (see the module docstring), attached to each connection the
    checks read a layer with (bronze's in-memory one, then the warehouse's read-only one), so
    that splitting rows and recording passes run inside that connection.

    ``reuse=False`` validates every row but still records what passed, so the next run can
    reuse it (``--all-rows``).
    """

    def __init__(self, path: Path, *, reuse: bool = True) -> None:
        import duckdb

        self.path = path
        self.reuse = reuse
        with duckdb.connect(str(path)) as con:  # raises at once if another check holds it
            con.execute(
                "create table if not exists suites (suite varchar primary key, "
                "fingerprint varchar not null, table_name varchar not null)"
            )
            # bronze files judged whole (see FileStat): a cache, so a table of another layout
            # (an older ledger) is started afresh
            layout = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_name = 'clean_files' order by ordinal_position"
                ).fetchall()
            ]
            if layout and layout != list(_CLEAN_FILES_COLUMNS):
                con.execute("drop table clean_files")
            con.execute(
                "create table if not exists clean_files (suite varchar not null, "
                "kind varchar not null, fingerprint varchar not null, file varchar not null, "
                "size bigint not null, mtime_ns bigint not null, row_count bigint not null, "
                "primary key (suite, kind, file))"
            )
        self.reused_rows = 0
        self.validated_rows = 0
        self._attached: list[Any] = []

    @classmethod
    def open(cls, path: Path, *, reuse: bool = True) -> CheckedRows | None:
        """The ledger at ``path``, or None when another process holds it (a concurrent check):
        then this run validates every row and records nothing."""
        import duckdb

        try:
            return cls(path, reuse=reuse)
        except (duckdb.IOException, duckdb.BinderException):  # held by another process, or
            return None  # still attached in this one

    def release(self, con: Any) -> None:
        """Detach the ledger from ``con`` before it closes. (A connection to a file another
        connection of the process has open shares its database, which would keep the ledger
        attached after the close, and the next check could not open it.)"""
        import duckdb

        if any(c is con for c in self._attached):
            self._attached = [c for c in self._attached if c is not con]
            with contextlib.suppress(duckdb.Error):
                con.execute(f"detach {_CATALOG}")

    def close(self) -> None:
        """Detach the ledger from every connection it is still attached to."""
        for con in list(self._attached):
            self.release(con)

    def _attach(self, con: Any) -> None:
        if any(c is con for c in self._attached):  # asked once per connection, not per query
            return
        attached = con.execute(
            "select count(*) from duckdb_databases() where database_name = ?", [_CATALOG]
        ).fetchone()[0]
        if not attached:
            con.execute(f"attach {literal(self.path)} as {_CATALOG} (read_only false)")
            self._attached.append(con)

    # ------------------------------------------------------------------ files found clean

    def clean_files(self, con: Any, suite: str, kind: str, fingerprint: str) -> dict[str, FileStat]:
        """The files of ``suite`` found clean for ``kind`` (``ROWS_PASSED``, or the row rules
        of ``quality.per_file``) under ``fingerprint``, by path. Empty without ``reuse``, so
        that ``--all-rows`` judges every file again."""
        if not self.reuse:
            return {}
        self._attach(con)
        return {
            file: FileStat(size, mtime, rows)
            for file, size, mtime, rows in con.execute(
                f"select file, size, mtime_ns, row_count from {_CATALOG}.clean_files "
                "where suite = ? and kind = ? and fingerprint = ?",
                [suite, kind, fingerprint],
            ).fetchall()
        }

    def replace_clean_files(
        self,
        con: Any,
        suite: str,
        kind: str,
        fingerprint: str,
        clean: Mapping[str, FileStat],
        before: Mapping[str, FileStat] | None = None,
    ) -> None:
        """Make ``clean`` the files of ``suite`` found clean for ``kind`` under
        ``fingerprint``. ``before``: the files recorded so (as ``clean_files`` returned them);
        when ``clean`` is the same, nothing is written (a daily check finds most suites so)."""
        if before and dict(clean) == dict(before):  # (one fingerprint per suite and kind)
            return
        self._attach(con)
        try:
            con.execute("begin")
            self._write_clean_files(con, suite, kind, fingerprint, clean)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise

    @staticmethod
    def _write_clean_files(
        con: Any, suite: str, kind: str, fingerprint: str, clean: Mapping[str, FileStat]
    ) -> None:
        import pyarrow as pa

        stats = list(clean.values())
        rows = pa.table(
            {
                "file": pa.array(list(clean), type=pa.string()),
                "size": pa.array([s.size for s in stats], type=pa.int64()),
                "mtime_ns": pa.array([s.mtime_ns for s in stats], type=pa.int64()),
                "row_count": pa.array([s.rows for s in stats], type=pa.int64()),
            }
        )
        con.register("__clean_files", rows)
        try:
            con.execute(
                f"delete from {_CATALOG}.clean_files where suite = ? and kind = ?", [suite, kind]
            )
            con.execute(
                f"insert into {_CATALOG}.clean_files "
                "select ?, ?, ?, file, size, mtime_ns, row_count from __clean_files",
                [suite, kind, fingerprint],
            )
        finally:
            con.unregister("__clean_files")

    # ----------------------------------------------------------------------------- one suite

    def start(
        self,
        con: Any,
        suite: TableSuite,
        expectations: Sequence[Expect],
        needed: Sequence[str],
        files: Sequence[Path] = (),
    ) -> SuitePass | None:
        """Split ``suite.relation`` into reused rows and rows to validate; None when the suite
        has a GX expectation that is not a column map (it would need the whole table).

        ``files``: the Parquet files a bronze suite's relation reads. A file whose rows all
        passed before and that has not changed since is not read at all: its rows count as
        reused, and only the other files are hashed."""
        if not expectations or any(e.check not in S.GX_MAP_TYPES for e in expectations):
            return None
        self._attach(con)
        checked = list(dict.fromkeys(e.column for e in expectations if e.column))
        row_hash = f"hash(row({', '.join(map(identifier, checked))}))"
        fingerprint = self._fingerprint(con, suite, expectations, checked)
        ledger = f"{_CATALOG}.{_table(suite.name)}"
        known = con.execute(
            f"select fingerprint = ? from {_CATALOG}.suites where suite = ?",
            [fingerprint, suite.name],
        ).fetchone()
        cols = ", ".join(map(identifier, needed))
        hashed = f"select {cols}, {row_hash} as {identifier(HASH_COLUMN)} from {suite.relation}"
        con.execute(f"drop table if exists {_SPLIT}")  # left by a suite that raised
        if not (self.reuse and known and known[0]):  # nothing to reuse: one pass, every row
            everything = SuitePass(suite.name, fingerprint, hashed, 0, extend=False)
            if files:
                # once the ledger is written, one more read finds the files whose rows all
                # passed, so that the next check need not read them
                everything.read_files = {str(f): FileStat.of(f) for f in files}
                everything.file_hashes = (
                    f"select {row_hash} as h, {FILE_COLUMN} as _file from {parquet_reader(files)}"
                )
            return everything
        kept: dict[str, FileStat] = {}
        read: dict[str, FileStat] = {}
        clean: dict[str, FileStat] = {}
        file_column = ""
        if files:
            clean = self.clean_files(con, suite.name, ROWS_PASSED, fingerprint)
            for path in map(str, files):
                now = FileStat.of(path)
                if now.same_file(clean.get(path)):
                    kept[path] = clean[path]
                else:
                    read[path] = now
            if not read:  # every file is clean and unchanged: nothing to read or hash
                return SuitePass(
                    suite.name,
                    fingerprint,
                    "",
                    sum(f.rows for f in kept.values()),
                    extend=True,
                    to_validate=0,
                    kept_files=kept,
                    known=True,
                    clean_before=clean,
                )
            hashed = (
                f"select {cols}, {row_hash} as {identifier(HASH_COLUMN)}, "
                f"{FILE_COLUMN} as _file from {parquet_reader(files)} "
                f"where {files_filter(read)}"
            )
            file_column = ", t._file"
        # One read of the table: each row's hash, and its values only if the ledger lacks it.
        payload = ", ".join(f"{identifier(c)} := t.{identifier(c)}" for c in needed)
        con.execute(
            f"create or replace temp table {_SPLIT} as "
            f"select t.{identifier(HASH_COLUMN)} as h{file_column}, "
            f"case when p.h is null then struct_pack({payload}) end as payload "
            f"from ({hashed}) as t left join {ledger} as p on t.{identifier(HASH_COLUMN)} = p.h"
        )
        reused, present, kept_hashes, fresh = con.execute(
            f"select count(*) filter (where payload is null), "
            f"count(distinct h) filter (where payload is null), (select count(*) from {ledger}), "
            f"count(*) filter (where payload is not null) "
            f"from {_SPLIT}"
        ).fetchone()
        # Hashes of rows gone since cost space, never correctness (a row that comes back passed
        # before): the ledger is rewritten only once they are a quarter of it, and never while
        # files were left unread (their hashes are not among those present).
        extend = bool(kept) or kept_hashes - present <= _STALE_SHARE * kept_hashes
        query = (
            f"select payload.*, h as {identifier(HASH_COLUMN)} from {_SPLIT}"
            " where payload is not null"
        )
        return SuitePass(
            suite.name,
            fingerprint,
            query,
            int(reused) + sum(f.rows for f in kept.values()),
            extend=extend,
            split=True,
            to_validate=int(fresh),
            kept_files=kept,
            read_files=read,
            known=True,
            clean_before=clean if files else {},
        )

    def stream(self, con: Any, run: SuitePass) -> None:
        """Execute ``run.query`` on ``con``; the caller fetches its chunks, then ``finish``."""
        con.execute(run.query)

    def record_chunk(self, run: SuitePass, hashes: Any, failing: Iterable[int] | None) -> None:
        """Keep the hashes of a validated chunk's rows that passed; ``failing`` None means the
        chunk cannot be trusted (an expectation raised), so none of it is kept."""
        import numpy as np

        self.validated_rows += len(hashes)
        if failing is None:
            return
        values = np.asarray(hashes, dtype=np.uint64)
        bad = np.fromiter((int(h) for h in failing), dtype=np.uint64)
        run.passed.append(values[~np.isin(values, bad)] if len(bad) else values)

    def finish(self, con: Any, run: SuitePass) -> None:
        """Record the run's passes: added to the suite's ledger, or the ledger rewritten as the
        hashes of the rows present now that passed (see ``SuitePass.extend``)."""
        import numpy as np
        import pyarrow as pa

        self.reused_rows += run.reused
        ledger = f"{_CATALOG}.{_table(run.suite)}"
        passed = np.concatenate(run.passed) if run.passed else np.empty(0, dtype=np.uint64)
        # A suite whose every row the ledger held, with no file read, changes nothing: on a
        # daily check most suites are so, and their writes were most of the ledger's cost.
        unchanged = (
            run.known
            and run.extend
            and not len(passed)
            and not run.read_files
            and run.kept_files == run.clean_before
        )
        if unchanged:
            con.execute(f"drop table if exists {_SPLIT}")
            return
        con.register("__checked_passed", pa.table({"h": pa.array(passed, type=pa.uint64())}))
        kept_now = f"select h from {_SPLIT} where payload is null union " if run.split else ""
        try:
            con.execute("begin")
            if not run.extend:
                con.execute(
                    f"create or replace table {ledger} as "
                    f"{kept_now}select distinct h from __checked_passed"
                )
            elif len(passed):
                con.execute(f"insert into {ledger} select distinct h from __checked_passed")
            if not run.known:
                con.execute(
                    f"insert or replace into {_CATALOG}.suites values (?, ?, ?)",
                    [run.suite, run.fingerprint, _table(run.suite)],
                )
            if run.kept_files or run.read_files:
                clean = self._clean_now(con, run)
                if not (clean and clean == run.clean_before):
                    self._write_clean_files(con, run.suite, ROWS_PASSED, run.fingerprint, clean)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            con.unregister("__checked_passed")
            con.execute(f"drop table if exists {_SPLIT}")

    @staticmethod
    def _clean_now(con: Any, run: SuitePass) -> dict[str, FileStat]:
        """The files left unread, and the files read whose rows all passed (known before, or
        validated now without failing); a file without rows cannot fail."""
        clean = dict(run.kept_files)
        if not run.read_files:
            return clean
        if run.split:
            failing = (
                f"select _file, count(*), count(*) filter (where payload is not null and h not "
                f"in (select h from __checked_passed)) from {_SPLIT} group by _file"
            )
        else:  # the ledger now holds every row that passed
            failing = (
                f"select _file, count(*), count(*) filter (where h not in (select h from "
                f"__checked_passed)) from ({run.file_hashes}) group by _file"
            )
        groups = {file: (rows, bad) for file, rows, bad in con.execute(failing).fetchall()}
        for file, stat in run.read_files.items():
            rows, bad = groups.get(file, (0, 0))
            if not bad:
                clean[file] = FileStat(stat.size, stat.mtime_ns, rows)
        return clean

    @staticmethod
    def _fingerprint(
        con: Any, suite: TableSuite, expectations: Sequence[Expect], checked: Sequence[str]
    ) -> str:
        from importlib.metadata import version

        import duckdb

        described = con.execute(
            f"select {', '.join(map(identifier, checked))} from {suite.relation} limit 0"
        ).description
        types = {d[0]: str(d[1]) for d in described}
        plan = sorted(
            json.dumps([e.check, e.column, dict(e.kwargs)], sort_keys=True, default=str)
            for e in expectations
        )
        doc = {
            "format": _FORMAT,
            "duckdb": duckdb.__version__,
            "gx": version("great_expectations"),  # not imported: a run may not need GX
            "types": types,
            "expectations": plan,
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
