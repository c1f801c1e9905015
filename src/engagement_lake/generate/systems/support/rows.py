"""Row builders of the support desk shared by the backfill and the daily loads.

Each builder takes the tickets (however they were raised) and a time window, and returns the
rows that fall in that window: the backfill asks for everything before the as-of date, a daily
load for that day. What a ticket goes through is planned by ``rules`` from its id, so the two
paths land the same rows for the same ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from engagement_lake.generate import texts
from engagement_lake.generate.block import allowed, choose_weighted, make_ids
from engagement_lake.generate.columns import choice, masked
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.systems.support.rules import (
    AGENT,
    BOT,
    CUSTOMER,
    HOUR,
    NEG,
    NEU,
    PARAMS,
    POS,
    Lifecycle,
    T,
    draw_sentiment,
    keyed_uniform,
    lifecycle,
    message_plan,
    satisfaction,
    type_topic_and_weights,
)


@dataclass(frozen=True)
class TicketDraw:
    """What a new ticket is about and how it came in (indices into the contract's values)."""

    topic: np.ndarray
    sentiment: np.ndarray
    channel: np.ndarray
    priority: np.ndarray


def draw_tickets(rng: np.random.Generator, ctx: Ctx, ttype: np.ndarray) -> TicketDraw:
    """Topic, true sentiment, channel and priority of new tickets of the given types."""
    n = len(ttype)
    ttypes = allowed(ctx, "support.tickets", "ticket_type")
    topic_of, weights = type_topic_and_weights(ttypes)
    topic = topic_of[ttype]
    sentiment = draw_sentiment(rng, weights[ttype])
    gi_price = (ttype == ttypes.index("General Inquiry")) & (
        rng.random(n) < PARAMS.general_price_share
    )
    topic = np.where(gi_price, T["price"], topic)
    channels = allowed(ctx, "support.tickets", "channel")
    ch = choose_weighted(rng, [PARAMS.channel_shares.get(c, 0.0) for c in channels], n)
    priorities = allowed(ctx, "support.tickets", "priority")
    pr = choose_weighted(rng, [PARAMS.priority_shares.get(p, 0.0) for p in priorities], n)
    raise_high = (sentiment == NEG) & (rng.random(n) < PARAMS.negative_high_share)
    pr = np.where(raise_high, priorities.index("High"), pr)
    return TicketDraw(topic, sentiment, ch, pr)


def ticket_version(
    ctx: Ctx,
    tnums: np.ndarray,
    requester: np.ndarray,
    order_id: Any,
    ttype: np.ndarray,
    draw: TicketDraw,
    created: np.ndarray,
    at_us: int,
) -> tuple[dict[str, Any], Lifecycle]:
    """Tickets as they stand at ``at_us`` (status, agent, response, resolution, CSAT), and
    their planned life."""
    ttypes = allowed(ctx, "support.tickets", "ticket_type")
    channels = allowed(ctx, "support.tickets", "channel")
    priorities = allowed(ctx, "support.tickets", "priority")
    statuses = allowed(ctx, "support.tickets", "status")
    prio_names = np.asarray(priorities, dtype=object)[draw.priority]
    life = lifecycle(ctx.seed, ctx.scale, tnums, prio_names, created)
    responded = life.first_response <= at_us
    resolved = life.resolved <= at_us
    subjects = np.asarray([PARAMS.subjects.get(t, t) for t in ttypes], dtype=object)
    row = {
        "ticket_id": tnums,
        "requester_id": requester,
        "order_id": order_id,
        "ticket_type": choice(ttypes, ttype),
        "channel": choice(channels, draw.channel),
        "status": choice(statuses, life.status(statuses, at_us)),
        "priority": choice(priorities, draw.priority),
        "subject": subjects[ttype],
        "agent_id": masked(life.agent, responded),
        "satisfaction_score": masked(
            satisfaction(draw.sentiment, life.u_score), resolved & life.answered
        ),
        "created_at": created,
        "first_response_at": masked(life.first_response, responded),
        "resolved_at": masked(life.resolved, resolved),
        "updated_at": life.last_change(created, at_us),
    }
    return row, life


def messages(
    ctx: Ctx,
    rng: np.random.Generator,
    tnums: np.ndarray,
    channel: np.ndarray,
    created: np.ndarray,
    topic: np.ndarray,
    sentiment: np.ndarray,
    item_words: pl.Series,
    lo_us: int,
    hi_us: int,
) -> tuple[dict[str, Any], pl.DataFrame, dict[str, np.ndarray]] | None:
    """The tickets' messages written in [lo_us, hi_us): rows, text truth, and a summary."""
    channels = allowed(ctx, "support.tickets", "channel")
    is_chat = channel == channels.index("Chat")
    is_mail = channel == channels.index("Email")
    plan = message_plan(ctx.seed, tnums, is_chat, is_mail, created)
    keep = (plan.ts >= lo_us) & (plan.ts < hi_us)
    owner, author, ts = plan.owner[keep], plan.author[keep], plan.ts[keep]
    m = len(owner)
    if m == 0:
        return None
    is_cust = author == CUSTOMER
    is_bot = author == BOT
    body = pl.select(
        pl.when(pl.Series(is_cust))
        .then(texts.customer_message(rng, topic[owner], sentiment[owner], item_words.gather(owner)))
        .when(pl.Series(is_bot))
        .then(texts.bot_message(rng, m))
        .otherwise(texts.agent_message(rng, m))
    ).to_series()
    authors = allowed(ctx, "support.ticket_messages", "author_type")
    author_idx = np.select(
        [is_cust, author == AGENT],
        [authors.index("customer"), authors.index("agent")],
        authors.index("bot"),
    )
    mnums = ctx.take("message", m)
    msg_channels = allowed(ctx, "support.ticket_messages", "channel")
    mch = np.where(is_chat[owner], msg_channels.index("Chat"), msg_channels.index("Email"))
    rows = {
        "message_id": mnums,
        "ticket_id": tnums[owner],
        "author_type": choice(authors, author_idx),
        "channel": choice(msg_channels, mch),
        "body": body,
        "created_at": ts,
    }
    t_sent = np.where(is_cust, sentiment[owner], NEU)
    t_topic = np.where(is_cust, topic[owner], T["service"])
    truth = texts.truth("ticket_message", pl.Series(mnums), t_topic, t_sent, ts)
    return rows, truth, {"num": mnums, "ts": ts, "customer": is_cust, "ticket": owner}


def phone_calls(
    ctx: Ctx, tnums: np.ndarray, channel: np.ndarray, created: np.ndarray, lo_us: int, hi_us: int
) -> tuple[np.ndarray, np.ndarray]:
    """(ticket index, call start) of the calls on phone tickets in [lo_us, hi_us): one when the
    ticket is opened, and for some a call back later."""
    channels = allowed(ctx, "support.tickets", "channel")
    phone = np.flatnonzero(channel == channels.index("Phone"))
    tid = tnums[phone]
    again = keyed_uniform(ctx.seed, "support.call_again", tid) < PARAMS.call_again_share
    lo_h, hi_h = PARAMS.call_again_hours
    later = created[phone] + (
        (lo_h + keyed_uniform(ctx.seed, "support.call_again_at", tid) * (hi_h - lo_h)) * HOUR
    ).astype(np.int64)
    t_idx = np.r_[phone, phone[again]]
    start = np.r_[created[phone], later[again]]
    keep = (start >= lo_us) & (start < hi_us)
    return t_idx[keep], start[keep]


def call_rows(
    ctx: Ctx,
    rng: np.random.Generator,
    ticket_id: np.ndarray,
    has_ticket: np.ndarray,
    requester: np.ndarray,
    agent: np.ndarray,
    topic: np.ndarray,
    sentiment: np.ndarray,
    words: pl.Series,
    start: np.ndarray,
) -> tuple[dict[str, Any], pl.DataFrame]:
    """Call transcript rows (and their text truth), calls given in time order."""
    n = len(start)
    ids = make_ids("call", ctx.take("call", n))
    lo, hi = PARAMS.call_seconds_bounds
    rows = {
        "call_id": ids,
        "ticket_id": masked(ticket_id, has_ticket),
        "requester_id": masked(requester, rng.random(n) > PARAMS.call_unknown_caller_share),
        "agent_id": agent,
        "transcript": texts.transcript(rng, topic, sentiment, words),
        "duration_seconds": np.clip(
            rng.lognormal(np.log(PARAMS.call_median_seconds), PARAMS.call_sigma, n), lo, hi
        ).astype(np.int64),
        "call_start": start,
    }
    return rows, texts.truth("call_transcript", pl.Series(ids), topic, sentiment, start)


def ticket_surveys(
    ctx: Ctx, tnums: np.ndarray, resolved: np.ndarray, lo_us: int, hi_us: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ticket index, is CSAT (else CES), responded at) of surveys after resolution answered in
    [lo_us, hi_us)."""
    tid = np.asarray(tnums, dtype=np.int64)
    cs = keyed_uniform(ctx.seed, "support.csat_survey", tid) < PARAMS.csat_survey_share
    ce = keyed_uniform(ctx.seed, "support.ces_survey", tid) < PARAMS.ces_survey_share
    lo_h, hi_h = PARAMS.survey_delay_hours
    delay = (
        (lo_h + keyed_uniform(ctx.seed, "support.survey_delay", tid) * (hi_h - lo_h)) * HOUR
    ).astype(np.int64)
    done = resolved < hi_us  # only these can have answered by the window's end
    resp = np.where(done, resolved, 0) + delay
    idx = np.r_[np.flatnonzero(cs & done), np.flatnonzero(ce & done)]
    is_csat = np.r_[np.ones(int((cs & done).sum()), bool), np.zeros(int((ce & done).sum()), bool)]
    at = resp[idx]
    keep = (at >= lo_us) & (at < hi_us)
    return idx[keep], is_csat[keep], at[keep]


def survey_scores(
    rng: np.random.Generator,
    is_csat: np.ndarray,
    csat: np.ndarray,
    answered: np.ndarray,
    sentiment: np.ndarray,
) -> np.ndarray:
    """CSAT repeats the ticket's satisfaction when the requester gave one (else one agreeing
    with the sentiment); CES (1-7) agrees with the sentiment too."""
    n = len(is_csat)
    own = np.where(answered, csat, satisfaction(sentiment, rng.random(n)))
    ces = np.where(
        sentiment == POS,
        rng.integers(6, 8, n),
        np.where(sentiment == NEU, rng.integers(4, 6, n), rng.integers(1, 4, n)),
    )
    return np.where(is_csat, own, ces)
