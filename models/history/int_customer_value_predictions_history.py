"""One row per golden customer who had purchased and as-of date (every load date): the CLV
model's predictions fitted on the orders up to that day only (engagement_lake.analytics.
clv_predictions, the same code as customer_value_predictions), so the CLV trend shows what the
data said then, not today's fit applied backwards. One fit per load date: the cost grows with
the number of loads, a few seconds each at demo scale.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    import polars as pl

    from engagement_lake.analytics.clv_predictions import (
        PREDICTION_SCHEMA,
        order_log,
        predict_customer_values,
    )

    schema = {"as_of_date": pl.Date, **PREDICTION_SCHEMA}
    as_of_dates = dbt.ref("int_history_as_of_dates").pl()
    orders = dbt.ref("stg_shop__orders").pl()
    dates = as_of_dates["as_of_date"].sort().to_list()
    if orders.height == 0 or not dates:
        return pl.DataFrame(schema=schema)
    xref = dbt.ref("customer_xref").pl().filter(pl.col("source_system") == "shop")
    log = order_log(orders, xref)
    frames = [
        predict_customer_values(log, day).select(
            pl.lit(day, dtype=pl.Date).alias("as_of_date"), pl.all()
        )
        for day in dates
    ]
    return pl.concat(frames, how="vertical").select(list(schema))
