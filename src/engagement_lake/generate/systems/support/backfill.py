"""support, backfill: requesters, tickets, ticket messages, call transcripts and surveys.

Tickets are caused by what happened to the person: a return for a wrong size becomes a sizing
or return ticket, a faulty product a quality ticket, a late parcel a shipping ticket, and a customer
about to write a low review has often contacted support about it first; FitMap users ask FitMap
questions and every customer a general question now and then. Each ticket has a true
sentiment (mostly negative for problems) that its customer messages, its call transcript and its
satisfaction score agree with; survey scores and verbatims agree with each other too. Labels go to
``_truth/texts.parquet``. The rates are ``rules.PARAMS``; the rows come from ``rows``, the same
builders a daily load uses, asked here for everything before the as-of date.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate import identity, texts
from engagement_lake.generate.block import Block, allowed, choose_weighted, expand, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.systems.support import rows
from engagement_lake.generate.systems.support.rules import (
    HOUR,
    MINUTE,
    NEG,
    NEU,
    PARAMS,
    POS,
    T,
    keyed_uniform,
    n_agents,
    satisfaction,
)


def emit(blk: Block) -> None:
    ctx = blk.ctx
    rng = blk.rng("support")
    now = ctx.now_us
    profile = identity.profile("support.requesters", ctx.identity_noise)
    rec = identity.select_records(rng, blk.col("in_support"), profile.duplicate)
    nr = len(rec)
    rnums = ctx.take("requester", nr)
    primary = np.full(blk.n, -1, dtype=np.int64)
    primary[rec.person[~rec.is_duplicate]] = np.flatnonzero(~rec.is_duplicate)
    dup = np.full(blk.n, -1, dtype=np.int64)
    dup[rec.person[rec.is_duplicate]] = np.flatnonzero(rec.is_duplicate)
    has_req = primary >= 0
    blk.state["primary_requester"] = np.where(has_req, rnums[np.maximum(primary, 0)], -1)

    person, created, ttype, order_ref = _raised(blk, rng, has_req)
    n = len(person)
    req = np.where(
        (dup[person] >= 0) & (rng.random(n) < PARAMS.duplicate_requester_share),
        dup[person],
        primary[person],
    )
    o = blk.state["orders"]
    draw = rows.draw_tickets(rng, ctx, ttype)
    tnums = ctx.take("ticket", n)
    item_words = _item_words(blk, order_ref)
    frame, life = rows.ticket_version(
        ctx,
        tnums,
        rnums[req],
        make_ids(
            "order",
            o["num"][np.maximum(order_ref, 0)] if len(o["num"]) else np.zeros(n, np.int64),
            order_ref >= 0,
        ),
        ttype,
        draw,
        created,
        now - 1,
    )
    blk.add("support.tickets", frame)
    is_res = life.resolved < now
    blk.state["tickets"] = {
        "num": tnums,
        "person": person,
        "created": created,
        "type": ttype,
        "sentiment": draw.sentiment,
        "topic": draw.topic,
        "resolved": life.resolved,
        "is_res": is_res,
        "req": req,
    }
    msg = rows.messages(
        ctx, rng, tnums, draw.channel, created, draw.topic, draw.sentiment, item_words, 0, now - 1
    )
    if msg is not None:
        blk.add("support.ticket_messages", msg[0])
        blk.texts.append(msg[1])
        blk.state["messages"] = msg[2]
    _calls(blk, rng, tnums, draw, created, item_words, rnums[req], life.agent, rnums)
    _surveys(blk, rng, tnums, rnums[req], life, draw, item_words, primary, rnums)
    _requesters(blk, rng, rec, profile, rnums, req, created)


def _raised(
    blk: Block, rng: np.random.Generator, has_req: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(person, opened at, ticket type, order index or -1) of every ticket, in time order."""
    ctx = blk.ctx
    now = ctx.now_us
    P = PARAMS
    o, r = blk.state["orders"], blk.state["returns"]
    ttypes = allowed(ctx, "support.tickets", "ticket_type")
    TT = {t: ttypes.index(t) for t in ttypes}
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    # returns -> sizing / return / quality tickets
    reasons = allowed(ctx, "shop.returns", "reason")
    r_person = o["person"][r["order"]]
    fit_reason = np.isin(r["reason"], [reasons.index(x) for x in FIT_REASONS])
    qual_reason = np.isin(r["reason"], [reasons.index(x) for x in QUALITY_REASONS])
    pick_fit = has_req[r_person] & fit_reason & (rng.random(len(r_person)) < P.fit_return_ticket)
    pick_q = has_req[r_person] & qual_reason & (rng.random(len(r_person)) < P.quality_return_ticket)
    sel = np.flatnonzero(pick_fit | pick_q)
    parts.append(
        (
            r_person[sel],
            np.maximum(
                r["us"][sel] - return_lead(rng, len(sel)),
                o["delivered_us"][r["order"][sel]] + HOUR,
            ),
            return_ticket_type(rng, fit_reason[sel], TT),
            r["order"][sel],
        )
    )
    # low reviews -> a ticket about the same problem shortly before
    rv = blk.state["reviews"]
    low = has_req[rv["person"]] & (rv["rating"] <= P.low_review_rating)
    li = np.flatnonzero(low & (rng.random(len(low)) < P.low_review_ticket))
    parts.append(
        (
            rv["person"][li],
            rv["ts"][li] - review_lead(rng, len(li)),
            review_ticket_type(np.asarray(texts.TOPICS)[rv["topic"][li]], TT),
            rv["order"][li],
        )
    )
    # late parcels
    late_us = late_parcel_at(ctx.seed, o["num"], o["us"])
    late = has_req[o["person"]] & ~o["is_store"] & ~o["cancelled"] & (late_us > 0)
    li = np.flatnonzero(late)
    parts.append((o["person"][li], late_us[li], np.full(len(li), TT["Shipping Delay"]), li))
    # FitMap questions and general inquiries, at a rate per day while a customer
    req_people = np.flatnonzero(has_req)
    lo = np.maximum(
        (blk.col("first_purchase_day")[req_people] - P.window_before_first_purchase_days)
        * US_PER_DAY,
        ctx.cal.start_us,
    )
    hi = np.maximum(
        np.minimum(
            blk.state["active_until"][req_people] + P.window_after_last_activity_days * US_PER_DAY,
            now,
        ),
        lo + HOUR,
    )
    exposure = ctx.cal.cumulative(hi) - ctx.cal.cumulative(lo)  # seasonal "effective days"
    fm_rate = np.where(blk.col("fitmap_user")[req_people], P.fitmap_per_day, 0.0)
    for rate, t in ((fm_rate, TT["FitMap Question"]), (P.general_per_day, TT["General Inquiry"])):
        ow, _ = expand(rng.poisson(rate * exposure))
        parts.append(
            (req_people[ow], ctx.cal.sample(rng, lo[ow], hi[ow]), np.full(len(ow), t), -1 + 0 * ow)
        )
    person = np.concatenate([x[0] for x in parts])
    created = np.concatenate([x[1] for x in parts])
    ttype = np.concatenate([x[2] for x in parts])
    order_ref = np.concatenate([x[3] for x in parts])
    keep = created < now - MINUTE
    srt = np.flatnonzero(keep)[np.argsort(created[keep], kind="stable")]
    return person[srt], created[srt], ttype[srt], order_ref[srt]


FIT_REASONS = ("too_small", "too_large", "poor_fit")
QUALITY_REASONS = ("quality", "not_as_described")


def return_lead(rng: np.random.Generator, n: int) -> np.ndarray:
    """How long before the return itself its ticket is opened."""
    return (rng.uniform(0, PARAMS.return_ticket_lead_days, n) * US_PER_DAY).astype(np.int64)


def return_ticket_type(rng: np.random.Generator, fit: np.ndarray, TT: dict[str, int]) -> np.ndarray:
    """Fit returns raise sizing questions or return requests; the others quality complaints."""
    sizing = rng.random(len(fit)) < PARAMS.fit_return_sizing_share
    return np.where(
        fit, np.where(sizing, TT["Sizing Issue"], TT["Return Request"]), TT["Product Quality"]
    )


def review_lead(rng: np.random.Generator, n: int) -> np.ndarray:
    """How long before a low review its complaint ticket is opened (a review comes a day or more
    after delivery, so the ticket is never opened before the parcel arrived)."""
    return (rng.uniform(0, PARAMS.low_review_lead_days, n) * US_PER_DAY).astype(np.int64)


def review_ticket_type(topic: np.ndarray, TT: dict[str, int]) -> np.ndarray:
    """The ticket type of a complaint about a review's topic (topic names)."""
    kinds = PARAMS.review_topic_ticket_types
    return np.asarray([TT[kinds[t]] for t in topic], dtype=np.int64)


def late_parcel_at(seed: int, order_num: np.ndarray, order_us: np.ndarray) -> np.ndarray:
    """When a late parcel's ticket is opened (0 for orders that arrive on time), keyed by the
    order number so a daily load finds the same late parcels among the orders in bronze."""
    late = keyed_uniform(seed, "support.late_parcel", order_num) < PARAMS.late_parcel_share
    lo, hi = PARAMS.late_parcel_days
    after = lo + keyed_uniform(seed, "support.late_parcel_at", order_num) * (hi - lo)
    return np.where(late, np.asarray(order_us) + (after * US_PER_DAY).astype(np.int64), 0)


def _item_words(blk: Block, order_ref: np.ndarray) -> pl.Series:
    """A product word per ticket (from the order's first line) for the message templates."""
    it = blk.state["items"]
    cats = blk.world.products["category"].to_numpy()
    first_line = np.full(len(blk.state["orders"]["num"]), -1)
    if len(it["order"]):
        first_line[it["order"][::-1]] = np.arange(len(it["order"]))[::-1]
    line = (
        np.where(order_ref >= 0, first_line[np.maximum(order_ref, 0)], -1)
        if len(first_line)
        else np.full(len(order_ref), -1)
    )
    cat = np.where(
        line >= 0, cats[it["product"][np.maximum(line, 0)]] if len(it["product"]) else "", ""
    )
    return pl.Series(cat).replace_strict(texts.ITEM_WORDS, default="order")


def _calls(
    blk: Block,
    rng: np.random.Generator,
    tnums: np.ndarray,
    draw: rows.TicketDraw,
    created: np.ndarray,
    item_words: pl.Series,
    req_of_ticket: np.ndarray,
    agent: np.ndarray,
    rnums: np.ndarray,
) -> None:
    """Calls on phone tickets, and a few calls about no ticket at all."""
    ctx = blk.ctx
    now = ctx.now_us
    tix, start = rows.phone_calls(ctx, tnums, draw.channel, created, 0, now - 1)
    n_extra = int(
        rng.poisson(PARAMS.calls_without_ticket_per_requester_day * len(rnums) * ctx.cal.n_days)
    )
    extra_req = rng.integers(0, max(len(rnums), 1), n_extra)
    extra_start = ctx.cal.sample(rng, np.full(n_extra, ctx.cal.start_us), np.full(n_extra, now))
    has_ticket = np.r_[np.ones(len(tix), bool), np.zeros(n_extra, bool)]
    t_idx = np.r_[tix, np.zeros(n_extra, np.int64)]
    start = np.r_[start, extra_start]
    tp = np.r_[draw.topic[tix], np.full(n_extra, T["service"])]
    se = np.r_[draw.sentiment[tix], choose_weighted(rng, [0.3, 0.5, 0.2], n_extra)]
    words = pl.concat([item_words.gather(tix), pl.Series(["order"] * n_extra, dtype=pl.String)])
    keep = start < now - 1
    srt = np.flatnonzero(keep)[np.argsort(start[keep], kind="stable")]
    has_ticket, t_idx, start, tp, se = (x[srt] for x in (has_ticket, t_idx, start, tp, se))
    n = len(start)
    extra_caller = np.r_[np.zeros(len(tix), np.int64), extra_req][srt]
    requester = np.where(
        has_ticket,
        req_of_ticket[t_idx] if len(tnums) else 0,
        rnums[extra_caller] if len(rnums) else 0,
    )
    frame, truth = rows.call_rows(
        ctx,
        rng,
        tnums[t_idx] if len(tnums) else np.zeros(n, np.int64),
        has_ticket,
        requester,
        np.where(
            has_ticket,
            agent[t_idx] if len(agent) else 1,
            rng.integers(1, n_agents(ctx.scale) + 1, n),
        ),
        tp,
        se,
        words.gather(srt),
        start,
    )
    blk.add("support.call_transcripts", frame)
    blk.texts.append(truth)
    blk.state["calls"] = {"ids": frame["call_id"], "ts": start}


def _surveys(
    blk: Block,
    rng: np.random.Generator,
    tnums: np.ndarray,
    req_of_ticket: np.ndarray,
    life: rows.Lifecycle,
    draw: rows.TicketDraw,
    item_words: pl.Series,
    primary: np.ndarray,
    rnums: np.ndarray,
) -> None:
    """CSAT / CES after resolved tickets (the rows a daily load makes too) and NPS answers of
    people who contacted support: promoters unless their orders went wrong."""
    ctx = blk.ctx
    now = ctx.now_us
    stypes = allowed(ctx, "support.surveys", "survey_type")
    t_idx, is_csat, t_resp = rows.ticket_surveys(ctx, tnums, life.resolved, 0, now - 1)
    sentiment, topic = draw.sentiment, draw.topic
    t_score = rows.survey_scores(
        rng,
        is_csat,
        satisfaction(sentiment, life.u_score)[t_idx],
        life.answered[t_idx],
        sentiment[t_idx],
    )
    reqp = np.flatnonzero(primary >= 0)
    nps_p = reqp[rng.random(len(reqp)) < PARAMS.nps_share]
    fit_returns = np.zeros(blk.n)
    r = blk.state["returns"]
    np.add.at(fit_returns, blk.state["orders"]["person"][r["order"]], (r["fit"] != 0).astype(float))
    pneg = np.clip(0.15 + 0.25 * fit_returns[nps_p], 0, 0.85)
    u = rng.random(len(nps_p))
    nps_sent = np.where(u < pneg, NEG, np.where(u < pneg + 0.3, NEU, POS))
    nps_topic = np.where(
        fit_returns[nps_p] > 0,
        T["sizing"],
        rng.choice(
            np.array([T["quality"], T["service"], T["price"], T["fitmap"], T["shipping"]]),
            len(nps_p),
        ),
    )
    nps_topic = np.where(
        (nps_topic == T["fitmap"]) & ~blk.col("fitmap_user")[nps_p], T["service"], nps_topic
    )
    nps_score = np.where(
        nps_sent == POS,
        rng.integers(9, 11, len(nps_p)),
        np.where(nps_sent == NEU, rng.integers(7, 9, len(nps_p)), rng.integers(0, 7, len(nps_p))),
    )
    k = len(t_idx)
    s_type = np.r_[
        np.where(is_csat, stypes.index("CSAT"), stypes.index("CES")),
        np.full(len(nps_p), stypes.index("NPS")),
    ]
    score = np.r_[t_score, nps_score]
    sent = np.r_[sentiment[t_idx], nps_sent]
    tp = np.r_[topic[t_idx], nps_topic]
    has_t = np.r_[np.ones(k, bool), np.zeros(len(nps_p), bool)]
    t_all = np.r_[t_idx, np.zeros(len(nps_p), np.int64)]
    resp = np.r_[
        t_resp,
        ctx.cal.sample(rng, np.full(len(nps_p), ctx.cal.start_us), np.full(len(nps_p), now)),
    ]
    requester = np.r_[
        req_of_ticket[t_idx],
        rnums[primary[nps_p]] if len(nps_p) else np.zeros(0, np.int64),
    ]
    words = pl.concat(
        [item_words.gather(t_idx), pl.Series(["order"] * len(nps_p), dtype=pl.String)]
    )
    keep = resp < now - 1
    srt = np.flatnonzero(keep)[np.argsort(resp[keep], kind="stable")]
    s_type, score, sent, tp, has_t, t_all, resp, requester = (
        x[srt] for x in (s_type, score, sent, tp, has_t, t_all, resp, requester)
    )
    words = words.gather(srt)
    m = len(srt)
    with_text = rng.random(m) < np.where(
        s_type == stypes.index("NPS"), PARAMS.nps_text_share, PARAMS.survey_text_share
    )
    verb = texts.verbatim(rng, tp, sent, words)
    ids = make_ids("survey", ctx.take("survey", m))
    blk.add(
        "support.surveys",
        {
            "survey_response_id": ids,
            "requester_id": requester,
            "ticket_id": masked(tnums[t_all] if len(tnums) else np.zeros(m, np.int64), has_t),
            "survey_type": choice(stypes, s_type),
            "score": score,
            "verbatim": identity.null_where(verb, ~with_text),
            "responded_at": resp,
        },
    )
    w = np.flatnonzero(with_text)
    blk.texts.append(texts.truth("survey", pl.Series(ids).gather(w), tp[w], sent[w], resp[w]))
    blk.state["surveys"] = {"ids": ids, "ts": resp, "with_text": with_text}


def _requesters(
    blk: Block,
    rng: np.random.Generator,
    rec: identity.Records,
    profile: identity.NoiseProfile,
    rnums: np.ndarray,
    req: np.ndarray,
    created: np.ndarray,
) -> None:
    """Requester records, observed with the support system's noise."""
    ctx = blk.ctx
    now = ctx.now_us
    nr = len(rnums)
    first_ticket = np.full(nr, np.iinfo(np.int64).max)
    np.minimum.at(first_ticket, req, created)
    last_upd = np.zeros(nr, np.int64)
    np.maximum.at(last_upd, req, created)
    no_ticket = first_ticket == np.iinfo(np.int64).max
    rand_created = ctx.cal.sample(rng, np.full(nr, ctx.cal.start_us), np.full(nr, now))
    r_created = np.where(
        no_ticket, rand_created, first_ticket - rng.integers(MINUTE, 30 * MINUTE, nr)
    )
    r_updated = np.minimum(
        np.maximum(r_created, last_upd) + rng.integers(MINUTE, 5 * US_PER_DAY, nr), now - 1
    )
    obs = identity.observe(rng, blk.people, rec, profile, need_contact=True)
    # one name field: "First Last", "Last, First" or (with an e-mail) the first name alone
    lf, fo = profile.last_first, profile.first_only
    style = choose_weighted(rng, [1.0 - lf - fo, lf, fo], nr)
    has_first = obs.first.is_not_null().to_numpy()
    last_first = (style == 1) & has_first
    first_only = (style == 2) & has_first & obs.has_email
    full = pl.concat_str([obs.first, pl.lit(" "), obs.last], ignore_nulls=True)
    name = pl.select(
        pl.when(pl.Series(last_first))
        .then(pl.concat_str([obs.last, pl.lit(", "), obs.first]))
        .when(pl.Series(first_only))
        .then(obs.first)
        .otherwise(full)
    ).to_series()
    obs.mark("last_first", last_first)
    obs.mark("first_only", first_only)
    cust = blk.state["primary_cust"][rec.person]
    ext = (cust >= 0) & (rng.random(nr) < 0.4)
    blk.identity.append(
        identity.identity_truth("support.requesters", pl.Series(rnums), blk.people, rec, obs)
    )
    blk.add(
        "support.requesters",
        {
            "requester_id": rnums,
            "name": name,
            "email": obs.email,
            "phone": obs.phone,
            "external_id": make_ids("customer", np.maximum(cust, 0), ext),
            "created_at": r_created,
            "updated_at": r_updated,
        },
    )
