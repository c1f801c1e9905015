"""fitmap: body scans of the people who use FitMap, in a store or with the app.

Scans measure each person's true body (with scan noise, more in the app) and recommend the size
the person truly needs; FitMap users are the ones whose orders rarely go wrong (see
``shop.fates``), so the gold layer can show that scanning reduces returns and raises ratings.
A FitMap user scans first on the day of their first purchase, then again at a steady rate while they
remain a customer (a Poisson process): the backfill draws each user's repeat scans over their
active span, a daily load scans each user still active with the same daily probability.

Customers the personalisation platform invites to scan (its ``offer_fitmap_scan`` action, see
``mlops.actions``) take the invitation up now and then: most of those who do scan within the
offer's life, which the platform records as the offer accepted; a few scan weeks later of their
own accord. Whether and when is keyed by the invitation (its action number and time), so the
backfill and a daily load, which reads the invitations back from bronze, agree.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate.block import Block, allowed, expand, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice
from engagement_lake.generate.context import Calendar, Ctx
from engagement_lake.generate.daily import HOUR, Day, idx_of_people
from engagement_lake.generate.systems.shop.accounts import customer_ids
from engagement_lake.generate.systems.shop.fates import keyed_uniforms
from engagement_lake.generate.world import ALL_SIZES, size_from_measures

FQN = "fitmap.scans"

# ----------------------------------------------------------------------------- parameters

REPEAT_SCANS_PER_YEAR = 0.4
"""Repeat scans of an active user a year (a Poisson process), after the first."""
SCAN_HOURS = (9, 20)
"""Opening hours in which scans happen."""
STORE_SHARE = 0.55
"""Scans taken in a store (the rest with the app)."""
NOISE_SD = {"store": 0.8, "app": 2.2}
"""Measurement noise (cm / kg, standard deviation) by where the scan was taken."""
DRIFT_SD = 2.5
"""Body-weight drift since the person's measures (kg); chest and waist follow in part."""
QUALITY = {"store": (0.85, 1.0), "app": (0.6, 0.98)}
"""Scan quality score range by where the scan was taken."""
INVITED_SCAN_SHARE = 0.25
INVITED_SCAN_DAYS = (1.0, 10.0)
"""Invitations taken up: the customer scans this many days after the invitation (uniform), before
the offer expires."""
LATE_SCAN_SHARE = 0.08
LATE_SCAN_DAYS = (14.0, 60.0)
"""Invitations let go that still end in a scan, this many days after the invitation (uniform)."""
NEVER = np.iinfo(np.int64).max


def scan_rows(
    ctx: Ctx,
    rng: np.random.Generator,
    people: pl.DataFrame,
    person: np.ndarray,
    ts: np.ndarray,
    customers: object,
    n_stores: int,
    store_ids: list[str],
) -> tuple[dict[str, object], np.ndarray, np.ndarray]:
    """Scans by ``people`` rows ``person`` at ``ts``; returns (rows, in_store, store index)."""
    n = len(person)
    locations = allowed(ctx, FQN, "scan_location")
    in_store = rng.random(n) < STORE_SHARE
    loc = np.where(in_store, locations.index("store"), locations.index("app"))
    sd = np.where(in_store, NOISE_SD["store"], NOISE_SD["app"])
    drift = rng.normal(0, DRIFT_SD, n)

    def measure(col: str, lo: float, hi: float, extra: np.ndarray | float = 0.0) -> np.ndarray:
        true = people[col].to_numpy()[person]
        return np.round(np.clip(true + extra + rng.normal(0, 1, n) * sd, lo, hi), 1)

    height = measure("height_cm", 140, 230)
    weight = measure("weight_kg", 40, 300, drift)
    chest = measure("chest_cm", 70, 200, drift * 0.4)
    waist = measure("waist_cm", 60, 200, drift * 0.6)
    inseam = measure("inseam_cm", 55, 110)
    top = size_from_measures(chest, height)
    sizes = allowed(ctx, FQN, "recommended_top_size")
    top_idx = np.asarray([sizes.index(s) for s in ALL_SIZES])[top]
    waist_in = np.clip(np.rint(waist / 2.54 / 2) * 2, 28, 78).astype(np.int64)
    store_idx = people["home_store"].to_numpy()[person] % n_stores
    quality = np.round(
        np.where(in_store, rng.uniform(*QUALITY["store"], n), rng.uniform(*QUALITY["app"], n)), 3
    )
    rows = {
        "scan_id": make_ids("scan", ctx.take("scan", n)),
        "customer_id": customers,
        "scan_ts": ts,
        "scan_location": choice(locations, loc),
        "store_id": choice(store_ids, store_idx, in_store),
        "height_cm": height,
        "weight_kg": weight,
        "chest_cm": chest,
        "waist_cm": waist,
        "inseam_cm": inseam,
        "recommended_top_size": choice(sizes, top_idx),
        "recommended_bottom_size": waist_in,  # always two digits (28..78)
        "scan_quality": quality,
    }
    return rows, in_store, store_idx


def _scan_time(rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
    return day * US_PER_DAY + rng.integers(SCAN_HOURS[0] * HOUR, SCAN_HOURS[1] * HOUR, len(day))


def invitation_scan(seed: int, action_num: np.ndarray, offered_us: np.ndarray) -> np.ndarray:
    """When each invitation (``mlops.next_best_actions`` number, offered at) ends in a scan:
    within the offer's life when taken up (INVITED_SCAN_SHARE), weeks later for a few let go
    (LATE_SCAN_SHARE), NEVER otherwise."""
    u = keyed_uniforms(seed, "fitmap.invitation", np.asarray(action_num, dtype=np.int64), 2)
    taken = u[:, 0] < INVITED_SCAN_SHARE
    late = ~taken & (u[:, 0] < INVITED_SCAN_SHARE + LATE_SCAN_SHARE)
    lo, hi = (
        np.where(taken, INVITED_SCAN_DAYS[0], LATE_SCAN_DAYS[0]),
        np.where(taken, INVITED_SCAN_DAYS[1], LATE_SCAN_DAYS[1]),
    )
    after = ((lo + u[:, 1] * (hi - lo)) * US_PER_DAY).astype(np.int64)
    return np.where(taken | late, np.asarray(offered_us, dtype=np.int64) + after, NEVER)


def is_taken_up(scan_us: np.ndarray, offered_us: np.ndarray) -> np.ndarray:
    """Invitations whose scan (``invitation_scan``) falls within the offer's life: accepted."""
    return (scan_us != NEVER) & (scan_us - offered_us <= INVITED_SCAN_DAYS[1] * US_PER_DAY)


# ----------------------------------------------------------------------------- backfill


def scans(blk: Block) -> None:
    """Every scan of the block's FitMap users over history (kept in ``blk.state``)."""
    ctx, rng = blk.ctx, blk.rng("fitmap.scans")
    users = np.flatnonzero(blk.col("fitmap_user") & (blk.state["primary_cust"] >= 0))
    first_us = np.maximum(_scan_time(rng, blk.col("first_purchase_day")[users]), ctx.cal.start_us)
    until = np.maximum(np.minimum(blk.state["active_until"][users], ctx.now_us), first_us + 1)
    # seasonal days of activity (the calendar's cumulative intensity, as purchases use)
    exposure = np.maximum(ctx.cal.cumulative(until) - ctx.cal.cumulative(first_us), 0.0)
    cnt = 1 + rng.poisson(REPEAT_SCANS_PER_YEAR / 365.0 * exposure)
    owner, rank = expand(cnt)
    person = users[owner]
    later = ctx.cal.sample(rng, first_us[owner], until[owner])
    ts = np.where(rank == 0, first_us[owner], later)
    keep = ts < ctx.now_us
    person, ts = person[keep], ts[keep]
    srt = np.argsort(ts, kind="stable")
    person, ts = person[srt], ts[srt]
    stores = blk.world.stores["store_id"].to_list()
    rows, in_store, store_idx = scan_rows(
        ctx, rng, blk.people, person, ts, customer_ids(blk, person), len(stores), stores
    )
    blk.add(FQN, rows)
    blk.state["scans"] = {"person": person, "us": ts}
    blk.state["store_scans"] = {
        "person": person[in_store],
        "us": ts[in_store],
        "store_idx": store_idx[in_store],
    }


def invited_scans(blk: Block) -> None:
    """The scans that follow the block's FitMap invitations (``blk.state["fitmap_invitations"]``,
    left by ``mlops.actions``), before the as-of time; added to ``blk.state["scans"]`` so the
    onboarding journey follows a first scan however it came."""
    ctx, rng = blk.ctx, blk.rng("fitmap.invited")
    inv = blk.state.get("fitmap_invitations")
    if inv is None or not len(inv["person"]):
        return
    at = invitation_scan(ctx.seed, inv["num"], inv["offered"])
    keep = np.flatnonzero(at < ctx.now_us)
    srt = keep[np.argsort(at[keep], kind="stable")]
    person, ts = inv["person"][srt], at[srt]
    stores = blk.world.stores["store_id"].to_list()
    rows, _, _ = scan_rows(
        ctx, rng, blk.people, person, ts, customer_ids(blk, person), len(stores), stores
    )
    blk.add(FQN, rows)
    sc = blk.state["scans"]
    both_p, both_us = np.r_[sc["person"], person], np.r_[sc["us"], ts]
    order = np.argsort(both_us, kind="stable")
    blk.state["scans"] = {"person": both_p[order], "us": both_us[order]}


# ----------------------------------------------------------------------------- daily


def daily(d: Day) -> None:
    """Today's scans: new FitMap users' first scan, and repeat scans of active users (each
    with the daily probability of the backfill's yearly rate)."""
    rng = d.rng("fitmap")
    shop_map = d.primary("shop.customers")
    users = d.people.filter(pl.col("fitmap_user") & pl.col("alive")).join(
        shop_map, on="person_id", how="inner", maintain_order="left"
    )
    if users.is_empty():
        return
    new = np.isin(users["person_id"].to_numpy(), d.new_people_ids)
    season = d.ctx.cal.intensity[d.day - d.ctx.cal.grid_lo]
    repeat = rng.random(len(users)) < REPEAT_SCANS_PER_YEAR / 365.0 * season
    who = users.filter(pl.Series(new | repeat))
    k = len(who)
    if k == 0:
        return
    person = idx_of_people(d, who["person_id"].to_numpy())
    ts = np.sort(_scan_time(rng, np.full(k, d.day)))
    stores = d.w.stores["store_id"].to_list()
    rows, _, _ = scan_rows(d.ctx, rng, d.people, person, ts, who["source_id"], len(stores), stores)
    d.add(FQN, rows)


def invited_daily(d: Day) -> None:
    """Today's scans that follow earlier loads' FitMap invitations (read back from bronze; an
    invitation is at least INVITED_SCAN_DAYS[0] old when its scan falls due)."""
    since = d.end_us - int((LATE_SCAN_DAYS[1] + 1) * US_PER_DAY)
    inv = d.bronze.latest(
        "mlops.next_best_actions",
        f"action_type = 'offer_fitmap_scan' AND epoch_us(offered_at) >= {since}"
        " AND customer_ref IS NOT NULL",
        columns='"action_id", "customer_ref", "offered_at"',
    )
    if inv.is_empty():
        return
    num = inv["action_id"].str.extract(r"(\d+)").cast(pl.Int64)
    inv = inv.filter(num.is_not_null())
    num = num.drop_nulls().to_numpy()
    at = invitation_scan(d.ctx.seed, num, inv["offered_at"].cast(pl.Int64).to_numpy())
    due = (at >= Calendar.day_end_us(d.day - 1)) & (at < d.end_us)
    shop_map = d.primary("shop.customers").with_columns(pl.col("source_id").cast(pl.String))
    who = (
        inv.with_columns(scan_us=pl.Series(at))
        .filter(pl.Series(due))
        .join(shop_map, left_on="customer_ref", right_on="source_id", how="inner")
        .join(d.people.select("person_id"), on="person_id", how="semi")
        .sort("scan_us", "action_id")
    )
    if who.is_empty():
        return
    rng = d.rng("fitmap.invited")
    person = idx_of_people(d, who["person_id"].to_numpy())
    stores = d.w.stores["store_id"].to_list()
    rows, _, _ = scan_rows(
        d.ctx,
        rng,
        d.people,
        person,
        who["scan_us"].to_numpy(),
        who["customer_ref"],
        len(stores),
        stores,
    )
    d.add(FQN, rows)
