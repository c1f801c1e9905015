"""loyalty: members, the points ledger and tier changes, consistent with the shop's orders.

Rules the ledger follows exactly (so the gold layer can reconcile it with shop.orders):
- a member earns ``floor(total_amount)`` points for every non-cancelled order placed on or
  after enrolment (orders of any of the person's shop accounts);
- 100 bonus points at enrolment and 250 at every tier upgrade;
- tiers follow the cumulative earned points (Silver >= 500, Gold >= 1,500, Platinum >= 4,000)
  and drop one level at the annual review a year after the last purchase;
- some members redeem 500 points each time their running total crosses a 1,000-point step
  (the balance never goes negative); a year without activity expires the whole balance;
- ``points_balance`` on the member row is the sum of the member's ledger entries.

The same builders make the backfill (a member's whole history at once) and a daily load (today's
orders, reviews and expiries continuing each member's running totals from bronze):
``earn_steps`` decides upgrades and redemptions from the running totals, ``redeem_propensity``
gives each member the same redemption habit on both paths.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from engagement_lake.generate import identity
from engagement_lake.generate.block import Block, allowed, group_cumsum, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.daily import Day
from engagement_lake.generate.world import pick

TIER_THRESHOLDS = np.array([0.0, 500.0, 1500.0, 4000.0])
TIER_NAMES = ("Bronze", "Silver", "Gold", "Platinum")
ENROL_BONUS = 100
UPGRADE_BONUS = 250
REDEEM_STEP = 1000
REDEEM_POINTS = 500
YEAR_US = 365 * US_PER_DAY
MINUTE = 60 * 1_000_000
REDEEM_PROPENSITY = ((0.0, 0.45), (0.5, 0.35), (1.0, 0.2))
"""(share of each 1,000-point step a member redeems, share of members with that habit)."""
ADJUST_RATE_PER_YEAR = 0.01
"""Goodwill adjustments per member-year of activity (50 to 200 points each)."""
ADJUST_POINTS = (50, 200)
UPGRADE_DELAY_US = 2 * MINUTE
ENROL_AT_CHECKOUT = 0.065
"""Chance a shop customer who is not a member joins at the checkout of an order. The backfill
places each member's enrolment at sign-up, at one of their orders or at a random moment, which
keeps enrolments of existing customers coming month after month: in its last month about one
order in fifteen by a non-member is followed by an enrolment (measured at scale 0.05, seed 11:
29 of 446). A daily load keeps that pace by enrolling buyers at checkout at this rate."""
REDEEM_DELAY_US = MINUTE


def redeem_propensity(nums: np.ndarray) -> np.ndarray:
    """Each member's redemption habit, a fixed function of the member number (a multiplicative
    hash onto [0, 1)), so the backfill and every daily load agree on it."""
    u = (np.asarray(nums, dtype=np.uint64) * np.uint64(2654435761) % np.uint64(2**32)) / 2.0**32
    rho = np.asarray([r for r, _ in REDEEM_PROPENSITY])
    cut = np.cumsum([w for _, w in REDEEM_PROPENSITY])
    return rho[np.minimum(np.searchsorted(cut, u, side="right"), len(rho) - 1)]


def tier_of(points: np.ndarray) -> np.ndarray:
    return np.searchsorted(TIER_THRESHOLDS, points, side="right") - 1


def earn_steps(
    e_mem: np.ndarray,
    e_pts: np.ndarray,
    earned_before: np.ndarray,
    gained_before: np.ndarray,
    rho: np.ndarray,
) -> dict[str, np.ndarray]:
    """Upgrades and redemptions at each earning order.

    Entries sorted by member then time; ``earned_before``/``gained_before``/``rho`` per entry:
    the member's earned points and gained points (bonuses included) before the first of these
    entries, and their redemption habit. Returns per entry the tier before and after, whether it
    upgrades, and how many 500-point redemptions follow it."""
    earned = earned_before + group_cumsum(e_pts.astype(np.float64), e_mem)
    tier_after = tier_of(earned)
    prev_earned = earned - e_pts
    tier_before = tier_of(prev_earned)
    upgraded = tier_after > tier_before
    gained = e_pts + np.where(upgraded, UPGRADE_BONUS, 0)
    running = gained_before + group_cumsum(gained.astype(np.float64), e_mem)
    before = running - gained
    steps = np.floor(rho * running / REDEEM_STEP) - np.floor(rho * before / REDEEM_STEP)
    return {
        "tier_before": tier_before,
        "tier_after": tier_after,
        "upgraded": upgraded,
        "steps": steps.astype(np.int64),
    }


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
    z = np.zeros(len(e_mem))
    rho = redeem_propensity(nums)
    st = earn_steps(e_mem, e_pts, z, z + ENROL_BONUS, rho[e_mem])
    tier_after, prev_tier = st["tier_after"], st["tier_before"]
    upgraded, steps = st["upgraded"], st["steps"]

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
    years = np.maximum(last_act - enrolled, 0) / YEAR_US
    adj = rng.random(m) < 1 - np.exp(-ADJUST_RATE_PER_YEAR * years)
    adj_us = enrolled + (rng.random(m) * np.maximum(last_act - enrolled, 1)).astype(np.int64)
    adj_pts = rng.integers(*ADJUST_POINTS, m)

    entry_types = allowed(ctx, "loyalty.points_ledger", "entry_type")
    ET = {t: entry_types.index(t) for t in entry_types}
    mem_all = np.arange(m)
    up_idx = np.flatnonzero(upgraded)
    rd_idx = np.flatnonzero(steps > 0)
    led_mem = [mem_all, e_mem, e_mem[up_idx], e_mem[rd_idx], mem_all[adj]]
    led_us = [
        enrolled,
        e_us,
        e_us[up_idx] + UPGRADE_DELAY_US,
        e_us[rd_idx] + REDEEM_DELAY_US,
        adj_us[adj],
    ]
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
    tc_us = np.concatenate([enrolled, e_us[up_idx] + UPGRADE_DELAY_US, review_us[dn]])
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


# ----------------------------------------------------------------------------- daily load

LEDGER = "loyalty.points_ledger"


def _state(d: Day, members: list[str]) -> pl.DataFrame:
    """Running totals of ``members`` from bronze: earned points, gained points (bonuses
    included) since the last expiry, balance, last earn and last activity (enrolment or
    earning), as the backfill computes them.

    Gained points count from the last expiry on because redemptions are a share of them
    (``earn_steps``): an expiry empties the balance, and points gained before it cannot be
    redeemed again, so a member never redeems more than they hold."""
    if not members:
        return pl.DataFrame()
    in_list = ",".join(f"'{m}'" for m in members)
    return d.bronze.query(f"""
        SELECT member_id,
            sum(CASE WHEN entry_type = 'earn' THEN points ELSE 0 END) AS earned,
            sum(CASE WHEN entry_type IN ('earn', 'bonus')
                      AND (last_expiry IS NULL OR entry_ts > last_expiry)
                THEN points ELSE 0 END) AS gained,
            sum(points) AS balance,
            max(CASE WHEN entry_type = 'earn' THEN epoch_us(entry_ts) END) AS last_earn,
            max(CASE WHEN entry_type IN ('earn', 'bonus') THEN epoch_us(entry_ts) END) AS last_act
        FROM (
            SELECT *,
                max(CASE WHEN entry_type = 'expire' THEN entry_ts END)
                    OVER (PARTITION BY member_id) AS last_expiry
            FROM (SELECT DISTINCT ledger_id, member_id, entry_type, points, entry_ts
                  FROM {d.bronze.scan(LEDGER)} WHERE member_id IN ({in_list})))
        GROUP BY member_id ORDER BY member_id""")


def _due(d: Day) -> pl.DataFrame:
    """Members whose annual review or points expiry falls today: their last earn or last activity
    was a year ago."""
    lo, hi = d.start_us - YEAR_US, d.end_us - YEAR_US
    return d.bronze.query(f"""
        SELECT member_id,
            max(CASE WHEN entry_type = 'earn' THEN epoch_us(entry_ts) END) AS last_earn,
            max(CASE WHEN entry_type IN ('earn', 'bonus') THEN epoch_us(entry_ts) END) AS last_act,
            sum(points) AS balance
        FROM (SELECT DISTINCT ledger_id, member_id, entry_type, points, entry_ts
              FROM {d.bronze.scan(LEDGER)})
        GROUP BY member_id
        HAVING (last_earn >= {lo} AND last_earn < {hi}) OR (last_act >= {lo} AND last_act < {hi})
        ORDER BY member_id""")


def daily(d: Day) -> None:
    """Enrol today's new members, earn points on today's orders (with the upgrades and
    redemptions ``earn_steps`` decides), run the annual review and points expiry due today, give
    goodwill adjustments, and send a new version of every member whose balance or tier changed."""
    ctx = d.ctx
    rng = d.rng("loyalty")
    to = d.today_orders
    new_ids = d.new_people_ids
    pe = d.people
    new_mem = pe.filter(pl.col("person_id").is_in(new_ids.tolist()) & pl.col("in_loyalty"))
    enrol_signup = d.start_us + rng.integers(7 * 3600 * 10**6, 10 * 3600 * 10**6, len(new_mem))
    # shop customers who join at the checkout of one of today's orders
    if to is not None and len(to["us"]):
        members_now = d.primary("loyalty.members")["person_id"]
        buyers = pl.DataFrame({"person_id": to["person_id"], "us": to["us"]})
        buyers = buyers.filter(~pl.col("person_id").is_in(members_now.to_list()))
        buyers = buyers.filter(~pl.col("person_id").is_in(new_mem["person_id"].to_list()))
        buyers = buyers.unique("person_id", keep="first", maintain_order=True)
        joins = buyers.filter(pl.Series(rng.random(len(buyers)) < ENROL_AT_CHECKOUT))
        if len(joins):
            rows = pe.join(joins, on="person_id", how="inner", maintain_order="right")
            d.people = d.people.with_columns(
                in_loyalty=pl.col("in_loyalty")
                | pl.col("person_id").is_in(rows["person_id"].to_list())
            )
            enrol_signup = np.r_[enrol_signup, rows["us"].to_numpy() - 5 * MINUTE]
            new_mem = pl.concat([new_mem, rows.drop("us").select(new_mem.columns)])
    entry_types = allowed(ctx, LEDGER, "entry_type")
    ET = {t: entry_types.index(t) for t in entry_types}
    tiers = allowed(ctx, "loyalty.tier_changes", "to_tier")
    reasons = allowed(ctx, "loyalty.tier_changes", "change_reason")
    led: dict[str, list[Any]] = {"member": [], "order": [], "type": [], "points": [], "us": []}
    tc: dict[str, list[Any]] = {"member": [], "from": [], "to": [], "reason": [], "us": []}

    def ledger(member: Any, order: Any, etype: str, points: Any, us: Any) -> None:
        n = len(us)
        led["member"].append(pl.Series(member, dtype=pl.String))
        led["order"].append(
            pl.Series(order, dtype=pl.String)
            if order is not None
            else pl.Series([None] * n, dtype=pl.String)
        )
        led["type"].append(np.full(n, ET[etype]))
        led["points"].append(np.asarray(points, dtype=np.int64) * np.ones(n, np.int64))
        led["us"].append(np.asarray(us, dtype=np.int64))

    def tier_change(
        member: Any, t_from: np.ndarray, t_to: np.ndarray, reason: str, us: Any
    ) -> None:
        tc["member"].append(pl.Series(member, dtype=pl.String))
        tc["from"].append(np.asarray(t_from, np.int64))
        tc["to"].append(np.asarray(t_to, np.int64))
        tc["reason"].append(np.full(len(t_to), reasons.index(reason)))
        tc["us"].append(np.asarray(us, np.int64))

    if len(new_mem):
        n = len(new_mem)
        rec = identity.Records(np.arange(n), np.zeros(n, bool))
        obs = identity.observe(
            rng, new_mem, rec, identity.profile("loyalty.members", d.ctx.identity_noise)
        )
        ids = make_ids("member", ctx.take("member", n))
        enrol = enrol_signup
        mi = identity.identity_truth("loyalty.members", pl.Series(ids), new_mem, rec, obs)
        d.new_identity.append(mi)
        d.ident = pl.concat([d.ident, mi.cast(d.ident.schema)])
        tier_change(pl.Series(ids), np.full(n, -1), np.zeros(n), "enrolment", enrol)
        ledger(pl.Series(ids), None, "bonus", ENROL_BONUS, enrol)
        d.new_members = pl.DataFrame(
            {
                "member_id": pl.Series(ids),
                "full_name": obs.first + " " + obs.last,
                "email": obs.email,
                "phone": obs.phone,
                "dob": obs.birth_day.data,
                "dob_ok": ~np.ma.getmaskarray(obs.birth_day),
                "address": obs.street,
                "zip_code": obs.zip,
                "enrol": enrol,
            }
        )
    mem_map = d.primary("loyalty.members")
    new_set = set(d.new_members["member_id"].to_list()) if d.new_members is not None else set()
    enrolled_today = (
        d.new_members.select("member_id", "enrol")
        if d.new_members is not None
        else pl.DataFrame(schema={"member_id": pl.String, "enrol": pl.Int64})
    )
    # today's earning orders, sorted by member then time
    om = pl.DataFrame(
        schema={"member_id": pl.String, "order_id": pl.String, "points": pl.Int64, "us": pl.Int64}
    )
    if to is not None:
        om = (
            pl.DataFrame(
                {
                    "person_id": to["person_id"],
                    "order_id": pl.Series(to["ids"]).cast(pl.String),
                    "points": to["total_c"] // 100,
                    "us": to["us"],
                }
            )
            .join(mem_map.rename({"source_id": "member_id"}), on="person_id", how="inner")
            .join(enrolled_today, on="member_id", how="left")
            .filter(pl.col("enrol").is_null() | (pl.col("us") >= pl.col("enrol")))
            .select("member_id", "order_id", "points", "us")
            .sort("member_id", "us")
        )
    due = _due(d)
    touched = sorted(set(om["member_id"].to_list()) - new_set)
    prior = _state(d, touched)
    st_prior = {r["member_id"]: r for r in prior.iter_rows(named=True)} if len(prior) else {}
    if len(om):
        mem = om["member_id"].to_list()
        codes = np.unique(np.asarray(mem), return_inverse=True)[1]
        earned0 = np.asarray([float(st_prior.get(m, {}).get("earned") or 0) for m in mem])
        gained0 = np.asarray(
            [float(st_prior[m]["gained"]) if m in st_prior else ENROL_BONUS for m in mem]
        )
        nums = np.asarray([int(m[1:]) for m in mem])
        st = earn_steps(codes, om["points"].to_numpy(), earned0, gained0, redeem_propensity(nums))
        us = om["us"].to_numpy()
        ledger(om["member_id"], om["order_id"], "earn", om["points"].to_numpy(), us)
        up = np.flatnonzero(st["upgraded"])
        if len(up):
            ids = om["member_id"].gather(up)
            tier_change(
                ids,
                st["tier_before"][up],
                st["tier_after"][up],
                "spend_threshold",
                us[up] + UPGRADE_DELAY_US,
            )
            ledger(ids, None, "bonus", UPGRADE_BONUS, us[up] + UPGRADE_DELAY_US)
        rd = np.flatnonzero(st["steps"] > 0)
        if len(rd):
            ledger(
                om["member_id"].gather(rd),
                om["order_id"].gather(rd),
                "redeem",
                -REDEEM_POINTS * st["steps"][rd],
                us[rd] + REDEEM_DELAY_US,
            )
    # annual review (a year after the last earn) and expiry (a year after the last activity)
    cur = d.bronze.latest("loyalty.members")
    tier_now = (
        dict(zip(cur["member_id"].to_list(), cur["tier"].to_list(), strict=True))
        if len(cur)
        else {}
    )
    lo, hi = d.start_us - YEAR_US, d.end_us - YEAR_US
    if len(due):
        le = due["last_earn"].fill_null(-1).to_numpy()
        la = due["last_act"].fill_null(-1).to_numpy()
        t = np.asarray(
            [TIER_NAMES.index(tier_now.get(m) or "Bronze") for m in due["member_id"].to_list()]
        )
        dn = np.flatnonzero((le >= lo) & (le < hi) & (t > 0))
        if len(dn):
            tier_change(
                due["member_id"].gather(dn), t[dn], t[dn] - 1, "annual_review", le[dn] + YEAR_US
            )
        bal = due["balance"].to_numpy()
        ex = np.flatnonzero((la >= lo) & (la < hi) & (bal > 0))
        if len(ex):
            ledger(due["member_id"].gather(ex), None, "expire", -bal[ex], la[ex] + YEAR_US)
    # goodwill adjustments for members active in the past year
    if len(cur):
        active = cur.filter(pl.col("updated_at").cast(pl.Int64) >= d.start_us - YEAR_US)
        pick = np.flatnonzero(rng.random(len(active)) < ADJUST_RATE_PER_YEAR / 365.0)
        if len(pick):
            ledger(
                active["member_id"].gather(pick),
                None,
                "adjust",
                rng.integers(*ADJUST_POINTS, len(pick)),
                d.times(rng, len(pick), late=False),
            )
    if tc["member"]:
        k = sum(len(x) for x in tc["us"])
        t_from = np.concatenate(tc["from"])
        T = np.asarray([tiers.index(x) for x in TIER_NAMES])
        d.add(
            "loyalty.tier_changes",
            {
                "tier_change_id": make_ids("tier_change", ctx.take("tier_change", k)),
                "member_id": pl.concat(tc["member"]),
                "from_tier": choice(tiers, T[np.maximum(t_from, 0)], t_from >= 0),
                "to_tier": choice(tiers, T[np.concatenate(tc["to"])]),
                "change_reason": choice(reasons, np.concatenate(tc["reason"])),
                "changed_at": np.minimum(np.concatenate(tc["us"]), d.end_us - 1),
            },
        )
    if not led["member"]:
        return
    lm = pl.concat(led["member"])
    lp = np.concatenate(led["points"])
    lu = np.minimum(np.concatenate(led["us"]), d.end_us - 1)
    n = len(lm)
    d.add(
        LEDGER,
        {
            "ledger_id": make_ids("ledger", ctx.take("ledger", n)),
            "member_id": lm,
            "order_id": pl.concat(led["order"]),
            "entry_type": choice(entry_types, np.concatenate(led["type"])),
            "points": lp,
            "entry_ts": lu,
        },
    )
    # member versions with the new balance and tier
    new_tier: dict[str, str] = {}
    if tc["member"]:
        tcf = pl.DataFrame(
            {
                "member_id": pl.concat(tc["member"]),
                "to": np.concatenate(tc["to"]),
                "us": np.concatenate(tc["us"]),
            }
        ).sort("us")
        for m_id, t in zip(tcf["member_id"].to_list(), tcf["to"].to_list(), strict=True):
            new_tier[m_id] = TIER_NAMES[t]
    delta = (
        pl.DataFrame({"member_id": lm, "points": lp, "us": lu})
        .group_by("member_id", maintain_order=True)
        .agg(pl.col("points").sum().alias("delta"), pl.col("us").max().alias("last"))
    )
    if len(cur):
        upd = cur.join(delta, on="member_id", how="inner", maintain_order="left")
        d.add(
            "loyalty.members",
            upd.with_columns(
                points_balance=pl.col("points_balance") + pl.col("delta"),
                tier=pl.col("member_id").replace_strict(new_tier, default=pl.col("tier")),
                updated_at=(pl.col("last") + 5 * MINUTE).cast(pl.Datetime("us")),
            ).select(cur.columns),
        )
    nm = d.new_members
    if nm is not None:
        nm = nm.join(delta, on="member_id", how="left", maintain_order="left")
        tiers_m = allowed(ctx, "loyalty.members", "tier")
        d.add(
            "loyalty.members",
            {
                "member_id": nm["member_id"],
                "full_name": nm["full_name"],
                "email": nm["email"],
                "phone": nm["phone"],
                "date_of_birth": masked(nm["dob"].to_numpy(), nm["dob_ok"].to_numpy()),
                "address": nm["address"],
                "zip_code": nm["zip_code"],
                "tier": choice(
                    tiers_m,
                    [tiers_m.index(new_tier.get(m, "Bronze")) for m in nm["member_id"].to_list()],
                ),
                "points_balance": nm["delta"].fill_null(0).to_numpy(),
                "enrolled_date": nm["enrol"].to_numpy() // US_PER_DAY,
                "updated_at": np.maximum(nm["enrol"].to_numpy(), nm["last"].fill_null(0).to_numpy())
                + 5 * MINUTE,
            },
        )
    if new_tier:
        person_tier = dict(
            mem_map.filter(pl.col("source_id").is_in(list(new_tier)))
            .select("person_id", pl.col("source_id").replace_strict(new_tier).alias("tier"))
            .iter_rows()
        )
        d.people = d.people.with_columns(
            loyalty_tier=pl.col("person_id").replace_strict(
                person_tier, default=pl.col("loyalty_tier"), return_dtype=pl.String
            )
        )
