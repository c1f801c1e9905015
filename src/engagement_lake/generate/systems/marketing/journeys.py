"""marketing journeys: touchpoints of the platform's triggered journeys.

Every journey starts from something that happened to the subscriber, never from a schedule:
Welcome when they subscribe, Post Purchase after a share of their orders, Abandoned Cart after a
session that filled a cart and bought nothing (the reminder is the triggered e-mail of
``email``), Win Back after a silence of WIN_BACK_SILENCE_DAYS without an order, FitMap
Onboarding after the first body scan, Birthday on their birthday. Each journey is a list of
stages at fixed offsets from its trigger; the last stage records a conversion when the person
ordered between the trigger and that stage (known at the time, so a daily load can tell too).

The backfill emits the stages of all history's triggers that fall before the as-of time; a daily
load gathers the triggers of the last days and emits the stages that fall on its day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engagement_lake.generate.block import Block, allowed, make_ids, next_event
from engagement_lake.generate.columns import US_PER_DAY, choice
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.daily import HOUR, MINUTE
from engagement_lake.generate.systems.marketing.email import unit_hash

# ----------------------------------------------------------------------------- parameters

REMINDER = -1
"""Offset marker: the stage happens when the triggered e-mail was sent."""
RETARGET = "retarget"
"""Touchpoint marker: paid social for RETARGET_SHARE of the exits, e-mail otherwise."""
JOURNEYS: dict[str, tuple[tuple[str, str, int], ...]] = {
    "Welcome": (
        ("entered", "email", 0),
        ("email_1", "email", US_PER_DAY),
        ("completed", "email", 7 * US_PER_DAY),
    ),
    "Post Purchase": (("entered", "email", HOUR), ("review_request", "sms", 7 * US_PER_DAY)),
    "Abandoned Cart": (
        ("entered", "direct", 30 * MINUTE),
        ("reminder_1", "email", REMINDER),
        ("exited", RETARGET, 26 * HOUR),
    ),
    "Win Back": (("entered", "email", 0), ("offer_sent", "paid_search", 3 * US_PER_DAY)),
    "FitMap Onboarding": (("entered", "store", HOUR), ("tips_sent", "email", 2 * US_PER_DAY)),
    "Birthday": (("sent", "email", 8 * HOUR),),
}
"""Stages of each journey: (stage, touchpoint, offset from the trigger in microseconds)."""
POST_PURCHASE_SHARE = 0.15
BIRTHDAY_SHARE = 0.3
WIN_BACK_SILENCE_DAYS = 120
RETARGET_SHARE = 0.3
LOOKBACK_US = 8 * US_PER_DAY
"""Longest trigger-to-stage offset (and a day): how far back a daily load looks."""

STAGES = (
    "entered",
    "email_1",
    "completed",
    "review_request",
    "reminder_1",
    "exited",
    "offer_sent",
    "tips_sent",
    "sent",
)


@dataclass
class Triggers:
    """One journey's triggers. ``person``: block-local index or person id; ``key``: a stable
    number of the trigger (hashes); ``reminder_us``/``campaign``: the triggered e-mail."""

    journey: str
    person: np.ndarray
    us: np.ndarray
    key: np.ndarray
    reminder_us: np.ndarray | None = None
    campaign: np.ndarray | None = None


@dataclass
class Rows:
    person: np.ndarray
    journey: np.ndarray
    stage: np.ndarray
    touchpoint: np.ndarray
    us: np.ndarray
    campaign: np.ndarray
    value: np.ndarray


def stage_rows(
    ctx: Ctx,
    trig: Triggers,
    lo: int,
    hi: int,
    first_order_value: object,
) -> Rows:
    """The stages of ``trig`` dated in [lo, hi). ``first_order_value(person, from_us,
    within_us)`` gives the value of the person's first order in the window (nan if none)."""
    fqn = "marketing.journey_events"
    names = allowed(ctx, fqn, "journey_name")
    tps = allowed(ctx, fqn, "touchpoint")
    stages = JOURNEYS[trig.journey]
    out: list[tuple[np.ndarray, ...]] = []
    for k, (stage, tp, offset) in enumerate(stages):
        us = trig.reminder_us if offset == REMINDER else trig.us + offset
        assert us is not None
        keep = np.flatnonzero((us >= lo) & (us < hi))
        if tp == RETARGET:
            paid = unit_hash(31, trig.key[keep]) < RETARGET_SHARE
            tpi = np.where(paid, tps.index("paid_social"), tps.index("email"))
        else:
            tpi = np.full(len(keep), tps.index(tp))
        value = np.full(len(keep), np.nan)
        if k == len(stages) - 1 and len(keep):
            # orders after the trigger (a purchase that triggered the journey is not its result)
            value = first_order_value(trig.person[keep], trig.us[keep] + MINUTE, offset)  # type: ignore[operator]
        camp = (
            trig.campaign[keep]
            if offset == REMINDER and trig.campaign is not None
            else np.full(len(keep), -1)
        )
        out.append(
            (
                trig.person[keep],
                np.full(len(keep), names.index(trig.journey)),
                np.full(len(keep), STAGES.index(stage)),
                tpi,
                us[keep],
                camp,
                value,
            )
        )
    cols = [np.concatenate([o[i] for o in out]) for i in range(7)]
    return Rows(*cols)


def concat(rows: list[Rows]) -> Rows:
    return Rows(*[np.concatenate([getattr(r, f) for r in rows]) for f in Rows.__dataclass_fields__])


def columns(ctx: Ctx, r: Rows, subscriber_id: object, customer_ref: object) -> dict[str, object]:
    fqn = "marketing.journey_events"
    n = len(r.us)
    return {
        "journey_event_id": make_ids("journey_event", ctx.take("journey_event", n)),
        "subscriber_id": subscriber_id,
        "customer_ref": customer_ref,
        "journey_name": choice(allowed(ctx, fqn, "journey_name"), r.journey),
        "touchpoint": choice(allowed(ctx, fqn, "touchpoint"), r.touchpoint),
        "stage": choice(STAGES, r.stage),
        "event_ts": r.us,
        "campaign_id": make_ids("campaign", np.maximum(r.campaign, 0), r.campaign >= 0),
        "is_conversion": ~np.isnan(r.value),
        "conversion_value": r.value,
    }


def order_lookup(person: np.ndarray, us: np.ndarray, total: np.ndarray) -> object:
    """``first_order_value`` over orders given as arrays (any order; sorted here)."""
    srt = np.lexsort((us, person))
    op, ous, otot = person[srt], us[srt], total[srt]

    def first(p: np.ndarray, from_us: np.ndarray, within: int) -> np.ndarray:
        j = next_event(op, ous, p, from_us, max(int(within), 1))
        return np.where(j >= 0, otot[np.maximum(j, 0)] if len(otot) else 0.0, np.nan)

    return first


def birthday_us(birth_day: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Midnight of each birthday (day number of birth) in each of ``years`` (calendar years)."""
    bd = birth_day.astype("datetime64[D]")
    md = bd - bd.astype("datetime64[Y]")
    day = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]") + md
    return day.astype(np.int64) * US_PER_DAY


def silences(person: np.ndarray, us: np.ndarray, now: int) -> np.ndarray:
    """Positions of the orders (sorted by person, time) followed by WIN_BACK_SILENCE_DAYS
    without another order of the person."""
    same = np.r_[person[1:] == person[:-1], False] if len(person) else np.zeros(0, bool)
    nxt = np.where(same, np.r_[us[1:], 0] if len(us) else us, np.iinfo(np.int64).max)
    return np.flatnonzero(nxt - us > WIN_BACK_SILENCE_DAYS * US_PER_DAY)


# ----------------------------------------------------------------------------- backfill


def emit(blk: Block) -> None:
    """Every journey's stages over the history, for the block's subscribers."""
    ctx = blk.ctx
    now = ctx.now_us
    sub = blk.state["subscribers"]
    primary_sub = blk.state["primary_subscriber"]
    is_sub = primary_sub >= 0
    pid = blk.col("person_id")
    o = blk.state["orders"]
    ok_o = np.flatnonzero(~o["cancelled"])
    op, ous = o["person"][ok_o], o["us"][ok_o]
    look = order_lookup(o["person"], o["us"], o["total_c"] / 100.0)
    trig: list[Triggers] = []
    ws = np.flatnonzero(~sub["is_dup"])
    wp = sub["person"][ws]
    trig.append(Triggers("Welcome", wp, sub["sub_us"][ws], pid[wp]))
    po = ok_o[is_sub[op] & (unit_hash(21, o["num"][ok_o]) < POST_PURCHASE_SHARE)]
    trig.append(Triggers("Post Purchase", o["person"][po], o["us"][po], o["num"][po]))
    ac = blk.state["abandoned_carts"]
    trig.append(
        Triggers(
            "Abandoned Cart",
            ac["person"],
            ac["session_start"],
            ac["session_num"],
            ac["send_us"],
            ac["campaign"],
        )
    )
    wb = silences(op, ous, now)
    wb = wb[is_sub[op[wb]]]
    trig.append(
        Triggers(
            "Win Back", op[wb], ous[wb] + WIN_BACK_SILENCE_DAYS * US_PER_DAY, o["num"][ok_o][wb]
        )
    )
    sc = blk.state["scans"]
    by_person = np.lexsort((sc["us"], sc["person"]))  # each person's scans in time order
    sp, sus = sc["person"][by_person], sc["us"][by_person]
    first = np.r_[True, sp[1:] != sp[:-1]] if len(sp) else np.zeros(0, bool)
    fp, fus = sp[first], sus[first]
    ok = is_sub[fp]
    trig.append(Triggers("FitMap Onboarding", fp[ok], fus[ok], pid[fp[ok]]))
    bp = np.flatnonzero(is_sub & (unit_hash(22, pid) < BIRTHDAY_SHARE))
    years = np.arange(ctx.as_of.year - 3, ctx.as_of.year + 1)
    owner = np.repeat(np.arange(len(bp)), len(years))
    yr = np.tile(years, len(bp))
    trig.append(
        Triggers(
            "Birthday",
            bp[owner],
            birthday_us(blk.col("birth_day")[bp][owner], yr),
            pid[bp][owner] * 10_000 + yr,
        )
    )
    rows = concat([stage_rows(ctx, t, ctx.cal.start_us, now - 1, look) for t in trig])
    srt = np.argsort(rows.us, kind="stable")
    rows = Rows(*[getattr(rows, f)[srt] for f in Rows.__dataclass_fields__])
    cust = blk.state["primary_cust"][rows.person]
    blk.add(
        "marketing.journey_events",
        columns(
            ctx,
            rows,
            make_ids("subscriber", primary_sub[rows.person]),
            make_ids("customer", np.maximum(cust, 0), cust >= 0),
        ),
    )
