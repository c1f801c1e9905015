"""marketing: subscribers, e-mail events per campaign send, and journey touchpoints.

Open and click rates rise with the loyalty tier (Platinum members open about 2.5x as often as
non-members) and with the person's engagement; a conversion is only recorded when the person
really ordered within a week of the click, with that order's id and revenue. Unsubscribes and
bounces happen on the subscriber's last send, so statuses and events agree.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate import identity
from engagement_lake.generate.block import (
    Block,
    allowed,
    enum_draw,
    expand,
    make_ids,
    next_event,
)
from engagement_lake.generate.columns import US_PER_DAY, choice, masked

HOUR = 3600 * 1_000_000
MINUTE = 60 * 1_000_000
OPEN_BY_TIER = (0.15, 0.23, 0.31, 0.40)  # Bronze, Silver, Gold, Platinum (loyalty members)
OPEN_NON_MEMBER = 0.13
CLICK_GIVEN_OPEN = 0.2


def engagement_truth() -> dict[str, object]:
    return {
        "open_rate_by_tier": dict(
            zip(("Bronze", "Silver", "Gold", "Platinum"), OPEN_BY_TIER, strict=True)
        ),
        "open_rate_non_member": OPEN_NON_MEMBER,
        "click_given_open": CLICK_GIVEN_OPEN,
        "note": "rates are scaled by (0.6 + 0.8 x engagement) per person and x0.6 after "
        "the customer dropped out",
    }


def emit(blk: Block) -> None:
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

    # ------------------------------------------------------------ sends (one pass per campaign)
    camp = blk.world.campaigns
    tier = blk.state["person_tier"][person]
    member = blk.state.get("primary_member", np.full(blk.n, -1))[person] >= 0
    fitmap = blk.col("fitmap_user")[person]
    last_buy = blk.col("last_purchase_us")[person]
    send_sub, send_camp, send_us = [], [], []
    seg_names = camp["audience_segment"].to_list()
    for c in range(len(camp)):  # a few hundred campaigns, each vectorised over subscribers
        t = int(camp["send_day"][c]) * US_PER_DAY + int(9 * HOUR + (c * 7919 % 600) * MINUTE)
        active = (sub_us <= t) & (end_us > t)
        seg = seg_names[c]
        share = float(camp["audience_share"][c])
        full = 0.9 * float(camp["share_factor"][c])  # "everyone in the segment", scaled
        if seg == "Gold & Platinum":
            elig, share = active & member & (tier >= 2), full
        elif seg == "FitMap Users":
            elig, share = active & fitmap, min(1.0, share * 4)
        elif seg == "Lapsed 90 Days":
            elig, share = (
                active & (last_buy > 0) & (last_buy < t - 90 * US_PER_DAY),
                min(1.0, share * 3),
            )
        elif seg == "New Subscribers":
            elig, share = active & (sub_us > t - 60 * US_PER_DAY), full
        elif seg == "Recent Buyers":
            elig, share = (
                active & (last_buy > t - 30 * US_PER_DAY) & (last_buy <= t),
                min(1.0, share * 3),
            )
        else:
            elig = active
        chosen = np.flatnonzero(elig & (rng.random(ns) < share))
        send_sub.append(chosen)
        send_camp.append(np.full(len(chosen), c))
        send_us.append(np.full(len(chosen), t) + rng.integers(0, 30 * MINUTE, len(chosen)))
    s_sub = np.concatenate(send_sub) if send_sub else np.zeros(0, np.int64)
    s_camp = np.concatenate(send_camp) if send_camp else np.zeros(0, np.int64)
    s_us = np.concatenate(send_us) if send_us else np.zeros(0, np.int64)
    order = np.lexsort((s_us, s_sub))
    s_sub, s_camp, s_us = s_sub[order], s_camp[order], s_us[order]
    k = len(s_sub)
    last_send = np.r_[s_sub[1:] != s_sub[:-1], True] if k else np.zeros(0, bool)

    # ------------------------------------------------------------ events per send
    sp = person[s_sub]
    eng = blk.col("engagement")[sp]
    alive_then = ~(
        (blk.col("last_purchase_us")[sp] > 0)
        & ~blk.col("alive")[sp]
        & (s_us > blk.col("last_purchase_us")[sp])
    )
    p_open = np.where(member[s_sub], np.asarray(OPEN_BY_TIER)[tier[s_sub]], OPEN_NON_MEMBER)
    p_open = p_open * (0.6 + 0.8 * eng) * np.where(alive_then, 1.0, 0.6)
    bounced_sub = st == statuses.index("bounced")
    bounce = (rng.random(k) < 0.015) | (bounced_sub[s_sub] & last_send)
    delivered = ~bounce
    opened = delivered & (rng.random(k) < p_open)
    clicked = opened & (rng.random(k) < CLICK_GIVEN_OPEN * (0.7 + 0.6 * eng))
    open_us = s_us + (rng.lognormal(np.log(3.0), 1.2, k) * HOUR).astype(np.int64)
    click_us = open_us + rng.integers(10 * 10**6, 20 * MINUTE, k)
    o = blk.state["orders"]
    nxt = next_event(o["person"], o["us"], sp, click_us, 7 * US_PER_DAY)
    converted = clicked & (nxt >= 0) & (rng.random(k) < 0.55)
    blk.state["sends"] = {"person": sp, "us": s_us, "opened": opened}
    unsub_st = st == statuses.index("unsubscribed")
    unsub = unsub_st[s_sub] & last_send & delivered
    unsub_us = np.where(opened, open_us, s_us + HOUR) + rng.integers(MINUTE, HOUR, k)
    ev_types = allowed(ctx, "marketing.email_events", "event_type")
    E = {e: ev_types.index(e) for e in ev_types}
    groups = [
        (np.ones(k, bool), E["sent"], s_us),
        (delivered, E["delivered"], s_us + rng.integers(10**6, 2 * MINUTE, k)),
        (bounce, E["bounce"], s_us + rng.integers(10**6, 5 * MINUTE, k)),
        (opened, E["open"], open_us),
        (clicked, E["click"], click_us),
        (
            converted,
            E["convert"],
            np.maximum(
                o["us"][np.maximum(nxt, 0)] if len(o["us"]) else click_us, click_us + MINUTE
            ),
        ),
        (unsub, E["unsubscribe"], unsub_us),
    ]
    ev_send = np.concatenate([np.flatnonzero(g[0]) for g in groups])
    ev_type = np.concatenate([np.full(int(g[0].sum()), g[1]) for g in groups])
    ev_us = np.concatenate([g[2][g[0]] for g in groups])
    keep = ev_us < now - 1
    ev_send, ev_type, ev_us = ev_send[keep], ev_type[keep], ev_us[keep]
    srt = np.lexsort((ev_type, ev_us))
    ev_send, ev_type, ev_us = ev_send[srt], ev_type[srt], ev_us[srt]
    ne = len(ev_send)
    is_conv = ev_type == E["convert"]
    conv_order = np.where(is_conv, nxt[ev_send], -1)
    links = np.asarray(
        [
            "https://www.dxl.example.com/new-arrivals",
            "https://www.dxl.example.com/sale",
            "https://www.dxl.example.com/fitmap",
            "https://www.dxl.example.com/account/rewards",
            "https://www.dxl.example.com/survey",
        ],
        dtype=object,
    )
    link_idx = np.minimum(camp["type_idx"].to_numpy()[s_camp[ev_send]], len(links) - 1)
    sub_ids = make_ids("subscriber", snums)
    blk.add(
        "marketing.email_events",
        {
            "event_id": make_ids("email_event", ctx.take("email_event", ne)),
            "subscriber_id": sub_ids.take(s_sub[ev_send]),
            "campaign_id": camp["campaign_id"].to_arrow().take(s_camp[ev_send]),
            "event_type": choice(ev_types, ev_type),
            "event_ts": ev_us,
            "link_url": choice(list(links), link_idx, ev_type == E["click"]),
            "revenue": np.where(
                is_conv,
                o["total_c"][np.maximum(conv_order, 0)] / 100.0 if len(o["us"]) else 0.0,
                np.nan,
            ),
            "order_id": make_ids(
                "order",
                o["num"][np.maximum(conv_order, 0)] if len(o["num"]) else np.zeros(ne, np.int64),
                conv_order >= 0,
            ),
        },
    )

    # ------------------------------------------------------------ subscribers table
    last_unsub = np.full(ns, -1, dtype=np.int64)
    u_idx = np.flatnonzero(unsub)
    last_unsub[s_sub[u_idx]] = unsub_us[u_idx]
    unsub_at = np.where(last_unsub >= 0, last_unsub, leave_us)
    unsub_at = np.minimum(unsub_at, now - 1)
    last_event = np.zeros(ns, np.int64)
    if ne:
        np.maximum.at(last_event, s_sub[ev_send], ev_us)
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
    blk.state["subscribers"] = {"person": person, "sub_us": sub_us, "is_dup": rec.is_duplicate}
    _journeys(blk, rng, snums, person, sub_us, rec.is_duplicate)


def _journeys(
    blk: Block,
    rng: np.random.Generator,
    snums: np.ndarray,
    sperson: np.ndarray,
    sub_us: np.ndarray,
    is_dup: np.ndarray,
) -> None:
    ctx = blk.ctx
    now = ctx.now_us
    fqn = "marketing.journey_events"
    names = allowed(ctx, fqn, "journey_name")
    tps = allowed(ctx, fqn, "touchpoint")
    J = {j: names.index(j) for j in names}
    P = {t: tps.index(t) for t in tps}
    o = blk.state["orders"]
    sub_of = np.full(blk.n, -1)
    sub_of[sperson[~is_dup]] = np.flatnonzero(~is_dup)
    rows: list[
        tuple[np.ndarray, ...]
    ] = []  # person, journey, stage index, touchpoint, us, conv, value

    def add(
        person: np.ndarray,
        journey: int,
        stages: list[tuple[str, int, int]],
        start: np.ndarray,
        conv_value: np.ndarray | None = None,
    ) -> None:
        for k, (stage, tp, offset) in enumerate(stages):
            last = k == len(stages) - 1
            value = (
                conv_value if (last and conv_value is not None) else np.full(len(person), np.nan)
            )
            rows.append(
                (
                    person,
                    np.full(len(person), journey),
                    np.full(len(person), STAGES.index(stage)),
                    np.full(len(person), tp),
                    start + offset,
                    ~np.isnan(value),
                    value,
                )
            )

    # Welcome: every subscriber
    ws = np.flatnonzero(~is_dup)
    wp = sperson[ws]
    nxt = next_event(o["person"], o["us"], wp, sub_us[ws], 14 * US_PER_DAY)
    value = np.where(
        nxt >= 0, o["total_c"][np.maximum(nxt, 0)] / 100.0 if len(o["us"]) else 0.0, np.nan
    )
    add(
        wp,
        J["Welcome"],
        [
            ("entered", P["email"], 0),
            ("email_1", P["email"], US_PER_DAY),
            ("completed", P["email"], 7 * US_PER_DAY),
        ],
        sub_us[ws],
        value,
    )
    # Post purchase: a share of subscribers' orders
    po = np.flatnonzero(
        (sub_of[o["person"]] >= 0) & ~o["cancelled"] & (rng.random(len(o["num"])) < 0.15)
    )
    add(
        o["person"][po],
        J["Post Purchase"],
        [("entered", P["email"], HOUR), ("review_request", P["sms"], 7 * US_PER_DAY)],
        o["us"][po],
    )
    # Abandoned cart: sessions with a cart and no order
    se = blk.state["sessions"]
    ac = np.flatnonzero(se["cart"] & ~se["converted"] & (se["person"] >= 0))
    ac = ac[(sub_of[se["person"][ac]] >= 0) & (rng.random(len(ac)) < 0.3)]
    ap = se["person"][ac]
    nxt = next_event(o["person"], o["us"], ap, se["start"][ac] + HOUR, 3 * US_PER_DAY)
    value = np.where(
        nxt >= 0, o["total_c"][np.maximum(nxt, 0)] / 100.0 if len(o["us"]) else 0.0, np.nan
    )
    retarget = np.where(rng.random(len(ac)) < 0.3, P["paid_social"], P["email"])
    add(
        ap,
        J["Abandoned Cart"],
        [("entered", P["direct"], 30 * MINUTE), ("reminder_1", P["email"], 4 * HOUR)],
        se["start"][ac],
        None,
    )
    rows.append(
        (
            ap,
            np.full(len(ap), J["Abandoned Cart"]),
            np.full(len(ap), STAGES.index("exited")),
            retarget,
            se["start"][ac] + 26 * HOUR,
            ~np.isnan(value),
            value,
        )
    )
    # Win back: customers who dropped out
    dead = np.flatnonzero(~blk.col("alive") & (blk.col("last_purchase_us") > 0) & (sub_of >= 0))
    wb_us = blk.col("last_purchase_us")[dead] + 120 * US_PER_DAY
    add(
        dead,
        J["Win Back"],
        [("entered", P["email"], 0), ("offer_sent", P["paid_search"], 3 * US_PER_DAY)],
        wb_us,
    )
    # FitMap onboarding after the first scan
    sc = blk.state["scans"]
    first = (
        np.r_[True, sc["person"][1:] != sc["person"][:-1]]
        if len(sc["person"])
        else np.zeros(0, bool)
    )
    fp, fus = sc["person"][first], sc["us"][first]
    ok = sub_of[fp] >= 0
    add(
        fp[ok],
        J["FitMap Onboarding"],
        [("entered", P["store"], HOUR), ("tips_sent", P["email"], 2 * US_PER_DAY)],
        fus[ok],
    )
    # Birthday greetings for a share of subscribers
    bp = np.flatnonzero((sub_of >= 0) & (rng.random(blk.n) < 0.3))
    bd = blk.col("birth_day")[bp].astype("datetime64[D]")
    years = np.arange(ctx.as_of.year - 3, ctx.as_of.year + 1)
    owner, rank = expand(np.full(len(bp), len(years)))
    md = bd[owner] - bd[owner].astype("datetime64[Y]")
    day = (years[rank] - 1970).astype("datetime64[Y]").astype("datetime64[D]") + md
    us = day.astype(np.int64) * US_PER_DAY + 8 * HOUR
    add(bp[owner], J["Birthday"], [("sent", P["email"], 0)], us)

    person = np.concatenate([r[0] for r in rows])
    journey = np.concatenate([r[1] for r in rows])
    stage = np.concatenate([r[2] for r in rows])
    tp = np.concatenate([r[3] for r in rows])
    us = np.concatenate([r[4] for r in rows])
    conv = np.concatenate([r[5] for r in rows])
    val = np.concatenate([r[6] for r in rows])
    keep = (us < now - 1) & (us >= ctx.cal.start_us)
    srt = np.flatnonzero(keep)[np.argsort(us[keep], kind="stable")]
    person, journey, stage, tp, us, conv, val = (
        x[srt] for x in (person, journey, stage, tp, us, conv, val)
    )
    n = len(person)
    sub = sub_of[person]
    cust = blk.state["primary_cust"][person]
    camp = blk.world.campaigns
    ci = np.searchsorted(camp["send_day"].to_numpy() * US_PER_DAY, us, side="right") - 1
    blk.add(
        fqn,
        {
            "journey_event_id": make_ids("journey_event", ctx.take("journey_event", n)),
            "subscriber_id": make_ids(
                "subscriber",
                snums[np.maximum(sub, 0)] if len(snums) else np.zeros(n, np.int64),
                sub >= 0,
            ),
            "customer_ref": make_ids("customer", np.maximum(cust, 0), cust >= 0),
            "journey_name": choice(names, journey),
            "touchpoint": choice(tps, tp),
            "stage": choice(STAGES, stage),
            "event_ts": us,
            "campaign_id": choice(
                camp["campaign_id"].to_list(),
                np.maximum(ci, 0),
                (ci >= 0) & (tp == P["email"]) & (rng.random(n) < 0.3),
            ),
            "is_conversion": conv,
            "conversion_value": val,
        },
    )


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
