"""The GX engine: expectations validated on a table streamed out of DuckDB in chunks.

Each table's rows come out of DuckDB ``chunk_rows`` at a time into pandas for Great Expectations,
so memory stays bounded whatever the scale; results are summed over the chunks per expectation.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engagement_lake.quality import suites as S
from engagement_lake.quality.checked_rows import HASH_COLUMN, CheckedRows
from engagement_lake.quality.report import (
    SAMPLE_SIZE,
    jsonable,
)
from engagement_lake.quality.suites import Expect, TableSuite
from engagement_lake.sql_text import identifier

DEFAULT_CHUNK_ROWS = 200_000
"""Rows handed to GX at a time: a few tens of MB of pandas for the widest bronze table."""
_VECTOR = 2048  # DuckDB's vector size: fetch_df_chunk counts in vectors


@dataclass
class _Tally:
    """One expectation's result summed over the chunks of a table."""

    element_count: int = 0
    unexpected_count: int = 0
    sample: list[Any] = field(default_factory=list)
    error: str | None = None

    def add(self, result: Any, column: str | None, locate: bool) -> None:
        raised = gx_error(result)
        if raised is not None:
            self.error = self.error or raised
            return
        res = result.result or {}
        self.element_count += int(res.get("element_count") or 0)
        self.unexpected_count += int(res.get("unexpected_count") or 0)
        if locate:
            # A null says nothing by itself: show the keys of the rows that hold it.
            # (Without index columns GX lists chunk positions, which locate nothing.)
            found = [
                keys
                for row in res.get("partial_unexpected_index_list") or []
                if isinstance(row, dict)
                and (keys := {k: v for k, v in row.items() if k not in (column, HASH_COLUMN)})
            ]
        else:
            found = list(res.get("partial_unexpected_list") or [])
        for value in jsonable(found):
            if len(self.sample) >= SAMPLE_SIZE:
                break
            if value not in self.sample:
                self.sample.append(value)


def gx_error(result: Any) -> str | None:
    """What went wrong when GX could not judge a chunk, else None.

    GX reports an expectation that raised in two shapes: ``exception_info`` with
    ``raised_exception`` at the top, or, when a metric failed, one such entry per metric id.
    Either way it returns no counts, which must never read as "no unexpected rows"."""
    info = result.exception_info or {}
    entries = [info, *(v for v in info.values() if isinstance(v, dict))]
    for entry in entries:
        if entry.get("raised_exception"):
            return str(entry.get("exception_message"))
    if not result.success and not result.result:
        return "GX judged the expectation failed without a result"
    return None


def let_pyspark_import() -> None:
    """GX imports ``pyspark.sql.connect`` when pyspark is installed (``make install-spark``), and
    that module ends the process (exit 0, "Skipping doctests") when ``__main__`` has no file, as
    under ``python -c`` or a pytest-xdist worker: it takes the process for a doctest run. Naming
    a file for such a ``__main__`` keeps the check, and the process, alive."""
    import sys

    main = sys.modules.get("__main__")
    doctest_like = getattr(main, "__spec__", None) is None and not hasattr(main, "__file__")
    if main is not None and doctest_like:
        main.__file__ = sys.argv[0] or "engagement-lake"


class GxValidator:
    """One ephemeral GX context for a run: a pandas datasource whose batches are the chunks.

    The context is made on the first table that has rows to validate: a check of a lake whose
    rows the ledger all holds validates none, so it need not import GX (about a second) at all."""

    def __init__(self) -> None:
        self.ledger: CheckedRows | None = None
        """Rows validated before (``checked_rows``); None validates every row."""
        self._made: Any = None

    def _chunk_batches(self) -> Any:
        """The batch definition of the chunks, in GX's ephemeral context (made once)."""
        if self._made is not None:
            return self._made
        import logging
        import warnings

        let_pyspark_import()
        with warnings.catch_warnings():
            # GX imports pyspark when it is installed (make install-spark); pyspark warns about
            # pandas 3 on import, though the check never uses Spark
            warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
            import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine

        # GX fingerprints every pandas batch for its batch markers (an md5 over pandas' hash of
        # every value of the chunk), unless the frame is larger than HASH_THRESHOLD bytes. A check
        # keeps no batch and reads no marker, and the fingerprint was a sixth of a check's time
        # (py-spy over the gold checks at scale 1), so every frame counts as too large to hash.
        pandas_execution_engine.HASH_THRESHOLD = 0

        # GX logs at INFO (temporary docs folders); after dbt ran in-process that reaches the
        # console and interleaves with the check's own lines.
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        batch_definition = (
            context.data_sources.add_pandas("engagement_lake")
            .add_dataframe_asset("chunks")
            .add_batch_definition_whole_dataframe("chunk")
        )
        self._made = batch_definition
        return self._made

    def validate(
        self,
        con: Any,
        suite: TableSuite,
        expectations: Sequence[Expect],
        columns: Sequence[str],
        chunk_rows: int,
        files: Sequence[Path] = (),
    ) -> tuple[int, dict[int, _Tally]]:
        """Stream ``suite.relation`` through GX; returns (rows, tally per expectation id).

        With a ledger, only the rows it does not hold are streamed: the others count as passed
        elements of every expectation, and the rows that pass now are recorded. A table whose
        rows the ledger all holds never reaches GX. ``files``: a bronze suite's Parquet files,
        of which those whose rows all passed before are not read at all
        (``CheckedRows.start``)."""
        index = [c for c in suite.index_columns if c in columns]
        needed = list(dict.fromkeys([*index, *(e.column for e in expectations if e.column)]))
        ledger = self.ledger
        run = ledger.start(con, suite, expectations, needed, files) if ledger is not None else None
        tallies = {suite.position(e): _Tally() for e in expectations}
        if run is not None and run.to_validate == 0:
            ledger.finish(con, run)
            for tally in tallies.values():
                tally.element_count = run.reused
            return run.reused, tallies
        batch_definition = self._chunk_batches()
        # The suite is validated on each chunk's batch directly (GX's public `Batch.validate`),
        # not through a ValidationDefinition registered in the context: its `run` also checks
        # that suite and definition are saved, stamps a run id from the wall clock and stores
        # every chunk's results, serialised, in the context's results store, none of which a
        # check reads (a validation of 30 expectations: 145 ms against 198–214 ms, docs/quality.md).
        gx_suite = suite.gx_suite(expectations)
        result_format = {
            # COMPLETE names every unexpected row (by its hash), so the others can be recorded
            "result_format": "SUMMARY" if run is None else "COMPLETE",
            "partial_unexpected_count": SAMPLE_SIZE,
            "unexpected_index_column_names": index if run is None else [*index, HASH_COLUMN],
        }
        locate = {suite.position(e): e.check == S.NOT_NULL for e in expectations}
        by_id = {suite.position(e): e for e in expectations}
        rows = 0
        if run is None:
            con.execute(f"select {', '.join(map(identifier, needed))} from {suite.relation}")
        else:
            ledger.stream(con, run)
        vectors = max(1, chunk_rows // _VECTOR)
        while True:
            df = con.fetch_df_chunk(vectors)
            if len(df) == 0:
                break
            rows += len(df)
            _prepare(df, expectations)
            with warnings.catch_warnings(), configurations_built_once():
                warnings.simplefilter("ignore")
                batch = batch_definition.get_batch(batch_parameters={"dataframe": df})
                outcome = batch.validate(gx_suite, result_format=result_format)
            for result in outcome.results:
                eid = int(result.expectation_config.meta["id"])
                tallies[eid].add(result, by_id[eid].column, locate[eid])
            if run is not None:
                ledger.record_chunk(run, df[HASH_COLUMN].to_numpy(), _failing(outcome.results))
        if run is not None:
            ledger.finish(con, run)
            rows += run.reused
            for tally in tallies.values():
                tally.element_count += run.reused
        return rows, tallies


@contextlib.contextmanager
def configurations_built_once() -> Iterator[None]:
    """While GX validates a chunk, each expectation builds its configuration once.

    GX 1.x reads ``Expectation.configuration``, a property that builds a new
    ``ExpectationConfiguration`` from the expectation's pydantic fields, dozens of times per
    expectation while it plans a chunk's metrics: for every domain, success and runtime
    keyword, and again for each metric. A whole check of a small lake built 220,000 of them for
    3,500 validated expectations, a fifth of its samples under py-spy. Each run turns the
    suite's configurations into new expectation objects that nothing changes while it runs, so
    the first build of each stands for the rest of the run. Measured in one process, alternated
    three times on a scale-0.02 lake: 30–35 s → 23–24 s for the whole check, with all 3,750
    results equal (``test_gx_builds_each_configuration_once_and_judges_the_same``)."""
    from great_expectations.expectations.expectation import Expectation

    global _BUILDERS, _PLAIN
    with _BUILT_LOCK:  # validations on several threads share one patch, installed once
        if _BUILDERS == 0:
            _PLAIN = Expectation.__dict__["configuration"]
            Expectation.configuration = property(_configuration_built_once)
        _BUILDERS += 1
    try:
        yield
    finally:
        with _BUILT_LOCK:
            _BUILDERS -= 1
            if _BUILDERS == 0:
                Expectation.configuration = _PLAIN
                _BUILT.clear()


_BUILT_LOCK = threading.Lock()
_BUILDERS = 0
"""Validations inside ``configurations_built_once`` now; the last one out restores GX."""
_PLAIN: Any = None
"""GX's own ``Expectation.configuration`` while it is replaced."""
_BUILT: dict[int, tuple[Any, Any]] = {}
"""Configuration built per expectation object (held with it, so that its id is not reused)."""


def _configuration_built_once(self: Any) -> Any:
    hit = _BUILT.get(id(self))
    if hit is None or hit[0] is not self:
        hit = _BUILT[id(self)] = (self, _PLAIN.fget(self))
    return hit[1]


def _failing(results: Iterable[Any]) -> set[int] | None:
    """Hashes of the chunk's rows that some expectation found unexpected; None when the chunk
    cannot be trusted (an expectation raised, or GX named fewer rows than it counted)."""
    failing: set[int] = set()
    for result in results:
        if gx_error(result) is not None:
            return None
        res = result.result or {}
        named = [row[HASH_COLUMN] for row in res.get("unexpected_index_list") or []]
        if len(named) < int(res.get("unexpected_count") or 0):
            return None
        failing.update(int(h) for h in named)
    return failing


def _prepare(df: Any, expectations: Iterable[Expect]) -> None:
    """Give range checks the dtypes GX compares vectorised (numpy floats, ns datetimes).

    DuckDB hands over microsecond timestamps and nullable extension integers; GX would fall
    back to a Python loop per value on those, or fail to compare them with the bounds. A bronze
    column some file wrote as text (type drift) is text in the union of the files: its range is
    judged on the values that are numbers, the others being the cast check's finding.
    """
    import pandas as pd

    ranges = [e for e in expectations if e.check == S.BETWEEN]
    numeric = {
        e.column
        for e in ranges
        if all(
            isinstance(b, int | float) and not isinstance(b, bool)
            for b in (e.kwargs.get("min_value"), e.kwargs.get("max_value"))
            if b is not None
        )
    }
    for col in {e.column for e in ranges}:
        series = df[col]
        if col in numeric and pd.api.types.is_string_dtype(series.dtype):
            df[col] = pd.to_numeric(series, errors="coerce")
        elif pd.api.types.is_datetime64_any_dtype(series.dtype):
            if not isinstance(series.dtype, pd.DatetimeTZDtype):
                # A date beyond 2262 stays as it is: GX's slower path still judges it.
                with contextlib.suppress(OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
                    df[col] = series.astype("datetime64[ns]")
        elif pd.api.types.is_extension_array_dtype(series.dtype) and pd.api.types.is_numeric_dtype(
            series.dtype
        ):
            df[col] = series.astype("float64")
