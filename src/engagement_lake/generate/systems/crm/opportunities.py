"""Opportunities: a deal's terms, its win probability, and a day of the pipeline.

The backfill simulates each deal's whole path at once (``backfill.emit``); a daily load opens
new deals, logs activity on open ones, moves some a stage and re-reads every open deal's
probability. Both use ``deal_terms`` for what a new deal is and ``deal_probability`` for what
the rep believes, so a deal opened today is priced and judged like one opened in the history.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from engagement_lake.generate.block import allowed, enum_draw, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice
from engagement_lake.generate.context import Ctx, stream_key
from engagement_lake.generate.daily import HOUR, Day, idx_of_people
from engagement_lake.generate.systems.crm.activities import activity_fields
from engagement_lake.generate.systems.crm.leads import campaign_of, owner_for_state
from engagement_lake.generate.systems.crm.params import (
    ADVANCE_BASE,
    AMOUNT_RANGE,
    AMOUNT_REVISION,
    B2B_CYCLE,
    DEAL_ACTIVITY_RATE,
    LOSS_WEIGHTS,
    OWNER_FROM_CONTACT_SHARE,
    PROBABILITY_ACTIVITY_WINDOW_DAYS,
    PROBABILITY_JUDGEMENT_POINTS,
    PROBABILITY_MAX_ACTIVITIES,
    PROBABILITY_POINTS_PER_ACTIVITY,
    PROBABILITY_STALE_POINTS_PER_WEEK,
    SOURCE_CYCLE,
    SOURCE_WIN,
    STAGE_DAYS,
    STAGE_FLOW,
    STAGE_PROBABILITY,
    STAGE_PROBABILITY_RANGE,
    THREAT_RECORDED_SHARE,
    THREAT_WEIGHTS,
    TYPE_AMOUNT,
    TYPE_WEIGHTS,
    unit_hash,
)

NEW_DEAL_LOOKBACK_DAYS = 28
"""A day opens as many deals as the average day of this many days before it."""
FQN = "crm.opportunities"


def deal_terms(ctx: Ctx, rng: np.random.Generator, n: int) -> dict[str, Any]:
    """What a new deal is: type, first amount, the amount revised at Proposal, the threat the
    rep recorded and the reason it would be lost."""
    types, o_type = enum_draw(rng, ctx, FQN, "opportunity_type", TYPE_WEIGHTS, n)
    mu = np.asarray([TYPE_AMOUNT[t][0] for t in types])[o_type]
    sd = np.asarray([TYPE_AMOUNT[t][1] for t in types])[o_type]
    amount0 = np.round(np.clip(np.exp(mu + sd * rng.normal(0, 1, n)), *AMOUNT_RANGE), 2)
    revised = amount0 * rng.uniform(*AMOUNT_REVISION, n)
    revised = np.round(np.clip(revised, AMOUNT_RANGE[0], AMOUNT_RANGE[1] * AMOUNT_REVISION[1]), 2)
    threats, thr = enum_draw(rng, ctx, FQN, "competitive_threat", THREAT_WEIGHTS, n)
    reasons, loss = enum_draw(rng, ctx, FQN, "loss_reason", LOSS_WEIGHTS, n)
    return {
        "types": types,
        "type": o_type,
        "amount0": amount0,
        "revised": revised,
        "threat": choice(threats, thr, rng.random(n) < THREAT_RECORDED_SHARE),
        "reasons": reasons,
        "loss": loss,
    }


def deal_probability(
    ctx: Ctx,
    stages: np.ndarray,
    opp_num: np.ndarray,
    recent_activities: np.ndarray,
    days_in_stage: np.ndarray,
) -> np.ndarray:
    """Win probability (percent) the rep gives each deal: a closed deal's is its stage's; an
    open deal's is the stage default, plus points per recent activity, minus points per week
    stuck beyond the stage's mean time, plus the rep's fixed read of the deal, clipped to the
    stage's range. ``stages`` are stage names."""
    stages = np.asarray(stages, dtype=object)
    default = np.asarray([STAGE_PROBABILITY[s] for s in stages], dtype=np.float64)
    flow = {s: k for k, s in enumerate(STAGE_FLOW)}
    k = np.asarray([flow.get(s, -1) for s in stages])
    is_open = k >= 0
    lo = np.asarray([STAGE_PROBABILITY_RANGE.get(s, (0, 100))[0] for s in stages])
    hi = np.asarray([STAGE_PROBABILITY_RANGE.get(s, (0, 100))[1] for s in stages])
    active = np.minimum(np.asarray(recent_activities), PROBABILITY_MAX_ACTIVITIES)
    mean_days = np.asarray(STAGE_DAYS)[np.maximum(k, 0)]
    weeks_over = np.maximum(np.asarray(days_in_stage, dtype=np.float64) - mean_days, 0) / 7
    judgement = PROBABILITY_JUDGEMENT_POINTS * (
        2 * unit_hash(ctx.seed ^ stream_key("crm.deal_judgement"), np.asarray(opp_num)) - 1
    )
    p = (
        default
        + PROBABILITY_POINTS_PER_ACTIVITY * active
        - PROBABILITY_STALE_POINTS_PER_WEEK * weeks_over
        + judgement
    )
    p = np.clip(np.rint(p), lo, hi)
    return np.where(is_open, p, default).astype(np.int64)


def recent_counts(
    key: np.ndarray, at_us: np.ndarray, act_key: np.ndarray, act_us: np.ndarray
) -> np.ndarray:
    """For each (deal ``key``, time ``at_us``): the deal's activities in the window before it."""
    if len(act_key) == 0 or len(key) == 0:
        return np.zeros(len(key), np.int64)
    span = np.int64(1 << 34)  # seconds: ~540 years, so (key, second) packs into one int64
    a = np.sort(np.asarray(act_key, np.int64) * span + np.asarray(act_us) // 1_000_000)
    q = np.asarray(key, np.int64) * span + np.asarray(at_us) // 1_000_000
    window = PROBABILITY_ACTIVITY_WINDOW_DAYS * 86_400
    return np.searchsorted(a, q, side="right") - np.searchsorted(a, q - window, side="left")


def opportunity_number(ids: pl.Series) -> np.ndarray:
    return ids.str.slice(3).cast(pl.Int64).to_numpy()


def _new_deals(d: Day, rng: np.random.Generator) -> pl.DataFrame:
    """Deals opened today on primary contacts, at the rate of the days before."""
    ctx = d.ctx
    reps = d.w.reps
    since = (d.day - NEW_DEAL_LOOKBACK_DAYS) * US_PER_DAY
    recent = d.bronze.query(
        f"""select count(distinct opportunity_id) from {d.bronze.scan(FQN)}
            where epoch_us(created_date) >= {since} and epoch_us(created_date) < {d.start_us}"""
    ).item()
    n = int(rng.poisson(float(recent or 0) / NEW_DEAL_LOOKBACK_DAYS))
    prim = d.primary("crm.contacts")
    contacts = d.bronze.latest("crm.contacts", columns="contact_id, owner_id, lead_source")
    prim = prim.join(contacts, left_on="source_id", right_on="contact_id", how="inner")
    if n == 0 or prim.is_empty():
        return pl.DataFrame()
    who = prim[np.sort(rng.integers(0, len(prim), n))]
    person = d.people[idx_of_people(d, who["person_id"].to_numpy())]
    terms = deal_terms(ctx, rng, n)
    types = terms["types"]
    b2b = terms["type"] == types.index("B2B Uniforms")
    rep_idx = {r: i for i, r in enumerate(reps["sales_rep_id"].to_list())}
    contact_rep = np.asarray([rep_idx.get(r, 0) for r in who["owner_id"].to_list()])
    territory_rep = owner_for_state(reps, person["state"], rng, b2b)
    rep = np.where(b2b | (rng.random(n) >= OWNER_FROM_CONTACT_SHARE), territory_rep, contact_rep)
    created = d.times(rng, n, late=False)
    src = who["lead_source"].to_numpy()
    cyc = pl.Series(src).replace_strict(SOURCE_CYCLE, default=1.0).to_numpy()
    close = created + (sum(STAGE_DAYS) * cyc * np.where(b2b, B2B_CYCLE, 1.0) * US_PER_DAY)
    nums = ctx.take("opportunity", n)
    stage = np.full(n, STAGE_FLOW[0], dtype=object)
    frame = pl.DataFrame(
        {
            "opportunity_id": pl.Series(make_ids("opportunity", nums)),
            "opportunity_name": person["last_name"]
            + " - "
            + pl.Series(np.asarray(types)[terms["type"]]),
            "contact_id": who["source_id"],
            "lead_id": pl.Series([None] * n, dtype=pl.String),
            "owner_id": pl.Series(reps["sales_rep_id"].to_arrow().take(rep)),
            "opportunity_type": pl.Series(np.asarray(types)[terms["type"]]),
            "stage_name": pl.Series(stage.astype(str)),
            "amount": terms["amount0"],
            "probability": deal_probability(ctx, stage, nums, np.zeros(n), np.zeros(n)),
            "lead_source": who["lead_source"],
            "campaign_id": pl.Series(
                campaign_of(d.w.campaigns, created, src == "Email Campaign"), dtype=pl.String
            ),
            "competitive_threat": pl.Series(terms["threat"], dtype=pl.String),
            "loss_reason": pl.Series([None] * n, dtype=pl.String),
            "created_date": pl.Series(created).cast(pl.Datetime("us")),
            "close_date": pl.Series(close.astype(np.int64) // US_PER_DAY)
            .cast(pl.Int32)
            .cast(pl.Date),
            "is_closed": np.zeros(n, bool),
            "is_won": np.zeros(n, bool),
            "last_modified_date": pl.Series(created + rng.integers(60 * 10**6, HOUR, n)).cast(
                pl.Datetime("us")
            ),
        }
    )
    d.add(FQN, frame)
    _history(d, frame, frame["created_date"].cast(pl.Int64).to_numpy())
    return frame


def _history(d: Day, rows: pl.DataFrame, us: np.ndarray) -> None:
    d.add(
        "crm.opportunity_stage_history",
        {
            "history_id": make_ids("stage_history", d.ctx.take("stage_history", len(rows))),
            "opportunity_id": rows["opportunity_id"],
            "stage_name": rows["stage_name"],
            "amount": rows["amount"],
            "probability": rows["probability"],
            "changed_by": rows["owner_id"],
            "created_date": us,
        },
    )


def _activity_today(
    d: Day, rng: np.random.Generator, opps: pl.DataFrame, new: pl.DataFrame
) -> pl.DataFrame:
    """Activities logged today: one on each deal opened today, and on open deals at
    ``DEAL_ACTIVITY_RATE`` (opportunity id, time)."""
    cols = ["opportunity_id", "contact_id", "owner_id"]
    act = pl.DataFrame(schema=dict.fromkeys(cols, pl.String))
    if len(opps):
        b2b = (opps["opportunity_type"] == "B2B Uniforms").to_numpy()
        rate = np.where(b2b, DEAL_ACTIVITY_RATE[1], DEAL_ACTIVITY_RATE[0])
        act = opps.filter(pl.Series(rng.random(len(opps)) < 1.0 - np.exp(-rate))).select(cols)
    us = d.times(rng, len(act))
    if len(new):
        act = pl.concat([act, new.select(cols)])
        opened = new["created_date"].cast(pl.Int64).to_numpy()
        us = np.r_[us, np.minimum(opened + rng.integers(0, HOUR, len(new)), d.end_us - 1)]
    k = len(act)
    if k:
        d.add(
            "crm.activities",
            {
                "activity_id": make_ids("activity", d.ctx.take("activity", k)),
                "opportunity_id": act["opportunity_id"],
                "lead_id": None,
                "contact_id": act["contact_id"],
                "owner_id": act["owner_id"],
                **activity_fields(d.ctx, rng, k),
                "activity_date": us,
            },
        )
    return pl.DataFrame(
        {"opportunity_id": act["opportunity_id"], "us": np.asarray(us, dtype=np.int64)},
        schema={"opportunity_id": pl.String, "us": pl.Int64},
    )


def _recent_activity(d: Day, today: pl.DataFrame) -> pl.DataFrame:
    """Activities on deals within the probability window before today's end."""
    since = d.start_us - PROBABILITY_ACTIVITY_WINDOW_DAYS * US_PER_DAY
    earlier = d.bronze.query(
        f"""select opportunity_id, epoch_us(activity_date) as us
            from {d.bronze.scan("crm.activities")}
            where opportunity_id is not null and epoch_us(activity_date) >= {since}"""
    )
    return pl.concat([earlier.cast(today.schema), today]) if len(earlier) else today


def daily(d: Day, rng: np.random.Generator) -> pl.DataFrame:
    """A day of the pipeline: new deals, activity on open ones, some move a stage (with a
    stage-history row), and every open deal whose probability the rep now reads differently
    is resent. Returns today's won deals (they pay commission)."""
    ctx = d.ctx
    reps = d.w.reps
    new = _new_deals(d, rng)
    opps = d.bronze.latest(FQN, "NOT is_closed")
    acts = _recent_activity(d, _activity_today(d, rng, opps, new))
    if opps.is_empty():
        return opps
    act_num, act_us = opportunity_number(acts["opportunity_id"]), acts["us"].to_numpy()
    num = opportunity_number(opps["opportunity_id"])
    rep_idx = {r: i for i, r in enumerate(reps["sales_rep_id"].to_list())}
    rep = np.asarray([rep_idx.get(r, 0) for r in opps["owner_id"].to_list()])
    flow = list(STAGE_FLOW)
    k_stage = np.asarray([flow.index(s) if s in flow else 0 for s in opps["stage_name"]])
    src = opps["lead_source"]
    b2b = (opps["opportunity_type"] == "B2B Uniforms").to_numpy()
    mean_days = (
        np.asarray(STAGE_DAYS)[k_stage]
        * src.replace_strict(SOURCE_CYCLE, default=1.0).to_numpy()
        * reps["speed"].to_numpy()[rep]
        * np.where(b2b, B2B_CYCLE, 1.0)
    )
    move = rng.random(len(opps)) < 1.0 - np.exp(-1.0 / mean_days)
    p_adv = np.asarray(ADVANCE_BASE)[k_stage] * src.replace_strict(SOURCE_WIN, default=1.0)
    adv = rng.random(len(opps)) < np.clip(
        p_adv.to_numpy() * reps["skill"].to_numpy()[rep] ** 0.25, 0.05, 0.97
    )
    nxt = np.where(adv, np.where(k_stage + 1 < len(flow), k_stage + 1, -1), -2)
    new_stage = np.where(
        nxt == -1,
        "Closed Won",
        np.where(nxt == -2, "Closed Lost", np.asarray(flow)[np.maximum(nxt, 0)]),
    )
    entered = d.bronze.query(
        f"""select opportunity_id, max(epoch_us(created_date)) as us
            from {d.bronze.scan("crm.opportunity_stage_history")} group by 1"""
    )
    since = (
        opps.select("opportunity_id")
        .join(entered, on="opportunity_id", how="left", maintain_order="left")["us"]
        .fill_null(opps["created_date"].cast(pl.Int64))
        .to_numpy()
    )
    us = d.start_us + rng.integers(8 * HOUR, 20 * HOUR, len(opps))
    ns = np.where(move, new_stage, opps["stage_name"].to_numpy())
    recent = recent_counts(num, us, act_num, act_us)
    days = np.where(move, 0.0, (us - since) / US_PER_DAY)
    prob = deal_probability(ctx, ns, num, recent, days)
    changed = move | (prob != opps["probability"].to_numpy())
    closed = np.isin(ns, ["Closed Won", "Closed Lost"])
    reasons = allowed(ctx, FQN, "loss_reason")
    lost_reason = np.asarray(reasons)[
        enum_draw(rng, ctx, FQN, "loss_reason", LOSS_WEIGHTS, len(opps))[1]
    ]
    updated = opps.with_columns(
        stage_name=pl.Series(ns.astype(str)),
        probability=pl.Series(prob),
        is_closed=pl.Series(closed),
        is_won=pl.Series(ns == "Closed Won"),
        last_modified_date=pl.Series(us).cast(pl.Datetime("us")),
        close_date=pl.when(pl.Series(closed))
        .then(pl.lit(d.day).cast(pl.Int32).cast(pl.Date))
        .otherwise(pl.col("close_date")),
        loss_reason=pl.when(pl.Series(ns == "Closed Lost"))
        .then(pl.Series(lost_reason))
        .otherwise(None),
    ).filter(pl.Series(changed))
    d.add(FQN, updated)
    moved = updated.filter(pl.Series(move[changed]))
    _history(d, moved, us[move])
    return moved.filter(pl.col("is_won"))
