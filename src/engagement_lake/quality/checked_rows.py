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
3. keeps, per suite, the hashes of the rows present now that passed (reused, or validated and
   named in no expectation's unexpected rows), so the ledger never outgrows the tables. A chunk
   in which an expectation raised is not recorded at all.

A different fingerprint (a changed rule, a retyped column, another DuckDB or GX) starts the
suite's ledger afresh, so every row is judged again. What concerns a whole table (uniqueness,
foreign keys, row counts, SQL rules, reconciliation, freshness) is counted in DuckDB on every
run, never reused.

The one approximation: two different rows with the same 64-bit hash. A new failing row is
reused in error only if its hash equals one of its suite's passed rows: with ``n`` passed rows
and ``m`` new failing ones the chance is about ``m·n / 2⁶⁴`` (10⁻¹¹ for a hundred failing rows
against three million). ``engagement-lake check --all-rows`` validates every row and rebuilds
the ledger. The hashes are of raw values, so the ledger stays in the working area beside the
warehouse, like the warehouse itself, and an erasure deletes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engagement_lake.quality import suites as S
from engagement_lake.quality.suites import Expect, TableSuite

LEDGER_SUFFIX = ".checked-rows.duckdb"
HASH_COLUMN = "__checked_row_hash"
"""The column each streamed chunk carries its rows' hashes in (GX names it in unexpected rows)."""
_FORMAT = 1
"""Bumped when what a hash covers changes, so that an old ledger is started afresh."""


def ledger_path(warehouse: Path) -> Path:
    """Where the ledger of the checks of ``warehouse`` lives."""
    return warehouse.with_name(warehouse.name + LEDGER_SUFFIX)


def _table(suite: str) -> str:
    """The ledger table of a suite (suite names hold dots and quotes; this name never does)."""
    return "rows_" + hashlib.sha256(suite.encode()).hexdigest()[:16]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class SuitePass:
    """One suite's use of the ledger in one run."""

    suite: str
    fingerprint: str
    query: str
    """SQL of the rows GX must validate: the needed columns and ``HASH_COLUMN``."""
    reused: int
    """Rows whose hash the ledger held: counted as passed, not validated."""
    seen: Any
    """Arrow table (``h``) of the distinct reused hashes, kept in the ledger."""
    passed: list[Any] = field(default_factory=list)
    """Numpy arrays of the hashes of validated rows that passed everything."""


class CheckedRows:
    """The ledger of one check run (see the module docstring).

    ``reuse=False`` validates every row but still records what passed, so the next run can
    reuse it (``--all-rows``).
    """

    def __init__(self, path: Path, *, reuse: bool = True) -> None:
        import duckdb

        self.path = path
        self.reuse = reuse
        self.con = duckdb.connect(str(path))
        self.con.execute(
            "create table if not exists suites ("
            "suite varchar primary key, fingerprint varchar not null, table_name varchar not null)"
        )
        self.reused_rows = 0
        self.validated_rows = 0

    @classmethod
    def open(cls, path: Path, *, reuse: bool = True) -> CheckedRows | None:
        """The ledger at ``path``, or None when another process holds it (a concurrent check):
        then this run validates every row and records nothing."""
        import duckdb

        try:
            return cls(path, reuse=reuse)
        except duckdb.IOException:
            return None

    def close(self) -> None:
        self.con.close()

    # ----------------------------------------------------------------------------- one suite

    def start(
        self, con: Any, suite: TableSuite, expectations: Sequence[Expect], needed: Sequence[str]
    ) -> SuitePass | None:
        """Split ``suite.relation`` into reused rows and rows to validate; None when the suite
        has a GX expectation that is not a column map (it would need the whole table)."""
        if not expectations or any(e.check not in S.GX_MAP_TYPES for e in expectations):
            return None
        checked = list(dict.fromkeys(e.column for e in expectations if e.column))
        row_hash = f"hash(row({', '.join(map(_q, checked))}))"
        fingerprint = self._fingerprint(con, suite, expectations, checked)
        table = _table(suite.name)
        known = self.con.execute(
            "select fingerprint = ? from suites where suite = ?", [fingerprint, suite.name]
        ).fetchone()
        prior = (
            self.con.execute(f"select h from {table}").to_arrow_table()
            if self.reuse and known and known[0]
            else _empty_hashes()
        )
        con.register("__checked_prior", prior)
        try:
            seen = con.execute(
                f"select t.h, count(*) as n from (select {row_hash} as h from {suite.relation}) t "
                "semi join __checked_prior as p on t.h = p.h group by t.h"
            ).to_arrow_table()
        finally:
            con.unregister("__checked_prior")
        reused = int(sum(seen.column("n").to_pylist())) if seen.num_rows else 0
        cols = ", ".join(map(_q, needed))
        query = (
            f"select t.* from (select {cols}, {row_hash} as {_q(HASH_COLUMN)} "
            f"from {suite.relation}) t anti join __checked_seen as s on t.{_q(HASH_COLUMN)} = s.h"
        )
        return SuitePass(suite.name, fingerprint, query, reused, seen.select(["h"]))

    def stream(self, con: Any, run: SuitePass) -> None:
        """Execute ``run.query`` on ``con``; the caller fetches its chunks, then ``finish``.
        (The reused hashes stay registered until then: DuckDB reads them as it streams.)"""
        con.register("__checked_seen", run.seen)
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
        """Replace the suite's ledger with the hashes of the rows present now that passed."""
        import numpy as np
        import pyarrow as pa

        con.unregister("__checked_seen")

        self.reused_rows += run.reused
        table = _table(run.suite)
        passed = np.concatenate(run.passed) if run.passed else np.empty(0, dtype=np.uint64)
        fresh = pa.table({"h": pa.array(passed, type=pa.uint64())})
        self.con.register("__seen", run.seen)
        self.con.register("__passed", fresh)
        try:
            self.con.execute("begin")
            self.con.execute(
                f"create or replace table {table} as "
                "select h from __seen union select h from __passed"
            )
            self.con.execute(
                "insert or replace into suites values (?, ?, ?)",
                [run.suite, run.fingerprint, table],
            )
            self.con.execute("commit")
        finally:
            self.con.unregister("__seen")
            self.con.unregister("__passed")

    @staticmethod
    def _fingerprint(
        con: Any, suite: TableSuite, expectations: Sequence[Expect], checked: Sequence[str]
    ) -> str:
        import duckdb
        import great_expectations as gx

        described = con.execute(
            f"select {', '.join(map(_q, checked))} from {suite.relation} limit 0"
        ).description
        types = {d[0]: str(d[1]) for d in described}
        plan = sorted(
            json.dumps([e.check, e.column, dict(e.kwargs)], sort_keys=True, default=str)
            for e in expectations
        )
        doc = {
            "format": _FORMAT,
            "duckdb": duckdb.__version__,
            "gx": gx.__version__,
            "types": types,
            "expectations": plan,
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _empty_hashes() -> Any:
    import pyarrow as pa

    return pa.table({"h": pa.array([], type=pa.uint64())})
