"""The GX engine: expectations validated on a table streamed out of DuckDB in chunks.

Each table's rows come out of DuckDB ``chunk_rows`` at a time into pandas for Great Expectations,
so memory stays bounded whatever the scale; results are summed over the chunks per expectation.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engagement_lake.quality import suites as S
from engagement_lake.quality.duckdb_engine import _q
from engagement_lake.quality.report import (
    SAMPLE_SIZE,
    jsonable,
)
from engagement_lake.quality.suites import Expect, TableSuite

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
        info = result.exception_info or {}
        if info.get("raised_exception"):
            self.error = self.error or str(info.get("exception_message"))
            return
        res = result.result or {}
        self.element_count += int(res.get("element_count") or 0)
        self.unexpected_count += int(res.get("unexpected_count") or 0)
        if locate:
            # A null says nothing by itself: show the keys of the rows that hold it.
            # (Without index columns GX lists chunk positions, which locate nothing.)
            found = [
                {k: v for k, v in row.items() if k != column}
                for row in res.get("partial_unexpected_index_list") or []
                if isinstance(row, dict)
            ]
        else:
            found = list(res.get("partial_unexpected_list") or [])
        for value in jsonable(found):
            if len(self.sample) >= SAMPLE_SIZE:
                break
            if value not in self.sample:
                self.sample.append(value)


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
    """One ephemeral GX context for a run: a pandas datasource whose batches are the chunks."""

    def __init__(self) -> None:
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
        self._gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.batch_definition = (
            self.context.data_sources.add_pandas("engagement_lake")
            .add_dataframe_asset("chunks")
            .add_batch_definition_whole_dataframe("chunk")
        )

    def validate(
        self,
        con: Any,
        suite: TableSuite,
        expectations: Sequence[Expect],
        columns: Sequence[str],
        chunk_rows: int,
    ) -> tuple[int, dict[int, _Tally]]:
        """Stream ``suite.relation`` through GX; returns (rows, tally per expectation id)."""
        gx_suite = self.context.suites.add(suite.gx_suite(expectations))
        definition = self.context.validation_definitions.add(
            self._gx.ValidationDefinition(
                data=self.batch_definition, suite=gx_suite, name=suite.name
            )
        )
        index = [c for c in suite.index_columns if c in columns]
        needed = list(dict.fromkeys([*index, *(e.column for e in expectations if e.column)]))
        result_format = {
            "result_format": "SUMMARY",
            "partial_unexpected_count": SAMPLE_SIZE,
            "unexpected_index_column_names": index,
        }
        tallies = {suite.position(e): _Tally() for e in expectations}
        locate = {suite.position(e): e.check == S.NOT_NULL for e in expectations}
        by_id = {suite.position(e): e for e in expectations}
        rows = 0
        con.execute(f"select {', '.join(map(_q, needed))} from {suite.relation}")
        vectors = max(1, chunk_rows // _VECTOR)
        while True:
            df = con.fetch_df_chunk(vectors)
            if len(df) == 0:
                break
            rows += len(df)
            _prepare(df, expectations)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outcome = definition.run(
                    batch_parameters={"dataframe": df}, result_format=result_format
                )
            for result in outcome.results:
                eid = int(result.expectation_config.meta["id"])
                tallies[eid].add(result, by_id[eid].column, locate[eid])
        self.context.validation_definitions.delete(suite.name)
        self.context.suites.delete(suite.name)
        return rows, tallies


def _prepare(df: Any, expectations: Iterable[Expect]) -> None:
    """Give range checks the dtypes GX compares vectorised (numpy floats, ns datetimes).

    DuckDB hands over microsecond timestamps and nullable extension integers; GX would fall
    back to a Python loop per value on those, or fail to compare them with the bounds.
    """
    import pandas as pd

    for col in {e.column for e in expectations if e.check == S.BETWEEN}:
        series = df[col]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            if not isinstance(series.dtype, pd.DatetimeTZDtype):
                # A date beyond 2262 stays as it is: GX's slower path still judges it.
                with contextlib.suppress(OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
                    df[col] = series.astype("datetime64[ns]")
        elif pd.api.types.is_extension_array_dtype(series.dtype) and pd.api.types.is_numeric_dtype(
            series.dtype
        ):
            df[col] = series.astype("float64")
