"""One row per golden customer who has purchased: BG/NBD, MBG/NBD and Gamma-Gamma predictions.

A Python model because the maximum-likelihood fits (scipy) and the hypergeometric expectation
live in engagement_lake.analytics as pure, tested functions; this model only feeds them the
transaction log (engagement_lake.analytics.clv_predictions, shared with the CLV history) and
writes their output (fitted parameters included, one copy per row, so that clv_model_parameters
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
    )

    orders = dbt.ref("stg_shop__orders").pl()
    xref = dbt.ref("customer_xref").pl().filter(pl.col("source_system") == "shop")
    fixed = dbt.config.get("as_of_date")
    if orders.height == 0:  # a lake without shop orders yet: no predictions, not an error
        return pl.DataFrame(schema=PREDICTION_SCHEMA)
    as_of = date.fromisoformat(fixed) if fixed else orders["_loaded_at"].max().date()
    return predict_customer_values(order_log(orders, xref), as_of)
