"""finance: customer profitability per shop account and fiscal (calendar) year.

Derived exactly from the shop and support data, so the gold layer can reconcile it:
- revenue = sum over the account's non-cancelled orders placed in the year of
  ``total_amount - min(refunds of that order, total_amount)`` (refunds count in the order's year);
- cogs = sum of ``unit_cost x kept quantity`` over those orders' lines;
- acquisition cost in the year the account signed up (if within the history);
- servicing cost = 8.50 per support ticket of the person (charged to the primary account) plus
  6.00 per returned line;
- profit = revenue - cogs - acquisition - servicing.
"""

from __future__ import annotations

import numpy as np

from engagement_lake.generate.block import Block, make_ids
from engagement_lake.generate.columns import US_PER_DAY

TICKET_COST = 8.50
RETURN_COST = 6.00


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
    acq_amount = np.round(rng.uniform(12, 65, n_acct), 2)
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
