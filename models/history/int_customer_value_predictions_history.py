"""One row per golden customer who had purchased and monthly snapshot date (the newest load
date of each of the last var('clv_history_months') months with a load): the CLV model's
predictions fitted on the orders up to that day only (engagement_lake.analytics.
clv_predictions, the same code as customer_value_predictions), so the CLV trend shows what the
data said then, not today's fit applied backwards. Every snapshot is refitted on every build,
because a merge of today changes a golden customer's past orders; monthly points keep that to a
bounded number of fits (a few seconds each at demo scale) where a point per load date would add
one with every daily load. The newest date's fit is customer_value_predictions itself (same
orders, same code, same day: the same rows), taken rather than fitted twice. On Spark the
engine aggregates the RFM summary of every other snapshot date in one job; only the fits run on
the driver.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    import polars as pl

    from engagement_lake.analytics.clv_predictions import (
        PREDICTION_SCHEMA,
        monthly_snapshot_dates,
        order_log,
        predict_customer_values,
        predict_from_rfm,
        rfm_from_frame,
        rfm_on_spark,
    )
    from engagement_lake.frames import is_spark, to_engine, to_polars

    schema = {"as_of_date": pl.Date, **PREDICTION_SCHEMA}
    as_of_dates = dbt.ref("int_history_as_of_dates")
    dates = monthly_snapshot_dates(
        to_polars(as_of_dates)["as_of_date"].to_list(), int(dbt.config.get("history_months"))
    )
    orders = dbt.ref("stg_shop__orders")
    xref = dbt.ref("customer_xref").filter("source_system = 'shop'")
    if not dates:
        return to_engine(pl.DataFrame(schema=schema), session)
    # the fit of the lake's as-of date, already made (one fit_date, or none without orders)
    current = to_polars(dbt.ref("customer_value_predictions"))
    fits = {}
    if current.height and current["fit_date"].n_unique() == 1 and current["fit_date"][0] in dates:
        fits[current["fit_date"][0]] = current.select(list(PREDICTION_SCHEMA))
    to_fit = [day for day in dates if day not in fits]
    if to_fit and is_spark(session):
        # one Spark job summarises the orders of every as-of date; the fits run on the driver
        summaries = rfm_on_spark(orders, xref, to_fit)
        for day in to_fit:
            fits[day] = predict_from_rfm(
                rfm_from_frame(summaries.filter(pl.col("as_of_date") == day)), day
            )
    elif to_fit:
        log = order_log(to_polars(orders), to_polars(xref))
        fits.update({day: predict_customer_values(log, day) for day in to_fit})
    frames = [
        fits[day].select(pl.lit(day, dtype=pl.Date).alias("as_of_date"), pl.all()) for day in dates
    ]
    return to_engine(pl.concat(frames, how="vertical").select(list(schema)), session)
