"""A/B experiments: assignments of customers to variants and the events that follow.

Assignment follows each variant's true share (one experiment deliberately breaks its intended
split: a sample-ratio mismatch) and conversions follow each variant's true rate
(``_truth/experiments.parquet``). An assigned customer is exposed at assignment and then again on
later visits while the experiment runs and they are still active (``REPEAT_EXPOSURE_PER_DAY``),
so exposure counts per assignment vary the way a real surface's do. Assignment is a constant
daily hazard per eligible customer (``assignment_hazard``), so the backfill's last days and the
daily loads that follow assign at the same pace.

The row builders (``first_events``, ``repeat_exposures``) serve both paths: the backfill runs
them over each experiment's whole run, a daily load over today for the running experiments
(today's new assignments, and repeat exposures of the earlier ones).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from engagement_lake.generate.block import Block, allowed, choose_weighted, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.daily import Day
from engagement_lake.generate.systems.mlops.params import (
    ASSIGNMENT_DAYS,
    CONVERSION_REVENUE_SHAPE,
    MEAN_CONVERSION_REVENUE,
    MINUTE,
    REPEAT_EXPOSURE_DAYS,
    REPEAT_EXPOSURE_PER_DAY,
    SECOND,
    customers,
)

EVENTS = "mlops.experiment_events"
ASSIGNMENTS = "mlops.experiment_assignments"
ELIGIBLE_AFTER_LAST_ORDER_DAYS = 60
"""A lapsed customer stays eligible for assignment this many days after their last order."""


def assignment_hazard(coverage: float) -> float:
    """Daily chance an eligible, unassigned customer is assigned."""
    return -float(np.log1p(-coverage)) / ASSIGNMENT_DAYS


def first_events(
    rng: np.random.Generator,
    ctx: Ctx,
    assigned_us: np.ndarray,
    stop_us: np.ndarray,
    click_rate: np.ndarray,
    conv_rate: np.ndarray,
) -> dict[str, np.ndarray]:
    """The exposure at assignment and, by each variant's true rates, a click and a conversion
    (a conversion before ``stop_us``): (assignment index, event type index, time, revenue)."""
    n = len(assigned_us)
    types = allowed(ctx, EVENTS, "event_type")
    clicked = rng.random(n) < click_rate
    converted = rng.random(n) < conv_rate
    expo_us = assigned_us + rng.integers(SECOND, 30 * SECOND, n)
    click_us = expo_us + rng.integers(5 * SECOND, 10 * MINUTE, n)
    conv_us = expo_us + (rng.random(n) * np.maximum(stop_us - expo_us, 1) * 0.5).astype(np.int64)
    revenue = np.round(
        rng.gamma(CONVERSION_REVENUE_SHAPE, MEAN_CONVERSION_REVENUE / CONVERSION_REVENUE_SHAPE, n),
        2,
    )
    return {
        "a": np.r_[np.arange(n), np.flatnonzero(clicked), np.flatnonzero(converted)],
        "t": np.r_[
            np.full(n, types.index("exposure")),
            np.full(int(clicked.sum()), types.index("click")),
            np.full(int(converted.sum()), types.index("conversion")),
        ],
        "us": np.r_[expo_us, click_us[clicked], conv_us[converted]],
        "revenue": np.r_[np.full(n + int(clicked.sum()), np.nan), revenue[converted]],
    }


def repeat_exposures(
    rng: np.random.Generator, ctx: Ctx, from_us: np.ndarray, to_us: np.ndarray
) -> dict[str, np.ndarray]:
    """Exposures after the first one: Poisson(REPEAT_EXPOSURE_PER_DAY x days) per assignment,
    at uniform times within [from_us, to_us) (the caller bounds it by the repeat window)."""
    span = np.maximum(to_us - from_us, 0)
    counts = rng.poisson(REPEAT_EXPOSURE_PER_DAY * span / US_PER_DAY)
    a = np.repeat(np.arange(len(span)), counts)
    types = allowed(ctx, EVENTS, "event_type")
    return {
        "a": a,
        "t": np.full(len(a), types.index("exposure")),
        "us": from_us[a] + (rng.random(len(a)) * span[a]).astype(np.int64),
        "revenue": np.full(len(a), np.nan),
    }


def _merge(*parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _add_events(
    ctx: Ctx, add: Any, ev: dict[str, np.ndarray], exp_ids: Any, cust_ids: Any, now: int
) -> None:
    """Write events before ``now`` in time order (``exp_ids``, ``cust_ids`` by assignment)."""
    keep = ev["us"] < now - 1
    srt = np.flatnonzero(keep)[np.lexsort((ev["t"][keep], ev["us"][keep]))]
    a = ev["a"][srt]
    m = len(a)
    if m == 0:
        return
    types = allowed(ctx, EVENTS, "event_type")
    add(
        EVENTS,
        {
            "experiment_event_id": make_ids("experiment_event", ctx.take("experiment_event", m)),
            "experiment_id": exp_ids.take(a) if hasattr(exp_ids, "take") else exp_ids[a],
            "customer_ref": cust_ids.take(a) if hasattr(cust_ids, "take") else cust_ids[a],
            "event_type": choice(types, ev["t"][srt]),
            "revenue": ev["revenue"][srt],
            "event_ts": ev["us"][srt],
        },
    )


def _variant_rows(variants: pl.DataFrame, exp_id: np.ndarray, var_idx: np.ndarray) -> np.ndarray:
    """Row of ``variants`` of each (experiment id, variant index)."""
    key = {
        (e, int(v)): i
        for i, (e, v) in enumerate(
            zip(variants["experiment_id"].to_list(), variants["variant_idx"].to_list(), strict=True)
        )
    }
    return np.asarray([key[(e, int(v))] for e, v in zip(exp_id, var_idx, strict=True)], np.int64)


def _end_us(exps: pl.DataFrame, now: int) -> np.ndarray:
    return np.minimum(
        np.asarray(
            [(int(d) + 1) * US_PER_DAY if d is not None else now for d in exps["end_day"].to_list()]
        ),
        now,
    )


def experiments(blk: Block) -> None:
    ctx, rng = blk.ctx, blk.rng("mlops.experiments")
    now = ctx.now_us
    exps, variants = blk.world.experiments, blk.world.variants
    people = customers(blk)
    ends = _end_us(exps, now)
    a_exp, a_person, a_var, a_us = [], [], [], []
    for i in range(len(exps)):  # ten experiments
        lo = int(exps["start_day"][i]) * US_PER_DAY
        hi = int(ends[i])
        if lo >= hi or len(people) == 0:
            continue
        first = blk.col("first_purchase_day")[people] * US_PER_DAY
        lapse = ELIGIBLE_AFTER_LAST_ORDER_DAYS * US_PER_DAY
        until = blk.state["active_until"][people] + lapse
        ok = (first < hi) & (until > lo)
        elig, since = people[ok], np.maximum(lo, first[ok])
        h = assignment_hazard(float(exps["coverage"][i]))
        us = since + (rng.exponential(1.0 / h, len(elig)) * US_PER_DAY).astype(np.int64)
        got = us < np.minimum(hi, until[ok])
        chosen, us = elig[got], us[got]
        k = len(chosen)
        v = variants.filter(pl.col("experiment_id") == exps["experiment_id"][i])
        var = choose_weighted(rng, list(v["actual_share"].to_numpy()), k)
        a_exp.append(np.full(k, i))
        a_person.append(chosen)
        a_var.append(var)
        a_us.append(np.minimum(us, now - 1))
    if not a_exp:
        return
    e, p, v, us = (np.concatenate(x) for x in (a_exp, a_person, a_var, a_us))
    srt = np.lexsort((us, e))
    e, p, v, us = e[srt], p[srt], v[srt], us[srt]
    n = len(e)
    exp_ids = exps["experiment_id"].to_arrow()
    row = _variant_rows(variants, np.asarray(exps["experiment_id"].to_list())[e], v)
    cust_ids = make_ids("customer", blk.state["primary_cust"][p])
    blk.add(
        ASSIGNMENTS,
        {
            "assignment_id": make_ids("assignment", ctx.take("assignment", n)),
            "experiment_id": exp_ids.take(e),
            "customer_ref": cust_ids,
            "variant_id": variants["variant_id"].to_arrow().take(row),
            "assigned_at": us,
        },
    )
    end_us = ends[e]
    active_to = np.minimum(
        np.minimum(end_us, blk.state["active_until"][p]), us + REPEAT_EXPOSURE_DAYS * US_PER_DAY
    )
    ev = _merge(
        first_events(
            rng,
            ctx,
            us,
            end_us,
            variants["true_click_rate"].to_numpy()[row],
            variants["true_conversion_rate"].to_numpy()[row],
        ),
        repeat_exposures(rng, ctx, us + MINUTE, active_to),
    )
    _add_events(ctx, blk.add, ev, exp_ids.take(e), cust_ids, now)


def daily(d: Day) -> None:
    """Running experiments today: new assignments at the backfill's hazard among the eligible
    customers not yet assigned, their first events, and repeat exposures of the assignments of
    the last ``REPEAT_EXPOSURE_DAYS`` days whose customer is still active. Drafts never start."""
    ctx = d.ctx
    rng = d.rng("mlops.experiments")
    exps, variants = d.w.experiments, d.w.variants
    running = exps.filter(
        (pl.col("status") != "draft")
        & (pl.col("start_day") < d.day)
        & (pl.col("end_day").is_null() | (pl.col("end_day") >= d.day))
    )
    if running.is_empty():
        return
    pe = d.people.join(
        d.primary("shop.customers"), on="person_id", how="inner", maintain_order="left"
    )
    ids = ",".join(f"'{x}'" for x in running["experiment_id"].to_list())
    prior = d.bronze.latest(
        ASSIGNMENTS, f"experiment_id IN ({ids})", "experiment_id, customer_ref, assigned_at"
    )
    a_e, a_c, a_v, a_us = [], [], [], []
    lapse = ELIGIBLE_AFTER_LAST_ORDER_DAYS * US_PER_DAY
    for i in range(len(running)):  # the running experiments (one or two)
        e_id = running["experiment_id"][i]
        taken = prior.filter(pl.col("experiment_id") == e_id) if len(prior) else prior
        elig = pe.filter(
            (pl.col("first_purchase_day") < d.day)
            & (pl.col("alive") | (pl.col("last_purchase_us") + lapse > d.start_us))
        )
        if len(taken):
            elig = elig.filter(~pl.col("source_id").is_in(taken["customer_ref"].to_list()))
        h = assignment_hazard(float(running["coverage"][i]))
        pick = np.flatnonzero(rng.random(len(elig)) < -np.expm1(-h))
        k = len(pick)
        if k == 0:
            continue
        who = elig["source_id"].gather(pick)
        v = variants.filter(pl.col("experiment_id") == e_id)
        var = choose_weighted(rng, list(v["actual_share"].to_numpy()), k)
        a_e.append(np.full(k, e_id, dtype=object))
        a_c.append(who)
        a_v.append(var)
        a_us.append(d.times(rng, k, late=False))
    if a_e:
        e = np.concatenate(a_e)
        var = np.concatenate(a_v)
        us = np.concatenate(a_us)
        cust = pl.concat(a_c)
        row = _variant_rows(variants, e, var)
        n = len(e)
        d.add(
            ASSIGNMENTS,
            {
                "assignment_id": make_ids("assignment", ctx.take("assignment", n)),
                "experiment_id": pl.Series(e.astype(str)),
                "customer_ref": cust,
                "variant_id": variants["variant_id"].to_arrow().take(row),
                "assigned_at": us,
            },
        )
        ev = first_events(
            rng,
            ctx,
            us,
            np.full(n, d.end_us),
            variants["true_click_rate"].to_numpy()[row],
            variants["true_conversion_rate"].to_numpy()[row],
        )
        _add_events(ctx, d.add, ev, e, cust.to_numpy().astype(object), d.end_us)
    if len(prior):
        still = set(pe.filter(pl.col("alive"))["source_id"].to_list())
        window = REPEAT_EXPOSURE_DAYS * US_PER_DAY
        assigned = prior["assigned_at"].cast(pl.Int64).to_numpy()
        recent = prior.filter(
            pl.Series(assigned + window > d.start_us) & pl.col("customer_ref").is_in(sorted(still))
        )
        m = len(recent)
        if m:
            stop = np.minimum(recent["assigned_at"].cast(pl.Int64).to_numpy() + window, d.end_us)
            ev = repeat_exposures(rng, ctx, np.full(m, d.start_us), stop)
            _add_events(
                ctx,
                d.add,
                ev,
                recent["experiment_id"].to_numpy().astype(object),
                recent["customer_ref"].to_numpy().astype(object),
                d.end_us,
            )
