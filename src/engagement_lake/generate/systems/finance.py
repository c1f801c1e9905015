"""finance: customer profitability per shop account and fiscal (calendar) year, for the
backfill (``emit``) and a daily load (``daily``), with one set of costs.

Derived exactly from the shop and support data, so the gold layer can reconcile it:
- revenue = sum over the account's non-cancelled orders placed in the year of
  ``total_amount - min(refunds of that order, total_amount)`` (refunds count in the order's year);
- cogs = sum of ``unit_cost x kept quantity`` over those orders' lines;
- acquisition cost in the year the account signed up (if within the history);
- servicing cost = 8.50 per support ticket of the person (charged to the primary account) plus
  6.00 per returned line;
- profit = revenue - cogs - acquisition - servicing.

A daily load resends the current year's row of every customer who bought that day, with the
day's revenue and cogs added; a customer's first row of a year is new, and carries the
acquisition cost when the account signed up that year, as in the backfill.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from engagement_lake.generate.block import Block, make_ids
from engagement_lake.generate.columns import US_PER_DAY
from engagement_lake.generate.daily import Day

TICKET_COST = 8.50
RETURN_COST = 6.00
ACQUISITION_COST = (12.0, 65.0)
"""An account's acquisition cost (USD), uniform in this range, charged in its signup year."""


def _year(us: np.ndarray) -> np.ndarray:
    return (np.asarray(us) // US_PER_DAY).astype("datetime64[D]").astype("datetime64[Y]").astype(
        np.int64
    ) + 1970


def emit(blk: Block) -> None:
    ctx = blk.ctx
    rng = blk.rng("finance")
    o, it, r = blk.state["orders"], blk.state["items"], blk.state["returns"]
    now = ctx.now_us
    n_o = len(o["num"])
    refund = np.bincount(r["order"], weights=r["refund_c"], minlength=n_o)
    net_c = np.where(o["cancelled"], 0, o["total_c"] - np.minimum(refund, o["total_c"]))
    kept = it["qty"].astype(np.int64).copy()
    np.subtract.at(kept, r["item"], r["qty"])
    cost = blk.world.products["unit_cost"].to_numpy()[it["product"]]
    line_cogs = np.where(o["cancelled"][it["order"]], 0.0, cost * np.maximum(kept, 0))
    cogs_order = np.bincount(it["order"], weights=line_cogs, minlength=n_o)
    ret_lines = np.bincount(r["order"], minlength=n_o)

    cust_num = np.asarray(blk.state["cust_num"])
    rec = blk.state["cust_rec"]
    # account index (position in the block's customer records) of each order
    sort_idx = np.argsort(cust_num, kind="stable")
    sorted_num = cust_num[sort_idx]
    acct = sort_idx[np.searchsorted(sorted_num, o["cust"])] if n_o else np.zeros(0, np.int64)
    n_acct = len(cust_num)
    first_year = _year(np.array([ctx.cal.start_us]))[0]
    last_year = ctx.as_of.year
    years = np.arange(first_year, last_year + 1)
    ny = len(years)
    oy = _year(o["us"]) - first_year
    key = acct * ny + oy
    size = n_acct * ny
    revenue = np.bincount(key, weights=net_c / 100.0, minlength=size)
    cogs = np.bincount(key, weights=cogs_order, minlength=size)
    returns_cost = np.bincount(key, weights=ret_lines * RETURN_COST, minlength=size)
    tk = blk.state["tickets"]
    t_acct_num = blk.state["primary_cust"][tk["person"]]
    has = t_acct_num >= 0
    t_acct = sort_idx[np.searchsorted(sorted_num, t_acct_num[has])]
    t_key = t_acct * ny + (_year(tk["created"][has]) - first_year)
    tickets_cost = np.bincount(t_key, minlength=size) * TICKET_COST
    signup_day = np.where(
        rec.is_duplicate, blk.state["dup_signup_day"][rec.person], blk.col("signup_day")[rec.person]
    )
    signup_year = _year(signup_day * US_PER_DAY) - first_year
    acq = np.zeros(size)
    in_hist = signup_year >= 0
    acq_amount = np.round(rng.uniform(*ACQUISITION_COST, n_acct), 2)
    acq[(np.arange(n_acct) * ny + signup_year)[in_hist]] = acq_amount[in_hist]
    # rows: every account-year from the account's first order year to the as-of year
    first_order_year = np.full(n_acct, ny, dtype=np.int64)
    np.minimum.at(first_order_year, acct, oy)
    a = np.repeat(np.arange(n_acct), ny)
    y = np.tile(np.arange(ny), n_acct)
    keep = y >= first_order_year[a]
    a, y = a[keep], y[keep]
    k = a * ny + y
    servicing = np.round(tickets_cost[k] + returns_cost[k], 2)
    rev = np.round(revenue[k], 2)
    cg = np.round(cogs[k], 2)
    ac = acq[k]
    profit = np.round(rev - cg - ac - servicing, 2)
    fy = years[y]
    as_of = np.where(
        fy < ctx.as_of.year,
        (fy - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
        + 364
        + ((fy % 4 == 0) & ((fy % 100 != 0) | (fy % 400 == 0))),
        now // US_PER_DAY,
    )
    n = len(a)
    blk.add(
        "finance.customer_profitability",
        {
            "profitability_id": make_ids("profitability", ctx.take("profitability", n)),
            "customer_id": make_ids("customer", cust_num[a]),
            "fiscal_year": fy,
            "as_of_date": as_of,
            "revenue_amount": rev,
            "cogs_amount": cg,
            "acquisition_cost": ac,
            "servicing_cost": servicing,
            "profit_amount": profit,
        },
    )


def daily(d: Day) -> None:
    """Customers who bought today: their current fiscal year's row is resent, updated (a first
    row of the year is new, with the acquisition cost if the account signed up this year)."""
    ctx = d.ctx
    rng = d.rng("finance")
    to = d.today_orders
    if to is None or len(to["customer_id"]) == 0:
        return
    year = date.fromordinal(date(1970, 1, 1).toordinal() + d.day).year
    today = (
        pl.DataFrame(
            {"customer_id": to["customer_id"], "rev": to["total_c"] / 100.0, "cogs": to["cogs"]}
        )
        .group_by("customer_id", maintain_order=True)
        .agg(pl.col("rev").sum(), pl.col("cogs").sum())
    )
    ids = ",".join(f"'{c}'" for c in today["customer_id"].to_list())
    cur = d.bronze.latest(
        "finance.customer_profitability", f"fiscal_year = {year} AND customer_id IN ({ids})"
    )
    upd = today.join(cur, on="customer_id", how="left", maintain_order="left")
    has = upd["profitability_id"].is_not_null().to_numpy()
    n_new = int((~has).sum())
    new_ids = make_ids("profitability", ctx.take("profitability", n_new)).to_pylist()
    it = iter(new_ids)
    pid = [x if x is not None else next(it) for x in upd["profitability_id"].to_list()]
    # accounts not in bronze yet signed up today
    signup = d.bronze.latest(
        "shop.customers", f"customer_id IN ({ids})", columns="customer_id, signup_date"
    )
    signup_year = (
        upd.select("customer_id")
        .join(signup, on="customer_id", how="left", maintain_order="left")["signup_date"]
        .dt.year()
        .fill_null(year)
        .to_numpy()
    )
    new_acq = np.round(rng.uniform(*ACQUISITION_COST, len(upd)), 2)
    acq = np.where(
        has,
        upd["acquisition_cost"].cast(pl.Float64).fill_null(0).to_numpy(),
        np.where(signup_year == year, new_acq, 0.0),
    )
    rev = upd["revenue_amount"].cast(pl.Float64).fill_null(0).to_numpy() + upd["rev"].to_numpy()
    cogs = upd["cogs_amount"].cast(pl.Float64).fill_null(0).to_numpy() + upd["cogs"].to_numpy()
    serv = upd["servicing_cost"].cast(pl.Float64).fill_null(0).to_numpy()
    d.add(
        "finance.customer_profitability",
        {
            "profitability_id": pl.Series(pid, dtype=pl.String),
            "customer_id": upd["customer_id"],
            "fiscal_year": np.full(len(upd), year),
            "as_of_date": np.full(len(upd), d.day),
            "revenue_amount": np.round(rev, 2),
            "cogs_amount": np.round(cogs, 2),
            "acquisition_cost": acq,
            "servicing_cost": serv,
            "profit_amount": np.round(rev - cogs - acq - serv, 2),
        },
    )
