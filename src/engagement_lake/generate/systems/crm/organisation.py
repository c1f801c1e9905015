"""The sales organisation: territories and sales reps (each with a true skill), made once per
world from the seed."""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate import vocab
from engagement_lake.generate.columns import US_PER_DAY
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.world import pick


def make_territories(ctx: Ctx) -> pl.DataFrame:
    rows = [
        (f"T{i + 1:02d}", name, region, ",".join(states))
        for i, (name, region, states) in enumerate(vocab.TERRITORIES)
    ]
    rng = ctx.rng("world.territories")
    start = ctx.cal.start_us
    upd = start - rng.integers(30, 900, len(rows)) * US_PER_DAY
    return pl.DataFrame(
        rows, schema=["territory_id", "territory_name", "region", "states"], orient="row"
    ).with_columns(updated_us=pl.Series(upd))


def make_reps(ctx: Ctx) -> pl.DataFrame:
    rng = ctx.rng("world.reps")
    n = ctx.sized(80, floor=12)
    teams = ("Clienteling", "B2B Uniforms", "Big & Tall Direct", "Inside Sales")
    team_idx = np.arange(n) % 4
    rng.shuffle(team_idx[4:])
    rate_base = np.array([0.05, 0.03, 0.04, 0.02])[team_idx]
    first = pick(
        vocab.MALE_FIRST + vocab.FEMALE_FIRST,
        rng.integers(0, len(vocab.MALE_FIRST) + len(vocab.FEMALE_FIRST), n),
    )
    last = pick(vocab.LAST_COMMON, rng.integers(0, len(vocab.LAST_COMMON), n))
    ids = np.arange(1, n + 1)
    ctx.counters["sales_rep"] = max(ctx.counters.get("sales_rep", 0), n)
    manager = np.full(n, -1)
    for t in range(4):
        members = np.flatnonzero(team_idx == t)
        if len(members):
            manager[members[1:]] = members[0]
    hire = ctx.cal.start_day - rng.integers(-700, 3000, n)
    hire[manager == -1] = ctx.cal.start_day - rng.integers(1500, 3000, int((manager == -1).sum()))
    active = rng.random(n) > 0.1
    active[manager == -1] = True
    df = pl.DataFrame(
        {
            "rep_num": ids,
            "sales_rep_id": [f"R{i:04d}" for i in ids],
            "employee_id": [f"E{10000 + 37 * i:05d}" for i in ids],
            "first": first,
            "last": last,
            "territory_id": [f"T{(i % len(vocab.TERRITORIES)) + 1:02d}" for i in range(n)],
            "sales_team": np.asarray(teams)[team_idx],
            "team_idx": team_idx,
            "manager_idx": manager,
            "commission_rate": np.round(rate_base + rng.uniform(-0.005, 0.01, n), 4),
            "hire_day": hire,
            "is_active": active,
            "skill": np.exp(rng.normal(0, 0.3, n)),
            "speed": np.exp(rng.normal(0, 0.25, n)),
        }
    )
    df = df.with_columns(
        full_name=pl.concat_str([pl.col("first"), pl.lit(" "), pl.col("last")]),
        email=pl.concat_str(
            [
                pl.col("first").str.to_lowercase(),
                pl.lit("."),
                pl.col("last").str.to_lowercase(),
                pl.col("rep_num").cast(pl.String),
                pl.lit("@dxl-sales.example.com"),
            ]
        ),
        manager_id=pl.when(pl.col("manager_idx") >= 0)
        .then(pl.format("R{}", (pl.col("manager_idx") + 1).cast(pl.String).str.zfill(4)))
        .otherwise(None),
    )
    upd = np.maximum(hire, ctx.cal.start_day) * US_PER_DAY + rng.integers(0, 900, n) * US_PER_DAY
    return df.with_columns(updated_us=pl.Series(np.minimum(upd, ctx.cal.end_us - 1)))
