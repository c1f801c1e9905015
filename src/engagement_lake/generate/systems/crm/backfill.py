"""The CRM's backfill: contacts, leads (with duplicates), opportunities moving through stages,
activities, quotes, commissions and referrals for one block of people over all history.

Every stage entered leaves a stage-history row; opportunities still open at the as-of date stop
where they are, with the probability their rep reads from recent activity and time in stage.
Won deals pay commission = rep rate x amount. The true multipliers are in
``_truth/sales_params.json`` and ``_truth/sales_reps.parquet``. What a lead, a deal or an
activity is comes from the builders the daily loads use too (``leads``, ``opportunities``,
``activities``), with the parameters of ``params``.
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
from engagement_lake.generate.systems.crm import activities, compensation
from engagement_lake.generate.systems.crm.activities import deal_activity_times
from engagement_lake.generate.systems.crm.leads import (
    campaign_of,
    convert_probability,
    lead_attributes,
    lead_scores,
    owner_for_state,
)
from engagement_lake.generate.systems.crm.opportunities import (
    deal_probability,
    deal_terms,
    recent_counts,
)
from engagement_lake.generate.systems.crm.params import (
    ADVANCE_BASE,
    B2B_CYCLE,
    HOUR,
    OWNER_FROM_CONTACT_SHARE,
    SOURCE_CYCLE,
    SOURCE_WEIGHTS,
    SOURCE_WIN,
    STAGE_DAYS,
    STAGE_FLOW,
)
from engagement_lake.generate.vocab import COMPANY_KINDS, COMPANY_WORDS
from engagement_lake.generate.world import pick


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
    l_score = lead_scores(rng, nl)
    convert = (
        in_crm[lead_person] & ~lrec.is_duplicate & (rng.random(nl) < convert_probability(l_score))
    )
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
    c_owner = owner_for_state(reps, blk.people["state"].gather(cperson), rng)
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
    terms = deal_terms(ctx, rng, no)
    types, o_type = terms["types"], terms["type"]
    b2b = o_type == types.index("B2B Uniforms")
    territory_rep = owner_for_state(reps, blk.people["state"].gather(cperson[oc]), rng, b2b)
    o_rep = np.where(b2b | (rng.random(no) >= OWNER_FROM_CONTACT_SHARE), territory_rep, c_owner[oc])
    o_src = c_src[oc]
    src_names = np.asarray(sources)[o_src]
    win_mult = pl.Series(src_names).replace_strict(SOURCE_WIN, default=1.0).to_numpy()
    cyc_mult = pl.Series(src_names).replace_strict(SOURCE_CYCLE, default=1.0).to_numpy()
    skill = reps["skill"].to_numpy()[o_rep]
    speed = reps["speed"].to_numpy()[o_rep]
    amount0, revised = terms["amount0"], terms["revised"]

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
        mean_days = STAGE_DAYS[k] * cyc_mult * speed * np.where(b2b, B2B_CYCLE, 1.0)
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
    # the deal's activities are drawn first: the rep's probability reads the recent ones
    deal_acts = deal_activity_times(
        ctx, rng, {"type": o_type, "closed": is_closed, "close_us": closed_us, "created": o_created}
    )
    names = np.asarray(stage_names, dtype=object)
    o_prob = deal_probability(
        ctx,
        names[cur],
        onums,
        recent_counts(np.arange(no), np.full(no, now), *deal_acts),
        (now - t) / US_PER_DAY,
    )
    hist_prob = deal_probability(
        ctx,
        names[hist_s],
        onums[hist_o],
        recent_counts(hist_o, hist_t, *deal_acts),
        np.zeros(len(hist_o)),
    )
    camp = blk.world.campaigns
    email_src = sources.index("Email Campaign")
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
            "probability": o_prob,
            "lead_source": choice(sources, o_src),
            "campaign_id": campaign_of(camp, o_created, o_src == email_src),
            "competitive_threat": terms["threat"],
            "loss_reason": choice(terms["reasons"], terms["loss"], cur == S["Closed Lost"]),
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
            "probability": hist_prob,
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
    obs = identity.observe(rng, blk.people, lrec, lp, need_contact=True)
    attrs = lead_attributes(ctx, rng, reps, blk.people["state"].gather(lead_person), l_score)
    l_owner = attrs["owner"]
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
            "company": attrs["company"],
            "state": identity.null_where(obs.state, attrs["state_missing"]),
            "lead_source": choice(sources, l_src),
            "campaign_id": campaign_of(camp, created_l, l_src == email_src),
            "lead_score": attrs["lead_score"],
            "lead_grade": attrs["lead_grade"],
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

    activities.activities(
        blk, rng, deal_acts, contact_ids, lead_ids_all, created_l, l_owner, convert
    )
    activities.quotes(blk, rng, opp_ids)
    compensation.commissions(blk, rng, opp_ids)
    activities.referrals(blk, rng, contact_ids, c_created, crec.is_duplicate)
