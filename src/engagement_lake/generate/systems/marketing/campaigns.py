"""Marketing campaigns: their types, subjects, target segments and weekly schedule."""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate.columns import US_PER_DAY
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.world import weighted

CAMPAIGN_TYPES = (
    "Promotional",
    "Newsletter",
    "Abandoned Cart",
    "Product Recommendation",
    "Loyalty Reward",
    "Survey",
)
SUBJECTS = {
    "Promotional": (
        "Big & Tall deals: up to 40% off",
        "This weekend only: extra 20% off",
        "Your size is in stock - and on sale",
    ),
    "Newsletter": (
        "New arrivals in your size",
        "The fit guide: this season's essentials",
        "Style notes for the month",
    ),
    "Abandoned Cart": ("You left something in your cart", "Still thinking it over?"),
    "Product Recommendation": ("Picked for you, in your size", "Customers like you loved these"),
    "Loyalty Reward": ("Your points are waiting", "A reward for our members"),
    "Survey": ("Tell us how we did", "Two minutes to help us fit you better"),
}
SEGMENTS = (
    "All Subscribers",
    "Gold & Platinum",
    "Lapsed 90 Days",
    "FitMap Users",
    "New Subscribers",
    "Recent Buyers",
)


CAMPAIGN_WEEKDAY = 0
"""Campaigns go out weekly, on days whose number is this modulo 7 (0: Thursdays)."""


def make_campaigns(
    ctx: Ctx,
    n: int | None = None,
    day_lo: int | None = None,
    day_hi: int | None = None,
    stream: str = "world.campaigns",
) -> pl.DataFrame:
    """Campaigns with send dates in [day_lo, day_hi] (default: the history window).

    By default one campaign a week (on CAMPAIGN_WEEKDAY), whatever the scale, each reaching a
    share of its segment: e-mail events grow linearly with the number of people, and a month
    holds the same campaigns in the backfill as in daily loads. With ``n``, that many campaigns
    on random days of the range.
    """
    rng = ctx.rng(stream)
    share_factor = 1.0
    lo = ctx.cal.start_day + 3 if day_lo is None else day_lo
    hi = ctx.cal.end_day - 1 if day_hi is None else day_hi
    if n is None:
        send = np.arange(lo, hi + 1)
        send = send[send % 7 == CAMPAIGN_WEEKDAY]
        n = len(send)
    else:
        send = np.sort(rng.integers(lo, hi + 1, n))
    type_idx = weighted(rng, [0.35, 0.2, 0.12, 0.15, 0.1, 0.08], n)
    channel_idx = weighted(rng, [0.78, 0.14, 0.08], n)
    nums = ctx.take("campaign", n)
    subj = []
    u = rng.random(n)
    for i in range(n):  # a few hundred campaigns at most
        options = SUBJECTS[CAMPAIGN_TYPES[type_idx[i]]]
        subj.append(options[int(u[i] * len(options))])
    seg_idx = np.where(
        type_idx == 4, 1, np.where(type_idx == 0, 0, rng.integers(0, len(SEGMENTS), n))
    )
    months = send.astype("datetime64[D]").astype(str)
    names = [
        f"{CAMPAIGN_TYPES[t]} {m[:7]} #{k}" for t, m, k in zip(type_idx, months, nums, strict=True)
    ]
    return pl.DataFrame(
        {
            "campaign_num": nums,
            "campaign_id": [f"CMP{k:05d}" for k in nums],
            "campaign_name": names,
            "campaign_type": np.asarray(CAMPAIGN_TYPES)[type_idx],
            "type_idx": type_idx,
            "channel": np.asarray(("email", "sms", "push"))[channel_idx],
            "subject_line": subj,
            "audience_segment": np.asarray(SEGMENTS)[seg_idx],
            "send_day": send,
            "audience_share": np.minimum(rng.uniform(0.08, 0.24, n) * share_factor, 0.95),
            "share_factor": np.full(n, min(share_factor, 1.0)),
            "budget": np.round(rng.lognormal(8.5, 0.7, n), 2).clip(100, 250000),
            "updated_us": (send - rng.integers(1, 10, n)) * US_PER_DAY
            + rng.integers(0, US_PER_DAY, n),
        }
    )
