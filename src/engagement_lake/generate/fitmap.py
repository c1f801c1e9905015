"""fitmap: body scans of the people who use FitMap, in a store or with the app.

Scans measure each person's true body (with scan noise, more in the app) and recommend the size
the person truly needs; FitMap users are the ones whose orders rarely go wrong (see shop.py), so
the gold layer can show that scanning reduces returns and raises ratings.
"""

from __future__ import annotations

import numpy as np

from engagement_lake.generate.block import Block, allowed, expand, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice
from engagement_lake.generate.shop import customer_ids
from engagement_lake.generate.world import ALL_SIZES, size_from_measures


def scans(blk: Block) -> None:
    ctx, rng = blk.ctx, blk.rng("fitmap.scans")
    fqn = "fitmap.scans"
    users = np.flatnonzero(blk.col("fitmap_user") & (blk.state["primary_cust"] >= 0))
    cnt = 1 + rng.poisson(0.5, len(users))
    owner, rank = expand(cnt)
    person = users[owner]
    first_day = blk.col("first_purchase_day")[person]
    first_us = (first_day - rng.integers(0, 30, len(person))) * US_PER_DAY + rng.integers(
        9 * 3600 * 10**6, 20 * 3600 * 10**6, len(person)
    )
    first_us = np.maximum(first_us, ctx.cal.start_us)
    until = np.maximum(blk.state["active_until"][person], first_us + US_PER_DAY)
    later = ctx.cal.sample(rng, first_us, np.minimum(until, ctx.now_us))
    ts = np.where(rank == 0, first_us, later)
    keep = ts < ctx.now_us
    person, ts, rank = person[keep], ts[keep], rank[keep]
    n = len(person)
    srt = np.argsort(ts, kind="stable")
    person, ts = person[srt], ts[srt]
    locations = allowed(ctx, fqn, "scan_location")
    in_store = rng.random(n) < 0.55
    loc = np.where(in_store, locations.index("store"), locations.index("app"))
    sd = np.where(in_store, 0.8, 2.2)
    drift = rng.normal(0, 2.5, n)

    def measure(col: str, lo: float, hi: float, extra: np.ndarray | float = 0.0) -> np.ndarray:
        return np.round(np.clip(blk.col(col)[person] + extra + rng.normal(0, 1, n) * sd, lo, hi), 1)

    height = measure("height_cm", 140, 230)
    weight = measure("weight_kg", 40, 300, drift)
    chest = measure("chest_cm", 70, 200, drift * 0.4)
    waist = measure("waist_cm", 60, 200, drift * 0.6)
    inseam = measure("inseam_cm", 55, 110)
    top = size_from_measures(chest, height)
    sizes = allowed(ctx, fqn, "recommended_top_size")
    top_idx = np.asarray([sizes.index(s) for s in ALL_SIZES])[top]
    waist_in = np.clip(np.rint(waist / 2.54 / 2) * 2, 28, 78).astype(np.int64)
    n_stores = len(blk.world.stores)
    store_idx = blk.col("home_store")[person] % n_stores
    quality = np.round(np.where(in_store, rng.uniform(0.85, 1.0, n), rng.uniform(0.6, 0.98, n)), 3)
    blk.state["scans"] = {"person": person, "us": ts}
    blk.state["store_scans"] = {
        "person": person[in_store],
        "us": ts[in_store],
        "store_idx": store_idx[in_store],
    }
    blk.add(
        fqn,
        {
            "scan_id": make_ids("scan", ctx.take("scan", n)),
            "customer_id": customer_ids(blk, person),
            "scan_ts": ts,
            "scan_location": choice(locations, loc),
            "store_id": choice(blk.world.stores["store_id"].to_list(), store_idx, in_store),
            "height_cm": height,
            "weight_kg": weight,
            "chest_cm": chest,
            "waist_cm": waist,
            "inseam_cm": inseam,
            "recommended_top_size": choice(sizes, top_idx),
            "recommended_bottom_size": waist_in,  # always two digits (28..78)
            "scan_quality": quality,
        },
    )
