"""Silver sales context: activity_enriched and commission_reconciled recomputed from staging.

Every activity keeps its row and gets the stage its opportunity was in at that moment, the rep's
team and the golden customer; every commission line (and every closed-won opportunity without
one) gets the reconciliation status of its rule, with the tolerance of
var commission_amount_tolerance."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml

from engagement_lake.config import PROJECT_ROOT


def _tolerance() -> Decimal:
    rules = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]
    return Decimal(str(rules["commission_amount_tolerance"]))


def test_activity_enriched_carries_stage_rep_and_customer(con):
    activities = con.execute(
        "select activity_id, opportunity_id, contact_id, owner_id, activity_at "
        "from staging.stg_crm__activities"
    ).fetchall()
    history: dict[str, list[tuple]] = {}
    for opportunity_id, entered_at, history_id, stage in con.execute(
        "select opportunity_id, entered_at, history_id, stage "
        "from staging.stg_crm__opportunity_stage_history"
    ).fetchall():
        history.setdefault(opportunity_id, []).append((entered_at, history_id, stage))
    teams = dict(
        con.execute("select sales_rep_id, sales_team from staging.stg_crm__sales_reps").fetchall()
    )
    by_contact = dict(
        con.execute(
            "select source_id, customer_id from silver.customer_xref "
            "where source_system = 'crm_contact'"
        ).fetchall()
    )
    opportunity_customer = dict(
        con.execute("select opportunity_id, customer_id from silver.opportunity_golden").fetchall()
    )
    got = {
        r[0]: r[1:]
        for r in con.execute(
            "select activity_id, opportunity_stage_at_activity, sales_team, customer_id "
            "from silver.activity_enriched"
        ).fetchall()
    }
    assert len(got) == len(activities)
    staged = 0
    for activity_id, opportunity_id, contact_id, owner_id, at in activities:
        before = [h for h in history.get(opportunity_id, []) if h[0] <= at]
        stage = max(before)[2] if before else None
        customer = by_contact.get(contact_id) or opportunity_customer.get(opportunity_id)
        assert got[activity_id] == (stage, teams.get(owner_id), customer), activity_id
        staged += stage is not None
    assert staged > len(activities) / 2


def test_commission_reconciliation_statuses(con):
    tolerance = _tolerance()
    won = {
        opportunity_id: amount
        for opportunity_id, amount in con.execute(
            "select opportunity_id, amount from staging.stg_crm__opportunities "
            "where stage = 'Closed Won'"
        ).fetchall()
    }
    expected: dict[tuple, str] = {}
    paid: set[str] = set()
    for commission_id, opportunity_id, base in con.execute(
        "select commission_id, opportunity_id, base_amount from staging.stg_crm__commissions"
    ).fetchall():
        paid.add(opportunity_id)
        if opportunity_id not in won:
            status = "commission_without_win"
        elif abs(base - won[opportunity_id]) <= tolerance:
            status = "matched"
        else:
            status = "amount_mismatch"
        expected[(commission_id, opportunity_id)] = status
    for opportunity_id in won.keys() - paid:
        expected[(None, opportunity_id)] = "missing_commission"
    got = {
        (c, o): s
        for c, o, s in con.execute(
            "select commission_id, opportunity_id, reconciliation_status "
            "from silver.commission_reconciled"
        ).fetchall()
    }
    assert got == expected
    assert len(got) > 10


def test_the_tolerance_is_a_declared_var():
    assert _tolerance() == pytest.approx(Decimal("0.01"))
