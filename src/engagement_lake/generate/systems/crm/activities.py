"""Activities (calls, e-mails, meetings on deals and leads), quotes and referrals.

An activity's type, outcome, subject and duration come from ``activity_fields`` in the backfill
and in a daily load alike; the timestamps of a deal's activities are drawn before the deal's
row is written, because its win probability reads how recently the rep worked it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from engagement_lake.generate.block import Block, allowed, enum_draw, expand, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.systems.crm.params import (
    ACTIVITY_MINUTES,
    ACTIVITY_OUTCOME_WEIGHTS,
    ACTIVITY_SUBJECT,
    ACTIVITY_TYPE_WEIGHTS,
    DEAL_ACTIVITY_RATE,
    HOUR,
    LEAD_ACTIVITIES_MEAN,
)


def deal_activity_times(
    ctx: Ctx, rng: np.random.Generator, op: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """(deal index, time) of every activity on the block's deals: one when the deal is opened,
    then ``DEAL_ACTIVITY_RATE`` a day while it is open (the rate a daily load logs them at),
    spread with the calendar's seasonality."""
    b2b = op["type"] == allowed(ctx, "crm.opportunities", "opportunity_type").index("B2B Uniforms")
    end = np.where(op["closed"], op["close_us"], ctx.now_us)
    open_days = np.maximum(end - op["created"], 0) / US_PER_DAY
    rate = np.where(b2b, DEAL_ACTIVITY_RATE[1], DEAL_ACTIVITY_RATE[0])
    oo, _ = expand(rng.poisson(rate * open_days))
    later = ctx.cal.sample(rng, op["created"][oo], np.maximum(end[oo], op["created"][oo] + HOUR))
    first = np.arange(len(end))
    return np.r_[first, oo], np.r_[op["created"] + rng.integers(0, HOUR, len(end)), later]


def activity_fields(ctx: Ctx, rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Type, outcome, subject and duration of ``n`` activities."""
    fqn = "crm.activities"
    types, at = enum_draw(rng, ctx, fqn, "activity_type", ACTIVITY_TYPE_WEIGHTS, n)
    outcomes, oc = enum_draw(rng, ctx, fqn, "outcome", ACTIVITY_OUTCOME_WEIGHTS, n)
    subj = np.asarray([ACTIVITY_SUBJECT.get(t, t) for t in types], dtype=object)[at]
    minutes = np.asarray([ACTIVITY_MINUTES.get(t, 10) for t in types])[at]
    dur = np.clip(np.rint(minutes * rng.uniform(0.5, 2.0, n)), 0, 480).astype(np.int64)
    return {
        "activity_type": choice(types, at),
        "outcome": choice(outcomes, oc),
        "subject": subj,
        "duration_minutes": masked(dur, dur > 0),
    }


def activities(
    blk: Block,
    rng: np.random.Generator,
    deal_acts: tuple[np.ndarray, np.ndarray],
    contact_ids: object,
    lead_ids: object,
    lead_created: np.ndarray,
    lead_owner: np.ndarray,
    converted: np.ndarray,
) -> None:
    ctx = blk.ctx
    now = ctx.now_us
    op = blk.state["opportunities"]
    no = len(op["num"])
    oo, a_us = deal_acts
    nl = len(lead_created)
    lo_, _ = expand(np.where(converted, 0, rng.poisson(LEAD_ACTIVITIES_MEAN, nl)))
    l_us = ctx.cal.sample(
        rng, lead_created[lo_], np.minimum(lead_created[lo_] + 60 * US_PER_DAY, now)
    )
    n = len(oo) + len(lo_)
    is_opp = np.r_[np.ones(len(oo), bool), np.zeros(len(lo_), bool)]
    ts = np.r_[a_us, l_us]
    opp_idx = np.r_[oo, np.zeros(len(lo_), np.int64)]
    lead_idx = np.r_[np.zeros(len(oo), np.int64), lo_]
    rep = np.r_[op["rep"][oo], lead_owner[lo_]]
    srt = np.argsort(ts, kind="stable")
    is_opp, ts, opp_idx, lead_idx, rep = (x[srt] for x in (is_opp, ts, opp_idx, lead_idx, rep))
    contact_src = op["contact"][opp_idx] if no else np.zeros(n, np.int64)
    blk.add(
        "crm.activities",
        {
            "activity_id": make_ids("activity", ctx.take("activity", n)),
            "opportunity_id": make_ids(
                "opportunity", op["num"][opp_idx] if no else np.zeros(n, np.int64), is_opp
            ),
            "lead_id": masked_take(lead_ids, lead_idx, ~is_opp),
            "contact_id": masked_take(contact_ids, contact_src, is_opp),
            "owner_id": blk.world.reps["sales_rep_id"].to_arrow().take(rep),
            **activity_fields(ctx, rng, n),
            "activity_date": np.minimum(ts, now - 1),
        },
    )


def masked_take(arr: object, idx: np.ndarray, valid: np.ndarray) -> object:
    """``arr[idx]`` with nulls where ``valid`` is False."""
    assert isinstance(arr, pa.Array)
    if len(arr) == 0:
        return pa.nulls(len(idx), type=arr.type)
    return arr.take(pa.array(np.asarray(idx, dtype=np.int64), mask=~np.asarray(valid, bool)))


def quotes(blk: Block, rng: np.random.Generator, opp_ids: object) -> None:
    ctx = blk.ctx
    now = ctx.now_us
    op = blk.state["opportunities"]
    stage_names = allowed(ctx, "crm.opportunities", "stage_name")
    has = op["proposal_us"] >= 0
    base = np.flatnonzero(has)
    extra = base[rng.random(len(base)) < 0.2]
    qo = np.r_[base, extra]
    is_old = np.r_[np.zeros(len(base), bool), np.ones(len(extra), bool)]
    n = len(qo)
    statuses = allowed(ctx, "crm.quotes", "status")
    Q = {s: statuses.index(s) for s in statuses}
    st_now = op["stage"][qo]
    status = np.where(
        st_now == stage_names.index("Closed Won"),
        Q["Accepted"],
        np.where(st_now == stage_names.index("Closed Lost"), Q["Rejected"], Q["Sent"]),
    )
    sent = op["proposal_us"][qo] - np.where(is_old, rng.integers(2, 10, n) * US_PER_DAY, 0)
    status = np.where(is_old, Q["Expired"], status)
    draft = ~is_old & (status == Q["Sent"]) & (rng.random(n) < 0.1)
    status = np.where(draft, Q["Draft"], status)
    disc = np.round(np.where(rng.random(n) < 0.6, rng.uniform(0, 25, n), 0.0), 2)
    amount = np.round(op["amount"][qo] * (1 - disc / 100), 2)
    modified = np.where(
        status == Q["Accepted"],
        op["close_us"][qo],
        np.where(status == Q["Rejected"], op["close_us"][qo], sent + HOUR),
    )
    modified = np.where(is_old, sent + 30 * US_PER_DAY, modified)
    modified = np.minimum(np.maximum(modified, sent), now - 1)
    n_prod = len(blk.world.products)
    blk.add(
        "crm.quotes",
        {
            "quote_id": make_ids("quote", ctx.take("quote", n)),
            "opportunity_id": opp_ids.take(qo),
            "product_id": choice(
                blk.world.products["product_id"].to_list(),
                rng.integers(0, n_prod, n),
                rng.random(n) < 0.9,
            ),
            "quoted_amount": amount,
            "discount_percent": disc,
            "status": choice(statuses, status),
            "sent_date": masked(sent // US_PER_DAY, ~draft),
            "expiration_date": masked(sent // US_PER_DAY + 30, ~draft),
            "last_modified_date": modified,
        },
    )


def referrals(
    blk: Block,
    rng: np.random.Generator,
    contact_ids: object,
    c_created: np.ndarray,
    is_dup: np.ndarray,
) -> None:
    ctx = blk.ctx
    now = ctx.now_us
    prim = np.flatnonzero(~is_dup)
    if len(prim) < 2:
        return
    who = prim[rng.random(len(prim)) < 0.08]
    n = len(who)
    statuses, st = enum_draw(
        rng,
        ctx,
        "crm.referrals",
        "referral_status",
        {"Pending": 0.25, "Contacted": 0.2, "Converted": 0.4, "Expired": 0.15},
        n,
    )
    r_day = (
        ctx.cal.sample(
            rng, np.maximum(c_created[who], ctx.cal.start_us), np.full(n, now - US_PER_DAY)
        )
        // US_PER_DAY
    )
    conv = st == statuses.index("Converted")
    conv_day = r_day + rng.integers(5, 60, n)
    conv &= conv_day * US_PER_DAY < now
    st = np.where((st == statuses.index("Converted")) & ~conv, statuses.index("Contacted"), st)
    referred = prim[rng.integers(0, len(prim), n)]
    referred = np.where(
        referred == who, prim[(np.searchsorted(prim, who) + 1) % len(prim)], referred
    )
    reward = np.where(conv, rng.choice(np.array([25.0, 50.0, 100.0]), n), np.nan)
    blk.add(
        "crm.referrals",
        {
            "referral_id": make_ids("referral", ctx.take("referral", n)),
            "referrer_contact_id": contact_ids.take(who),
            "referred_contact_id": masked_take(contact_ids, referred, conv),
            "referral_status": choice(statuses, st),
            "reward_amount": reward,
            "referral_date": r_day,
            "conversion_date": masked(conv_day, conv),
        },
    )
