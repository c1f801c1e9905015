"""The customer-value predictions of one as-of date, from the shop's order log.

One function for both dbt models that need them: ``customer_value_predictions`` (as of the
lake's as-of date) and ``int_customer_value_predictions_history`` (as of every load date, so the
CLV trend is computed from the data as it stood, not from today's fit). Time unit: days. Spend:
the order subtotal (merchandise value; tax and shipping are not customer value).

p_alive (and so gold's churn_probability) comes from MBG/NBD, where a customer can drop out right
after the first purchase: BG/NBD's P(alive) is 1 for every one-time buyer by construction, however
long ago the purchase was. Expected purchases and the CLV stay BG/NBD × Gamma-Gamma.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from engagement_lake.analytics.churn import fit_mbg_nbd, mbg_p_alive
from engagement_lake.analytics.clv import (
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
        .select(
            pl.col("golden").alias("customer_id"),
            pl.col("ordered_at").dt.date().alias("order_date"),
            pl.col("subtotal_amount").cast(pl.Float64).alias("amount"),
        )
    )


def predict_customer_values(log: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per customer with an order on or before ``as_of`` (:data:`PREDICTION_SCHEMA`): the
    models fitted on the orders up to ``as_of`` only. A log too small to identify a model
    gives null predictions for it rather than invented ones."""
    log = log.filter(pl.col("order_date") <= as_of).sort("customer_id", "order_date")
    if log.height == 0:
        return pl.DataFrame(schema=PREDICTION_SCHEMA)
    rfm = rfm_summary(
        log["customer_id"].to_numpy(),
        log["order_date"].to_numpy().astype("datetime64[D]"),
        log["amount"].to_numpy(),
        np.datetime64(as_of, "D"),
        time_unit="D",
    )
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
