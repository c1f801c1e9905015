"""One row per golden customer who has purchased: BG/NBD, MBG/NBD and Gamma-Gamma predictions.

A Python model because the maximum-likelihood fits (scipy) and the hypergeometric expectation
live in engagement_lake.analytics as pure, tested functions; this model only feeds them the
transaction log (engagement_lake.analytics.clv_predictions, shared with the CLV history; on Spark
the per-customer RFM summary is aggregated by the engine and only the fits run on the driver)
and writes their output (fitted parameters included, one copy per row, so that clv_model_parameters
and the gold table can show them). Observation end: the as_of_date var, else the newest load
date — never the wall clock.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from datetime import date

    import polars as pl

    from engagement_lake.analytics.clv_predictions import (
        PREDICTION_SCHEMA,
        order_log,
        predict_customer_values,
        predict_from_rfm,
        rfm_from_frame,
        rfm_on_spark,
    )
    from engagement_lake.frames import is_spark, scalar, to_engine, to_polars

    orders = dbt.ref("stg_shop__orders")
    xref = dbt.ref("customer_xref").filter("source_system = 'shop'")
    fixed = dbt.config.get("as_of_date")
    newest = scalar(orders, "max(_loaded_at)")
    if newest is None:  # a lake without shop orders yet: no predictions, not an error
        return to_engine(pl.DataFrame(schema=PREDICTION_SCHEMA), session)
    as_of = date.fromisoformat(fixed) if fixed else newest.date()
    if is_spark(session):
        # the RFM summary is aggregated by Spark; only the fits run on the driver
        rfm = rfm_from_frame(rfm_on_spark(orders, xref, [as_of]))
        return to_engine(predict_from_rfm(rfm, as_of), session)
    return predict_customer_values(order_log(to_polars(orders), to_polars(xref)), as_of)
