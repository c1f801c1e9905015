"""marketing in a daily load: the day's campaign, triggered e-mails, late opens and clicks,
e-mail-driven orders, unsubscribes and the journeys' stages that fall on the day.

Same model and parameters as the backfill (``email``, ``journeys``): a send's outcome is a hash
of the send, so the sends of the last LOOKBACK_DAYS are recomputed and their opens and clicks
that fall today land today (unless an earlier load already landed one), and journeys gather
the triggers of the last days and emit the stages dated today.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from engagement_lake.generate import identity
from engagement_lake.generate.block import allowed, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice
from engagement_lake.generate.daily import HOUR, MINUTE, Day, idx_of_people
from engagement_lake.generate.pipeline import campaign_frame
from engagement_lake.generate.systems.marketing import campaigns, email, journeys
from engagement_lake.generate.systems.marketing.email import Sends
from engagement_lake.generate.systems.shop import sessions


def _num(s: pl.Series) -> np.ndarray:
    """The number inside an id (``SUB00000123`` -> 123)."""
    return s.cast(pl.String).str.extract(r"(\d+)$").cast(pl.Int64).fill_null(-1).to_numpy()


def _person_of(d: Day, system: str, ids: pl.Series) -> np.ndarray:
    """Person id of each source record id of ``system`` (-1 unknown)."""
    m = d.ident.filter(pl.col("source_system") == system).unique("source_id", keep="first")
    got = pl.DataFrame({"source_id": ids.cast(pl.String)}).join(
        m.select(pl.col("source_id").cast(pl.String), "person_id"),
        on="source_id",
        how="left",
        maintain_order="left",
    )["person_id"]
    return got.fill_null(-1).to_numpy()


def _campaigns(d: Day, today: pl.DataFrame | None) -> pl.DataFrame:
    """Every campaign known today: number, id, type, type index, send day."""
    cols = ["campaign_num", "campaign_id", "campaign_type", "type_idx", "send_day"]
    frames = [d.w.campaigns.select(cols)]
    late = d.bronze.latest("marketing.campaigns", columns="campaign_id, campaign_type, send_date")
    if len(late):
        late = late.with_columns(
            campaign_num=pl.Series(_num(late["campaign_id"])),
            type_idx=pl.col("campaign_type").replace_strict(
                {t: i for i, t in enumerate(campaigns.CAMPAIGN_TYPES)},
                default=0,
                return_dtype=pl.Int64,
            ),
            send_day=pl.col("send_date").cast(pl.Date).cast(pl.Int32).cast(pl.Int64),
        )
        frames.append(late.select(cols))
    if today is not None:
        frames.append(today.select(cols))
    out = pl.concat([f.cast(frames[0].schema) for f in frames])
    return out.unique("campaign_num", keep="first").sort("campaign_num")


def _subscribers(d: Day) -> pl.DataFrame:
    """Subscribed records now: subscriber id and number, person id, subscribed at (us)."""
    subs = d.bronze.latest(
        "marketing.subscribers", "status = 'subscribed'", "subscriber_id, subscribed_at"
    )
    frames = [subs] if len(subs) else []
    for fr in d.tables.get("marketing.subscribers", []):
        frames.append(
            pl.DataFrame(
                {
                    "subscriber_id": pl.Series(fr["subscriber_id"]).cast(pl.String),
                    "subscribed_at": pl.Series(np.asarray(fr["subscribed_at"])).cast(
                        pl.Datetime("us")
                    ),
                }
            )
        )
    if not frames:
        return pl.DataFrame()
    out = pl.concat(
        [f.select("subscriber_id", pl.col("subscribed_at").cast(pl.Datetime("us"))) for f in frames]
    )
    out = out.unique("subscriber_id", keep="last", maintain_order=True)
    return out.with_columns(
        sub=pl.Series(_num(out["subscriber_id"])),
        person_id=pl.Series(_person_of(d, "marketing.subscribers", out["subscriber_id"])),
        sub_us=pl.col("subscribed_at").cast(pl.Int64),
    ).filter(pl.col("person_id") >= 0)


def _people(d: Day, person_id: np.ndarray) -> dict[str, np.ndarray]:
    idx = idx_of_people(d, person_id)
    pe = d.people
    return {
        "idx": idx,
        "engagement": pe["engagement"].to_numpy()[idx],
        "tier": sessions.people_tier(d, idx),
        "fitmap": pe["fitmap_user"].to_numpy()[idx],
        "last_buy": pe["last_purchase_us"].to_numpy()[idx],
        "alive": pe["alive"].to_numpy()[idx],
    }


def new_subscribers(d: Day, rng: np.random.Generator, p: pl.DataFrame) -> None:
    """Today's new people ``p`` who opt in to e-mail at checkout: a subscriber record each, with
    its identity truth."""
    ctx = d.ctx
    sub = np.flatnonzero(p["in_marketing"].to_numpy())
    if len(sub):
        srec = identity.Records(sub, np.zeros(len(sub), bool))
        sobs = identity.observe(
            rng, p, srec, identity.profile("marketing.subscribers", d.ctx.identity_noise)
        )
        snums = ctx.take("subscriber", len(sub))
        sids = make_ids("subscriber", snums)
        statuses = allowed(ctx, "marketing.subscribers", "status")
        sources = allowed(ctx, "marketing.subscribers", "source")
        sus = d.start_us + rng.integers(10 * HOUR, 22 * HOUR, len(sub))
        d.add(
            "marketing.subscribers",
            {
                "subscriber_id": sids,
                "email_address": sobs.email,
                "first_name": sobs.first,
                "last_name": sobs.last,
                "zip": sobs.zip,
                "status": choice(statuses, np.full(len(sub), statuses.index("subscribed"))),
                "source": choice(sources, np.full(len(sub), sources.index("checkout"))),
                "subscribed_at": sus,
                "unsubscribed_at": None,
                "updated_at": sus,
            },
        )
        si = identity.identity_truth("marketing.subscribers", pl.Series(sids), p, srec, sobs)
        d.new_identity.append(si)
        d.ident = pl.concat([d.ident, si.cast(d.ident.schema)])


def daily(d: Day) -> None:
    """One day of e-mail and journeys; runs after ``sessions.draft_day`` (and the day's
    orders and scans), before ``sessions.daily`` writes the sessions."""
    ctx = d.ctx
    rng = d.rng("marketing")
    lo, hi = d.start_us, d.end_us
    subs = _subscribers(d)
    ev_types = allowed(ctx, "marketing.email_events", "event_type")
    E = {e: ev_types.index(e) for e in ev_types}
    # ------------------------------------------------------------ today's campaign
    new_camp = None
    parts: list[Sends] = []
    if d.day % 7 == campaigns.CAMPAIGN_WEEKDAY:
        new_camp = campaigns.make_campaigns(
            ctx, n=1, day_lo=d.day, day_hi=d.day, stream="day.campaign"
        )
        d.add("marketing.campaigns", campaign_frame(new_camp))
        if new_camp["campaign_type"][0] != email.TRIGGER_TYPE and len(subs):
            num = int(new_camp["campaign_num"][0])
            t = email.broadcast_us(d.day, num)
            ppl = _people(d, subs["person_id"].to_numpy())
            sub_us = subs["sub_us"].to_numpy()
            chosen = np.flatnonzero(
                email.audience(
                    str(new_camp["audience_segment"][0]),
                    float(new_camp["audience_share"][0]),
                    t,
                    sub_us <= t,
                    ppl["tier"],
                    ppl["fitmap"],
                    ppl["last_buy"],
                    sub_us,
                    rng.random(len(subs)),
                )
            )
            k = len(chosen)
            parts.append(
                Sends(
                    subs["person_id"].to_numpy()[chosen],
                    subs["sub"].to_numpy()[chosen],
                    np.full(k, num),
                    t + rng.integers(0, 30 * MINUTE, k),
                    np.zeros(k, bool),
                )
            )
    camps = _campaigns(d, new_camp)
    # ------------------------------------------------------------ abandoned carts
    carts = _abandoned_carts(d, camps, subs)
    sub_of = d.primary("marketing.subscribers")
    today_ac = carts.filter((pl.col("send_us") >= lo) & (pl.col("send_us") < hi))
    ac_sub = today_ac.select("person_id").join(
        sub_of, on="person_id", how="left", maintain_order="left"
    )
    parts.append(
        Sends(
            today_ac["person_id"].to_numpy(),
            _num(ac_sub["source_id"]),
            today_ac["campaign"].to_numpy(),
            today_ac["send_us"].to_numpy(),
            np.ones(len(today_ac), bool),
        )
    )
    n_today = sum(len(p) for p in parts)
    # ------------------------------------------------------------ earlier sends, recomputed
    since = lo - email.LOOKBACK_DAYS * US_PER_DAY
    recent = d.bronze.query(f"""
        SELECT DISTINCT subscriber_id, campaign_id, epoch_us(event_ts) AS us
        FROM {d.bronze.scan("marketing.email_events")}
        WHERE event_type = 'sent' AND event_ts >= make_timestamp({since})
          AND event_ts < make_timestamp({lo}) AND subscriber_id IS NOT NULL
        ORDER BY subscriber_id, campaign_id, us""")
    landed = d.bronze.query(f"""
        SELECT DISTINCT subscriber_id, campaign_id, event_type
        FROM {d.bronze.scan("marketing.email_events")}
        WHERE event_type IN ('open', 'click')
          AND event_ts >= make_timestamp({since})""")
    if len(recent):
        rc = _num(recent["campaign_id"])
        trig = np.isin(
            rc,
            camps.filter(pl.col("campaign_type") == email.TRIGGER_TYPE)["campaign_num"].to_numpy(),
        )
        parts.append(
            Sends(
                _person_of(d, "marketing.subscribers", recent["subscriber_id"]),
                _num(recent["subscriber_id"]),
                rc,
                recent["us"].to_numpy(),
                trig,
            )
        )
    is_today = np.r_[np.ones(n_today, bool), np.zeros(len(recent), bool)]
    s = Sends.concat(parts) if parts else None
    dr: sessions.Draft = d.session_draft
    if s is not None and len(s):
        ok = s.person >= 0
        s, is_today = s.take(np.flatnonzero(ok)), is_today[ok]
        srt = np.lexsort((s.us, s.person))
        s, is_today = s.take(srt), is_today[srt]
        ppl = _people(d, s.person)
        lapsed = (ppl["last_buy"] > 0) & ~ppl["alive"] & (s.us > ppl["last_buy"])
        email.outcomes(
            s, email.open_propensity(ppl["tier"], ppl["engagement"], lapsed), ppl["engagement"]
        )
        had_open = _landed(landed, "open", s)
        had_click = _landed(landed, "click", s)
        s.clicked |= had_click
        s.click_us = np.where(had_click, 0, s.click_us)
        # today's order sessions that came from an e-mail
        conv = np.flatnonzero(dr.converted & (dr.person >= 0))
        cp = _people(d, dr.person[conv])
        sess, sends_i = email.drive(
            s, dr.person[conv], dr.start[conv], dr.order[conv], cp["engagement"], rng
        )
        src_email = allowed(ctx, "shop.web_sessions", "traffic_source").index("email")
        dr.source[conv[sess]] = src_email
        dr.campaign[conv[sess]] = np.asarray(
            make_ids("campaign", s.campaign[sends_i]).to_pylist(), object
        )

        def in_day(us: np.ndarray) -> np.ndarray:
            return (us >= lo) & (us < hi)

        delivered_us = email.delivered_us(s)
        nat = np.flatnonzero(s.clicked & ~had_click & (s.order < 0) & in_day(s.click_us))
        d.session_draft = sessions.add_click_sessions(
            ctx,
            rng,
            dr,
            s.person[nat],
            s.click_us[nat],
            np.asarray(make_ids("campaign", s.campaign[nat]).to_pylist(), object),
        )
        to = d.today_orders
        conv_us = to["us"][np.maximum(s.order, 0)] if to is not None else s.click_us
        groups = [
            (is_today & (s.us < hi), E["sent"], s.us),
            (is_today & s.delivered & (delivered_us < hi), E["delivered"], delivered_us),
            (is_today & ~s.delivered & (delivered_us < hi), E["bounce"], delivered_us),
            (s.opened & ~had_open & in_day(s.open_us), E["open"], s.open_us),
            (s.clicked & ~had_click & in_day(s.click_us), E["click"], s.click_us),
            (s.order >= 0, E["convert"], np.maximum(conv_us, s.click_us + MINUTE)),
        ]
        ev_send = np.concatenate([np.flatnonzero(g[0]) for g in groups])
        ev_type = np.concatenate([np.full(int(g[0].sum()), g[1]) for g in groups])
        ev_us = np.minimum(np.concatenate([g[2][g[0]] for g in groups]), hi - 1)
        conv_order = np.where(ev_type == E["convert"], s.order[ev_send], -1)
        has = conv_order >= 0
        oref = np.maximum(conv_order, 0)
        d.add(
            "marketing.email_events",
            email.event_columns(
                ctx,
                make_ids("subscriber", s.sub[ev_send]),
                s.campaign[ev_send],
                ev_type,
                ev_us,
                email.link_of(camps, s.campaign[ev_send]),
                np.where(has, to["total_c"][oref] / 100.0 if to is not None else 0.0, np.nan),
                pa.array(
                    np.where(
                        has,
                        np.asarray(to["ids"].to_pylist(), object)[oref] if to is not None else None,
                        None,
                    ).tolist(),
                    type=pa.string(),
                ),
            ),
        )
    _unsubscribes(d, rng)
    _journeys(d, carts)


def _landed(landed: pl.DataFrame, kind: str, s: Sends) -> np.ndarray:
    """Sends whose ``kind`` event an earlier load already landed (by subscriber and campaign)."""
    if not len(landed) or not len(s):
        return np.zeros(len(s), bool)
    got = landed.filter(pl.col("event_type") == kind)
    keys = _num(got["subscriber_id"]) * 1_000_000 + _num(got["campaign_id"])
    return np.isin(s.sub * 1_000_000 + s.campaign, keys)


def _abandoned_carts(d: Day, camps: pl.DataFrame, subs: pl.DataFrame) -> pl.DataFrame:
    """Reminded abandoned sessions of the last two days and today of people still subscribed
    (``subs``): person, session start and number, reminder time and template."""
    lo = d.start_us - 2 * US_PER_DAY
    prev = d.bronze.query(f"""
        SELECT session_id, customer_id, epoch_us(session_start) AS start
        FROM {d.bronze.scan("shop.web_sessions")}
        WHERE added_to_cart AND NOT converted AND traffic_source <> 'email'
          AND customer_id IS NOT NULL
          AND session_start >= make_timestamp({lo}) AND session_start < make_timestamp({d.start_us})
        ORDER BY session_id""").unique("session_id", keep="first", maintain_order=True)
    dr: sessions.Draft = d.session_draft
    ab = dr.abandoned()
    frame = pl.DataFrame(
        {
            "person_id": np.r_[
                _person_of(d, "shop.customers", prev["customer_id"])
                if len(prev)
                else np.zeros(0, np.int64),
                dr.person[ab],
            ].astype(np.int64),
            "session_start": np.r_[
                prev["start"].to_numpy() if len(prev) else np.zeros(0, np.int64), dr.start[ab]
            ].astype(np.int64),
            "session_num": np.r_[
                _num(prev["session_id"]) if len(prev) else np.zeros(0, np.int64), dr.nums[ab]
            ].astype(np.int64),
        }
    )
    if not len(subs):
        return frame.with_columns(send_us=pl.lit(0, pl.Int64), campaign=pl.lit(0, pl.Int64)).head(0)
    frame = frame.filter(pl.col("person_id").is_in(subs["person_id"].unique().implode()))
    num = frame["session_num"].to_numpy()
    send_us = frame["session_start"].to_numpy() + email.reminder_delay(num)
    tpl = email.template_at(camps, send_us)
    return frame.with_columns(send_us=pl.Series(send_us), campaign=pl.Series(tpl)).filter(
        pl.Series(email.reminded(num) & (tpl >= 0))
    )


def _unsubscribes(d: Day, rng: np.random.Generator) -> None:
    """A few subscribers leave today, on the last campaign they got."""
    subs = d.bronze.latest("marketing.subscribers", "status = 'subscribed'")
    if not len(subs):
        return
    unsub = subs.filter(pl.Series(rng.random(len(subs)) < email.UNSUBSCRIBE_PER_DAY))
    if unsub.is_empty():
        return
    u_us = d.start_us + rng.integers(8 * HOUR, 22 * HOUR, len(unsub))
    d.add(
        "marketing.subscribers",
        unsub.with_columns(
            status=pl.lit("unsubscribed"),
            unsubscribed_at=pl.Series(u_us).cast(pl.Datetime("us")),
            updated_at=pl.Series(u_us + MINUTE).cast(pl.Datetime("us")),
        ),
    )
    last_camp = d.bronze.query(f"""
        SELECT subscriber_id, max(campaign_id) AS campaign_id
        FROM {d.bronze.scan("marketing.email_events")}
        WHERE subscriber_id IN ({",".join(f"'{s}'" for s in unsub["subscriber_id"].to_list())})
        GROUP BY 1 ORDER BY 1""")
    if not len(last_camp):
        return
    ev_types = allowed(d.ctx, "marketing.email_events", "event_type")
    uu = dict(zip(unsub["subscriber_id"].to_list(), u_us.tolist(), strict=True))
    k = len(last_camp)
    d.add(
        "marketing.email_events",
        email.event_columns(
            d.ctx,
            last_camp["subscriber_id"],
            _num(last_camp["campaign_id"]),
            np.full(k, ev_types.index("unsubscribe")),
            np.asarray([uu[s] for s in last_camp["subscriber_id"].to_list()]),
            np.zeros(k, np.int64),
            np.full(k, np.nan),
            pa.nulls(k, pa.string()),
        ),
    )


def _journeys(d: Day, carts: pl.DataFrame) -> None:
    """The stages of every journey dated today, from the triggers of the last days."""
    ctx = d.ctx
    lo, hi = d.start_us, d.end_us
    since = lo - journeys.LOOKBACK_US
    sub_of = d.primary("marketing.subscribers")
    is_sub = sub_of["person_id"].to_numpy()
    trig: list[journeys.Triggers] = []
    # orders of the last days (bronze) and today's
    prev = d.bronze.query(f"""
        SELECT order_id, customer_id, epoch_us(order_ts) AS us, total_amount, status
        FROM {d.bronze.scan("shop.orders")}
        WHERE order_ts >= make_timestamp({since - journeys.LOOKBACK_US})
          AND order_ts < make_timestamp({lo})
        ORDER BY order_id, us""").unique("order_id", keep="last", maintain_order=True)
    to = d.today_orders
    o_person = np.r_[
        _person_of(d, "shop.customers", prev["customer_id"])
        if len(prev)
        else np.zeros(0, np.int64),
        to["person_id"] if to is not None else np.zeros(0, np.int64),
    ].astype(np.int64)
    o_us = np.r_[
        prev["us"].to_numpy() if len(prev) else np.zeros(0, np.int64),
        to["us"] if to is not None else np.zeros(0, np.int64),
    ].astype(np.int64)
    o_total = np.r_[
        prev["total_amount"].cast(pl.Float64).to_numpy() if len(prev) else np.zeros(0),
        to["total_c"] / 100.0 if to is not None else np.zeros(0),
    ]
    o_num = np.r_[
        _num(prev["order_id"]) if len(prev) else np.zeros(0, np.int64),
        to["num"] if to is not None else np.zeros(0, np.int64),
    ].astype(np.int64)
    o_ok = np.r_[
        (prev["status"] != "cancelled").to_numpy() if len(prev) else np.zeros(0, bool),
        np.ones(len(to["us"]) if to is not None else 0, bool),
    ]
    look = journeys.order_lookup(o_person, o_us, o_total)
    # welcome
    subs = _subscribers(d)
    if len(subs):
        primary = d.ident.filter(
            (pl.col("source_system") == "marketing.subscribers") & ~pl.col("is_duplicate")
        )["source_id"].cast(pl.String)
        w = subs.filter(
            pl.col("subscriber_id").is_in(primary.implode()) & (pl.col("sub_us") >= since)
        )
        trig.append(
            journeys.Triggers(
                "Welcome",
                w["person_id"].to_numpy(),
                w["sub_us"].to_numpy(),
                w["person_id"].to_numpy(),
            )
        )
    # post purchase
    po = np.flatnonzero(
        o_ok
        & (o_us >= since)
        & np.isin(o_person, is_sub)
        & (email.unit_hash(21, o_num) < journeys.POST_PURCHASE_SHARE)
    )
    trig.append(journeys.Triggers("Post Purchase", o_person[po], o_us[po], o_num[po]))
    # abandoned carts
    trig.append(
        journeys.Triggers(
            "Abandoned Cart",
            carts["person_id"].to_numpy(),
            carts["session_start"].to_numpy(),
            carts["session_num"].to_numpy(),
            carts["send_us"].to_numpy(),
            carts["campaign"].to_numpy(),
        )
    )
    # win back: silent since the last order
    pe = d.people
    pid = pe["person_id"].to_numpy()
    wb_us = pe["last_purchase_us"].to_numpy() + journeys.WIN_BACK_SILENCE_DAYS * US_PER_DAY
    wb = np.flatnonzero(
        (pe["last_purchase_us"].to_numpy() > 0)
        & (wb_us >= since)
        & (wb_us < hi)
        & np.isin(pid, is_sub)
    )
    trig.append(journeys.Triggers("Win Back", pid[wb], wb_us[wb], pid[wb]))
    # FitMap onboarding after a first scan
    fs = d.bronze.query(f"""
        SELECT customer_id, min(epoch_us(scan_ts)) AS us
        FROM {d.bronze.scan("fitmap.scans")} WHERE customer_id IS NOT NULL
        GROUP BY 1 ORDER BY 1""")
    earlier = set(_person_of(d, "shop.customers", fs["customer_id"]).tolist()) if len(fs) else set()
    f_person, f_us = [], []
    if len(fs):
        recent = fs.filter(pl.col("us") >= since)
        f_person.append(_person_of(d, "shop.customers", recent["customer_id"]))
        f_us.append(recent["us"].to_numpy())
    for fr in d.tables.get("fitmap.scans", []):
        p = _person_of(d, "shop.customers", pl.Series(fr["customer_id"]).cast(pl.String))
        us = np.asarray(fr["scan_ts"], dtype=np.int64)
        new = ~np.isin(p, list(earlier))
        f_person.append(p[new])
        f_us.append(us[new])
    if f_person:
        fp, fu = np.concatenate(f_person), np.concatenate(f_us)
        srt = np.lexsort((fu, fp))
        fp, fu = fp[srt], fu[srt]
        first = np.r_[True, fp[1:] != fp[:-1]] if len(fp) else np.zeros(0, bool)
        ok = first & np.isin(fp, is_sub)
        trig.append(journeys.Triggers("FitMap Onboarding", fp[ok], fu[ok], fp[ok]))
    # birthdays today
    day_year = int(np.datetime64(d.day, "D").astype("datetime64[Y]").astype(int) + 1970)
    bus = journeys.birthday_us(pe["birth_day"].to_numpy(), np.full(len(pid), day_year))
    bp = np.flatnonzero(
        (bus >= lo - US_PER_DAY)
        & (bus < hi)
        & np.isin(pid, is_sub)
        & (email.unit_hash(22, pid) < journeys.BIRTHDAY_SHARE)
    )
    trig.append(journeys.Triggers("Birthday", pid[bp], bus[bp], pid[bp] * 10_000 + day_year))
    rows = journeys.concat([journeys.stage_rows(ctx, t, lo, hi, look) for t in trig])
    if not len(rows.us):
        return
    people = pl.DataFrame({"person_id": rows.person})
    sub_ids = people.join(sub_of, on="person_id", how="left", maintain_order="left")["source_id"]
    cust = people.join(
        d.primary("shop.customers"), on="person_id", how="left", maintain_order="left"
    )["source_id"]
    d.add("marketing.journey_events", journeys.columns(ctx, rows, sub_ids, cust))
