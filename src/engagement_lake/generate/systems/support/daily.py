"""support, one daily load: the day's new tickets and what happened to the open ones.

Tickets are raised today the way the backfill raises them (``rules.PARAMS``): today's returns for
fit or quality, today's low reviews (the day's reviews are made before its tickets), late parcels
among the orders of the last days (the same orders the backfill would have found late, keyed by
order number), and general and FitMap questions at a rate per requester-day. Tickets already in
bronze move on when their planned life says so (first response, waiting on the customer,
resolved, closed): a new version with the new status. The messages, call-backs and surveys that
fall on the day are landed from the same plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from engagement_lake.generate import identity, texts
from engagement_lake.generate.block import allowed, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice
from engagement_lake.generate.context import Calendar
from engagement_lake.generate.daily import Day
from engagement_lake.generate.systems.support import rows
from engagement_lake.generate.systems.support.backfill import (
    FIT_REASONS,
    QUALITY_REASONS,
    late_parcel_at,
    return_lead,
    return_ticket_type,
    review_lead,
    review_ticket_type,
)
from engagement_lake.generate.systems.support.rules import (
    HOUR,
    NEU,
    PARAMS,
    Lifecycle,
    T,
    lifecycle,
    n_agents,
    satisfaction,
    type_topic_and_weights,
)


def daily(d: Day) -> None:
    ctx = d.ctx
    rng = d.rng("support")
    hi = d.end_us - 1  # the backfill landed everything before its own end - 1
    lo = hi - US_PER_DAY
    req_map = d.primary("support.requesters")
    person, created, ttype, order_id = _raised_today(d, rng, req_map)
    n = len(person)
    draw = rows.draw_tickets(rng, ctx, ttype)
    tnums = ctx.take("ticket", n)
    requester = (
        pl.DataFrame({"person_id": person})
        .join(req_map, on="person_id", how="left", maintain_order="left")["source_id"]
        .cast(pl.Int64)
        .to_numpy()
    )
    frame, life = rows.ticket_version(ctx, tnums, requester, order_id, ttype, draw, created, hi)
    if n:
        d.add("support.tickets", frame)
    new = _Tickets(tnums, requester, draw, created, life, pl.Series(["order"] * n, dtype=pl.String))
    old = _moved_on(d, hi)
    # the day's messages, calls and surveys, of new tickets (all so far) and older ones (today)
    for t, since in ((new, 0), (old, lo)):
        if t is None or not len(t.num):
            continue
        msg = rows.messages(
            ctx,
            rng,
            t.num,
            t.draw.channel,
            t.created,
            t.draw.topic,
            t.draw.sentiment,
            t.words,
            since,
            hi,
        )
        if msg is not None:
            d.add("support.ticket_messages", msg[0])
            d.new_texts.append(msg[1])
        _calls(d, rng, t, since, hi)
        _surveys(d, rng, t, since, hi)
    _calls_without_ticket(d, rng, req_map)


@dataclass(frozen=True)
class _Tickets:
    """Tickets a daily load works on: numbers, requesters, what they are about, their plan."""

    num: np.ndarray
    requester: np.ndarray
    draw: rows.TicketDraw
    created: np.ndarray
    life: Lifecycle
    words: pl.Series


def _raised_today(
    d: Day, rng: np.random.Generator, req_map: pl.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pa.Array]:
    """(person, opened at, ticket type, order id) of the tickets raised today."""
    ctx = d.ctx
    P = PARAMS
    ttypes = allowed(ctx, "support.tickets", "ticket_type")
    TT = {t: ttypes.index(t) for t in ttypes}
    has_req = set(req_map["person_id"].to_list())
    cust_person = (
        d.ident.filter(pl.col("source_system") == "shop.customers")
        .select(customer_id=pl.col("source_id"), person_id="person_id")
        .unique("customer_id", keep="first", maintain_order=True)
    )
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, list[str | None]]] = []
    # today's returns for fit or quality
    ret = _frames(d, "shop.returns", ["customer_id", "order_id", "reason", "return_ts"])
    if ret is not None and len(ret):
        ret = ret.join(cust_person, on="customer_id", how="left", maintain_order="left")
        ok = ret["person_id"].is_in(list(has_req)).fill_null(False).to_numpy()
        fit = ret["reason"].is_in(list(FIT_REASONS)).to_numpy()
        qual = ret["reason"].is_in(list(QUALITY_REASONS)).to_numpy()
        u = rng.random(len(ret))
        pick = ok & ((fit & (u < P.fit_return_ticket)) | (qual & (u < P.quality_return_ticket)))
        sel = np.flatnonzero(pick)
        us = ret["return_ts"].cast(pl.Datetime("us")).cast(pl.Int64).to_numpy()[sel]
        parts.append(
            (
                ret["person_id"].to_numpy()[sel],
                us - return_lead(rng, len(sel)),
                return_ticket_type(rng, fit[sel], TT),
                ret["order_id"].gather(sel).to_list(),
            )
        )
    # today's low reviews (not the earlier ones the review system re-lands once moderated)
    rv = _frames(
        d,
        "reviews.product_reviews",
        ["review_id", "customer_id", "order_id", "rating", "submitted_at"],
    )
    texts_today = [t.filter(pl.col("source_type") == "review") for t in d.new_texts]
    if rv is not None and len(rv) and texts_today:
        prev = Calendar.day_end_us(d.day - 1) - HOUR
        topics = pl.concat(texts_today, how="vertical_relaxed").select(
            review_id="source_id", topic="topic"
        )
        rv = (
            rv.with_columns(us=pl.col("submitted_at").cast(pl.Datetime("us")).cast(pl.Int64))
            .filter((pl.col("us") >= prev) & (pl.col("rating") <= P.low_review_rating))
            .join(topics, on="review_id", how="inner", maintain_order="left")
            .join(cust_person, on="customer_id", how="left", maintain_order="left")
        )
        ok = rv["person_id"].is_in(list(has_req)).fill_null(False).to_numpy()
        sel = np.flatnonzero(ok & (rng.random(len(rv)) < P.low_review_ticket))
        parts.append(
            (
                rv["person_id"].to_numpy()[sel],
                rv["us"].to_numpy()[sel] - review_lead(rng, len(sel)),
                review_ticket_type(rv["topic"].to_numpy()[sel], TT),
                rv["order_id"].gather(sel).to_list(),
            )
        )
    # late parcels among the orders of the last days
    hi_day = P.late_parcel_days[1]
    since = d.end_us - int((hi_day + 1) * US_PER_DAY)
    orders = d.bronze.latest(
        "shop.orders",
        f"epoch_us(order_ts) >= {since} AND channel <> 'store' AND status <> 'cancelled'",
        columns='"order_id", "customer_id", "order_ts"',
    )
    if len(orders):
        num = orders["order_id"].str.extract(r"(\d+)").cast(pl.Int64).to_numpy()
        at = late_parcel_at(ctx.seed, num, orders["order_ts"].cast(pl.Int64).to_numpy())
        today = (at >= d.end_us - 1 - US_PER_DAY) & (at < d.end_us - 1)
        o = orders.filter(pl.Series(today)).join(
            cust_person, on="customer_id", how="left", maintain_order="left"
        )
        o_at = at[today]
        ok = o["person_id"].is_in(list(has_req)).fill_null(False).to_numpy()
        parts.append(
            (
                o["person_id"].to_numpy()[ok],
                o_at[ok],
                np.full(int(ok.sum()), TT["Shipping Delay"]),
                o["order_id"].filter(pl.Series(ok)).to_list(),
            )
        )
    # general and FitMap questions of requesters who are customers now
    pe = d.people.join(req_map.select("person_id"), on="person_id", how="semi")
    alive = pe["alive"].to_numpy()
    until = np.where(alive, d.end_us, pe["last_purchase_us"].to_numpy())
    start = (pe["first_purchase_day"].to_numpy() - P.window_before_first_purchase_days) * US_PER_DAY
    window = (start <= d.end_us) & (
        until + P.window_after_last_activity_days * US_PER_DAY >= d.start_us
    )
    season = ctx.cal.intensity[d.day - ctx.cal.grid_lo]
    fm_rate = np.where(pe["fitmap_user"].to_numpy(), P.fitmap_per_day, 0.0)
    pid = pe["person_id"].to_numpy()
    for rate, t in ((fm_rate, TT["FitMap Question"]), (P.general_per_day, TT["General Inquiry"])):
        k = rng.poisson(np.where(window, rate * season, 0.0))
        who = np.repeat(pid, k)
        parts.append((who, d.times(rng, len(who)), np.full(len(who), t), [None] * len(who)))
    person = np.concatenate([x[0] for x in parts]).astype(np.int64)
    created = np.concatenate([x[1] for x in parts]).astype(np.int64)
    ttype = np.concatenate([x[2] for x in parts]).astype(np.int64)
    order_id = [v for x in parts for v in x[3]]
    srt = np.argsort(created, kind="stable")
    return person[srt], created[srt], ttype[srt], pa.array([order_id[i] for i in srt], pa.string())


def _frames(d: Day, fqn: str, columns: list[str]) -> pl.DataFrame | None:
    """Columns of what another system added today to ``fqn`` (None if nothing)."""
    frames = []
    for f in d.tables.get(fqn, []):
        cols = {}
        for c in columns:
            v = f[c]
            s = pl.Series(v) if not isinstance(v, pa.Array | pa.ChunkedArray) else pl.from_arrow(v)
            if isinstance(s.dtype, pl.Categorical | pl.Enum):
                s = s.cast(pl.String)
            cols[c] = s.alias(c)
        frames.append(pl.DataFrame(cols))
    return pl.concat(frames, how="vertical_relaxed") if frames else None


def _moved_on(d: Day, hi: int) -> _Tickets | None:
    """Tickets from earlier loads still open or recent: a new version for those whose status
    changed today; all of them for the day's messages, calls and surveys."""
    ctx = d.ctx
    horizon = hi - PARAMS.message_horizon_days * US_PER_DAY
    t = d.bronze.latest(
        "support.tickets", f"status <> 'Closed' OR epoch_us(created_at) >= {horizon}"
    )
    if t.is_empty():
        return None
    tid = t["ticket_id"].to_numpy()
    created = t["created_at"].cast(pl.Int64).to_numpy()
    life = lifecycle(ctx.seed, ctx.scale, tid, t["priority"].to_numpy(), created)
    statuses = allowed(ctx, "support.tickets", "status")
    status = np.asarray(statuses, dtype=object)[life.status(statuses, hi)]
    topic, sentiment = _known_texts(d, t)
    changed = status != t["status"].to_numpy()
    if changed.any():
        responded = life.first_response <= hi
        resolved = life.resolved <= hi
        csat = satisfaction(sentiment, life.u_score)
        ch = t.filter(pl.Series(changed))
        idx = np.flatnonzero(changed)
        d.add(
            "support.tickets",
            ch.with_columns(
                status=pl.Series(status[idx].astype(str)),
                agent_id=_nullable(life.agent[idx], responded[idx], pl.Int64),
                first_response_at=_nullable(
                    life.first_response[idx], responded[idx], pl.Datetime("us")
                ),
                resolved_at=_nullable(life.resolved[idx], resolved[idx], pl.Datetime("us")),
                satisfaction_score=_nullable(csat[idx], (resolved & life.answered)[idx], pl.Int64),
                updated_at=pl.Series(life.last_change(created, hi)[idx]).cast(pl.Datetime("us")),
            ),
        )
    channels = allowed(ctx, "support.tickets", "channel")
    chan = t["channel"].to_numpy()
    draw = rows.TicketDraw(
        topic=topic,
        sentiment=sentiment,
        channel=np.asarray([channels.index(c) for c in chan], dtype=np.int64),
        priority=np.zeros(len(t), np.int64),
    )
    return _Tickets(
        tid,
        t["requester_id"].to_numpy(),
        draw,
        created,
        life,
        pl.Series(["order"] * len(t), dtype=pl.String),
    )


def _nullable(values: np.ndarray, valid: np.ndarray, dtype: pl.DataType) -> pl.Series:
    v = pl.Series(np.asarray(values, dtype=np.int64)).cast(dtype)
    return pl.select(pl.when(pl.Series(valid)).then(v)).to_series()


def _known_texts(d: Day, t: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Topic and true sentiment of tickets from earlier loads, read back from the text truth
    of what their customer wrote or said (a ticket without any text: its type's topic,
    neutral)."""
    from engagement_lake.generate.pipeline import TRUTH_DIR

    ttypes = allowed(d.ctx, "support.tickets", "ticket_type")
    topic_of, _ = type_topic_and_weights(ttypes)
    topic = topic_of[[ttypes.index(x) for x in t["ticket_type"].to_list()]]
    sentiment = np.full(len(t), NEU)
    truth = d.data_dir / TRUTH_DIR / "texts.parquet"
    if not truth.exists():
        return topic, sentiment
    ids = ",".join(str(x) for x in t["ticket_id"].to_list())
    known = d.bronze.query(f"""
        WITH said AS (
            SELECT ticket_id, CAST(message_id AS VARCHAR) AS source_id,
                   'ticket_message' AS source_type
            FROM {d.bronze.scan("support.ticket_messages")}
            WHERE author_type = 'customer' AND ticket_id IN ({ids})
            UNION ALL
            SELECT ticket_id, call_id, 'call_transcript'
            FROM {d.bronze.scan("support.call_transcripts")}
            WHERE ticket_id IN ({ids})
        )
        SELECT said.ticket_id, any_value(x.topic) AS topic, any_value(x.sentiment) AS sentiment
        FROM said JOIN read_parquet('{truth}') x USING (source_type, source_id)
        GROUP BY 1 ORDER BY 1""")
    if known.is_empty():
        return topic, sentiment
    pos = np.searchsorted(t["ticket_id"].to_numpy(), known["ticket_id"].to_numpy())
    topic[pos] = [texts.TOPICS.index(x) for x in known["topic"].to_list()]
    sentiment[pos] = [texts.SENTIMENTS.index(x) for x in known["sentiment"].to_list()]
    return topic, sentiment


def _calls(d: Day, rng: np.random.Generator, t: _Tickets, lo: int, hi: int) -> None:
    tix, start = rows.phone_calls(d.ctx, t.num, t.draw.channel, t.created, lo, hi)
    if not len(tix):
        return
    srt = np.argsort(start, kind="stable")
    tix, start = tix[srt], start[srt]
    frame, truth = rows.call_rows(
        d.ctx,
        rng,
        t.num[tix],
        np.ones(len(tix), bool),
        t.requester[tix],
        t.life.agent[tix],
        t.draw.topic[tix],
        t.draw.sentiment[tix],
        t.words.gather(tix),
        start,
    )
    d.add("support.call_transcripts", frame)
    d.new_texts.append(truth)


def _calls_without_ticket(d: Day, rng: np.random.Generator, req_map: pl.DataFrame) -> None:
    n = int(rng.poisson(PARAMS.calls_without_ticket_per_requester_day * len(req_map)))
    if n == 0 or req_map.is_empty():
        return
    who = req_map["source_id"].cast(pl.Int64).to_numpy()[rng.integers(0, len(req_map), n)]
    start = np.sort(d.times(rng, n))
    sent = rng.choice(np.arange(3), n, p=[0.3, 0.5, 0.2])
    frame, truth = rows.call_rows(
        d.ctx,
        rng,
        np.zeros(n, np.int64),
        np.zeros(n, bool),
        who,
        rng.integers(1, n_agents(d.ctx.scale) + 1, n),
        np.full(n, T["service"]),
        sent,
        pl.Series(["order"] * n, dtype=pl.String),
        start,
    )
    d.add("support.call_transcripts", frame)
    d.new_texts.append(truth)


def _surveys(d: Day, rng: np.random.Generator, t: _Tickets, lo: int, hi: int) -> None:
    idx, is_csat, at = rows.ticket_surveys(d.ctx, t.num, t.life.resolved, lo, hi)
    m = len(idx)
    if m == 0:
        return
    srt = np.argsort(at, kind="stable")
    idx, is_csat, at = idx[srt], is_csat[srt], at[srt]
    sent = t.draw.sentiment[idx]
    score = rows.survey_scores(
        rng,
        is_csat,
        satisfaction(t.draw.sentiment, t.life.u_score)[idx],
        t.life.answered[idx],
        sent,
    )
    stypes = allowed(d.ctx, "support.surveys", "survey_type")
    with_text = rng.random(m) < PARAMS.survey_text_share
    tp = t.draw.topic[idx]
    verb = texts.verbatim(rng, tp, sent, t.words.gather(idx))
    ids = make_ids("survey", d.ctx.take("survey", m))
    d.add(
        "support.surveys",
        {
            "survey_response_id": ids,
            "requester_id": t.requester[idx],
            "ticket_id": t.num[idx],
            "survey_type": choice(
                stypes, np.where(is_csat, stypes.index("CSAT"), stypes.index("CES"))
            ),
            "score": score,
            "verbatim": identity.null_where(verb, ~with_text),
            "responded_at": at,
        },
    )
    w = np.flatnonzero(with_text)
    d.new_texts.append(texts.truth("survey", pl.Series(ids).gather(w), tp[w], sent[w], at[w]))
