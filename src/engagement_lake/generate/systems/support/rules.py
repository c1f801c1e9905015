"""The support desk's one parameter set and the row rules both the backfill and a daily load use.

Why a ticket's life is drawn from keyed uniforms rather than a block's stream: the backfill shows
each ticket as it stands on the as-of date, and the daily loads then move the same ticket on
(first response, waiting on the customer, resolved, closed). Both must agree on when each step
happens, so every step is a function of (seed, ticket id, priority, opening time) alone; a daily
load recomputes the plan of any ticket it reads back from bronze and lands a new version when the
plan says its status changed that day. Messages on a ticket follow the same idea: the backfill
lands those written before the as-of date, each daily load those written that day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engagement_lake.generate import texts
from engagement_lake.generate.columns import US_PER_DAY
from engagement_lake.generate.context import stream_key

HOUR = 3600 * 1_000_000
MINUTE = 60 * 1_000_000
NEVER = np.iinfo(np.int64).max
T = {t: i for i, t in enumerate(texts.TOPICS)}
POS, NEU, NEG = (texts.SENTIMENTS.index(s) for s in ("positive", "neutral", "negative"))


@dataclass(frozen=True)
class SupportParams:
    """Every rate of the support desk, written once (times in minutes, hours or days as named)."""

    # ticket type -> (topic, sentiment weights positive / neutral / negative)
    ticket_types: dict[str, tuple[str, tuple[float, float, float]]] = field(
        default_factory=lambda: {
            "Sizing Issue": ("sizing", (0.05, 0.30, 0.65)),
            "Return Request": ("returns", (0.10, 0.45, 0.45)),
            "Product Quality": ("quality", (0.03, 0.27, 0.70)),
            "Shipping Delay": ("shipping", (0.03, 0.32, 0.65)),
            "FitMap Question": ("fitmap", (0.25, 0.60, 0.15)),
            "General Inquiry": ("service", (0.20, 0.60, 0.20)),
        }
    )
    subjects: dict[str, str] = field(
        default_factory=lambda: {
            "Sizing Issue": "Question about sizing",
            "Return Request": "Return / exchange request",
            "Product Quality": "Problem with product quality",
            "Shipping Delay": "Where is my order?",
            "FitMap Question": "FitMap scan question",
            "General Inquiry": "General question",
        }
    )
    general_price_share: float = 0.3  # general inquiries that are about price
    # a customer who writes a low review (rating <= low_review_rating) has often contacted
    # support about it first: a ticket opened up to low_review_lead_days before the review, its
    # type from what the review is about
    low_review_rating: int = 2
    low_review_ticket: float = 0.5
    low_review_lead_days: float = 1.0
    review_topic_ticket_types: dict[str, str] = field(
        default_factory=lambda: {
            "sizing": "Sizing Issue",
            "returns": "Return Request",
            "quality": "Product Quality",
            "shipping": "Shipping Delay",
            "fitmap": "FitMap Question",
            "price": "General Inquiry",
            "service": "General Inquiry",
        }
    )
    # what raises a ticket: a return for fit / quality, a late parcel, background questions
    fit_return_ticket: float = 0.35
    fit_return_sizing_share: float = 0.6  # the rest are return requests
    quality_return_ticket: float = 0.45
    return_ticket_lead_days: float = 3.0  # the ticket comes up to this long before the return
    late_parcel_share: float = 0.03  # shipped orders that arrive late and raise a ticket
    late_parcel_days: tuple[float, float] = (5.0, 9.0)  # after the order
    general_per_day: float = 0.0016  # general inquiries per requester-day while a customer
    fitmap_per_day: float = 0.0008  # FitMap questions per FitMap user-day while a customer
    window_before_first_purchase_days: int = 30
    window_after_last_activity_days: int = 60
    duplicate_requester_share: float = 0.3  # tickets raised from a duplicate requester record
    channel_shares: dict[str, float] = field(
        default_factory=lambda: {"Phone": 0.30, "Email": 0.35, "Chat": 0.28, "In-Store": 0.07}
    )
    priority_shares: dict[str, float] = field(
        default_factory=lambda: {"Low": 0.30, "Medium": 0.45, "High": 0.20, "Urgent": 0.05}
    )
    negative_high_share: float = 0.3  # negative tickets raised to High
    agents_per_scale: float = 150.0
    agents_bounds: tuple[int, int] = (10, 500)
    # the life of a ticket: first response, work, waiting on the customer, resolution, closing
    first_response_median_minutes: dict[str, float] = field(
        default_factory=lambda: {"Urgent": 25.0, "High": 90.0, "Medium": 240.0, "Low": 540.0}
    )
    first_response_sigma: float = 1.0
    work_median_hours: dict[str, float] = field(
        default_factory=lambda: {"Urgent": 3.0, "High": 8.0, "Medium": 18.0, "Low": 36.0}
    )
    work_sigma: float = 0.9
    pending_share: float = 0.2  # tickets that wait on the customer half-way through
    pending_median_days: float = 4.0
    pending_sigma: float = 1.0
    abandoned_share: float = 0.045  # tickets (among the waiting ones) whose customer never
    # answers and that nobody closes: the desk's standing backlog
    close_after_days: float = 3.0  # solved tickets close this long after resolution
    answered_share: float = 0.55  # resolved tickets whose requester gives a satisfaction score
    # messages: e-mail and chat tickets are conversations, phone and store ones get a follow-up
    conversation_base: int = 2
    conversation_extra_mean: float = 1.2
    conversation_max: int = 8
    bot_first_share: float = 0.5  # chats a bot opens
    follow_up_share: float = 0.3  # phone / store tickets with e-mails afterwards
    chat_gap_minutes: tuple[int, int] = (1, 6)
    mail_gap_hours: tuple[int, int] = (1, 20)
    message_horizon_days: int = 10  # no conversation runs longer (daily loads look this far back)
    # calls: phone tickets open with one, some get a call back; a few calls concern no ticket
    call_again_share: float = 0.15
    call_again_hours: tuple[int, int] = (1, 72)
    calls_without_ticket_per_requester_day: float = 0.000045
    call_unknown_caller_share: float = 0.03  # caller not matched to a requester
    call_median_seconds: float = 420.0
    call_sigma: float = 0.7
    call_seconds_bounds: tuple[int, int] = (30, 14_400)
    # surveys after resolution
    csat_survey_share: float = 0.45
    ces_survey_share: float = 0.10
    survey_delay_hours: tuple[int, int] = (1, 72)
    nps_share: float = 0.3  # requesters who answered an NPS survey over the whole history
    survey_text_share: float = 0.5  # CSAT / CES answers with a comment
    nps_text_share: float = 0.45


PARAMS = SupportParams()


def n_agents(scale: float, p: SupportParams = PARAMS) -> int:
    lo, hi = p.agents_bounds
    return int(np.clip(round(p.agents_per_scale * scale), lo, hi))


def type_topic_and_weights(ttypes: tuple[str, ...], p: SupportParams = PARAMS):
    """Per contract ticket type: its topic index and its sentiment weights."""
    topic = np.asarray([T[p.ticket_types[t][0]] for t in ttypes])
    weights = np.asarray([p.ticket_types[t][1] for t in ttypes])
    return topic, weights


def draw_sentiment(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One sentiment per ticket from its type's weights (rows of positive / neutral / negative)."""
    u = rng.random(len(weights))
    return np.where(
        u < weights[:, 0], POS, np.where(u < weights[:, 0] + weights[:, 1], NEU, NEG)
    ).astype(np.int64)


def satisfaction(sentiment: np.ndarray, u: np.ndarray) -> np.ndarray:
    """CSAT 1-5 agreeing with the ticket's true sentiment: 4-5 positive, 3-4 neutral, 1-2
    negative (``u`` uniform picks within the pair)."""
    base = np.where(sentiment == POS, 4, np.where(sentiment == NEU, 3, 1))
    return (base + (np.asarray(u) < 0.5)).astype(np.int64)


# ----------------------------------------------------------------------------- keyed draws


def keyed_uniform(seed: int, name: str, key: np.ndarray, k: int = 0) -> np.ndarray:
    """Uniforms in [0, 1), one per ``key``, the same for the same (seed, name, key, k) in any
    run: a splitmix64 hash, so the backfill and a daily load draw identical values."""
    base = (int(seed) * 0x9E3779B97F4A7C15 + stream_key(name) * 0xBF58476D1CE4E5B9) + (
        int(k) * 0x94D049BB133111EB
    )
    with np.errstate(over="ignore"):
        x = np.asarray(key, dtype=np.int64).astype(np.uint64) + np.uint64(base % 2**64)
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)


def _keyed_lognormal(
    seed: int, name: str, key: np.ndarray, median: np.ndarray, sigma: float
) -> np.ndarray:
    u1 = np.maximum(keyed_uniform(seed, name, key, 0), 1e-12)
    u2 = keyed_uniform(seed, name, key, 1)
    z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return median * np.exp(sigma * z)


@dataclass(frozen=True)
class Lifecycle:
    """When each step of a ticket happens (microseconds; NEVER when it does not)."""

    first_response: np.ndarray
    pending: np.ndarray
    resolved: np.ndarray
    closed: np.ndarray
    agent: np.ndarray
    answered: np.ndarray
    u_score: np.ndarray

    def status(self, statuses: tuple[str, ...], at_us: int) -> np.ndarray:
        """Index into the contract's statuses of each ticket at ``at_us``."""
        return np.select(
            [
                at_us < self.first_response,
                at_us < self.pending,
                at_us < self.resolved,
                at_us < self.closed,
            ],
            [
                statuses.index("Open"),
                statuses.index("In Progress"),
                statuses.index("Pending"),
                statuses.index("Resolved"),
            ],
            statuses.index("Closed"),
        )

    def last_change(self, created: np.ndarray, at_us: int) -> np.ndarray:
        """Time of the last step on or before ``at_us`` (the opening if none)."""
        out = np.asarray(created, dtype=np.int64).copy()
        for t in (self.first_response, self.pending, self.resolved, self.closed):
            out = np.where(t <= at_us, np.maximum(out, t), out)
        return out


def lifecycle(
    seed: int,
    scale: float,
    ticket_id: np.ndarray,
    priority: np.ndarray,
    created: np.ndarray,
    p: SupportParams = PARAMS,
) -> Lifecycle:
    """The planned life of each ticket (``priority`` as names), a function of its id alone."""
    tid = np.asarray(ticket_id, dtype=np.int64)
    created = np.asarray(created, dtype=np.int64)
    prio = np.asarray(priority, dtype=object)
    fr_med = np.asarray([p.first_response_median_minutes[x] for x in prio], dtype=np.float64)
    work_med = np.asarray([p.work_median_hours[x] for x in prio], dtype=np.float64)
    fr = _keyed_lognormal(seed, "support.first_response", tid, fr_med, p.first_response_sigma)
    work = _keyed_lognormal(seed, "support.work", tid, work_med, p.work_sigma)
    wait = _keyed_lognormal(
        seed, "support.pending", tid, np.full(len(tid), p.pending_median_days), p.pending_sigma
    )
    u_pend = keyed_uniform(seed, "support.pending_share", tid)
    waits = u_pend < p.pending_share
    abandoned = u_pend < p.abandoned_share
    t_fr = created + np.maximum(fr * MINUTE, MINUTE).astype(np.int64)
    work_us = np.maximum(work * HOUR, 5 * MINUTE).astype(np.int64)
    t_pend = np.where(waits, t_fr + work_us // 2, NEVER)
    t_res = np.where(
        abandoned,
        NEVER,
        t_fr + work_us + np.where(waits, (wait * US_PER_DAY).astype(np.int64), 0),
    )
    t_close = np.where(abandoned, NEVER, t_res + int(p.close_after_days * US_PER_DAY))
    agent = 1 + (keyed_uniform(seed, "support.agent", tid) * n_agents(scale, p)).astype(np.int64)
    answered = keyed_uniform(seed, "support.answered", tid) < p.answered_share
    return Lifecycle(
        first_response=t_fr,
        pending=np.where(waits, t_pend, t_res),
        resolved=t_res,
        closed=t_close,
        agent=agent,
        answered=answered,
        u_score=keyed_uniform(seed, "support.score", tid),
    )


# ----------------------------------------------------------------------------- messages


@dataclass(frozen=True)
class MessagePlan:
    """The messages of a set of tickets: owner (ticket index), rank, author kind, time."""

    owner: np.ndarray
    rank: np.ndarray
    author: np.ndarray  # 0 customer, 1 agent, 2 bot
    ts: np.ndarray


CUSTOMER, AGENT, BOT = 0, 1, 2


def message_plan(
    seed: int,
    ticket_id: np.ndarray,
    is_chat: np.ndarray,
    is_mail: np.ndarray,
    created: np.ndarray,
    p: SupportParams = PARAMS,
) -> MessagePlan:
    """Every message each ticket will get, keyed by ticket id (see the module docstring)."""
    from engagement_lake.generate.block import expand, group_cumsum

    tid = np.asarray(ticket_id, dtype=np.int64)
    conv = is_chat | is_mail
    u_extra = keyed_uniform(seed, "support.msg_count", tid)
    extra = _poisson_ppf(u_extra, p.conversation_extra_mean)
    follow = ~conv & (keyed_uniform(seed, "support.msg_follow_up", tid) < p.follow_up_share)
    cnt = np.where(
        conv,
        p.conversation_base + extra,
        np.where(follow, 1 + (keyed_uniform(seed, "support.msg_follow_n", tid) < 0.5), 0),
    )
    cnt = np.minimum(cnt, p.conversation_max)
    bot_first = is_chat & (keyed_uniform(seed, "support.msg_bot", tid) < p.bot_first_share)
    cnt = (cnt + bot_first).astype(np.int64)
    owner, rank = expand(cnt)
    key = tid[owner] * 16 + rank
    k = rank - bot_first[owner]
    author = np.where(k < 0, BOT, np.where(k % 2 == 0, CUSTOMER, AGENT))
    u_gap = keyed_uniform(seed, "support.msg_gap", key)
    lo_c, hi_c = p.chat_gap_minutes
    lo_m, hi_m = p.mail_gap_hours
    gap = np.where(
        is_chat[owner],
        (lo_c + u_gap * (hi_c - lo_c)) * MINUTE,
        (lo_m + u_gap * (hi_m - lo_m)) * HOUR,
    )
    gap = np.where(rank == 0, u_gap * 2 * MINUTE, gap).astype(np.int64)
    ts = np.asarray(created, dtype=np.int64)[owner] + group_cumsum(gap, owner)
    return MessagePlan(owner=owner, rank=rank, author=author, ts=ts)


def _poisson_ppf(u: np.ndarray, mean: float, top: int = 30) -> np.ndarray:
    ks = np.arange(top)
    logp = -mean + ks * np.log(mean) - np.cumsum(np.r_[0.0, np.log(ks[1:])])
    cdf = np.cumsum(np.exp(logp))
    return np.searchsorted(cdf, u, side="right").astype(np.int64)
