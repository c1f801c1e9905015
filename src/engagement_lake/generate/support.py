"""support: requesters, tickets, ticket messages, call transcripts and surveys.

Tickets are caused by what happened to the person: a return for a wrong size becomes a sizing
or return ticket, a faulty product a quality ticket, a late parcel a shipping ticket; FitMap users
ask FitMap questions. Each ticket has a true sentiment (mostly negative for problems) that its
customer messages, its call transcript and its satisfaction score agree with; survey scores and
verbatims agree with each other too. Labels go to ``_truth/texts.parquet``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate import identity, texts
from engagement_lake.generate.block import Block, allowed, choose_weighted, expand, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked

HOUR = 3600 * 1_000_000
MINUTE = 60 * 1_000_000
T = {t: i for i, t in enumerate(texts.TOPICS)}
POS, NEU, NEG = 0, 1, 2

# ticket type -> (topic index, sentiment weights pos/neu/neg)
TICKET_TYPES = {
    "Sizing Issue": (T["sizing"], (0.05, 0.30, 0.65)),
    "Return Request": (T["returns"], (0.10, 0.45, 0.45)),
    "Product Quality": (T["quality"], (0.03, 0.27, 0.70)),
    "Shipping Delay": (T["shipping"], (0.03, 0.32, 0.65)),
    "FitMap Question": (T["fitmap"], (0.25, 0.60, 0.15)),
    "General Inquiry": (T["service"], (0.20, 0.60, 0.20)),
}
SUBJECTS = {
    "Sizing Issue": "Question about sizing",
    "Return Request": "Return / exchange request",
    "Product Quality": "Problem with product quality",
    "Shipping Delay": "Where is my order?",
    "FitMap Question": "FitMap scan question",
    "General Inquiry": "General question",
}


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

    o, r = blk.state["orders"], blk.state["returns"]
    ttypes = allowed(ctx, "support.tickets", "ticket_type")
    TT = {t: ttypes.index(t) for t in ttypes}
    reasons = allowed(ctx, "shop.returns", "reason")
    parts: list[
        tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    ] = []  # person, us, type, order
    # returns -> sizing / return / quality tickets
    r_person = o["person"][r["order"]]
    fit_reason = np.isin(
        r["reason"], [reasons.index(x) for x in ("too_small", "too_large", "poor_fit")]
    )
    qual_reason = np.isin(r["reason"], [reasons.index(x) for x in ("quality", "not_as_described")])
    pick_fit = has_req[r_person] & fit_reason & (rng.random(len(r_person)) < 0.35)
    pick_q = has_req[r_person] & qual_reason & (rng.random(len(r_person)) < 0.45)
    sel = np.flatnonzero(pick_fit | pick_q)
    typ = np.where(
        fit_reason[sel],
        np.where(rng.random(len(sel)) < 0.6, TT["Sizing Issue"], TT["Return Request"]),
        TT["Product Quality"],
    )
    lead = (rng.uniform(0, 3, len(sel)) * US_PER_DAY).astype(np.int64)
    us = np.maximum(r["us"][sel] - lead, o["delivered_us"][r["order"][sel]] + HOUR)
    parts.append((r_person[sel], us, typ, r["order"][sel]))
    # late parcels
    late = (
        has_req[o["person"]] & ~o["is_store"] & ~o["cancelled"] & (rng.random(len(o["num"])) < 0.03)
    )
    li = np.flatnonzero(late)
    parts.append(
        (
            o["person"][li],
            o["us"][li] + (rng.uniform(5, 9, len(li)) * US_PER_DAY).astype(np.int64),
            np.full(len(li), TT["Shipping Delay"]),
            li,
        )
    )
    # FitMap questions and general inquiries
    req_people = np.flatnonzero(has_req)
    fm = rng.poisson(np.where(blk.col("fitmap_user")[req_people], 0.3, 0.0))
    gi = rng.poisson(0.35, len(req_people))
    for cnt, t in ((fm, TT["FitMap Question"]), (gi, TT["General Inquiry"])):
        ow, _ = expand(cnt)
        p = req_people[ow]
        lo = np.maximum(
            blk.col("first_purchase_day")[p] * US_PER_DAY - 30 * US_PER_DAY, ctx.cal.start_us
        )
        hi = np.maximum(np.minimum(blk.state["active_until"][p] + 60 * US_PER_DAY, now), lo + HOUR)
        parts.append((p, ctx.cal.sample(rng, lo, hi), np.full(len(p), t), np.full(len(p), -1)))
    person = np.concatenate([x[0] for x in parts])
    created = np.concatenate([x[1] for x in parts])
    ttype = np.concatenate([x[2] for x in parts])
    order_ref = np.concatenate([x[3] for x in parts])
    # every requester has contacted support at least once
    missing = req_people[np.bincount(person, minlength=blk.n)[req_people] == 0]
    lo = np.full(len(missing), ctx.cal.start_us)
    person = np.r_[person, missing]
    created = np.r_[created, ctx.cal.sample(rng, lo, np.full(len(missing), now))]
    ttype = np.r_[ttype, np.full(len(missing), TT["General Inquiry"])]
    order_ref = np.r_[order_ref, np.full(len(missing), -1)]
    keep = created < now - MINUTE
    person, created, ttype, order_ref = person[keep], created[keep], ttype[keep], order_ref[keep]
    srt = np.argsort(created, kind="stable")
    person, created, ttype, order_ref = person[srt], created[srt], ttype[srt], order_ref[srt]
    n = len(person)
    req = np.where((dup[person] >= 0) & (rng.random(n) < 0.3), dup[person], primary[person])

    type_names = np.asarray(ttypes)
    topic = np.asarray([TICKET_TYPES[t][0] for t in ttypes])[ttype]
    sw = np.asarray([TICKET_TYPES[t][1] for t in ttypes])[ttype]
    u = rng.random(n)
    sentiment = np.where(u < sw[:, 0], POS, np.where(u < sw[:, 0] + sw[:, 1], NEU, NEG))
    gi_price = (ttype == TT["General Inquiry"]) & (rng.random(n) < 0.3)
    topic = np.where(gi_price, T["price"], topic)
    channels = allowed(ctx, "support.tickets", "channel")
    ch = choose_weighted(
        rng,
        [{"Phone": 0.3, "Email": 0.35, "Chat": 0.28, "In-Store": 0.07}.get(c, 0) for c in channels],
        n,
    )
    priorities = allowed(ctx, "support.tickets", "priority")
    pr = choose_weighted(
        rng,
        [{"Low": 0.3, "Medium": 0.45, "High": 0.2, "Urgent": 0.05}.get(p, 0) for p in priorities],
        n,
    )
    pr = np.where((sentiment == NEG) & (rng.random(n) < 0.3), priorities.index("High"), pr)
    hours = rng.lognormal(np.log(16.0), 1.0, n) * np.where(
        pr == priorities.index("Urgent"), 0.4, 1.0
    )
    resolved = created + (hours * HOUR).astype(np.int64)
    is_res = resolved < now
    statuses = allowed(ctx, "support.tickets", "status")
    st = np.where(
        is_res,
        np.where(
            resolved < now - 3 * US_PER_DAY, statuses.index("Closed"), statuses.index("Resolved")
        ),
        np.where(rng.random(n) < 0.6, statuses.index("In Progress"), statuses.index("Open")),
    )
    answered = is_res & (rng.random(n) < 0.55)
    csat = np.where(
        sentiment == POS,
        rng.integers(4, 6, n),
        np.where(sentiment == NEU, rng.integers(3, 5, n), rng.integers(1, 3, n)),
    )
    n_agents = int(np.clip(round(150 * ctx.scale), 10, 500))
    agent = rng.integers(1, n_agents + 1, n)
    in_prog = st == statuses.index("In Progress")
    updated = np.where(
        is_res,
        resolved,
        np.where(in_prog, created + (rng.random(n) * (now - created)).astype(np.int64), created),
    )
    updated = np.minimum(updated + rng.integers(0, 10 * MINUTE, n), now - 1)
    tnums = ctx.take("ticket", n)
    item_words = _item_words(blk, order_ref)
    blk.add(
        "support.tickets",
        {
            "ticket_id": tnums,
            "requester_id": rnums[req],
            "order_id": make_ids(
                "order",
                o["num"][np.maximum(order_ref, 0)] if len(o["num"]) else np.zeros(n, np.int64),
                order_ref >= 0,
            ),
            "ticket_type": choice(ttypes, ttype),
            "channel": choice(channels, ch),
            "status": choice(statuses, st),
            "priority": choice(priorities, pr),
            "subject": np.asarray([SUBJECTS.get(t, t) for t in type_names], dtype=object)[ttype],
            "agent_id": masked(agent, ~((st == statuses.index("Open")) & (rng.random(n) < 0.7))),
            "satisfaction_score": masked(csat, answered),
            "created_at": created,
            "resolved_at": masked(resolved, is_res),
            "updated_at": np.maximum(updated, created),
        },
    )
    blk.state["tickets"] = {
        "num": tnums,
        "person": person,
        "created": created,
        "type": ttype,
        "sentiment": sentiment,
        "topic": topic,
        "resolved": resolved,
        "is_res": is_res,
        "req": req,
    }

    _messages(blk, rng, tnums, ch, channels, created, topic, sentiment, item_words)
    _calls(
        blk,
        rng,
        tnums,
        ch,
        channels,
        created,
        topic,
        sentiment,
        item_words,
        rnums[req],
        agent,
        rnums,
        rec,
    )
    _surveys(
        blk,
        rng,
        tnums,
        rnums[req],
        resolved,
        is_res,
        answered,
        csat,
        topic,
        sentiment,
        item_words,
        person,
        primary,
        rnums,
    )

    # requesters, observed with the support system's noise
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


def _messages(
    blk: Block,
    rng: np.random.Generator,
    tnums: np.ndarray,
    ch: np.ndarray,
    channels: tuple[str, ...],
    created: np.ndarray,
    topic: np.ndarray,
    sentiment: np.ndarray,
    item_words: pl.Series,
) -> None:
    ctx = blk.ctx
    now = ctx.now_us
    n = len(tnums)
    is_chat = ch == channels.index("Chat")
    is_mail = ch == channels.index("Email")
    follow_up = ~(is_chat | is_mail) & (rng.random(n) < 0.3)
    cnt = np.where(
        is_chat | is_mail,
        2 + rng.poisson(1.2, n),
        np.where(follow_up, 1 + rng.integers(0, 2, n), 0),
    )
    cnt = np.minimum(cnt, 8)
    bot_first = is_chat & (rng.random(n) < 0.5)
    cnt = cnt + bot_first
    owner, rank = expand(cnt)
    m = len(owner)
    authors = allowed(ctx, "support.ticket_messages", "author_type")
    k = rank - bot_first[owner]
    author = np.where(
        k < 0,
        authors.index("bot"),
        np.where(k % 2 == 0, authors.index("customer"), authors.index("agent")),
    )
    gap = np.where(
        is_chat[owner], rng.integers(MINUTE, 6 * MINUTE, m), rng.integers(HOUR, 20 * HOUR, m)
    )
    gap = np.where(rank == 0, rng.integers(0, 2 * MINUTE, m), gap)
    from engagement_lake.generate.block import group_cumsum

    ts = created[owner] + group_cumsum(gap, owner)
    keep = ts < now - 1
    owner, rank, author, ts = owner[keep], rank[keep], author[keep], ts[keep]
    m = len(owner)
    is_cust = author == authors.index("customer")
    is_bot = author == authors.index("bot")
    body_c = texts.customer_message(rng, topic[owner], sentiment[owner], item_words.gather(owner))
    body_a = texts.agent_message(rng, m)
    body_b = texts.bot_message(rng, m)
    body = pl.select(
        pl.when(pl.Series(is_cust))
        .then(body_c)
        .when(pl.Series(is_bot))
        .then(body_b)
        .otherwise(body_a)
    ).to_series()
    mnums = ctx.take("message", m)
    msg_channels = allowed(ctx, "support.ticket_messages", "channel")
    mch = np.where(is_chat[owner], msg_channels.index("Chat"), msg_channels.index("Email"))
    blk.add(
        "support.ticket_messages",
        {
            "message_id": mnums,
            "ticket_id": tnums[owner],
            "author_type": choice(authors, author),
            "channel": choice(msg_channels, mch),
            "body": body,
            "created_at": ts,
        },
    )
    t_sent = np.where(is_cust, sentiment[owner], NEU)
    t_topic = np.where(is_cust, topic[owner], T["service"])
    blk.texts.append(texts.truth("ticket_message", pl.Series(mnums), t_topic, t_sent, ts))
    blk.state["messages"] = {"num": mnums, "ts": ts, "customer": is_cust, "ticket": owner}


def _calls(
    blk: Block,
    rng: np.random.Generator,
    tnums: np.ndarray,
    ch: np.ndarray,
    channels: tuple[str, ...],
    created: np.ndarray,
    topic: np.ndarray,
    sentiment: np.ndarray,
    item_words: pl.Series,
    req_of_ticket: np.ndarray,
    agent: np.ndarray,
    rnums: np.ndarray,
    rec: identity.Records,
) -> None:
    ctx = blk.ctx
    now = ctx.now_us
    phone = np.flatnonzero(ch == channels.index("Phone"))
    second = phone[rng.random(len(phone)) < 0.15]
    tix = np.r_[phone, second]
    start = np.r_[created[phone], created[second] + rng.integers(HOUR, 3 * US_PER_DAY, len(second))]
    n_extra = int(0.05 * len(rnums))
    extra_req = rng.integers(0, max(len(rnums), 1), n_extra)
    extra_start = ctx.cal.sample(rng, np.full(n_extra, ctx.cal.start_us), np.full(n_extra, now))
    n = len(tix) + n_extra
    has_ticket = np.r_[np.ones(len(tix), bool), np.zeros(n_extra, bool)]
    t_idx = np.r_[tix, np.zeros(n_extra, np.int64)]
    start = np.r_[start, extra_start]
    e_sent = choose_weighted(rng, [0.3, 0.5, 0.2], n_extra)
    tp = np.r_[topic[tix], np.full(n_extra, T["service"])]
    se = np.r_[sentiment[tix], e_sent]
    words = pl.concat([item_words.gather(tix), pl.Series(["order"] * n_extra)])
    keep = start < now - 1
    srt = np.argsort(np.where(keep, start, np.iinfo(np.int64).max), kind="stable")[
        : int(keep.sum())
    ]
    has_ticket, t_idx, start, tp, se = (x[srt] for x in (has_ticket, t_idx, start, tp, se))
    words = words.gather(srt)
    requester = np.where(
        has_ticket,
        req_of_ticket[t_idx],
        rnums[np.r_[np.zeros(len(tix), np.int64), extra_req][srt]] if len(rnums) else 0,
    )
    n = len(start)
    n_agents = int(np.clip(round(150 * ctx.scale), 10, 500))
    ids = make_ids("call", ctx.take("call", n))
    blk.add(
        "support.call_transcripts",
        {
            "call_id": ids,
            "ticket_id": masked(tnums[t_idx] if len(tnums) else np.zeros(n, np.int64), has_ticket),
            "requester_id": masked(requester, rng.random(n) > 0.03),
            "agent_id": np.where(
                has_ticket, agent[t_idx] if len(agent) else 1, rng.integers(1, n_agents + 1, n)
            ),
            "transcript": texts.transcript(rng, tp, se, words),
            "duration_seconds": np.clip(rng.lognormal(np.log(420), 0.7, n), 30, 14_400).astype(
                np.int64
            ),
            "call_start": start,
        },
    )
    blk.texts.append(texts.truth("call_transcript", pl.Series(ids), tp, se, start))
    blk.state["calls"] = {"ids": ids, "ts": start}


def _surveys(
    blk: Block,
    rng: np.random.Generator,
    tnums: np.ndarray,
    req_of_ticket: np.ndarray,
    resolved: np.ndarray,
    is_res: np.ndarray,
    answered: np.ndarray,
    csat: np.ndarray,
    topic: np.ndarray,
    sentiment: np.ndarray,
    item_words: pl.Series,
    person: np.ndarray,
    primary: np.ndarray,
    rnums: np.ndarray,
) -> None:
    ctx = blk.ctx
    now = ctx.now_us
    stypes = allowed(ctx, "support.surveys", "survey_type")
    n = len(tnums)
    # CSAT after resolved tickets: same score as the ticket's satisfaction when both exist
    cs = np.flatnonzero(is_res & (rng.random(n) < 0.45))
    ces = np.flatnonzero(is_res & (rng.random(n) < 0.1))
    # NPS from people who contacted support: promoters unless their orders went wrong
    reqp = np.flatnonzero(primary >= 0)
    nps_p = reqp[rng.random(len(reqp)) < 0.3]
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
    cs_score = np.where(
        answered[cs],
        csat[cs],
        np.where(
            sentiment[cs] == POS,
            rng.integers(4, 6, len(cs)),
            np.where(sentiment[cs] == NEU, 3, rng.integers(1, 3, len(cs))),
        ),
    )
    ces_score = np.where(
        sentiment[ces] == POS,
        rng.integers(6, 8, len(ces)),
        np.where(sentiment[ces] == NEU, rng.integers(4, 6, len(ces)), rng.integers(1, 4, len(ces))),
    )
    s_type = np.r_[
        np.full(len(cs), stypes.index("CSAT")),
        np.full(len(ces), stypes.index("CES")),
        np.full(len(nps_p), stypes.index("NPS")),
    ]
    score = np.r_[cs_score, ces_score, nps_score]
    sent = np.r_[sentiment[cs], sentiment[ces], nps_sent]
    tp = np.r_[topic[cs], topic[ces], nps_topic]
    has_t = np.r_[np.ones(len(cs) + len(ces), bool), np.zeros(len(nps_p), bool)]
    t_idx = np.r_[cs, ces, np.zeros(len(nps_p), np.int64)]
    lo = np.r_[resolved[cs], resolved[ces]]
    resp = np.r_[
        lo + rng.integers(HOUR, 3 * US_PER_DAY, len(lo)),
        ctx.cal.sample(rng, np.full(len(nps_p), ctx.cal.start_us), np.full(len(nps_p), now)),
    ]
    requester = np.r_[
        req_of_ticket[cs],
        req_of_ticket[ces],
        rnums[primary[nps_p]] if len(nps_p) else np.zeros(0, np.int64),
    ]
    words = pl.concat(
        [
            item_words.gather(cs),
            item_words.gather(ces),
            pl.Series(["order"] * len(nps_p), dtype=pl.String),
        ]
    )
    keep = resp < now - 1
    srt = np.flatnonzero(keep)[np.argsort(resp[keep], kind="stable")]
    s_type, score, sent, tp, has_t, t_idx, resp, requester = (
        x[srt] for x in (s_type, score, sent, tp, has_t, t_idx, resp, requester)
    )
    words = words.gather(srt)
    m = len(srt)
    with_text = rng.random(m) < np.where(s_type == stypes.index("NPS"), 0.45, 0.5)
    verb = texts.verbatim(rng, tp, sent, words)
    ids = make_ids("survey", ctx.take("survey", m))
    blk.add(
        "support.surveys",
        {
            "survey_response_id": ids,
            "requester_id": requester,
            "ticket_id": masked(tnums[t_idx] if n else np.zeros(m, np.int64), has_t),
            "survey_type": choice(stypes, s_type),
            "score": score,
            "verbatim": identity.null_where(verb, ~with_text),
            "responded_at": resp,
        },
    )
    w = np.flatnonzero(with_text)
    blk.texts.append(texts.truth("survey", pl.Series(ids).gather(w), tp[w], sent[w], resp[w]))
    blk.state["surveys"] = {"ids": ids, "ts": resp, "with_text": with_text}
