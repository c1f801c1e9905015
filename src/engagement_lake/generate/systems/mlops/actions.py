"""Next best actions: six business rules pick actions for the customers they apply to, offered
over the last half year, with the outcome the customer gave. A daily load offers today's win-back
discounts to the customers today's churn scoring put at high risk, and a FitMap scan to today's
customers who returned an item for its fit and were never invited.

A FitMap invitation is accepted when the customer scans within the offer's life: when that
happens is FitMap's behaviour (``fitmap.invitation_scan``, keyed by the action), so the scan rows
(made by ``fitmap``) and the outcome recorded here agree.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate.block import Block, allowed, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.daily import Day
from engagement_lake.generate.systems import fitmap
from engagement_lake.generate.systems.mlops.params import HOUR, _model, customers, model_row
from engagement_lake.generate.systems.support.backfill import FIT_REASONS

HIGH_CHURN_RISK = 0.7
"""A churn score above this triggers a win-back offer in the daily scoring."""
OFFER_DAYS = 14
"""An offer expires this many days after it is made."""
FITMAP_OFFER_SHARE = 0.8
"""Customers with a fit return the FitMap rule invites to scan."""


def next_best_actions(blk: Block) -> None:
    ctx, rng = blk.ctx, blk.rng("mlops.nba")
    now = ctx.now_us
    fqn = "mlops.next_best_actions"
    people = customers(blk)
    alive = blk.col("alive")
    r = blk.state["returns"]
    fit_ret = np.zeros(blk.n)
    np.add.at(fit_ret, blk.state["orders"]["person"][r["order"]], (r["fit"] != 0).astype(float))
    actions = allowed(ctx, fqn, "action_type")
    triggers = allowed(ctx, fqn, "trigger")
    chans = allowed(ctx, fqn, "channel")
    A = {a: actions.index(a) for a in actions}
    TR = {t: triggers.index(t) for t in triggers}
    C = {c: chans.index(c) for c in chans}
    u = rng.random((6, len(people)))
    rules = [
        (
            ~alive[people] & (u[0] < 0.7) | alive[people] & (u[0] < 0.1),
            A["win_back_discount"],
            TR["churn_risk"],
            C["email"],
            0.12,
        ),
        (
            (fit_ret[people] > 0) & (u[1] < FITMAP_OFFER_SHARE),
            A["offer_fitmap_scan"],
            TR["sizing_issue"],
            C["app"],
            0.0,  # accepted by scanning: fitmap.invitation_scan decides, below
        ),
        (
            (blk.state["person_tier"][people] >= 1) & (u[2] < 0.5),
            A["loyalty_reward"],
            TR["threshold"],
            C["app"],
            0.35,
        ),
        (
            (blk.col("first_purchase_day")[people] * US_PER_DAY > now - 120 * US_PER_DAY)
            & (u[3] < 0.8),
            A["collection_email"],
            TR["lifecycle_event"],
            C["email"],
            0.1,
        ),
        (
            (blk.state.get("primary_contact", np.full(blk.n, -1))[people] >= 0) & (u[4] < 0.6),
            A["sales_follow_up"],
            TR["schedule"],
            C["store_associate"],
            0.2,
        ),
        (
            (fit_ret[people] > 1) & (u[5] < 0.5),
            A["service_recovery"],
            TR["threshold"],
            C["call_center"],
            0.4,
        ),
    ]
    who, act, trig, chan, acc = [], [], [], [], []
    for mask, a, t, c, p in rules:  # six business rules
        idx = people[mask]
        who.append(idx)
        act.append(np.full(len(idx), a))
        trig.append(np.full(len(idx), t))
        chan.append(np.full(len(idx), c))
        acc.append(np.full(len(idx), p))
    who, act, trig, chan, acc = (np.concatenate(x) for x in (who, act, trig, chan, acc))
    n = len(who)
    first = blk.col("first_purchase_day")[who] * US_PER_DAY
    lo = np.maximum(first, now - 180 * US_PER_DAY)
    offered = ctx.cal.sample(rng, lo, np.full(n, now - HOUR))
    srt = np.argsort(offered, kind="stable")
    who, act, trig, chan, acc, offered = (x[srt] for x in (who, act, trig, chan, acc, offered))
    nums = ctx.take("next_best_action", n)
    expires = offered + OFFER_DAYS * US_PER_DAY
    acc = np.where((act == A["win_back_discount"]) & alive[who], 0.3, acc)
    uu = rng.random(n)
    outcomes = allowed(ctx, fqn, "outcome")
    responded = uu < acc + 0.15
    res_us = offered + (rng.random(n) * 10 * US_PER_DAY).astype(np.int64)
    # a FitMap invitation is accepted by the scan it leads to within the offer's life
    fm = act == A["offer_fitmap_scan"]
    scan_us = fitmap.invitation_scan(ctx.seed, nums, offered)
    taken = fm & fitmap.is_taken_up(scan_us, offered)
    res_us = np.where(taken, scan_us, res_us)
    accepted = np.where(fm, taken, uu < acc)
    done = (responded | taken) & (res_us < now)
    out = np.where(
        done,
        np.where(accepted, outcomes.index("accepted"), outcomes.index("declined")),
        np.where(
            expires < now,
            np.where(rng.random(n) < 0.5, outcomes.index("expired"), outcomes.index("ignored")),
            -1,
        ),
    )
    out_us = np.where(done, res_us, expires)
    blk.state["fitmap_invitations"] = {"person": who[fm], "num": nums[fm], "offered": offered[fm]}
    old_id, _ = _model(blk, "nba-logreg", "1.0")
    new_id, new_dep = _model(blk, "nba-xgb", "2.0")
    model = np.where(offered >= new_dep, new_id, old_id).astype(object)
    blk.add(
        fqn,
        {
            "action_id": make_ids("next_best_action", nums),
            "customer_ref": make_ids("customer", blk.state["primary_cust"][who]),
            "model_id": model,
            "action_type": choice(actions, act),
            "channel": choice(chans, chan),
            "priority": rng.integers(1, 6, n),
            "trigger": choice(triggers, trig),
            "offered_at": offered,
            "expires_at": expires,
            "outcome": choice(outcomes, np.maximum(out, 0), out >= 0),
            "outcome_at": masked(np.minimum(out_us, now - 1), (out >= 0) & (out_us < now)),
        },
    )


def daily(d: Day, scored: pl.DataFrame) -> None:
    """Win-back offers by e-mail to the customers today's churn scoring put above
    ``HIGH_CHURN_RISK``; FitMap invitations in the app to today's fit returners never invited."""
    ctx = d.ctx
    rng = d.rng("mlops.nba")
    risky = scored.filter((pl.col("model_type") == "churn") & (pl.col("value") > HIGH_CHURN_RISK))
    invited = _fitmap_invitees(d, rng)
    r, f = len(risky), len(invited)
    if r + f == 0:
        return
    fqn = "mlops.next_best_actions"
    acts = allowed(ctx, fqn, "action_type")
    chans = allowed(ctx, fqn, "channel")
    trig = allowed(ctx, fqn, "trigger")
    nba, _ = model_row(d.w.models, "nba-xgb", "2.0")
    n = r + f
    off = d.start_us + 3 * HOUR + rng.integers(0, HOUR, n)
    act = np.r_[
        np.full(r, acts.index("win_back_discount")), np.full(f, acts.index("offer_fitmap_scan"))
    ]
    chan = np.r_[np.full(r, chans.index("email")), np.full(f, chans.index("app"))]
    why = np.r_[np.full(r, trig.index("churn_risk")), np.full(f, trig.index("sizing_issue"))]
    d.add(
        fqn,
        {
            "action_id": make_ids("next_best_action", ctx.take("next_best_action", n)),
            "customer_ref": pl.concat([risky["source_id"].cast(pl.String), invited]),
            "model_id": pl.Series([nba] * n),
            "action_type": choice(acts, act),
            "channel": choice(chans, chan),
            "priority": rng.integers(1, 6, n),
            "trigger": choice(trig, why),
            "offered_at": off,
            "expires_at": off + OFFER_DAYS * US_PER_DAY,
            "outcome": None,
            "outcome_at": None,
        },
    )


def _fitmap_invitees(d: Day, rng: np.random.Generator) -> pl.Series:
    """Shop customer ids of today's fit returners the FitMap rule invites (FITMAP_OFFER_SHARE),
    leaving out anyone already invited."""
    frames = [
        pl.DataFrame({"customer_id": pl.Series(f["customer_id"]), "reason": pl.Series(f["reason"])})
        for f in d.tables.get("shop.returns", [])
    ]
    if not frames:
        return pl.Series("customer_ref", [], dtype=pl.String)
    ret = pl.concat(frames, how="vertical_relaxed").with_columns(pl.all().cast(pl.String))
    who = (
        ret.filter(pl.col("reason").is_in(list(FIT_REASONS)) & pl.col("customer_id").is_not_null())
        .unique("customer_id", maintain_order=True)
        .sort("customer_id")["customer_id"]
    )
    before = d.bronze.latest(
        "mlops.next_best_actions",
        "action_type = 'offer_fitmap_scan'",
        columns='"action_id", "customer_ref"',
    )
    if not before.is_empty():
        who = who.filter(~who.is_in(before["customer_ref"].drop_nulls().implode()))
    return who.filter(pl.Series(rng.random(len(who)) < FITMAP_OFFER_SHARE)).alias("customer_ref")
