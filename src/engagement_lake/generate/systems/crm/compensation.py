"""Quotas and commissions: what each rep is asked to sell per month, and what a won deal pays.

A quota is the rep's expected closed-won amount per month, computed from the pipeline's own
parameters (``expected_monthly_won``), so attainment means the same at every scale; the
backfill writes every month of the history and a daily load the month that starts on it, both
through ``quota_amounts``. Won deals pay commission = the owner's rate x the won amount, in the
backfill and daily alike (``commission_rows``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from engagement_lake.generate.block import Block, allowed, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.context import Ctx, stream_key
from engagement_lake.generate.daily import Day
from engagement_lake.generate.systems.crm.leads import territory_of_state
from engagement_lake.generate.systems.crm.params import (
    ADVANCE_BASE,
    OPPS_PER_CONTACT,
    QUOTA_STRETCH,
    SOURCE_WEIGHTS,
    SOURCE_WIN,
    STAGE_FLOW,
    TYPE_AMOUNT,
    TYPE_WEIGHTS,
    unit_hash,
)


def commission_rows(
    ctx: Ctx, reps: pl.DataFrame, rng: np.random.Generator, opp_rows: dict[str, np.ndarray]
) -> dict[str, object]:
    """Commission lines for won deals: amount = the owner's rate x the won amount."""
    now = ctx.now_us
    rep = opp_rows["rep"]
    n = len(rep)
    rate = reps["commission_rate"].to_numpy()[rep]
    amount = opp_rows["amount"]
    close = opp_rows["close_us"]
    ctypes = allowed(ctx, "crm.commissions", "commission_type")
    otypes = allowed(ctx, "crm.opportunities", "opportunity_type")
    sources = allowed(ctx, "crm.opportunities", "lead_source")
    t = opp_rows["type"]
    ct = np.where(
        opp_rows["src"] == sources.index("Referral"),
        ctypes.index("Referral"),
        np.where(
            t == otypes.index("Upsell"),
            ctypes.index("Upsell"),
            np.where(
                t == otypes.index("Cross-sell"),
                ctypes.index("Cross-Sell"),
                ctypes.index("New Account"),
            ),
        ),
    )
    month = (close // US_PER_DAY).astype("datetime64[D]").astype("datetime64[M]")
    pay_day = (month + 2).astype("datetime64[D]").astype(np.int64) - 1  # last day of next month
    paid = pay_day * US_PER_DAY < now
    period = np.datetime_as_string(month, unit="M").astype(object)
    return {
        "commission_id": make_ids("commission", ctx.take("commission", n)),
        "sales_rep_id": reps["sales_rep_id"].to_arrow().take(rep),
        "opportunity_id": make_ids("opportunity", opp_rows["num"]),
        "commission_type": choice(ctypes, ct),
        "commission_period": period,
        "base_amount": amount,
        "commission_rate": rate,
        "commission_amount": np.round(rate * amount, 2),
        "is_paid": paid,
        "payment_date": masked(pay_day, paid),
    }


def commissions(blk: Block, rng: np.random.Generator, opp_ids: object) -> None:
    op = blk.state["opportunities"]
    won = np.flatnonzero(op["won"])
    rows = {k: op[k][won] for k in ("rep", "amount", "close_us", "type", "src", "num")}
    blk.add("crm.commissions", commission_rows(blk.ctx, blk.world.reps, rng, rows))


def expected_monthly_won(ctx: Ctx, reps: pl.DataFrame, people: pl.DataFrame) -> np.ndarray:
    """Each rep's expected closed-won amount per month of the history, from the simulation's
    own parameters: the CRM people of the rep's territory (shared among its reps) times the
    opportunities per contact, B2B deals pooled on the B2B team, the stage-advance
    probabilities (source mix x rep skill) and the mean deal amount per type. Quotas built on
    it scale with the data, so attainment means the same at every scale."""
    terr_of_state = territory_of_state()
    crm_people = people.filter(pl.col("in_crm"))
    terr = crm_people["state"].str.to_uppercase().replace_strict(terr_of_state, default="T01")
    per_terr = terr.value_counts().rows()
    count_of = {t: c for t, c in per_terr}
    rep_terr = reps["territory_id"].to_numpy()
    reps_in = pl.Series(rep_terr).value_counts().rows()
    n_reps_of = {t: c for t, c in reps_in}
    people_share = np.asarray(
        [count_of.get(t, 0) / n_reps_of[t] for t in rep_terr], dtype=np.float64
    )
    mean_amt = {t: float(np.exp(mu + sd * sd / 2)) for t, (mu, sd) in TYPE_AMOUNT.items()}
    tw = sum(TYPE_WEIGHTS.values())
    b2b_w = TYPE_WEIGHTS["B2B Uniforms"] / tw
    other = sum(TYPE_WEIGHTS[t] / tw * mean_amt[t] for t in TYPE_WEIGHTS if t != "B2B Uniforms")
    b2b_team = reps["sales_team"].to_numpy() == "B2B Uniforms"
    b2b_pool = len(crm_people) * OPPS_PER_CONTACT * b2b_w * mean_amt["B2B Uniforms"]
    value = people_share * OPPS_PER_CONTACT * other  # non-B2B deals of the territory
    value = value + np.where(b2b_team, b2b_pool / max(int(b2b_team.sum()), 1), 0.0)
    sw = sum(SOURCE_WEIGHTS.values())
    src = sum(SOURCE_WEIGHTS[k] / sw * SOURCE_WIN[k] ** len(STAGE_FLOW) for k in SOURCE_WEIGHTS)
    win = float(np.prod(ADVANCE_BASE)) * src * reps["skill"].to_numpy()
    n_months = max(ctx.cal.n_days / 30.44, 1.0)
    return value * win / n_months


def quota_amounts(
    ctx: Ctx, reps: pl.DataFrame, people: pl.DataFrame | None, rep: np.ndarray, mon: np.ndarray
) -> np.ndarray:
    """Quota amounts of (rep, month) pairs: expected won amount x the rep's stretch x the
    month's seasonality, with a little month-to-month noise; rounded to 100."""
    # keyed by the seed only (not the load day): daily loads reproduce the backfill's stretch
    rng = np.random.default_rng([ctx.seed, stream_key("crm.quotas.stretch")])
    stretch = rng.uniform(*QUOTA_STRETCH, len(reps))
    if people is not None and len(people):
        base = expected_monthly_won(ctx, reps, people)
        # a territory without CRM people (tiny scales) still gets a token quota, not zero
        positive = base[base > 0]
        base = np.maximum(base, 0.25 * float(np.median(positive)) if len(positive) else 100.0)
    else:  # no people known: the old fixed team quotas
        base = np.array([60_000.0, 150_000.0, 80_000.0, 40_000.0])[reps["team_idx"].to_numpy()]
        stretch = np.ones(len(reps))
    first = mon.astype("datetime64[D]").astype(np.int64)
    last = (mon + 1).astype("datetime64[D]").astype(np.int64)
    lo = np.clip(first - ctx.cal.grid_lo, 0, len(ctx.cal.cum) - 1)
    hi = np.clip(last - ctx.cal.grid_lo, 0, len(ctx.cal.cum) - 1)
    seasonal = (ctx.cal.cum[hi] - ctx.cal.cum[lo]) / 30.44
    ym = mon.astype(np.int64)
    noise = 0.95 + 0.1 * unit_hash(ctx.seed, reps["rep_num"].to_numpy()[rep] * 10_000 + ym)
    amount = base[rep] * stretch[rep] * seasonal * noise
    return np.maximum(np.round(amount / 100) * 100, 100.0)


def quotas(ctx: Ctx, reps: pl.DataFrame, people: pl.DataFrame | None = None) -> dict[str, object]:
    """One quota per rep per month of the history (from the hire month on), proportional to the
    rep's expected won amount (see ``expected_monthly_won``)."""
    months = np.arange(np.datetime64(ctx.cal.start, "M"), np.datetime64(ctx.as_of, "M") + 1)
    hire_m = reps["hire_day"].to_numpy().astype("datetime64[D]").astype("datetime64[M]")
    nr, nm = len(reps), len(months)
    rep = np.repeat(np.arange(nr), nm)
    mon = np.tile(months, nr)
    keep = mon >= hire_m[rep]
    rep, mon = rep[keep], mon[keep]
    amount = quota_amounts(ctx, reps, people, rep, mon)
    start = mon.astype("datetime64[D]").astype(np.int64)
    end = (mon + 1).astype("datetime64[D]").astype(np.int64) - 1
    rep_nums = reps["rep_num"].to_numpy()[rep]
    ym = mon.astype(np.int64)
    qnum = rep_nums * 10_000 + (ym // 12 + 1970 - 2000) * 100 + ym % 12 + 1
    ctx.counters["quota"] = max(ctx.counters.get("quota", 0), int(qnum.max(initial=0)))
    return {
        "quota_id": make_ids("quota", qnum),
        "sales_rep_id": reps["sales_rep_id"].to_arrow().take(rep),
        "period_start": start,
        "period_end": end,
        "quota_amount": amount,
    }


def month_quotas(ctx: Ctx, reps: pl.DataFrame, day: int, people: pl.DataFrame) -> dict[str, Any]:
    """Quota rows of the month starting at ``day`` for every active rep (the backfill's rule:
    the rep's expected won amount x its stretch x the month's seasonality)."""
    mon = np.datetime64(int(day), "D").astype("datetime64[M]")
    active = np.flatnonzero(reps["is_active"].to_numpy())
    ym = int(mon.astype(np.int64))
    qnum = (
        reps["rep_num"].to_numpy()[active] * 10_000 + (ym // 12 + 1970 - 2000) * 100 + ym % 12 + 1
    )
    start = mon.astype("datetime64[D]").astype(np.int64)
    end = (mon + 1).astype("datetime64[D]").astype(np.int64) - 1
    months = np.full(len(active), mon)
    return {
        "quota_id": make_ids("quota", qnum),
        "sales_rep_id": reps["sales_rep_id"].to_arrow().take(active),
        "period_start": np.full(len(active), start),
        "period_end": np.full(len(active), end),
        "quota_amount": quota_amounts(ctx, reps, people, active, months),
    }


def daily(d: Day, rng: np.random.Generator, won: pl.DataFrame) -> None:
    """Commission on today's won deals; on the first of a month, the month's quotas."""
    ctx, reps = d.ctx, d.w.reps
    if len(won):
        rep_idx = {r: i for i, r in enumerate(reps["sales_rep_id"].to_list())}
        otypes = allowed(ctx, "crm.opportunities", "opportunity_type")
        sources = allowed(ctx, "crm.opportunities", "lead_source")
        rows = {
            "rep": np.asarray([rep_idx.get(r, 0) for r in won["owner_id"].to_list()]),
            "amount": won["amount"].cast(pl.Float64).to_numpy(),
            "close_us": won["last_modified_date"].cast(pl.Int64).to_numpy(),
            "type": np.asarray([otypes.index(t) for t in won["opportunity_type"].to_list()]),
            "src": np.asarray([sources.index(s) for s in won["lead_source"].to_list()]),
            "num": np.asarray([int(x[3:]) for x in won["opportunity_id"].to_list()]),
        }
        d.add("crm.commissions", commission_rows(ctx, reps, rng, rows))
    if date.fromordinal(date(1970, 1, 1).toordinal() + d.day).day == 1:
        q = quotas(ctx, reps, d.people)
        keep = np.asarray(q["period_start"]) == d.day
        if not keep.any():
            d.add("crm.quotas", month_quotas(ctx, reps, d.day, d.people))
        else:
            d.add(
                "crm.quotas",
                {
                    k: v.filter(pa.array(keep)) if isinstance(v, pa.Array) else np.asarray(v)[keep]
                    for k, v in q.items()
                },
            )
