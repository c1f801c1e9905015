"""The customer-value predictions of one as-of date, from the shop's order log.

One function for both dbt models that need them: ``customer_value_predictions`` (as of the
lake's as-of date) and ``int_customer_value_predictions_history`` (as of each monthly snapshot
date, :func:`monthly_snapshot_dates`, so the CLV trend is computed from the data as it stood, not
from today's fit). Time unit: days. Spend: the order subtotal (merchandise value; tax and
shipping are not customer value).

p_alive (and so gold's churn_probability) comes from MBG/NBD, where a customer can drop out right
after the first purchase: BG/NBD's P(alive) is 1 for every one-time buyer by construction, however
long ago the purchase was. Expected purchases and the CLV stay BG/NBD × Gamma-Gamma.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from engagement_lake.analytics.churn import fit_mbg_nbd, mbg_p_alive
from engagement_lake.analytics.clv import (
    RfmSummary,
    conditional_expected_purchases,
    customer_lifetime_values,
    expected_average_spend,
    fit_bg_nbd,
    fit_gamma_gamma,
    rfm_summary,
)

MODEL_VERSION = "bgnbd-gg-mbgnbd-2"
DAYS_PER_YEAR = 365.25

PREDICTION_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String, "frequency": pl.Float64, "recency_days": pl.Float64,
    "age_days": pl.Float64, "monetary_value": pl.Float64, "p_alive": pl.Float64,
    "expected_purchases_12mo": pl.Float64, "expected_average_spend": pl.Float64,
    "predicted_clv_12mo": pl.Float64, "predicted_clv_36mo": pl.Float64,
    "model_version": pl.String, "fit_date": pl.Date, "bgnbd_r": pl.Float64,
    "bgnbd_alpha": pl.Float64, "bgnbd_a": pl.Float64, "bgnbd_b": pl.Float64,
    "mbgnbd_r": pl.Float64, "mbgnbd_alpha": pl.Float64, "mbgnbd_a": pl.Float64,
    "mbgnbd_b": pl.Float64,
    "gg_p": pl.Float64, "gg_q": pl.Float64, "gg_v": pl.Float64,
}  # fmt: skip


#: The order log's columns from an order joined to its golden customer (``golden``): the one
#: definition of a purchase's day and spend, on the driver (:func:`order_log`) and in Spark's
#: workers (:func:`rfm_on_spark`).
LOG_COLUMNS: tuple[pl.Expr, ...] = (
    pl.col("golden").alias("customer_id"),
    pl.col("ordered_at").dt.date().alias("order_date"),
    pl.col("subtotal_amount").cast(pl.Float64).alias("amount"),
)

#: One row per as-of date and customer of :func:`rfm_on_spark`: the RFM summary's columns.
RFM_SCHEMA: dict[str, Any] = {
    "as_of_date": pl.Date,
    "customer_id": pl.String,
    "frequency": pl.Float64,
    "recency": pl.Float64,
    "T": pl.Float64,
    "monetary_value": pl.Float64,
}


def order_log(orders: pl.DataFrame, shop_xref: pl.DataFrame) -> pl.DataFrame:
    """Non-cancelled orders keyed to the golden customer: ``customer_id``, ``order_date``,
    ``amount``. ``orders`` is stg_shop__orders; ``shop_xref`` the shop rows of customer_xref."""
    return (
        orders.filter(pl.col("status") != "cancelled")
        .join(
            shop_xref.select(
                pl.col("source_id").alias("customer_id"), pl.col("customer_id").alias("golden")
            ),
            on="customer_id",
            how="inner",
        )
        .select(*LOG_COLUMNS)
    )


def monthly_snapshot_dates(dates: Sequence[date], months: int) -> list[date]:
    """The CLV trend's as-of dates: the newest of ``dates`` (the lake's load dates) in each
    calendar month, for the newest ``months`` months that have one, oldest first. The newest
    load date is always one of them. Monthly, because each point is a full refit on every
    build (a merge of today changes the past orders of a golden customer) and a point per daily
    load would make the daily build slower by one fit a day."""
    if months < 1:
        raise ValueError(f"clv_history_months must be at least 1, got {months}")
    newest: dict[tuple[int, int], date] = {}
    for day in sorted(dates):
        newest[(day.year, day.month)] = day
    return [newest[month] for month in sorted(newest)][-months:]


def predict_customer_values(log: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per customer with an order on or before ``as_of`` (:data:`PREDICTION_SCHEMA`): the
    models fitted on the orders up to ``as_of`` only. A log too small to identify a model
    gives null predictions for it rather than invented ones."""
    log = log.filter(pl.col("order_date") <= as_of).sort("customer_id", "order_date")
    if log.height == 0:
        return pl.DataFrame(schema=PREDICTION_SCHEMA)
    return predict_from_rfm(log_rfm(log, as_of), as_of)


def log_rfm(log: pl.DataFrame, as_of: date) -> RfmSummary:
    """The RFM summary, in days, of an order log (:data:`LOG_COLUMNS`) as of ``as_of``: one
    spelling for the driver's path and Spark's per-date groups, so both summarise alike."""
    return rfm_summary(
        log["customer_id"].to_numpy(),
        log["order_date"].to_numpy().astype("datetime64[D]"),
        log["amount"].to_numpy(),
        np.datetime64(as_of, "D"),
        time_unit="D",
    )


def predict_from_rfm(rfm: RfmSummary, as_of: date) -> pl.DataFrame:
    """:func:`predict_customer_values` from the RFM summary (in days) of the orders up to
    ``as_of``: the fits, on the driver, whichever engine summarised the orders."""
    if len(rfm.customer_id) == 0:
        return pl.DataFrame(schema=PREDICTION_SCHEMA)
    x, tx, T, m = rfm.frequency, rfm.recency, rfm.T, rfm.monetary_value
    repeat = x > 0
    m0 = np.where(repeat, m, 0.0)
    n = len(x)
    nothing = np.full(n, np.nan)
    try:
        bg = fit_bg_nbd(x, tx, T)
    except ValueError:
        bg = None
    try:
        mbg = fit_mbg_nbd(x, tx, T)
    except ValueError:
        mbg = None
    try:
        gg = fit_gamma_gamma(x[repeat], m[repeat])
    except ValueError:
        gg = None
    alive = mbg_p_alive(mbg, x, tx, T) if mbg else nothing
    expected = conditional_expected_purchases(bg, DAYS_PER_YEAR, x, tx, T) if bg else nothing
    spend = expected_average_spend(gg, x, m0) if gg else nothing
    clv = (
        customer_lifetime_values(bg, gg, x, tx, T, m0, horizons_months=(12, 36))
        if bg and gg
        else {12: nothing, 36: nothing}
    )
    param = {
        name: [float(getattr(fit, attr)) if fit else None] * n
        for name, fit, attr in (
            ("bgnbd_r", bg, "r"), ("bgnbd_alpha", bg, "alpha"), ("bgnbd_a", bg, "a"),
            ("bgnbd_b", bg, "b"), ("mbgnbd_r", mbg, "r"), ("mbgnbd_alpha", mbg, "alpha"),
            ("mbgnbd_a", mbg, "a"), ("mbgnbd_b", mbg, "b"), ("gg_p", gg, "p"),
            ("gg_q", gg, "q"), ("gg_v", gg, "v"),
        )
    }  # fmt: skip
    return pl.DataFrame(
        {
            "customer_id": rfm.customer_id.astype(str),
            "frequency": x,
            "recency_days": tx,
            "age_days": T,
            "monetary_value": np.where(repeat, m, np.nan),
            "p_alive": alive,
            "expected_purchases_12mo": expected,
            "expected_average_spend": spend,
            "predicted_clv_12mo": clv[12],
            "predicted_clv_36mo": clv[36],
            "model_version": [MODEL_VERSION] * n,
            "fit_date": [as_of] * n,
            **param,
        },
        schema_overrides=PREDICTION_SCHEMA,
    ).with_columns(pl.col(pl.Float64).fill_nan(None))


def rfm_on_spark(orders: Any, shop_xref: Any, as_of_dates: Sequence[date]) -> pl.DataFrame:
    """The RFM summary of every as-of date (:data:`RFM_SCHEMA`), aggregated by Spark.

    ``orders`` (stg_shop__orders) and ``shop_xref`` (the shop rows of customer_xref) are Spark
    DataFrames. Spark joins and filters the orders as :func:`order_log` does and pairs each with
    the as-of dates it falls on or before; each group of customers (a hash bucket per as-of
    date) then goes, as Arrow, to a Python worker that runs :func:`rfm_summary` on it. Only the
    summary, one row per customer and date, reaches the driver. The summary is numpy's, not a
    SQL ``sum``: a customer's figures come from the same additions in the same order as on
    DuckDB, so both engines fit the models on the same numbers, to the bit.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import DateType, DoubleType, StringType, StructField, StructType

    session = orders.sparkSession
    buckets = int(session.conf.get("spark.sql.shuffle.partitions") or 1)
    dates = session.createDataFrame([(d,) for d in as_of_dates], "as_of_date date")
    golden = shop_xref.select(
        F.col("source_id").alias("customer_id"), F.col("customer_id").alias("golden")
    )
    log = (
        orders.where(F.col("status") != "cancelled")
        .select("customer_id", "ordered_at", "subtotal_amount")
        .join(golden, on="customer_id", how="inner")
        .join(dates, F.to_date("ordered_at") <= F.col("as_of_date"))
        .withColumn("bucket", F.pmod(F.hash("golden"), F.lit(buckets)))
    )
    kinds = {pl.Date: DateType(), pl.String: StringType(), pl.Float64: DoubleType()}
    schema = StructType([StructField(n, kinds[t], True) for n, t in RFM_SCHEMA.items()])
    zone = str(session.conf.get("spark.sql.session.timeZone"))
    summary = log.groupBy("as_of_date", "bucket").applyInArrow(_group_summariser(zone), schema)
    frame = pl.from_arrow(summary.toArrow())
    assert isinstance(frame, pl.DataFrame)
    return frame.cast(RFM_SCHEMA)  # type: ignore[arg-type]


def _group_summariser(zone: str) -> Any:
    """The function :func:`rfm_on_spark` runs in Spark's workers on each group of customers:
    their orders' log (:data:`LOG_COLUMNS`, order times read as wall-clock time in the session's
    time zone ``zone``, as DuckDB's naive timestamps are) and its RFM summary."""

    import pyarrow as pa

    kinds = {pl.Date: pa.date32(), pl.String: pa.string(), pl.Float64: pa.float64()}
    arrow_schema = pa.schema([(name, kinds[kind]) for name, kind in RFM_SCHEMA.items()])

    def summarise(keys: tuple[Any, ...], group: Any) -> Any:
        as_of = keys[0].as_py()
        frame = pl.from_arrow(group)
        assert isinstance(frame, pl.DataFrame)
        if getattr(frame.schema["ordered_at"], "time_zone", None) is not None:
            frame = frame.with_columns(
                pl.col("ordered_at").dt.convert_time_zone(zone).dt.replace_time_zone(None)
            )
        rfm = log_rfm(frame.select(*LOG_COLUMNS), as_of)
        rows = {"as_of_date": [as_of] * len(rfm.customer_id), **rfm.to_dict()}
        # Spark wants the schema's Arrow types exactly (polars writes large strings)
        return pl.DataFrame(rows, schema=RFM_SCHEMA).to_arrow().cast(arrow_schema)

    return summarise


def rfm_from_frame(frame: pl.DataFrame) -> RfmSummary:
    """An :class:`RfmSummary` (days) from rows of :data:`RFM_SCHEMA` of one as-of date, in
    customer order as :func:`rfm_summary` gives it."""
    frame = frame.sort("customer_id")
    return RfmSummary(
        customer_id=frame["customer_id"].to_numpy(),
        frequency=frame["frequency"].to_numpy(),
        recency=frame["recency"].to_numpy(),
        T=frame["T"].to_numpy(),
        monetary_value=frame["monetary_value"].to_numpy(),
        time_unit="D",
    )
