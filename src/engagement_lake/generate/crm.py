"""crm: contacts, leads (with duplicates), opportunities moving through stages, activities,
quotes, commissions, quotas and referrals.

The sales pipeline is simulated stage by stage: at each stage an opportunity advances with a
probability that depends on its lead source and on its owner's true skill, or is lost; time in
each stage is exponential with a mean that depends on the source, the rep's speed and the deal
type. Every stage entered leaves a stage-history row; opportunities still open at the as-of date
stop where they are. Won deals pay commission = rep rate x amount. The true multipliers are in
``_truth/sales_params.json`` and ``_truth/sales_reps.parquet``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate import identity
from engagement_lake.generate.block import (
    Block,
    allowed,
    choose_weighted,
    enum_draw,
    expand,
    make_ids,
)
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.context import Ctx, stream_key
from engagement_lake.generate.vocab import COMPANY_KINDS, COMPANY_WORDS, TERRITORIES
from engagement_lake.generate.world import pick

HOUR = 3600 * 1_000_000
STAGE_FLOW = ("Identified", "Qualified", "Proposal", "Negotiation")
STAGE_PROBABILITY = {
    "Identified": 10,
    "Qualified": 25,
    "Proposal": 50,
    "Negotiation": 75,
    "Closed Won": 100,
    "Closed Lost": 0,
}
ADVANCE_BASE = (0.72, 0.70, 0.74, 0.62)
"""Probability of leaving each open stage forward (the last one: to Closed Won)."""
STAGE_DAYS = (6.0, 9.0, 11.0, 8.0)
SOURCE_WIN = {
    "FitMap": 1.12,
    "Email Campaign": 0.88,
    "Store Visit": 1.05,
    "Customer Service": 0.97,
    "Web Form": 0.84,
    "Referral": 1.18,
    "Event": 0.95,
}
SOURCE_CYCLE = {
    "FitMap": 0.8,
    "Email Campaign": 1.15,
    "Store Visit": 0.85,
    "Customer Service": 1.0,
    "Web Form": 1.25,
    "Referral": 0.75,
    "Event": 1.1,
}
SOURCE_WEIGHTS = {
    "FitMap": 0.2,
    "Email Campaign": 0.18,
    "Store Visit": 0.2,
    "Customer Service": 0.1,
    "Web Form": 0.17,
    "Referral": 0.08,
    "Event": 0.07,
}
TYPE_WEIGHTS = {
    "Upsell": 0.3,
    "Cross-sell": 0.25,
    "Renewal": 0.12,
    "New Product Launch": 0.18,
    "B2B Uniforms": 0.15,
}
TYPE_AMOUNT = {
    "Upsell": (6.0, 0.6),
    "Cross-sell": (5.7, 0.6),
    "Renewal": (6.3, 0.5),
    "New Product Launch": (6.5, 0.6),
    "B2B Uniforms": (9.4, 0.8),
}


def sales_params() -> dict[str, object]:
    """The true pipeline parameters, recorded in ``_truth/sales_params.json``."""
    return {
        "stages": list(STAGE_FLOW),
        "advance_base": list(ADVANCE_BASE),
        "stage_mean_days": list(STAGE_DAYS),
        "source_win_multiplier": SOURCE_WIN,
        "source_cycle_multiplier": SOURCE_CYCLE,
        "b2b_cycle_multiplier": 2.0,
        "stage_probability": STAGE_PROBABILITY,
        "note": "advance probability per stage = base x source multiplier x rep skill^0.25; "
        "time in stage ~ Exponential(mean days x source cycle x rep speed [x2 for B2B])",
        "quota_stretch": list(QUOTA_STRETCH),
        "quota_rule": "monthly quota = the rep's expected won amount per month (territory CRM "
        "people / reps x opportunities per contact x mean amount, B2B deals pooled on the B2B "
        "team, x win probability incl. skill) x a stretch per rep x month seasonality x "
        "U(0.95, 1.05)",
    }


def _rep_for_state(
    ctx: Ctx,
    reps: pl.DataFrame,
    states: pl.Series,
    rng: np.random.Generator,
    b2b: np.ndarray | None = None,
) -> np.ndarray:
    """Rep index owning each state's territory (B2B deals go to the B2B Uniforms team)."""
    terr_of_state = {s: f"T{i + 1:02d}" for i, (_, _, sts) in enumerate(TERRITORIES) for s in sts}
    terr = states.str.to_uppercase().replace_strict(terr_of_state, default="T01").to_numpy()
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


def emit(blk: Block) -> None:
    ctx = blk.ctx
    rng = blk.rng("crm")
    reps = blk.world.reps
    rep_ids = reps["sales_rep_id"].to_arrow()
    now = ctx.now_us
    sources = allowed(ctx, "crm.leads", "lead_source")

    # ---------------------------------------------------------------- leads (prospects)
    lp = identity.profile("crm.leads", ctx.identity_noise)
    lrec = identity.select_records(rng, blk.col("in_lead"), lp.duplicate)
    nl = len(lrec)
    lnums = ctx.take("lead", nl)
    lead_person = lrec.person
    in_crm = blk.col("in_crm")
    created_l = ctx.cal.sample(
        rng, np.full(nl, ctx.cal.start_us), np.full(nl, now - 2 * US_PER_DAY)
    )
    _, l_src = enum_draw(rng, ctx, "crm.leads", "lead_source", SOURCE_WEIGHTS, nl)
    convert = in_crm[lead_person] & ~lrec.is_duplicate & (rng.random(nl) < 0.75)
    conv_us = created_l + (rng.uniform(2, 40, nl) * US_PER_DAY).astype(np.int64)
    convert &= conv_us < now
    lead_of_person = np.full(blk.n, -1)
    lead_of_person[lead_person[convert]] = np.flatnonzero(convert)

    # ---------------------------------------------------------------- contacts
    cp = identity.profile("crm.contacts", ctx.identity_noise)
    crec = identity.select_records(rng, in_crm, cp.duplicate)
    nc = len(crec)
    cnums = ctx.take("contact", nc)
    cperson = crec.person
    conv_lead = lead_of_person[cperson]
    from_lead = (conv_lead >= 0) & ~crec.is_duplicate
    c_created = ctx.cal.sample(
        rng, np.full(nc, ctx.cal.start_us - 300 * US_PER_DAY), np.full(nc, now - US_PER_DAY)
    )
    c_created = np.where(from_lead, conv_us[np.maximum(conv_lead, 0)], c_created)
    c_src = np.where(
        from_lead,
        l_src[np.maximum(conv_lead, 0)],
        choose_weighted(rng, [SOURCE_WEIGHTS.get(s, 0) for s in sources], nc),
    )
    c_owner = _rep_for_state(ctx, reps, blk.people["state"].gather(cperson), rng)
    primary_contact = np.full(blk.n, -1)
    primary_contact[cperson[~crec.is_duplicate]] = np.flatnonzero(~crec.is_duplicate)
    contact_ids = make_ids("contact", cnums)
    blk.state["primary_contact"] = np.where(
        primary_contact >= 0, cnums[np.maximum(primary_contact, 0)], -1
    )

    # ---------------------------------------------------------------- opportunities
    prim_c = np.flatnonzero(~crec.is_duplicate)
    n_opp = (rng.random(len(prim_c)) < 0.33).astype(np.int64) + (rng.random(len(prim_c)) < 0.06)
    n_opp = np.where(from_lead[prim_c], np.maximum(n_opp, 1), n_opp)
    owner, rank = expand(n_opp)
    oc = prim_c[owner]  # contact record index
    no = len(oc)
    first_from_lead = (rank == 0) & from_lead[oc]
    o_created = np.where(
        first_from_lead,
        c_created[oc] + HOUR,
        ctx.cal.sample(rng, np.maximum(c_created[oc], ctx.cal.start_us), np.full(no, now - HOUR)),
    )
    types, o_type = enum_draw(rng, ctx, "crm.opportunities", "opportunity_type", TYPE_WEIGHTS, no)
    b2b = o_type == types.index("B2B Uniforms")
    o_rep = np.where(
        rng.random(no) < 0.8,
        c_owner[oc],
        _rep_for_state(ctx, reps, blk.people["state"].gather(cperson[oc]), rng, b2b),
    )
    o_rep = np.where(
        b2b, _rep_for_state(ctx, reps, blk.people["state"].gather(cperson[oc]), rng, b2b), o_rep
    )
    o_src = c_src[oc]
    src_names = np.asarray(sources)[o_src]
    win_mult = pl.Series(src_names).replace_strict(SOURCE_WIN, default=1.0).to_numpy()
    cyc_mult = pl.Series(src_names).replace_strict(SOURCE_CYCLE, default=1.0).to_numpy()
    skill = reps["skill"].to_numpy()[o_rep]
    speed = reps["speed"].to_numpy()[o_rep]
    mu_amt = np.asarray([TYPE_AMOUNT[t][0] for t in types])[o_type]
    sd_amt = np.asarray([TYPE_AMOUNT[t][1] for t in types])[o_type]
    amount0 = np.round(np.clip(np.exp(mu_amt + sd_amt * rng.normal(0, 1, no)), 50, 450_000), 2)
    revised = np.round(np.clip(amount0 * rng.uniform(0.85, 1.15, no), 50, 480_000), 2)

    # stage simulation, one pass per stage (a handful of stages, vectorised over deals)
    stage_names = allowed(ctx, "crm.opportunities", "stage_name")
    S = {s: stage_names.index(s) for s in stage_names}
    t = o_created.copy()
    hist_opp, hist_stage, hist_us = [np.arange(no)], [np.full(no, S["Identified"])], [t.copy()]
    cur = np.full(no, S["Identified"])
    open_ = np.ones(no, bool)
    closed_us = np.zeros(no, np.int64)
    reached_proposal_us = np.full(no, -1, dtype=np.int64)
    for k, stage in enumerate(STAGE_FLOW):
        mean_days = STAGE_DAYS[k] * cyc_mult * speed * np.where(b2b, 2.0, 1.0)
        dur = (rng.exponential(1.0, no) * mean_days * US_PER_DAY).astype(np.int64) + HOUR
        nxt = t + dur
        moving = open_ & (cur == S[stage]) & (nxt < now)
        p_adv = np.clip(ADVANCE_BASE[k] * win_mult * skill**0.25, 0.05, 0.97)
        adv = moving & (rng.random(no) < p_adv)
        lost = moving & ~adv
        nxt_stage = S[STAGE_FLOW[k + 1]] if k + 1 < len(STAGE_FLOW) else S["Closed Won"]
        for mask, st in ((adv, nxt_stage), (lost, S["Closed Lost"])):
            idx = np.flatnonzero(mask)
            hist_opp.append(idx)
            hist_stage.append(np.full(len(idx), st))
            hist_us.append(nxt[idx])
        cur = np.where(adv, nxt_stage, np.where(lost, S["Closed Lost"], cur))
        closed_us = np.where(lost | (adv & (nxt_stage == S["Closed Won"])), nxt, closed_us)
        if STAGE_FLOW[k] == "Qualified":
            reached_proposal_us = np.where(adv, nxt, reached_proposal_us)
        t = np.where(moving, nxt, t)
        open_ &= ~moving | adv
        open_ &= cur != S["Closed Won"]
    is_won = cur == S["Closed Won"]
    is_closed = is_won | (cur == S["Closed Lost"])
    hist_o = np.concatenate(hist_opp)
    hist_s = np.concatenate(hist_stage)
    hist_t = np.concatenate(hist_us)
    srt = np.lexsort((hist_t, hist_o))
    hist_o, hist_s, hist_t = hist_o[srt], hist_s[srt], hist_t[srt]
    last_change = np.zeros(no, np.int64)
    np.maximum.at(last_change, hist_o, hist_t)
    proposal_or_later = np.isin(hist_s, [S["Proposal"], S["Negotiation"], S["Closed Won"]])
    hist_amount = np.where(proposal_or_later, revised[hist_o], amount0[hist_o])
    amount = np.where(reached_proposal_us >= 0, revised, amount0)
    prob = np.asarray([STAGE_PROBABILITY[s] for s in stage_names])
    remaining = np.asarray([sum(STAGE_DAYS[i:]) for i in range(len(STAGE_FLOW))] + [0, 0])
    stage_pos = np.asarray(
        [STAGE_FLOW.index(s) if s in STAGE_FLOW else len(STAGE_FLOW) for s in stage_names]
    )
    expected_close = t + (remaining[stage_pos[cur]] * cyc_mult * US_PER_DAY).astype(np.int64)
    close_day = (
        np.where(is_closed, closed_us, np.maximum(expected_close, now + US_PER_DAY)) // US_PER_DAY
    )
    onums = ctx.take("opportunity", no)
    opp_ids = make_ids("opportunity", onums)
    lead_ids_all = make_ids("lead", lnums)
    o_lead = np.where(first_from_lead, conv_lead[oc], -1)
    threats, thr = enum_draw(
        rng,
        ctx,
        "crm.opportunities",
        "competitive_threat",
        {"None": 0.45, "Casual Male": 0.15, "Destination": 0.1, "Amazon": 0.2, "Local Tailor": 0.1},
        no,
    )
    reasons, loss = enum_draw(
        rng,
        ctx,
        "crm.opportunities",
        "loss_reason",
        {
            "Price": 0.3,
            "Fit": 0.2,
            "Timing": 0.15,
            "Competitor": 0.15,
            "No Decision": 0.15,
            "Stock": 0.05,
        },
        no,
    )
    camp = blk.world.campaigns
    camp_send = camp["send_day"].to_numpy() * US_PER_DAY
    email_src = sources.index("Email Campaign")
    o_camp = np.searchsorted(camp_send, o_created, side="right") - 1
    has_camp = (o_src == email_src) & (o_camp >= 0)
    last_name = blk.people["last_name"].gather(cperson[oc])
    o_name = last_name + " - " + pl.Series(np.asarray(types)[o_type])
    blk.add(
        "crm.opportunities",
        {
            "opportunity_id": opp_ids,
            "opportunity_name": o_name,
            "contact_id": contact_ids.take(oc),
            "lead_id": make_ids("lead", lnums[np.maximum(o_lead, 0)], o_lead >= 0),
            "owner_id": rep_ids.take(o_rep),
            "opportunity_type": choice(types, o_type),
            "stage_name": choice(stage_names, cur),
            "amount": amount,
            "probability": prob[cur],
            "lead_source": choice(sources, o_src),
            "campaign_id": choice(camp["campaign_id"].to_list(), np.maximum(o_camp, 0), has_camp),
            "competitive_threat": choice(threats, thr, rng.random(no) < 0.8),
            "loss_reason": choice(reasons, loss, cur == S["Closed Lost"]),
            "created_date": o_created,
            "close_date": close_day,
            "is_closed": is_closed,
            "is_won": is_won,
            "last_modified_date": np.minimum(
                last_change + rng.integers(60 * 10**6, HOUR, no), now - 1
            ),
        },
    )
    manager = reps["manager_idx"].to_numpy()
    by_manager = (rng.random(len(hist_o)) < 0.1) & (manager[o_rep[hist_o]] >= 0)
    changer = np.where(by_manager, manager[o_rep[hist_o]], o_rep[hist_o])
    blk.add(
        "crm.opportunity_stage_history",
        {
            "history_id": make_ids("stage_history", ctx.take("stage_history", len(hist_o))),
            "opportunity_id": opp_ids.take(hist_o),
            "stage_name": choice(stage_names, hist_s),
            "amount": hist_amount,
            "probability": prob[hist_s],
            "changed_by": rep_ids.take(changer),
            "created_date": hist_t,
        },
    )
    blk.state["opportunities"] = {
        "num": onums,
        "contact": oc,
        "rep": o_rep,
        "won": is_won,
        "closed": is_closed,
        "close_us": closed_us,
        "amount": amount,
        "created": o_created,
        "stage": cur,
        "type": o_type,
        "src": o_src,
        "proposal_us": reached_proposal_us,
    }

    # ---------------------------------------------------------------- leads table
    l_statuses = allowed(ctx, "crm.leads", "status")
    L = {s: l_statuses.index(s) for s in l_statuses}
    opp_of_lead = np.full(nl, -1)
    opp_of_lead[o_lead[o_lead >= 0]] = np.flatnonzero(o_lead >= 0)
    age_days = (now - created_l) / US_PER_DAY
    other = choose_weighted(rng, [0.12, 0.2, 0.25, 0.13, 0.3], nl)
    other_status = np.asarray(
        [L["New"], L["Working"], L["Nurturing"], L["Qualified"], L["Unqualified"]]
    )[other]
    other_status = np.where(
        (other_status == L["New"]) & (age_days > 30), L["Nurturing"], other_status
    )
    dup_unq = lrec.is_duplicate & (rng.random(nl) < 0.5)
    l_status = np.where(convert, L["Converted"], np.where(dup_unq, L["Unqualified"], other_status))
    disq_reasons = ("Duplicate", "No Budget", "Not Interested", "Bad Contact Info", "Competitor")
    dq = np.where(dup_unq, 0, 1 + rng.integers(0, len(disq_reasons) - 1, nl))
    score = np.clip(np.rint(rng.normal(55, 18, nl) + np.where(convert, 18, 0)), 0, 100).astype(
        np.int64
    )
    grades = allowed(ctx, "crm.leads", "lead_grade")
    grade = np.select(
        [score >= 80, score >= 60, score >= 40],
        [grades.index("A"), grades.index("B"), grades.index("C")],
        grades.index("D"),
    )
    obs = identity.observe(rng, blk.people, lrec, lp, need_contact=True)
    b2b_lead = rng.random(nl) < 0.15
    company = (
        pick(COMPANY_WORDS, rng.integers(0, len(COMPANY_WORDS), nl))
        + " "
        + pick(COMPANY_KINDS, rng.integers(0, len(COMPANY_KINDS), nl))
    )
    l_owner = _rep_for_state(ctx, reps, blk.people["state"].gather(lead_person), rng)
    l_camp = np.searchsorted(camp_send, created_l, side="right") - 1
    l_modified = np.where(
        convert,
        conv_us,
        created_l + (rng.random(nl) * np.minimum(age_days, 60) * US_PER_DAY).astype(np.int64),
    )
    l_modified = np.minimum(l_modified + rng.integers(60 * 10**6, HOUR, nl), now - 1)
    lead_contact = np.where(convert, blk.state["primary_contact"][lead_person], -1)
    blk.identity.append(
        identity.identity_truth("crm.leads", pl.Series(lead_ids_all), blk.people, lrec, obs)
    )
    blk.add(
        "crm.leads",
        {
            "lead_id": lead_ids_all,
            "first_name": obs.first,
            "last_name": obs.last,
            "email": obs.email,
            "phone": obs.phone,
            "company": identity.null_where(company, ~b2b_lead),
            "state": identity.null_where(obs.state, rng.random(nl) < 0.1),
            "lead_source": choice(sources, l_src),
            "campaign_id": choice(
                camp["campaign_id"].to_list(),
                np.maximum(l_camp, 0),
                (l_src == email_src) & (l_camp >= 0),
            ),
            "lead_score": masked(score, rng.random(nl) > 0.05),
            "lead_grade": choice(grades, grade),
            "status": choice(l_statuses, l_status),
            "disqualification_reason": choice(disq_reasons, dq, l_status == L["Unqualified"]),
            "owner_id": rep_ids.take(l_owner),
            "converted_contact_id": make_ids(
                "contact", np.maximum(lead_contact, 0), lead_contact >= 0
            ),
            "converted_opportunity_id": make_ids(
                "opportunity",
                onums[np.maximum(opp_of_lead, 0)] if no else np.zeros(nl, np.int64),
                opp_of_lead >= 0,
            ),
            "created_date": created_l // US_PER_DAY,
            "converted_date": masked(conv_us // US_PER_DAY, convert),
            "last_modified_date": l_modified,
        },
    )

    # ---------------------------------------------------------------- contacts table
    cobs = identity.observe(rng, blk.people, crec, cp)
    b2b_contact = blk.col("b2b_buyer")[crec.person]  # people.B2B: they buy for a company
    account = (
        pick(COMPANY_WORDS, rng.integers(0, len(COMPANY_WORDS), nc))
        + " "
        + pick(COMPANY_KINDS, rng.integers(0, len(COMPANY_KINDS), nc))
    )
    opp_last = np.zeros(nc, np.int64)
    np.maximum.at(opp_last, oc, o_created)
    c_modified = np.minimum(
        np.maximum(c_created, opp_last) + rng.integers(HOUR, 20 * US_PER_DAY, nc), now - 1
    )
    blk.identity.append(
        identity.identity_truth("crm.contacts", pl.Series(contact_ids), blk.people, crec, cobs)
    )
    blk.add(
        "crm.contacts",
        {
            "contact_id": contact_ids,
            "first_name": cobs.first,
            "last_name": cobs.last,
            "email": cobs.email,
            "phone": cobs.phone,
            "mailing_street": cobs.street,
            "mailing_city": cobs.city,
            "mailing_state": cobs.state,
            "mailing_postal_code": cobs.zip,
            "birthdate": cobs.birth_day,
            "account_name": identity.null_where(account, ~b2b_contact),
            "owner_id": rep_ids.take(c_owner),
            "lead_source": choice(sources, c_src),
            "created_date": c_created,
            "last_modified_date": c_modified,
        },
    )

    _activities(blk, rng, opp_ids, contact_ids, lead_ids_all, created_l, l_owner, convert)
    _quotes(blk, rng, opp_ids)
    _commissions(blk, rng, opp_ids)
    _referrals(blk, rng, contact_ids, c_created, crec.is_duplicate)


def _activities(
    blk: Block,
    rng: np.random.Generator,
    opp_ids: object,
    contact_ids: object,
    lead_ids: object,
    lead_created: np.ndarray,
    lead_owner: np.ndarray,
    converted: np.ndarray,
) -> None:
    ctx = blk.ctx
    now = ctx.now_us
    op = blk.state["opportunities"]
    fqn = "crm.activities"
    no = len(op["num"])
    n_opp_act = 2 + rng.poisson(
        np.where(
            op["type"]
            == allowed(ctx, "crm.opportunities", "opportunity_type").index("B2B Uniforms"),
            4.0,
            1.8,
        )
    )
    oo, _ = expand(n_opp_act)
    end = np.where(op["closed"], op["close_us"], now)[oo]
    a_us = ctx.cal.sample(rng, op["created"][oo], np.maximum(end, op["created"][oo] + HOUR))
    nl = len(lead_created)
    n_lead_act = np.where(converted, 0, rng.poisson(1.3, nl))
    lo_, _ = expand(n_lead_act)
    l_us = ctx.cal.sample(
        rng, lead_created[lo_], np.minimum(lead_created[lo_] + 60 * US_PER_DAY, now)
    )
    n = len(oo) + len(lo_)
    is_opp = np.r_[np.ones(len(oo), bool), np.zeros(len(lo_), bool)]
    ts = np.r_[a_us, l_us]
    types, at = enum_draw(
        rng,
        ctx,
        fqn,
        "activity_type",
        {
            "Call": 0.35,
            "Email": 0.3,
            "Meeting": 0.1,
            "Fitting Appointment": 0.12,
            "Proposal Sent": 0.06,
            "Demo": 0.07,
        },
        n,
    )
    outcomes, oc = enum_draw(
        rng,
        ctx,
        fqn,
        "outcome",
        {
            "Completed": 0.45,
            "No Answer": 0.12,
            "Left Voicemail": 0.1,
            "Rescheduled": 0.08,
            "Positive": 0.17,
            "Negative": 0.08,
        },
        n,
    )
    subjects = {
        "Call": "Follow-up call",
        "Email": "Sent fit guide and catalogue",
        "Meeting": "Account review meeting",
        "Fitting Appointment": "Fitting appointment at store",
        "Proposal Sent": "Proposal sent",
        "Demo": "FitMap demo",
    }
    subj = np.asarray([subjects.get(t, t) for t in types], dtype=object)[at]
    dur_by_type = np.asarray(
        [
            {
                "Call": 15,
                "Email": 0,
                "Meeting": 45,
                "Fitting Appointment": 40,
                "Proposal Sent": 0,
                "Demo": 30,
            }.get(t, 10)
            for t in types
        ]
    )
    dur = np.clip(np.rint(dur_by_type[at] * rng.uniform(0.5, 2.0, n)), 0, 480).astype(np.int64)
    opp_idx = np.r_[oo, np.zeros(len(lo_), np.int64)]
    lead_idx = np.r_[np.zeros(len(oo), np.int64), lo_]
    rep = np.r_[op["rep"][oo], lead_owner[lo_]]
    srt = np.argsort(ts, kind="stable")
    is_opp, ts, at, oc, subj, dur, opp_idx, lead_idx, rep = (
        x[srt] for x in (is_opp, ts, at, oc, subj, dur, opp_idx, lead_idx, rep)
    )
    contact_src = op["contact"][opp_idx] if no else np.zeros(n, np.int64)
    blk.add(
        fqn,
        {
            "activity_id": make_ids("activity", ctx.take("activity", n)),
            "opportunity_id": make_ids(
                "opportunity", op["num"][opp_idx] if no else np.zeros(n, np.int64), is_opp
            ),
            "lead_id": _masked_take(lead_ids, lead_idx, ~is_opp),
            "contact_id": _masked_take(contact_ids, contact_src, is_opp),
            "owner_id": blk.world.reps["sales_rep_id"].to_arrow().take(rep),
            "activity_type": choice(types, at),
            "outcome": choice(outcomes, oc),
            "subject": subj,
            "duration_minutes": masked(dur, dur > 0),
            "activity_date": np.minimum(ts, now - 1),
        },
    )


def _masked_take(arr: object, idx: np.ndarray, valid: np.ndarray) -> object:
    """``arr[idx]`` with nulls where ``valid`` is False."""
    import pyarrow as pa

    assert isinstance(arr, pa.Array)
    if len(arr) == 0:
        return pa.nulls(len(idx), type=arr.type)
    return arr.take(pa.array(np.asarray(idx, dtype=np.int64), mask=~np.asarray(valid, bool)))


def _quotes(blk: Block, rng: np.random.Generator, opp_ids: object) -> None:
    ctx = blk.ctx
    now = ctx.now_us
    op = blk.state["opportunities"]
    stage_names = allowed(ctx, "crm.opportunities", "stage_name")
    has = op["proposal_us"] >= 0
    base = np.flatnonzero(has)
    extra = base[rng.random(len(base)) < 0.2]
    qo = np.r_[base, extra]
    is_old = np.r_[np.zeros(len(base), bool), np.ones(len(extra), bool)]
    n = len(qo)
    statuses = allowed(ctx, "crm.quotes", "status")
    Q = {s: statuses.index(s) for s in statuses}
    st_now = op["stage"][qo]
    status = np.where(
        st_now == stage_names.index("Closed Won"),
        Q["Accepted"],
        np.where(st_now == stage_names.index("Closed Lost"), Q["Rejected"], Q["Sent"]),
    )
    sent = op["proposal_us"][qo] - np.where(is_old, rng.integers(2, 10, n) * US_PER_DAY, 0)
    status = np.where(is_old, Q["Expired"], status)
    draft = ~is_old & (status == Q["Sent"]) & (rng.random(n) < 0.1)
    status = np.where(draft, Q["Draft"], status)
    disc = np.round(np.where(rng.random(n) < 0.6, rng.uniform(0, 25, n), 0.0), 2)
    amount = np.round(op["amount"][qo] * (1 - disc / 100), 2)
    modified = np.where(
        status == Q["Accepted"],
        op["close_us"][qo],
        np.where(status == Q["Rejected"], op["close_us"][qo], sent + HOUR),
    )
    modified = np.where(is_old, sent + 30 * US_PER_DAY, modified)
    modified = np.minimum(np.maximum(modified, sent), now - 1)
    n_prod = len(blk.world.products)
    blk.add(
        "crm.quotes",
        {
            "quote_id": make_ids("quote", ctx.take("quote", n)),
            "opportunity_id": opp_ids.take(qo),
            "product_id": choice(
                blk.world.products["product_id"].to_list(),
                rng.integers(0, n_prod, n),
                rng.random(n) < 0.9,
            ),
            "quoted_amount": amount,
            "discount_percent": disc,
            "status": choice(statuses, status),
            "sent_date": masked(sent // US_PER_DAY, ~draft),
            "expiration_date": masked(sent // US_PER_DAY + 30, ~draft),
            "last_modified_date": modified,
        },
    )


def commission_rows(
    ctx: Ctx, reps: pl.DataFrame, rng: np.random.Generator, opp_rows: dict[str, np.ndarray]
) -> dict[str, object]:
    """Commission lines for won deals: amount = the owner's rate x the won amount."""
    now = ctx.now_us
    rep = opp_rows["rep"]
    n = len(rep)
    rate = reps["commission_rate"].to_numpy()[rep]
    amount = opp_rows["amount"]
    close = opp_rows["close_us"]
    ctypes = allowed(ctx, "crm.commissions", "commission_type")
    otypes = allowed(ctx, "crm.opportunities", "opportunity_type")
    sources = allowed(ctx, "crm.opportunities", "lead_source")
    t = opp_rows["type"]
    ct = np.where(
        opp_rows["src"] == sources.index("Referral"),
        ctypes.index("Referral"),
        np.where(
            t == otypes.index("Upsell"),
            ctypes.index("Upsell"),
            np.where(
                t == otypes.index("Cross-sell"),
                ctypes.index("Cross-Sell"),
                ctypes.index("New Account"),
            ),
        ),
    )
    month = (close // US_PER_DAY).astype("datetime64[D]").astype("datetime64[M]")
    pay_day = (month + 2).astype("datetime64[D]").astype(np.int64) - 1  # last day of next month
    paid = pay_day * US_PER_DAY < now
    period = np.datetime_as_string(month, unit="M").astype(object)
    return {
        "commission_id": make_ids("commission", ctx.take("commission", n)),
        "sales_rep_id": reps["sales_rep_id"].to_arrow().take(rep),
        "opportunity_id": make_ids("opportunity", opp_rows["num"]),
        "commission_type": choice(ctypes, ct),
        "commission_period": period,
        "base_amount": amount,
        "commission_rate": rate,
        "commission_amount": np.round(rate * amount, 2),
        "is_paid": paid,
        "payment_date": masked(pay_day, paid),
    }


def _commissions(blk: Block, rng: np.random.Generator, opp_ids: object) -> None:
    op = blk.state["opportunities"]
    won = np.flatnonzero(op["won"])
    rows = {k: op[k][won] for k in ("rep", "amount", "close_us", "type", "src", "num")}
    blk.add("crm.commissions", commission_rows(blk.ctx, blk.world.reps, rng, rows))


def _referrals(
    blk: Block,
    rng: np.random.Generator,
    contact_ids: object,
    c_created: np.ndarray,
    is_dup: np.ndarray,
) -> None:
    ctx = blk.ctx
    now = ctx.now_us
    prim = np.flatnonzero(~is_dup)
    if len(prim) < 2:
        return
    who = prim[rng.random(len(prim)) < 0.08]
    n = len(who)
    statuses, st = enum_draw(
        rng,
        ctx,
        "crm.referrals",
        "referral_status",
        {"Pending": 0.25, "Contacted": 0.2, "Converted": 0.4, "Expired": 0.15},
        n,
    )
    r_day = (
        ctx.cal.sample(
            rng, np.maximum(c_created[who], ctx.cal.start_us), np.full(n, now - US_PER_DAY)
        )
        // US_PER_DAY
    )
    conv = st == statuses.index("Converted")
    conv_day = r_day + rng.integers(5, 60, n)
    conv &= conv_day * US_PER_DAY < now
    st = np.where((st == statuses.index("Converted")) & ~conv, statuses.index("Contacted"), st)
    referred = prim[rng.integers(0, len(prim), n)]
    referred = np.where(
        referred == who, prim[(np.searchsorted(prim, who) + 1) % len(prim)], referred
    )
    reward = np.where(conv, rng.choice(np.array([25.0, 50.0, 100.0]), n), np.nan)
    blk.add(
        "crm.referrals",
        {
            "referral_id": make_ids("referral", ctx.take("referral", n)),
            "referrer_contact_id": contact_ids.take(who),
            "referred_contact_id": _masked_take(contact_ids, referred, conv),
            "referral_status": choice(statuses, st),
            "reward_amount": reward,
            "referral_date": r_day,
            "conversion_date": masked(conv_day, conv),
        },
    )


QUOTA_STRETCH = (1.1, 1.4)
"""Quota = the rep's expected monthly won amount x a stretch factor drawn per rep."""
OPPS_PER_CONTACT = 0.39 + 0.45 * 0.75 * 0.63
"""Expected opportunities per CRM person: 0.33 + 0.06 per contact, at least one for contacts
converted from a lead (45% are leads, 75% of those convert, 63% would otherwise have none)."""


def expected_monthly_won(ctx: Ctx, reps: pl.DataFrame, people: pl.DataFrame) -> np.ndarray:
    """Each rep's expected closed-won amount per month of the history, from the simulation's
    own parameters: the CRM people of the rep's territory (shared among its reps) times the
    opportunities per contact, B2B deals pooled on the B2B team, the stage-advance
    probabilities (source mix x rep skill) and the mean deal amount per type. Quotas built on
    it scale with the data, so attainment means the same at every scale."""
    terr_of_state = {s: f"T{i + 1:02d}" for i, (_, _, sts) in enumerate(TERRITORIES) for s in sts}
    crm_people = people.filter(pl.col("in_crm"))
    terr = crm_people["state"].str.to_uppercase().replace_strict(terr_of_state, default="T01")
    per_terr = terr.value_counts().rows()
    count_of = {t: c for t, c in per_terr}
    rep_terr = reps["territory_id"].to_numpy()
    reps_in = pl.Series(rep_terr).value_counts().rows()
    n_reps_of = {t: c for t, c in reps_in}
    people_share = np.asarray(
        [count_of.get(t, 0) / n_reps_of[t] for t in rep_terr], dtype=np.float64
    )
    mean_amt = {t: float(np.exp(mu + sd * sd / 2)) for t, (mu, sd) in TYPE_AMOUNT.items()}
    tw = sum(TYPE_WEIGHTS.values())
    b2b_w = TYPE_WEIGHTS["B2B Uniforms"] / tw
    other = sum(TYPE_WEIGHTS[t] / tw * mean_amt[t] for t in TYPE_WEIGHTS if t != "B2B Uniforms")
    b2b_team = reps["sales_team"].to_numpy() == "B2B Uniforms"
    b2b_pool = len(crm_people) * OPPS_PER_CONTACT * b2b_w * mean_amt["B2B Uniforms"]
    value = people_share * OPPS_PER_CONTACT * other  # non-B2B deals of the territory
    value = value + np.where(b2b_team, b2b_pool / max(int(b2b_team.sum()), 1), 0.0)
    sw = sum(SOURCE_WEIGHTS.values())
    src = sum(SOURCE_WEIGHTS[k] / sw * SOURCE_WIN[k] ** len(STAGE_FLOW) for k in SOURCE_WEIGHTS)
    win = float(np.prod(ADVANCE_BASE)) * src * reps["skill"].to_numpy()
    n_months = max(ctx.cal.n_days / 30.44, 1.0)
    return value * win / n_months


def _unit_hash(seed: int, key: np.ndarray) -> np.ndarray:
    """A uniform [0, 1) number per integer key (splitmix64), the same in every load."""
    with np.errstate(over="ignore"):
        z = np.asarray(key, dtype=np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def quota_amounts(
    ctx: Ctx, reps: pl.DataFrame, people: pl.DataFrame | None, rep: np.ndarray, mon: np.ndarray
) -> np.ndarray:
    """Quota amounts of (rep, month) pairs: expected won amount x the rep's stretch x the
    month's seasonality, with a little month-to-month noise; rounded to 100."""
    # keyed by the seed only (not the load day): daily loads reproduce the backfill's stretch
    rng = np.random.default_rng([ctx.seed, stream_key("crm.quotas.stretch")])
    stretch = rng.uniform(*QUOTA_STRETCH, len(reps))
    if people is not None and len(people):
        base = expected_monthly_won(ctx, reps, people)
        # a territory without CRM people (tiny scales) still gets a token quota, not zero
        positive = base[base > 0]
        base = np.maximum(base, 0.25 * float(np.median(positive)) if len(positive) else 100.0)
    else:  # no people known: the old fixed team quotas
        base = np.array([60_000.0, 150_000.0, 80_000.0, 40_000.0])[reps["team_idx"].to_numpy()]
        stretch = np.ones(len(reps))
    first = mon.astype("datetime64[D]").astype(np.int64)
    last = (mon + 1).astype("datetime64[D]").astype(np.int64)
    lo = np.clip(first - ctx.cal.grid_lo, 0, len(ctx.cal.cum) - 1)
    hi = np.clip(last - ctx.cal.grid_lo, 0, len(ctx.cal.cum) - 1)
    seasonal = (ctx.cal.cum[hi] - ctx.cal.cum[lo]) / 30.44
    ym = mon.astype(np.int64)
    noise = 0.95 + 0.1 * _unit_hash(ctx.seed, reps["rep_num"].to_numpy()[rep] * 10_000 + ym)
    amount = base[rep] * stretch[rep] * seasonal * noise
    return np.maximum(np.round(amount / 100) * 100, 100.0)


def quotas(ctx: Ctx, reps: pl.DataFrame, people: pl.DataFrame | None = None) -> dict[str, object]:
    """One quota per rep per month of the history (from the hire month on), proportional to the
    rep's expected won amount (see ``expected_monthly_won``)."""
    months = np.arange(np.datetime64(ctx.cal.start, "M"), np.datetime64(ctx.as_of, "M") + 1)
    hire_m = reps["hire_day"].to_numpy().astype("datetime64[D]").astype("datetime64[M]")
    nr, nm = len(reps), len(months)
    rep = np.repeat(np.arange(nr), nm)
    mon = np.tile(months, nr)
    keep = mon >= hire_m[rep]
    rep, mon = rep[keep], mon[keep]
    amount = quota_amounts(ctx, reps, people, rep, mon)
    start = mon.astype("datetime64[D]").astype(np.int64)
    end = (mon + 1).astype("datetime64[D]").astype(np.int64) - 1
    rep_nums = reps["rep_num"].to_numpy()[rep]
    ym = mon.astype(np.int64)
    qnum = rep_nums * 10_000 + (ym // 12 + 1970 - 2000) * 100 + ym % 12 + 1
    ctx.counters["quota"] = max(ctx.counters.get("quota", 0), int(qnum.max(initial=0)))
    return {
        "quota_id": make_ids("quota", qnum),
        "sales_rep_id": reps["sales_rep_id"].to_arrow().take(rep),
        "period_start": start,
        "period_end": end,
        "quota_amount": amount,
    }
