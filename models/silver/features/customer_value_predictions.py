"""One row per golden customer who has purchased: BG/NBD, MBG/NBD and Gamma-Gamma predictions.

A Python model because the maximum-likelihood fits (scipy) and the hypergeometric expectation
live in engagement_lake.analytics.clv as pure, tested functions; this model only feeds them the
transaction log and writes their output (fitted parameters included, one copy per row, so that
clv_model_parameters and the gold table can show them). Time unit: days. Spend: the order subtotal
(merchandise value; tax and shipping are not customer value). Observation end: the as_of_date
var, else the newest load date — never the wall clock.

p_alive (and so gold's churn_probability) comes from MBG/NBD, where a customer can drop out right
after the first purchase: BG/NBD's P(alive) is 1 for every one-time buyer by construction, however
long ago the purchase was. Expected purchases and the CLV stay BG/NBD × Gamma-Gamma.
"""

MODEL_VERSION = "bgnbd-gg-mbgnbd-2"
DAYS_PER_YEAR = 365.25


def model(dbt, session):
    dbt.config(materialized="table")
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

    orders = dbt.ref("stg_shop__orders").pl()
    xref = dbt.ref("customer_xref").pl().filter(pl.col("source_system") == "shop")
    fixed = dbt.config.get("as_of_date")
    empty = {
        "customer_id": pl.String, "frequency": pl.Float64, "recency_days": pl.Float64,
        "age_days": pl.Float64, "monetary_value": pl.Float64, "p_alive": pl.Float64,
        "expected_purchases_12mo": pl.Float64, "expected_average_spend": pl.Float64,
        "predicted_clv_12mo": pl.Float64, "predicted_clv_36mo": pl.Float64,
        "model_version": pl.String, "fit_date": pl.Date, "bgnbd_r": pl.Float64,
        "bgnbd_alpha": pl.Float64, "bgnbd_a": pl.Float64, "bgnbd_b": pl.Float64,
        "mbgnbd_r": pl.Float64, "mbgnbd_alpha": pl.Float64, "mbgnbd_a": pl.Float64,
        "mbgnbd_b": pl.Float64,
        "gg_p": pl.Float64, "gg_q": pl.Float64, "gg_v": pl.Float64,
    }

    if orders.height == 0:  # a lake without shop orders yet: no predictions, not an error
        return pl.DataFrame(schema=empty)
    as_of = date.fromisoformat(fixed) if fixed else orders["_loaded_at"].max().date()
    log = (
        orders.filter(pl.col("status") != "cancelled")
        .join(
            xref.select(pl.col("source_id").alias("customer_id"), pl.col("customer_id").alias("golden")),
            on="customer_id",
            how="inner",
        )
        .filter(pl.col("ordered_at").dt.date() <= as_of)
        .select(
            pl.col("golden").alias("customer_id"),
            pl.col("ordered_at").dt.date().alias("order_date"),
            pl.col("subtotal_amount").cast(pl.Float64).alias("amount"),
        )
        .sort("customer_id", "order_date")
    )
    if log.height == 0:
        return pl.DataFrame(schema=empty)

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
    # A tiny or brand-new lake cannot identify the models (too few repeat buyers): the build
    # still succeeds and the predictions are null, rather than invented.
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
    }
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
        schema_overrides=empty,
    ).with_columns(pl.col(pl.Float64).fill_nan(None))
