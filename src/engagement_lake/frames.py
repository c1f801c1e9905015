"""What a dbt Python model reads and returns, whichever engine runs it.

On DuckDB ``dbt.ref`` returns a DuckDB relation and the model may return a polars frame; on
Spark (engagement_lake.spark) it returns a Spark DataFrame and the model must return one. The
models' bodies are written once, over polars, between these two calls; a step whose input is too
large for the driver aggregates on the engine first (see the models that do).
"""

from __future__ import annotations

from typing import Any

import polars as pl


def is_spark(obj: Any) -> bool:
    """A Spark DataFrame or SparkSession (without importing pyspark on DuckDB)."""
    return type(obj).__module__.startswith("pyspark.")


def to_polars(relation: Any) -> pl.DataFrame:
    """A model input as a polars frame: DuckDB relation or Spark DataFrame (through Arrow)."""
    if is_spark(relation):
        return pl.from_arrow(relation.toArrow())  # type: ignore[return-value]
    return relation.pl()


def to_engine(frame: pl.DataFrame, session: Any) -> Any:
    """A model's result as the engine wants it: polars for DuckDB, a DataFrame for Spark."""
    if is_spark(session):
        return session.createDataFrame(frame.to_arrow())
    return frame
