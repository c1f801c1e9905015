"""loyalty: members, the points ledger and tier changes, consistent with the shop's orders.

Rules the ledger follows exactly (so the gold layer can reconcile it with shop.orders):
- a member earns ``floor(total_amount)`` points for every non-cancelled order placed on or
  after enrolment (orders of any of the person's shop accounts);
- 100 bonus points at enrolment and 250 at every tier upgrade;
- tiers follow the cumulative earned points (Silver >= 500, Gold >= 1,500, Platinum >= 4,000)
  and drop one level at the annual review after a year without purchases (backfill only);
- some members redeem 500 points each time their running total crosses a 1,000-point step
  (the balance never goes negative); a year without activity expires the whole balance;
- ``points_balance`` on the member row is the sum of the member's ledger entries.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate import identity
from engagement_lake.generate.block import Block, allowed, group_cumsum, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice
from engagement_lake.generate.world import pick

TIER_THRESHOLDS = np.array([0.0, 500.0, 1500.0, 4000.0])
TIER_NAMES = ("Bronze", "Silver", "Gold", "Platinum")
ENROL_BONUS = 100
UPGRADE_BONUS = 250
REDEEM_STEP = 1000
REDEEM_POINTS = 500
YEAR_US = 365 * US_PER_DAY
MINUTE = 60 * 1_000_000


def members(blk: Block) -> None:
    ctx, rng = blk.ctx, blk.rng("loyalty.members")
    profile = identity.profile("loyalty.members", ctx.identity_noise)
    rec = identity.select_records(rng, blk.col("in_loyalty"), profile.duplicate)
    m = len(rec)
    nums = ctx.take("member", m)
    now = ctx.now_us
    o = blk.state["orders"]
    # enrolment: at sign-up, or at the checkout of one of the person's orders
    n_orders = np.bincount(o["person"], minlength=blk.n)
    start = np.cumsum(n_orders) - n_orders
    person = rec.person
    k = (rng.random(m) * np.maximum(n_orders[person], 1)).astype(np.int64)
    at_order = (n_orders[person] > 0) & (rng.random(m) < 0.5)
    enrol_order_us = (
        o["us"][np.minimum(start[person] + k, max(len(o["us"]) - 1, 0))]
        if len(o["us"])
        else np.zeros(m, np.int64)
    )
    signup_us = blk.col("signup_day")[person] * US_PER_DAY + rng.integers(
        9 * 3600 * 10**6, 20 * 3600 * 10**6, m
    )
    random_us = ctx.cal.sample(rng, np.full(m, ctx.cal.start_us), np.full(m, now))
    enrolled = np.where(
        n_orders[person] > 0, np.where(at_order, enrol_order_us - 5 * MINUTE, signup_us), random_us
    )
    dup_enrol = enrolled + (rng.random(m) * np.maximum(now - enrolled, 1)).astype(np.int64)
    enrolled = np.where(rec.is_duplicate, dup_enrol, enrolled)
    enrolled = np.clip(enrolled, ctx.cal.start_us - 400 * US_PER_DAY, now - 1)

    primary = np.full(blk.n, -1, dtype=np.int64)
    primary[person[~rec.is_duplicate]] = np.flatnonzero(~rec.is_duplicate)
    blk.state["primary_member"] = np.where(primary >= 0, nums[np.maximum(primary, 0)], -1)

    # earning orders: non-cancelled orders of a member person after enrolment
    mem_of_order = primary[o["person"]]
    earn = (mem_of_order >= 0) & ~o["cancelled"]
    earn &= o["us"] >= enrolled[np.maximum(mem_of_order, 0)]
    eo = np.flatnonzero(earn)  # sorted by person, then time
    e_mem = mem_of_order[eo]
    e_us = o["us"][eo]
    e_pts = o["total_c"][eo] // 100
    spend = group_cumsum(e_pts.astype(np.float64), e_mem)  # cumulative earned points
    tier_after = np.searchsorted(TIER_THRESHOLDS, spend, side="right") - 1
    prev_tier = np.r_[0, tier_after[:-1]]
    first_of_member = np.r_[True, e_mem[1:] != e_mem[:-1]]
    prev_tier[first_of_member] = 0
    upgraded = tier_after > prev_tier
    # redemptions at the orders where the running points cross 1,000-point steps
    rho = rng.choice(np.array([0.0, 0.5, 1.0]), m, p=[0.45, 0.35, 0.2])
    gained = e_pts + np.where(upgraded, UPGRADE_BONUS, 0)
    running = ENROL_BONUS + group_cumsum(gained, e_mem)
    before = running - gained
    steps = np.floor(rho[e_mem] * running / REDEEM_STEP) - np.floor(
        rho[e_mem] * before / REDEEM_STEP
    )
    steps = steps.astype(np.int64)

    # final tier with the annual review for members who stopped buying
    tier = np.zeros(m, dtype=np.int64)
    last_earn = np.full(m, -1, dtype=np.int64)
    if len(eo):
        last_idx = np.flatnonzero(np.r_[e_mem[1:] != e_mem[:-1], True])
        tier[e_mem[last_idx]] = tier_after[last_idx]
        last_earn[e_mem[last_idx]] = e_us[last_idx]
    review_us = last_earn + YEAR_US
    downgrade = (tier > 0) & (last_earn >= 0) & (review_us < now)
    final_tier = np.where(downgrade, tier - 1, tier)

    # adjustments (goodwill) between enrolment and the last activity
    last_act = np.maximum(enrolled, last_earn)
    adj = rng.random(m) < 0.01
    adj_us = enrolled + (rng.random(m) * np.maximum(last_act - enrolled, 1)).astype(np.int64)
    adj_pts = rng.integers(50, 200, m)

    entry_types = allowed(ctx, "loyalty.points_ledger", "entry_type")
    ET = {t: entry_types.index(t) for t in entry_types}
    mem_all = np.arange(m)
    up_idx = np.flatnonzero(upgraded)
    rd_idx = np.flatnonzero(steps > 0)
    led_mem = [mem_all, e_mem, e_mem[up_idx], e_mem[rd_idx], mem_all[adj]]
    led_us = [enrolled, e_us, e_us[up_idx] + 2 * MINUTE, e_us[rd_idx] + 1 * MINUTE, adj_us[adj]]
    led_pts = [
        np.full(m, ENROL_BONUS),
        e_pts,
        np.full(len(up_idx), UPGRADE_BONUS),
        -REDEEM_POINTS * steps[rd_idx],
        adj_pts[adj],
    ]
    led_type = [
        np.full(m, ET["bonus"]),
        np.full(len(eo), ET["earn"]),
        np.full(len(up_idx), ET["bonus"]),
        np.full(len(rd_idx), ET["redeem"]),
        np.full(int(adj.sum()), ET["adjust"]),
    ]
    led_order = [
        np.full(m, -1),
        eo,
        np.full(len(up_idx), -1),
        eo[rd_idx],
        np.full(int(adj.sum()), -1),
    ]
    balance = np.zeros(m, dtype=np.int64)
    for mm, pts in zip(led_mem, led_pts, strict=True):
        balance += np.bincount(mm, weights=pts, minlength=m).astype(np.int64)
    expire = (last_act + YEAR_US < now) & (balance > 0)
    led_mem.append(mem_all[expire])
    led_us.append(last_act[expire] + YEAR_US)
    led_pts.append(-balance[expire])
    led_type.append(np.full(int(expire.sum()), ET["expire"]))
    led_order.append(np.full(int(expire.sum()), -1))
    balance = np.where(expire, 0, balance)

    lm, lu, lp, lt, lo = (
        np.concatenate(x) for x in (led_mem, led_us, led_pts, led_type, led_order)
    )
    lu = np.minimum(lu, now - 1)
    srt = np.lexsort((lu, lm))
    lm, lu, lp, lt, lo = lm[srt], lu[srt], lp[srt], lt[srt], lo[srt]
    member_ids = make_ids("member", nums)
    blk.add(
        "loyalty.points_ledger",
        {
            "ledger_id": make_ids("ledger", ctx.take("ledger", len(lm))),
            "member_id": member_ids.take(lm),
            "order_id": make_ids(
                "order",
                o["num"][np.maximum(lo, 0)] if len(o["num"]) else np.zeros(len(lo), np.int64),
                lo >= 0,
            ),
            "entry_type": choice(entry_types, lt),
            "points": lp,
            "entry_ts": lu,
        },
    )
    last_ledger = np.zeros(m, dtype=np.int64)
    np.maximum.at(last_ledger, lm, lu)

    # tier changes: enrolment, upgrades, annual-review downgrades
    tiers = allowed(ctx, "loyalty.tier_changes", "to_tier")
    reasons = allowed(ctx, "loyalty.tier_changes", "change_reason")
    T = np.asarray([tiers.index(t) for t in TIER_NAMES])
    dn = np.flatnonzero(downgrade)
    tc_mem = np.concatenate([mem_all, e_mem[up_idx], dn])
    tc_from = np.concatenate([np.full(m, -1), prev_tier[up_idx], tier[dn]])
    tc_to = np.concatenate([np.zeros(m, np.int64), tier_after[up_idx], tier[dn] - 1])
    tc_us = np.concatenate([enrolled, e_us[up_idx] + 2 * MINUTE, review_us[dn]])
    tc_reason = np.concatenate(
        [
            np.full(m, reasons.index("enrolment")),
            np.full(len(up_idx), reasons.index("spend_threshold")),
            np.full(len(dn), reasons.index("annual_review")),
        ]
    )
    srt = np.lexsort((tc_us, tc_mem))
    tc_mem, tc_from, tc_to, tc_us, tc_reason = (
        x[srt] for x in (tc_mem, tc_from, tc_to, tc_us, tc_reason)
    )
    blk.add(
        "loyalty.tier_changes",
        {
            "tier_change_id": make_ids("tier_change", ctx.take("tier_change", len(tc_mem))),
            "member_id": member_ids.take(tc_mem),
            "from_tier": choice(tiers, T[np.maximum(tc_from, 0)], tc_from >= 0),
            "to_tier": choice(tiers, T[tc_to]),
            "change_reason": choice(reasons, tc_reason),
            "changed_at": np.minimum(tc_us, now - 1),
        },
    )
    last_tc = np.zeros(m, dtype=np.int64)
    np.maximum.at(last_tc, tc_mem, np.minimum(tc_us, now - 1))

    # the person's tier as other systems see it
    person_tier = np.zeros(blk.n, dtype=np.int64)
    tier_changed = np.zeros(blk.n, dtype=np.int64)
    prim = ~rec.is_duplicate
    person_tier[person[prim]] = final_tier[prim]
    tier_changed[person[prim]] = last_tc[prim]
    blk.state["person_tier"] = person_tier
    blk.state["tier_changed_us"] = tier_changed

    obs = identity.observe(rng, blk.people, rec, profile)
    middle = rng.random(m) < 0.05
    initial = pick([chr(c) for c in range(65, 91)], rng.integers(0, 26, m))
    has_first = obs.first.is_not_null().to_numpy()
    middle &= has_first
    last_first = (rng.random(m) < profile.last_first) & has_first
    given = pl.select(
        pl.when(pl.Series(middle))
        .then(pl.concat_str([obs.first, pl.lit(" "), initial, pl.lit(".")]))
        .otherwise(obs.first)
    ).to_series()
    full = pl.select(
        pl.when(pl.Series(last_first))
        .then(pl.concat_str([obs.last, pl.lit(", "), given]))
        .otherwise(pl.concat_str([given, pl.lit(" "), obs.last], ignore_nulls=True))
    ).to_series()
    obs.mark("last_first", last_first)
    mtiers = allowed(ctx, "loyalty.members", "tier")
    MT = np.asarray([mtiers.index(t) for t in TIER_NAMES])
    updated = np.minimum(
        np.maximum(last_ledger, last_tc) + rng.integers(MINUTE, 3600 * 10**6, m), now - 1
    )
    blk.identity.append(
        identity.identity_truth("loyalty.members", pl.Series(member_ids), blk.people, rec, obs)
    )
    blk.add(
        "loyalty.members",
        {
            "member_id": member_ids,
            "full_name": full,
            "email": obs.email,
            "phone": obs.phone,
            "date_of_birth": obs.birth_day,
            "address": obs.street,
            "zip_code": obs.zip,
            "tier": choice(mtiers, MT[final_tier]),
            "points_balance": balance,
            "enrolled_date": enrolled // US_PER_DAY,
            "updated_at": updated,
        },
    )
    blk.state["members"] = {
        "person": person,
        "is_dup": rec.is_duplicate,
        "tier": final_tier,
        "balance": balance,
        "enrolled": enrolled,
    }
