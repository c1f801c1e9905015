"""marketing e-mail: subscribers, broadcast and triggered sends, and what each send led to.

Broadcast campaigns go out weekly to a segment. Abandoned-cart e-mails are not broadcast: the
platform sends one a few hours after a subscriber's session filled a cart and bought nothing
(the campaign is the abandoned-cart template live at the time). Opens and clicks rise with the
loyalty tier (Platinum members open about 2.5x as often as non-members) and with engagement,
and a triggered e-mail is opened more than a broadcast. A click opens a web session minutes
later (``sessions.add_click_sessions``). A conversion is credited only when an order's session
really came from the e-mail: the subscriber's web or app order within days of a delivered send
is, with a probability that is higher for a triggered e-mail, the click's session; the click then
sits minutes before that session and the conversion carries the order's id and revenue.

Every outcome of a send (bounce, open, click and their delays) is a hash of the send (subscriber,
campaign, time), so a daily load recomputes the sends of the last days and lands exactly the
events that fall on its day: backfill and daily loads share the model, not only its rates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from engagement_lake.generate import identity
from engagement_lake.generate.block import Block, allowed, enum_draw, last_before, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.daily import HOUR, MINUTE
from engagement_lake.generate.systems.shop import sessions

# ----------------------------------------------------------------------------- parameters

OPEN_BY_TIER = (0.15, 0.23, 0.31, 0.40)  # Bronze, Silver, Gold, Platinum (loyalty members)
OPEN_NON_MEMBER = 0.13
CLICK_GIVEN_OPEN = 0.2
ENGAGEMENT_FLOOR, ENGAGEMENT_SLOPE = 0.6, 0.8
"""Open and click rates are scaled by (floor + slope x engagement) per person."""
LAPSED_OPEN_FACTOR = 0.6
"""Opens after the customer dropped out."""
TRIGGERED_OPEN_FACTOR = 1.8
TRIGGERED_CLICK_FACTOR = 1.5
"""An abandoned-cart e-mail, sent while the cart is fresh, is opened and clicked more."""
BOUNCE_SHARE = 0.015
OPEN_DELAY_HOURS = (3.0, 1.2)
"""Hours from send to open: log-normal (median, sigma of the log)."""
CLICK_AFTER_OPEN_SECONDS = (10, 1200)
TRIGGER_TYPE = "Abandoned Cart"
"""Campaigns of this type are templates of a triggered e-mail, never broadcast."""
ABANDONED_CART_SHARE = 0.6
"""Abandoned sessions of a subscriber that get a reminder (the rest: cart emptied, frequency
cap, no consent for triggered mail)."""
ABANDONED_CART_DELAY_HOURS = (1.0, 4.0)
"""Hours from the abandoned session's start to the reminder."""
DRIVE_WINDOW_DAYS = 3
"""An order's session can come from an e-mail delivered at most this many days before."""
DRIVE_SHARE = (0.18, 0.45)
"""Chance that a subscriber's web or app order in that window came from the e-mail (broadcast,
triggered), times the engagement scale."""
BROADCAST_HOUR = 9
UNSUBSCRIBE_PER_DAY = 0.0005
"""Daily loads: subscribed people leaving on a given day."""
LOOKBACK_DAYS = 7
"""A daily load recomputes the sends of this many days before it (late opens and clicks)."""

LINKS = (
    "https://www.dxl.example.com/new-arrivals",
    "https://www.dxl.example.com/sale",
    "https://www.dxl.example.com/fitmap",
    "https://www.dxl.example.com/account/rewards",
    "https://www.dxl.example.com/survey",
)


def engagement_truth() -> dict[str, object]:
    return {
        "open_rate_by_tier": dict(
            zip(("Bronze", "Silver", "Gold", "Platinum"), OPEN_BY_TIER, strict=True)
        ),
        "open_rate_non_member": OPEN_NON_MEMBER,
        "click_given_open": CLICK_GIVEN_OPEN,
        "triggered_open_factor": TRIGGERED_OPEN_FACTOR,
        "triggered_click_factor": TRIGGERED_CLICK_FACTOR,
        "note": "rates are scaled by (0.6 + 0.8 x engagement) per person and x0.6 after "
        "the customer dropped out; abandoned-cart e-mails are triggered by abandoned sessions",
    }


# ----------------------------------------------------------------------------- hashing


def unit_hash(salt: int, *keys: np.ndarray) -> np.ndarray:
    """A uniform number in [0, 1) per row, a stable function of the integer keys and salt
    (splitmix64): the same send or session draws the same outcome in every load."""
    with np.errstate(over="ignore"):
        h = np.full(len(keys[0]), np.uint64(salt * 0x9E3779B97F4A7C15 % 2**64), dtype=np.uint64)
        for k in keys:
            h ^= np.asarray(k).astype(np.int64).astype(np.uint64)
            h += np.uint64(0x9E3779B97F4A7C15)
            h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            h ^= h >> np.uint64(31)
    return (h >> np.uint64(11)).astype(np.float64) / float(2**53)


def _normal(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    return np.sqrt(-2.0 * np.log(np.maximum(u1, 1e-12))) * np.cos(2 * np.pi * u2)


def reminder_delay(session_num: np.ndarray) -> np.ndarray:
    lo, hi = ABANDONED_CART_DELAY_HOURS
    return ((lo + (hi - lo) * unit_hash(11, session_num)) * HOUR).astype(np.int64)


def reminded(session_num: np.ndarray) -> np.ndarray:
    """Which abandoned sessions (of subscribers) get a reminder."""
    return unit_hash(12, session_num) < ABANDONED_CART_SHARE


def engagement_scale(engagement: np.ndarray) -> np.ndarray:
    return ENGAGEMENT_FLOOR + ENGAGEMENT_SLOPE * engagement


def open_propensity(tier: np.ndarray, engagement: np.ndarray, lapsed: np.ndarray) -> np.ndarray:
    """Chance a broadcast is opened; ``tier`` -1 for non-members."""
    p = np.where(tier >= 0, np.asarray(OPEN_BY_TIER)[np.maximum(tier, 0)], OPEN_NON_MEMBER)
    return p * engagement_scale(engagement) * np.where(lapsed, LAPSED_OPEN_FACTOR, 1.0)


# ----------------------------------------------------------------------------- sends


@dataclass
class Sends:
    """Sends with their outcomes. ``person``: block-local index or person id; ``sub``:
    subscriber number; ``campaign``: campaign number; ``triggered``: an abandoned-cart e-mail."""

    person: np.ndarray
    sub: np.ndarray
    campaign: np.ndarray
    us: np.ndarray
    triggered: np.ndarray
    delivered: np.ndarray | None = None
    opened: np.ndarray | None = None
    open_us: np.ndarray | None = None
    clicked: np.ndarray | None = None
    click_us: np.ndarray | None = None
    order: np.ndarray | None = None
    """Index of the order whose session the e-mail opened (-1 none)."""

    def __len__(self) -> int:
        return len(self.sub)

    def take(self, idx: np.ndarray) -> Sends:
        return Sends(
            **{
                f: (None if getattr(self, f) is None else getattr(self, f)[idx])
                for f in Sends.__dataclass_fields__
            }
        )

    @staticmethod
    def concat(parts: list[Sends]) -> Sends:
        return Sends(
            **{
                f: np.concatenate([getattr(p, f) for p in parts])
                for f in ("person", "sub", "campaign", "us", "triggered")
            }
        )


def outcomes(s: Sends, p_open: np.ndarray, engagement: np.ndarray) -> None:
    """Bounce, open, click and their times of each send: hashes of the send, so recomputing a
    send in a later load gives the same result."""
    key = (s.sub, s.campaign, s.us // 1_000_000)
    trig = s.triggered
    s.delivered = unit_hash(1, *key) >= BOUNCE_SHARE
    p_open = p_open * np.where(trig, TRIGGERED_OPEN_FACTOR, 1.0)
    s.opened = s.delivered & (unit_hash(2, *key) < p_open)
    p_click = CLICK_GIVEN_OPEN * engagement_scale(engagement)
    p_click = p_click * np.where(trig, TRIGGERED_CLICK_FACTOR, 1.0)
    s.clicked = s.opened & (unit_hash(3, *key) < p_click)
    med, sigma = OPEN_DELAY_HOURS
    z = _normal(unit_hash(4, *key), unit_hash(5, *key))
    s.open_us = s.us + (np.exp(np.log(med) + sigma * z) * HOUR).astype(np.int64) + MINUTE
    lo, hi = CLICK_AFTER_OPEN_SECONDS
    s.click_us = s.open_us + ((lo + (hi - lo) * unit_hash(6, *key)) * 1_000_000).astype(np.int64)
    s.order = np.full(len(s), -1, np.int64)


def delivered_us(s: Sends) -> np.ndarray:
    return (
        s.us
        + (1 + 119 * unit_hash(7, s.sub, s.campaign, s.us // 1_000_000)).astype(np.int64)
        * 1_000_000
    )


def drive(
    s: Sends,
    person: np.ndarray,
    start: np.ndarray,
    order: np.ndarray,
    engagement: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Which order sessions came from an e-mail: (session positions, send positions).

    ``s`` must be sorted by (person, time). For each order session the latest delivered send
    to the person within the window before it, not clicked before the session, is its e-mail
    with probability DRIVE_SHARE x engagement scale; a send drives at most one order. The
    send's click moves to minutes before the session (its open before that) and it converts.
    """
    j = last_before(s.person, s.us, person, start - 3 * MINUTE)
    jj = np.maximum(j, 0)
    ok = (j >= 0) & (start - s.us[jj] < DRIVE_WINDOW_DAYS * US_PER_DAY)
    ok &= s.delivered[jj] & ~(s.clicked[jj] & (s.click_us[jj] < start))
    p = np.asarray(DRIVE_SHARE)[s.triggered[jj].astype(int)] * engagement_scale(engagement)
    ok &= rng.random(len(person)) < p
    sess = np.flatnonzero(ok)
    sends, first = np.unique(jj[sess], return_index=True)
    sess = sess[first]
    click = start[sess] - rng.integers(1, 10, len(sess)) * MINUTE
    click = np.maximum(click, s.us[sends] + 2 * MINUTE)
    new_open = click - rng.integers(1, 30, len(sess)) * MINUTE
    new_open = np.maximum(new_open, s.us[sends] + MINUTE)
    s.open_us[sends] = np.where(
        s.opened[sends], np.minimum(s.open_us[sends], click - 30_000_000), new_open
    )
    s.open_us[sends] = np.maximum(s.open_us[sends], s.us[sends] + MINUTE)
    s.opened[sends] = True
    s.clicked[sends] = True
    s.click_us[sends] = click
    s.order[sends] = order[sess]
    return sess, sends


def audience(
    segment: str,
    share: float,
    t: int,
    active: np.ndarray,
    tier: np.ndarray,
    fitmap: np.ndarray,
    last_buy: np.ndarray,
    sub_us: np.ndarray,
    u: np.ndarray,
) -> np.ndarray:
    """Subscribers a broadcast of ``segment`` reaches at time ``t`` (``u``: one uniform each)."""
    if segment == "Gold & Platinum":
        elig, share = active & (tier >= 2), 0.9
    elif segment == "FitMap Users":
        elig, share = active & fitmap, min(1.0, share * 4)
    elif segment == "Lapsed 90 Days":
        elig = active & (last_buy > 0) & (last_buy < t - 90 * US_PER_DAY)
        share = min(1.0, share * 3)
    elif segment == "New Subscribers":
        elig, share = active & (sub_us > t - 60 * US_PER_DAY), 0.9
    elif segment == "Recent Buyers":
        elig = active & (last_buy > t - 30 * US_PER_DAY) & (last_buy <= t)
        share = min(1.0, share * 3)
    else:
        elig = active
    return elig & (u < share)


def broadcast_us(day: int, campaign_num: int) -> int:
    """Send time of a broadcast: mid-morning, a fixed minute per campaign."""
    return day * US_PER_DAY + BROADCAST_HOUR * HOUR + (campaign_num * 7919 % 600) * MINUTE


def template_at(campaigns: pl.DataFrame, us: np.ndarray) -> np.ndarray:
    """Campaign number of the abandoned-cart template live at each time: the latest launched;
    -1 before the first launch (no reminders yet)."""
    tpl = campaigns.filter(pl.col("campaign_type") == TRIGGER_TYPE).sort("send_day")
    if tpl.is_empty():
        return np.full(len(us), -1, np.int64)
    launch = tpl["send_day"].to_numpy() * US_PER_DAY
    i = np.searchsorted(launch, us, side="right") - 1
    return np.where(i >= 0, tpl["campaign_num"].to_numpy()[np.maximum(i, 0)], -1)


def event_columns(
    ctx: Ctx,
    sub_id: object,
    campaign_num: np.ndarray,
    ev_type: np.ndarray,
    ev_us: np.ndarray,
    link: np.ndarray,
    revenue: np.ndarray,
    order_id: object,
) -> dict[str, object]:
    n = len(ev_type)
    ev_types = allowed(ctx, "marketing.email_events", "event_type")
    return {
        "event_id": make_ids("email_event", ctx.take("email_event", n)),
        "subscriber_id": sub_id,
        "campaign_id": make_ids("campaign", campaign_num),
        "event_type": choice(ev_types, ev_type),
        "event_ts": ev_us,
        "link_url": choice(list(LINKS), np.maximum(link, 0), ev_type == ev_types.index("click")),
        "revenue": revenue,
        "order_id": order_id,
    }


def link_of(campaigns: pl.DataFrame, campaign_num: np.ndarray) -> np.ndarray:
    nums = campaigns["campaign_num"].to_numpy()
    tidx = campaigns["type_idx"].to_numpy()
    pos = np.clip(np.searchsorted(nums, campaign_num), 0, len(nums) - 1)
    return np.minimum(np.where(nums[pos] == campaign_num, tidx[pos], 0), len(LINKS) - 1)


# ----------------------------------------------------------------------------- backfill


def emit(blk: Block) -> None:
    """Subscribers, sends, e-mail events; turns e-mail-driven order sessions into e-mail
    sessions and adds the sessions clicks opened (before ``sessions.web_sessions`` writes)."""
    ctx = blk.ctx
    rng = blk.rng("marketing")
    now = ctx.now_us
    profile = identity.profile("marketing.subscribers", ctx.identity_noise)
    rec = identity.select_records(rng, blk.col("in_marketing"), profile.duplicate)
    ns = len(rec)
    person = rec.person
    snums = ctx.take("subscriber", ns)
    statuses, st = enum_draw(
        rng,
        ctx,
        "marketing.subscribers",
        "status",
        {"subscribed": 0.8, "unsubscribed": 0.12, "bounced": 0.03, "cleaned": 0.05},
        ns,
    )
    base = np.where(
        blk.col("in_shop")[person],
        blk.col("first_purchase_day")[person] * US_PER_DAY,
        ctx.cal.start_us - 200 * US_PER_DAY,
    )
    jitter = (rng.normal(0, 20, ns) * US_PER_DAY).astype(np.int64)
    sub_us = np.clip(base + jitter, ctx.cal.start_us - 400 * US_PER_DAY, now - US_PER_DAY)
    sub_us = np.where(
        rec.is_duplicate,
        sub_us + (rng.random(ns) * np.maximum(now - sub_us, 1) * 0.7).astype(np.int64),
        sub_us,
    )
    leaving = st != statuses.index("subscribed")
    leave_us = sub_us + (rng.random(ns) * np.maximum(now - sub_us, 1)).astype(np.int64)
    end_us = np.where(leaving, leave_us, now)
    primary = np.full(blk.n, -1, dtype=np.int64)
    primary[person[~rec.is_duplicate]] = np.flatnonzero(~rec.is_duplicate)
    blk.state["primary_subscriber"] = np.where(primary >= 0, snums[np.maximum(primary, 0)], -1)

    # ------------------------------------------------------------ broadcasts
    camp = blk.world.campaigns
    member = blk.state.get("primary_member", np.full(blk.n, -1))[person] >= 0
    tier = np.where(member, blk.state["person_tier"][person], -1)
    fitmap = blk.col("fitmap_user")[person]
    last_buy = blk.col("last_purchase_us")[person]
    parts: list[Sends] = []
    seg_names = camp["audience_segment"].to_list()
    types = camp["campaign_type"].to_list()
    for c in range(len(camp)):  # a few hundred campaigns, each vectorised over subscribers
        if types[c] == TRIGGER_TYPE:
            continue
        num = int(camp["campaign_num"][c])
        t = broadcast_us(int(camp["send_day"][c]), num)
        active = (sub_us <= t) & (end_us > t)
        chosen = np.flatnonzero(
            audience(
                seg_names[c],
                float(camp["audience_share"][c]),
                t,
                active,
                tier,
                fitmap,
                last_buy,
                sub_us,
                rng.random(ns),
            )
        )
        k = len(chosen)
        parts.append(
            Sends(
                person[chosen],
                snums[chosen],
                np.full(k, num),
                t + rng.integers(0, 30 * MINUTE, k),
                np.zeros(k, bool),
            )
        )
    # ------------------------------------------------------------ abandoned-cart reminders
    dr: sessions.Draft = blk.state["session_draft"]
    ab = dr.abandoned()
    sub_rec = primary[dr.person[ab]]
    ab, sub_rec = ab[sub_rec >= 0], sub_rec[sub_rec >= 0]
    at = dr.start[ab] + reminder_delay(dr.nums[ab])
    tpl = template_at(camp, at)
    ok = reminded(dr.nums[ab]) & (tpl >= 0) & (sub_us[sub_rec] <= at) & (end_us[sub_rec] > at)
    sent = ok & (at < now)
    parts.append(
        Sends(
            person[sub_rec[sent]],
            snums[sub_rec[sent]],
            tpl[sent],
            at[sent],
            np.ones(int(sent.sum()), bool),
        )
    )
    blk.state["abandoned_carts"] = {
        "person": person[sub_rec[ok]],
        "session_start": dr.start[ab[ok]],
        "session_num": dr.nums[ab[ok]],
        "send_us": at[ok],
        "campaign": tpl[ok],
    }
    s = Sends.concat(parts)
    srt = np.lexsort((s.us, s.person))
    s = s.take(srt)
    rec_of_send = np.searchsorted(snums, s.sub)
    k = len(s)

    # ------------------------------------------------------------ outcomes
    eng = blk.col("engagement")[s.person]
    lp = blk.col("last_purchase_us")[s.person]
    lapsed = (lp > 0) & ~blk.col("alive")[s.person] & (s.us > lp)
    outcomes(s, open_propensity(tier[rec_of_send], eng, lapsed), eng)
    # a bounced subscriber's last send bounced
    by_sub = np.lexsort((s.us, s.sub))
    last_send = np.zeros(k, bool)
    if k:
        last_send[by_sub] = np.r_[s.sub[by_sub][1:] != s.sub[by_sub][:-1], True]
    bounced_sub = st == statuses.index("bounced")
    hard = bounced_sub[rec_of_send] & last_send
    s.delivered &= ~hard
    s.opened &= s.delivered
    s.clicked &= s.delivered
    # order sessions that came from an e-mail
    conv = np.flatnonzero(dr.converted & (dr.person >= 0))
    sess, sends_i = drive(
        s,
        dr.person[conv],
        dr.start[conv],
        dr.order[conv],
        blk.col("engagement")[dr.person[conv]],
        rng,
    )
    src_email = allowed(ctx, "shop.web_sessions", "traffic_source").index("email")
    dr.source[conv[sess]] = src_email
    dr.campaign[conv[sess]] = np.asarray(
        make_ids("campaign", s.campaign[sends_i]).to_pylist(), object
    )
    # the other clicks open sessions of their own
    nat = np.flatnonzero(s.clicked & (s.order < 0) & (s.click_us < now))
    blk.state["session_draft"] = sessions.add_click_sessions(
        ctx,
        rng,
        dr,
        s.person[nat],
        s.click_us[nat],
        np.asarray(make_ids("campaign", s.campaign[nat]).to_pylist(), object),
    )
    blk.state["sends"] = {"person": s.person, "us": s.us, "opened": s.opened}

    # ------------------------------------------------------------ events
    unsub_st = st == statuses.index("unsubscribed")
    unsub = unsub_st[rec_of_send] & last_send & s.delivered
    unsub_us = np.where(s.opened, s.open_us, s.us + HOUR) + rng.integers(MINUTE, HOUR, k)
    ev_types = allowed(ctx, "marketing.email_events", "event_type")
    E = {e: ev_types.index(e) for e in ev_types}
    o = blk.state["orders"]
    oref = np.maximum(s.order, 0)
    has_orders = len(o["us"]) > 0
    conv_us = o["us"][oref] if has_orders else s.click_us
    groups = [
        (np.ones(k, bool), E["sent"], s.us),
        (s.delivered, E["delivered"], delivered_us(s)),
        (~s.delivered, E["bounce"], delivered_us(s)),
        (s.opened, E["open"], s.open_us),
        (s.clicked, E["click"], s.click_us),
        (s.order >= 0, E["convert"], np.maximum(conv_us, s.click_us + MINUTE)),
        (unsub, E["unsubscribe"], unsub_us),
    ]
    ev_send = np.concatenate([np.flatnonzero(g[0]) for g in groups])
    ev_type = np.concatenate([np.full(int(g[0].sum()), g[1]) for g in groups])
    ev_us = np.concatenate([g[2][g[0]] for g in groups])
    keep = ev_us < now - 1
    ev_send, ev_type, ev_us = ev_send[keep], ev_type[keep], ev_us[keep]
    srt = np.lexsort((ev_type, ev_us))
    ev_send, ev_type, ev_us = ev_send[srt], ev_type[srt], ev_us[srt]
    is_conv = ev_type == E["convert"]
    conv_order = np.where(is_conv, s.order[ev_send], -1)
    blk.add(
        "marketing.email_events",
        event_columns(
            ctx,
            make_ids("subscriber", s.sub[ev_send]),
            s.campaign[ev_send],
            ev_type,
            ev_us,
            link_of(camp, s.campaign[ev_send]),
            np.where(
                is_conv,
                o["total_c"][np.maximum(conv_order, 0)] / 100.0 if has_orders else 0.0,
                np.nan,
            ),
            make_ids(
                "order",
                o["num"][np.maximum(conv_order, 0)] if has_orders else np.zeros(len(ev_send), int),
                conv_order >= 0,
            ),
        ),
    )

    # ------------------------------------------------------------ subscribers table
    last_unsub = np.full(ns, -1, dtype=np.int64)
    u_idx = np.flatnonzero(unsub)
    last_unsub[rec_of_send[u_idx]] = unsub_us[u_idx]
    unsub_at = np.where(last_unsub >= 0, last_unsub, leave_us)
    unsub_at = np.minimum(unsub_at, now - 1)
    last_event = np.zeros(ns, np.int64)
    if len(ev_send):
        np.maximum.at(last_event, rec_of_send[ev_send], ev_us)
    updated = np.where(leaving, unsub_at, np.maximum(sub_us, last_event))
    updated = np.minimum(np.maximum(updated, sub_us) + rng.integers(MINUTE, HOUR, ns), now - 1)
    obs = identity.observe(rng, blk.people, rec, profile)
    src_vals, src = enum_draw(
        rng,
        ctx,
        "marketing.subscribers",
        "source",
        {"checkout": 0.4, "footer": 0.2, "store": 0.15, "popup": 0.2, "import": 0.05},
        ns,
    )
    src = np.where(
        ~blk.col("in_shop")[person] & (src == src_vals.index("checkout")),
        src_vals.index("footer"),
        src,
    )
    sub_ids = make_ids("subscriber", snums)
    blk.identity.append(
        identity.identity_truth("marketing.subscribers", pl.Series(sub_ids), blk.people, rec, obs)
    )
    blk.add(
        "marketing.subscribers",
        {
            "subscriber_id": sub_ids,
            "email_address": obs.email,
            "first_name": obs.first,
            "last_name": identity.null_where(obs.last, rng.random(ns) < 0.1),
            "zip": identity.null_where(obs.zip, rng.random(ns) < 0.15),
            "status": choice(statuses, st),
            "source": choice(src_vals, src),
            "subscribed_at": sub_us,
            "unsubscribed_at": masked(unsub_at, st == statuses.index("unsubscribed")),
            "updated_at": updated,
        },
    )
    blk.state["subscribers"] = {
        "person": person,
        "sub_us": sub_us,
        "is_dup": rec.is_duplicate,
        "snums": snums,
    }
