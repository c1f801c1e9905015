"""Leads: who owns a prospect, how it is scored, and the daily stream of new leads.

The backfill (``backfill.emit``) and a daily load build a lead's score, grade, owner and
company with the same functions here, so a lead captured today looks like one captured in the
history: owned by a rep of its state's territory, scored around the same mean, sometimes not
scored at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from engagement_lake.generate import identity
from engagement_lake.generate.block import allowed, enum_draw, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.daily import HOUR, MINUTE, Day
from engagement_lake.generate.systems.crm.params import (
    LEAD_B2B_SHARE,
    LEAD_CONVERT_PER_SD,
    LEAD_CONVERT_SHARE,
    LEAD_GRADE_MIN_SCORE,
    LEAD_SCORE_MEAN,
    LEAD_SCORE_NULL_SHARE,
    LEAD_SCORE_SD,
    LEAD_STATE_NULL_SHARE,
    SOURCE_WEIGHTS,
)
from engagement_lake.generate.vocab import COMPANY_KINDS, COMPANY_WORDS, TERRITORIES
from engagement_lake.generate.world import pick

LEAD_PROGRESS_SHARE = 0.02
"""Share of open (New / Working) leads a rep moves on each day."""


def territory_of_state() -> dict[str, str]:
    """State code -> territory id (the territories' order in the vocabulary gives the ids)."""
    return {s: f"T{i + 1:02d}" for i, (_, _, sts) in enumerate(TERRITORIES) for s in sts}


def owner_for_state(
    reps: pl.DataFrame,
    states: pl.Series,
    rng: np.random.Generator,
    b2b: np.ndarray | None = None,
) -> np.ndarray:
    """Rep index owning each state's territory (B2B deals go to the B2B Uniforms team); a
    territory without reps (or no state) falls to any rep."""
    terr = states.str.to_uppercase().replace_strict(territory_of_state(), default="T01")
    terr = terr.to_numpy()
    rep_terr = reps["territory_id"].to_numpy()
    order = np.argsort(rep_terr, kind="stable")
    sorted_terr = rep_terr[order]
    lo = np.searchsorted(sorted_terr, terr, side="left")
    hi = np.searchsorted(sorted_terr, terr, side="right")
    cnt = hi - lo
    pick_i = lo + (rng.random(len(terr)) * np.maximum(cnt, 1)).astype(np.int64)
    rep = np.where(
        cnt > 0, order[np.minimum(pick_i, len(order) - 1)], rng.integers(0, len(reps), len(terr))
    )
    if b2b is not None:
        team = np.flatnonzero(reps["sales_team"].to_numpy() == "B2B Uniforms")
        if len(team):
            rep = np.where(b2b, team[rng.integers(0, len(team), len(terr))], rep)
    return rep


def lead_scores(rng: np.random.Generator, n: int) -> np.ndarray:
    """The score a lead gets when captured (before anyone knows whether it converts)."""
    return np.clip(np.rint(rng.normal(LEAD_SCORE_MEAN, LEAD_SCORE_SD, n)), 0, 100).astype(np.int64)


def convert_probability(score: np.ndarray) -> np.ndarray:
    """Chance a CRM person's lead converts: higher for a better score (the score predicts)."""
    z = (np.asarray(score, dtype=np.float64) - LEAD_SCORE_MEAN) / LEAD_SCORE_SD
    return np.clip(LEAD_CONVERT_SHARE + LEAD_CONVERT_PER_SD * z, 0.05, 0.98)


def lead_attributes(
    ctx: Ctx,
    rng: np.random.Generator,
    reps: pl.DataFrame,
    states: pl.Series,
    score: np.ndarray,
) -> dict[str, Any]:
    """Score (null when never scored), grade, owner and company of new leads; ``states`` are
    the people's own states (the owner follows them even where the lead omits its state)."""
    n = len(score)
    grades = allowed(ctx, "crm.leads", "lead_grade")
    cut = sorted(LEAD_GRADE_MIN_SCORE.items(), key=lambda kv: -kv[1])
    grade = np.select(
        [score >= v for _, v in cut], [grades.index(g) for g, _ in cut], grades.index("D")
    )
    company = (
        pick(COMPANY_WORDS, rng.integers(0, len(COMPANY_WORDS), n))
        + " "
        + pick(COMPANY_KINDS, rng.integers(0, len(COMPANY_KINDS), n))
    )
    return {
        "lead_score": masked(score, rng.random(n) >= LEAD_SCORE_NULL_SHARE),
        "lead_grade": choice(grades, grade),
        "owner": owner_for_state(reps, states, rng),
        "company": identity.null_where(company, rng.random(n) >= LEAD_B2B_SHARE),
        "state_missing": rng.random(n) < LEAD_STATE_NULL_SHARE,
    }


def campaign_of(campaigns: pl.DataFrame, us: np.ndarray, from_email: np.ndarray) -> Any:
    """The campaign last sent before each time, for records that came from an e-mail (else
    null)."""
    send = campaigns["send_day"].to_numpy() * US_PER_DAY
    last = np.searchsorted(send, us, side="right") - 1
    return choice(campaigns["campaign_id"].to_list(), np.maximum(last, 0), from_email & (last >= 0))


def leads_per_day(ctx: Ctx, n_lead_records: int, day: int) -> float:
    """Expected new leads on ``day``: the backfill spreads its lead records over the history
    with the calendar's seasonality, and a day continues at that rate."""
    cal = ctx.cal
    lo = cal.cumulative(np.array([cal.start_us]))[0]
    hi = cal.cumulative(np.array([ctx.now_us - 2 * US_PER_DAY]))[0]
    today = cal.cumulative(np.array([day * US_PER_DAY, (day + 1) * US_PER_DAY]))
    return n_lead_records * float(today[1] - today[0]) / max(float(hi - lo), 1.0)


def daily(d: Day, rng: np.random.Generator) -> None:
    """New leads (prospects, some captured before) and open leads a rep moves on."""
    ctx = d.ctx
    reps = d.w.reps
    lp = identity.profile("crm.leads", ctx.identity_noise)
    n_records = int(d.people["in_lead"].sum() * (1 + lp.duplicate))
    n_new = int(rng.poisson(leads_per_day(ctx, n_records, d.day)))
    cand = d.people.filter(~pl.col("in_shop") | pl.col("in_lead"))
    if n_new and len(cand):
        who = cand[np.sort(rng.choice(len(cand), min(n_new, len(cand)), replace=False))]
        k = len(who)
        existing = d.ident.filter(pl.col("source_system") == "crm.leads")["person_id"]
        is_dup = np.isin(who["person_id"].to_numpy(), existing.to_numpy())
        rec = identity.Records(np.arange(k), is_dup)
        obs = identity.observe(rng, who, rec, lp, need_contact=True)
        ids = make_ids("lead", ctx.take("lead", k))
        sources, src = enum_draw(rng, ctx, "crm.leads", "lead_source", SOURCE_WEIGHTS, k)
        statuses = allowed(ctx, "crm.leads", "status")
        attrs = lead_attributes(ctx, rng, reps, who["state"], lead_scores(rng, k))
        us = d.times(rng, k)
        d.add(
            "crm.leads",
            {
                "lead_id": ids,
                "first_name": obs.first,
                "last_name": obs.last,
                "email": obs.email,
                "phone": obs.phone,
                "company": attrs["company"],
                "state": identity.null_where(obs.state, attrs["state_missing"]),
                "lead_source": choice(sources, src),
                "campaign_id": campaign_of(
                    d.w.campaigns, us, src == sources.index("Email Campaign")
                ),
                "lead_score": attrs["lead_score"],
                "lead_grade": attrs["lead_grade"],
                "status": choice(statuses, np.full(k, statuses.index("New"))),
                "disqualification_reason": None,
                "owner_id": reps["sales_rep_id"].to_arrow().take(attrs["owner"]),
                "converted_contact_id": None,
                "converted_opportunity_id": None,
                "created_date": us // US_PER_DAY,
                "converted_date": None,
                "last_modified_date": us + MINUTE,
            },
        )
        li = identity.identity_truth("crm.leads", pl.Series(ids), who, rec, obs)
        d.new_identity.append(li)
        d.ident = pl.concat([d.ident, li.cast(d.ident.schema)])
    open_leads = d.bronze.latest("crm.leads", "status IN ('New', 'Working')")
    if len(open_leads):
        prog = open_leads.filter(pl.Series(rng.random(len(open_leads)) < LEAD_PROGRESS_SHARE))
        if prog.is_empty():
            prog = open_leads.head(1)
        nxt = np.where(prog["status"].to_numpy() == "New", "Working", "Nurturing")
        d.add(
            "crm.leads",
            prog.with_columns(
                status=pl.Series(nxt),
                last_modified_date=pl.Series(
                    d.start_us + rng.integers(8 * HOUR, 20 * HOUR, len(prog))
                ).cast(pl.Datetime("us")),
            ),
        )
