"""shop returns in a daily load: the lines whose return, decided when they were bought, falls today.

The backfill lands the returns of its own orders as it builds them (``orders.build``); lines
bought near its end, and every line a daily load adds, come back later. A daily load reads the
recent lines back from bronze, recomputes each line's fit and fate (``fates``: keyed by the line,
so exactly what was decided when it was bought) and lands those due today, with a new version of
their order (status ``returned``). So daily returns follow fit and product quality as the
backfill's do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from engagement_lake.generate.block import allowed, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice
from engagement_lake.generate.context import Calendar
from engagement_lake.generate.daily import Day, idx_of_people
from engagement_lake.generate.systems.shop import fates
from engagement_lake.generate.systems.shop import params as P


def recent_lines(d: Day, days: float, unreturned_only: bool = True) -> dict[str, Any] | None:
    """Lines of orders placed in the last ``days`` days (latest versions, not cancelled, and
    not yet returned if ``unreturned_only``), with their buyer, product, delivery time, fit and
    return fate."""
    since = d.start_us - int(np.ceil(days)) * US_PER_DAY
    b = d.bronze
    unreturned = (
        f"""AND i.order_item_id NOT IN (SELECT order_item_id FROM {b.scan("shop.returns")}
                                        WHERE order_item_id IS NOT NULL)"""
        if unreturned_only
        else ""
    )
    df = b.query(f"""
        WITH items AS (
            SELECT order_item_id, order_id, product_id, quantity, unit_price
            FROM {b.scan("shop.order_items")}
            QUALIFY row_number() OVER (
                PARTITION BY order_item_id ORDER BY _loaded_at DESC, _source_file DESC) = 1
        ), orders AS (
            SELECT order_id, customer_id, order_ts, channel, status
            FROM {b.scan("shop.orders")}
            WHERE order_id IS NOT NULL
            QUALIFY row_number() OVER (
                PARTITION BY order_id ORDER BY _loaded_at DESC, _source_file DESC) = 1
        )
        SELECT i.order_item_id, i.order_id, i.product_id, i.quantity, i.unit_price,
               o.customer_id, epoch_us(o.order_ts) AS order_us, o.channel
        FROM items i JOIN orders o USING (order_id)
        WHERE o.status <> 'cancelled' AND epoch_us(o.order_ts) >= {since} {unreturned}
        ORDER BY i.order_item_id""")
    owners = (
        d.ident.filter(pl.col("source_system") == "shop.customers")
        .select(pl.col("source_id").alias("customer_id"), "person_id")
        .unique("customer_id", keep="first")
    )
    prod = d.w.products
    prod_idx = pl.DataFrame({"product_id": prod["product_id"], "product": np.arange(len(prod))})
    df = (
        df.join(owners, on="customer_id", how="inner", maintain_order="left")
        .join(prod_idx, on="product_id", how="inner", maintain_order="left")
        .with_columns(
            item_num=pl.col("order_item_id").str.extract(r"(\d+)", 1).cast(pl.Int64),
            order_num=pl.col("order_id").str.extract(r"(\d+)", 1).cast(pl.Int64),
        )
        .drop_nulls(["item_num", "order_num", "quantity", "unit_price", "order_us"])
    )
    if df.is_empty():
        return None
    person = idx_of_people(d, df["person_id"].to_numpy())
    item = df["product"].to_numpy()
    order_us = df["order_us"].to_numpy()
    life = fates.order_timeline(
        d.ctx.seed, df["order_num"].to_numpy(), order_us, (df["channel"] == "store").to_numpy()
    )
    fit, _ = fates.line_fit(
        d.ctx.seed,
        df["item_num"].to_numpy(),
        prod["apparel"].to_numpy()[item],
        prod["sizing_bias"].to_numpy()[item],
        d.people["fitmap_user"].to_numpy()[person],
        d.people["size_problem"].to_numpy()[person],
    )
    qty = df["quantity"].to_numpy().astype(np.int64)
    quality = prod["quality"].to_numpy()[item]
    back = fates.line_returns(
        d.ctx,
        df["item_num"].to_numpy(),
        fit,
        quality,
        qty,
        life["delivered_us"],
        life["cancelled"],
    )
    return {
        "frame": df,
        "person": person,
        "product": item,
        "apparel": prod["apparel"].to_numpy()[item],
        "quality": quality,
        "fit": fit,
        "qty": qty,
        "delivered_us": life["delivered_us"],
        "cancelled": life["cancelled"],
        "back": back,
    }


def daily(d: Day) -> None:
    """Land the returns due today; resend their orders with status ``returned``."""
    lines = recent_lines(d, P.DELIVERY_DAYS[1] + P.RETURN_DAYS[1] + 1)
    if lines is None:
        return
    back = lines["back"]
    # due since the previous load's end of events (23:00 yesterday), up to today's
    prev = Calendar.day_end_us(d.day - 1)
    due = back["returned"] & (back["us"] >= prev) & (back["us"] < d.end_us)
    if not due.any():
        return
    df = lines["frame"].filter(pl.Series(due))
    qty = back["qty"][due]
    n = len(df)
    us = back["us"][due]
    d.add(
        "shop.returns",
        {
            "return_id": make_ids("return", d.ctx.take("return", n)),
            "order_item_id": df["order_item_id"],
            "order_id": df["order_id"],
            "customer_id": df["customer_id"],
            "return_ts": us,
            "reason": choice(allowed(d.ctx, "shop.returns", "reason"), back["reason"][due]),
            "quantity": qty,
            "refund_amount": np.round(df["unit_price"].cast(pl.Float64).to_numpy() * qty, 2),
            "is_exchange": back["exchange"][due],
        },
    )
    last = (
        pl.DataFrame({"order_id": df["order_id"], "us": us})
        .group_by("order_id")
        .agg(pl.col("us").max())
    )
    ids = ",".join(f"'{x}'" for x in sorted(last["order_id"].to_list()))
    o = d.bronze.latest("shop.orders", f"order_id IN ({ids})")
    if not o.is_empty():
        o = o.join(last, on="order_id", how="inner", maintain_order="left")
        d.add(
            "shop.orders",
            o.with_columns(
                status=pl.lit("returned"), updated_at=pl.col("us").cast(pl.Datetime("us"))
            ).drop("us"),
        )
