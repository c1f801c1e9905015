"""What a dbt Python model reads and returns, whichever engine runs it.

On DuckDB ``dbt.ref`` returns a DuckDB relation and the model may return a polars frame; on
Spark (engagement_lake.spark) it returns a Spark DataFrame and the model must return one. The
models' bodies are written once, over polars, between :func:`to_polars` and :func:`to_engine`;
a step whose input is too large for the driver runs on the engine first (:func:`query` for SQL
that both engines read alike, or the engine-native paths of engagement_lake.mdm and
engagement_lake.analytics that the models call when :func:`is_spark`).

Types. A model body sees the same polars types on both engines: Spark's ``TIMESTAMP`` is an
instant, which Arrow hands over in UTC, so :func:`to_polars` turns it into the naive wall-clock
time of the session's time zone (UTC in this project), which is what DuckDB's ``TIMESTAMP``
columns hold. :func:`to_engine` maps polars types onto the ones Spark's SQL models produce:
naive timestamps become ``TIMESTAMP`` in the session's time zone, unsigned integers the next
wider signed type (``UInt64`` to ``BIGINT``, refused beyond its range), large and view strings
``STRING``, categoricals their labels, nanoseconds microseconds (Spark's precision).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

_WIDER_SIGNED: dict[Any, Any] = {
    pl.UInt8: pl.Int16,
    pl.UInt16: pl.Int32,
    pl.UInt32: pl.Int64,
    pl.UInt64: pl.Int64,
}


def is_spark(obj: Any) -> bool:
    """A Spark DataFrame or SparkSession (without importing pyspark on DuckDB)."""
    return type(obj).__module__.startswith("pyspark.")


def session_time_zone(session: Any) -> str:
    """The Spark session's time zone (``spark.sql.session.timeZone``)."""
    return str(session.conf.get("spark.sql.session.timeZone"))


def to_polars(relation: Any, columns: Sequence[str] | None = None) -> pl.DataFrame:
    """A model input as a polars frame: DuckDB relation or Spark DataFrame (through Arrow).

    ``columns`` selects on the engine first, so only what the model reads reaches the driver.
    """
    if columns is not None:
        relation = relation.select(*columns)
    if not is_spark(relation):
        return relation.pl()
    frame = pl.from_arrow(relation.toArrow())
    assert isinstance(frame, pl.DataFrame)
    zone = session_time_zone(relation.sparkSession)
    instants = [
        name
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    ]
    return frame.with_columns(
        pl.col(name).dt.convert_time_zone(zone).dt.replace_time_zone(None) for name in instants
    )


def spark_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every column in a type Spark stores as the SQL models would (module
    docstring); raises ValueError naming a column Spark cannot hold."""
    casts = []
    for name, dtype in frame.schema.items():
        base = dtype.base_type()
        if base in _WIDER_SIGNED:
            if base == pl.UInt64:
                top = frame[name].max()
                if top is not None and top > 2**63 - 1:  # type: ignore[operator]
                    raise ValueError(
                        f"column {name}: value {top} does not fit Spark's BIGINT (UInt64)"
                    )
            casts.append(pl.col(name).cast(_WIDER_SIGNED[base]))
        elif base in (pl.Categorical, pl.Enum):
            casts.append(pl.col(name).cast(pl.String))
        elif isinstance(dtype, pl.Datetime) and dtype.time_unit == "ns":
            casts.append(pl.col(name).dt.cast_time_unit("us"))
        elif base == pl.Null or base == pl.Object:
            raise ValueError(
                f"column {name}: type {dtype} cannot be written to a Spark table; "
                "give it a type (for example pl.lit(None, dtype=pl.String))"
            )
    return frame.with_columns(casts) if casts else frame


def to_engine(frame: pl.DataFrame, session: Any) -> Any:
    """A model's result as the engine wants it: polars for DuckDB, a DataFrame for Spark."""
    if not is_spark(session):
        return frame
    import pyarrow as pa

    table = spark_ready(frame).to_arrow()
    fields = [
        pa.field(f.name, pa.large_string(), f.nullable) if f.type == pa.string_view() else f
        for f in table.schema
    ]
    return session.createDataFrame(table.cast(pa.schema(fields)))


def query(relation: Any, name: str, sql: str) -> Any:
    """``sql`` run on the relation's engine, which reads the relation as ``name``.

    The SQL must mean the same on DuckDB and on Spark; the result stays on the engine (a DuckDB
    relation or a Spark DataFrame), ready for :func:`to_polars`.
    """
    if not is_spark(relation):
        return relation.query(name, sql)
    session = relation.sparkSession
    relation.createOrReplaceTempView(name)
    try:
        result = session.sql(sql)
        _ = result.schema  # analysed now: the plan keeps the view's query, not its name
    finally:
        session.catalog.dropTempView(name)
    return result


def scalar(relation: Any, expression: str) -> Any:
    """One aggregate of a relation (``max(_loaded_at)``), computed on its engine."""
    if not is_spark(relation):
        row = relation.aggregate(expression).fetchone()
        return None if row is None else row[0]
    return to_polars(relation.selectExpr(f"{expression} as value")).item()
