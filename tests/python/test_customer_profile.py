"""The customer profile columns of mart_customer_360, each recomputed here from its rule (the seeds
and vars) and from silver, staging or the conformed facts, never from the mart's own
intermediate models: completeness, age bracket and life stage, communication preferences,
relationship strength, engagement level, the predicted next visit and the next best action's
confidence. And the segment migration, recomputed from the history tables."""

from __future__ import annotations

import csv
import hashlib
import itertools
import math
import statistics
from collections import defaultdict
from datetime import date, timedelta

import pytest
import yaml

from consent_records import latest_consent
from engagement_lake.config import PROJECT_ROOT

UNKNOWN = "0" * 32


def _vars() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]


def _seed(name: str) -> list[dict]:
    with (PROJECT_ROOT / "seeds" / "marts" / f"{name}.csv").open() as handle:
        return list(csv.DictReader(handle))


def _key(customer_id: str) -> str:
    return hashlib.md5(customer_id.encode()).hexdigest()


def _round_half_away(x: float) -> int:
    return math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)


@pytest.fixture(scope="module")
def mart(lake) -> dict[str, dict]:
    con = lake.connect()
    try:
        cur = con.execute("select * from gold.mart_customer_360")
        names = [d[0] for d in cur.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def as_of(lake) -> date:
    con = lake.connect()
    try:
        return con.execute(
            "select max(cast(_loaded_at as date)) from staging.stg_shop__orders"
        ).fetchone()[0]
    finally:
        con.close()


def test_every_golden_customer_keeps_a_profile_row(con, mart):
    golden = con.execute("select count(*) from silver.customer_golden").fetchone()[0]
    assert len(mart) == golden
    unknown_birth = con.execute(
        "select count(*) from silver.customer_golden where birth_date is null"
    ).fetchone()[0]
    assert unknown_birth > 0, "the test lake should have customers without a birth date"
    assert sum(1 for r in mart.values() if r["age_bracket"] is None) >= unknown_birth


def test_profile_completeness_is_the_share_of_seeded_attributes(con, mart):
    attributes = [r["attribute"] for r in _seed("profile_attributes")]
    rows = con.execute(f"select customer_id, {', '.join(attributes)} from silver.customer_golden")
    shares = []
    for customer_id, *values in rows.fetchall():
        expected = sum(v is not None for v in values) / len(attributes)
        got = mart[_key(customer_id)]["profile_completeness"]
        assert got == pytest.approx(expected, abs=5e-5), customer_id
        shares.append(expected)
    assert 0 < min(shares) < max(shares) == 1


def test_age_bracket_and_life_stage_follow_the_seed(con, mart, as_of):
    brackets = _seed("age_brackets")
    seen = set()
    for customer_id, birth in con.execute(
        "select customer_id, birth_date from silver.customer_golden"
    ).fetchall():
        row = mart[_key(customer_id)]
        if birth is None or birth > as_of:
            assert (row["age_years"], row["age_bracket"], row["life_stage"]) == (None,) * 3
            continue
        age = as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))
        bracket = next(
            b
            for b in brackets
            if int(b["min_age"]) <= age and (not b["max_age"] or age <= int(b["max_age"]))
        )
        assert row["age_years"] == age, customer_id
        assert (row["age_bracket"], row["life_stage"]) == (
            bracket["age_bracket"],
            bracket["life_stage"],
        ), customer_id
        seen.add(bracket["age_bracket"])
    assert len(seen) >= 4


def test_communication_preferences_follow_consent(con, mart):
    shop, subscribers = latest_consent(con)
    allowed = set(_vars()["email_contactable_statuses"])
    outcomes = defaultdict(int)
    for customer_id, email in con.execute(
        "select customer_id, email from silver.customer_golden"
    ).fetchall():
        row = mart[_key(customer_id)]
        opt_in, channel = shop.get(customer_id, (None, None))
        (status,) = subscribers.get(customer_id, (None,))
        consent = (status in allowed) if status is not None else bool(opt_in)
        expected = email is not None and consent
        assert (row["has_marketing_opt_in"], row["preferred_channel"]) == (opt_in, channel)
        assert row["email_subscription_status"] == status, customer_id
        assert row["is_email_contactable"] == expected, customer_id
        outcomes[(status is not None, expected)] += 1
    # every branch of the rule is exercised: subscribers and shop-only customers, both outcomes
    assert all(outcomes[(s, e)] > 0 for s in (True, False) for e in (True, False)), outcomes


def _touchpoints(con) -> dict[str, set[tuple[str, date]]]:
    """customer_key -> {(touchpoint, day)}: every interaction, read from the facts and, for store
    visits and loyalty points, from staging through the crosswalk."""
    types = "', '".join(_vars()["health_loyalty_entry_types"])
    queries = {
        "order": "select customer_key, order_date from gold.fct_orders where not is_cancelled",
        "web_session": "select customer_key, session_date from gold.fct_web_sessions",
        "email_engagement": (
            "select customer_key, event_date from gold.fct_email_events where is_open or is_click"
        ),
        "support_ticket": "select customer_key, created_date from gold.fct_support_tickets",
        "product_review": "select customer_key, review_date from gold.fct_product_reviews",
        "fitmap_scan": "select customer_key, scan_date from gold.fct_fitmap_scans",
        "store_visit": """
            select x.customer_id, cast(v.visited_at as date) from staging.stg_shop__store_visits v
            join silver.customer_xref x on x.source_system = 'shop' and x.source_id = v.customer_id
        """,
        "loyalty_activity": f"""
            select x.customer_id, cast(l.entry_at as date) from staging.stg_loyalty__points_ledger l
            join silver.customer_xref x on x.source_system = 'loyalty' and x.source_id = l.member_id
            where l.entry_type in ('{types}')
        """,
    }
    found: dict[str, set[tuple[str, date]]] = defaultdict(set)
    for touchpoint, sql in queries.items():
        by_id = touchpoint in ("store_visit", "loyalty_activity")
        for who, day in con.execute(sql).fetchall():
            customer_key = _key(who) if by_id else who
            if customer_key != UNKNOWN and day is not None:
                found[customer_key].add((touchpoint, day))
    return found


def test_relationship_engagement_and_next_visit(con, mart, as_of):
    rules = _vars()
    seed = {r["touchpoint"]: r["is_visit"] == "true" for r in _seed("relationship_touchpoints")}
    levels = sorted(_seed("engagement_levels"), key=lambda r: -float(r["min_score"]))
    weights = rules["relationship_strength_weights"]
    window_start = as_of - timedelta(days=rules["engagement_window_days"])
    touchpoints = _touchpoints(con)
    signup = dict(
        con.execute(
            "select customer_key, signup_date from gold.dim_customer where customer_key <> ?",
            [UNKNOWN],
        ).fetchall()
    )
    predicted = 0
    for customer_key, row in mart.items():
        events = {(t, d) for t, d in touchpoints.get(customer_key, ()) if t in seed and d <= as_of}
        used = {t for t, _ in events}
        active = {t for t, d in events if d > window_start}
        last = max((d for _, d in events), default=None)
        tenure_days = max(0, (as_of - signup[customer_key]).days) if signup[customer_key] else 0
        factors = {
            "tenure": min(1.0, tenure_days / rules["relationship_tenure_full_days"]),
            "breadth": len(used) / len(seed),
            "recency": 0.0
            if last is None
            else max(0.0, 1 - (as_of - last).days / rules["relationship_recency_horizon_days"]),
        }
        strength = 100 * sum(weights[k] * v for k, v in factors.items()) / sum(weights.values())
        score = 100 * len(active) / len(seed)
        level = next(lv["engagement_level"] for lv in levels if score >= float(lv["min_score"]))
        assert row["relationship_strength"] == pytest.approx(strength, abs=0.051), customer_key
        assert row["touchpoints_used"] == len(used)
        assert row["last_interaction_date"] == last
        assert row["engagement_score"] == pytest.approx(score, abs=0.051)
        assert row["engagement_level"] == level

        visits = sorted({d for t, d in events if seed[t]})
        assert row["visit_day_count"] == len(visits)
        assert row["last_visit_date"] == (visits[-1] if visits else None)
        if len(visits) >= rules["next_visit_min_visits"]:
            gaps = [(b - a).days for a, b in itertools.pairwise(visits)]
            gap = _round_half_away(statistics.median(gaps))
            assert row["median_visit_gap_days"] == gap, customer_key
            assert row["next_visit_predicted_date"] == visits[-1] + timedelta(days=gap)
            predicted += 1
        else:
            assert row["median_visit_gap_days"] is None
            assert row["next_visit_predicted_date"] is None
    assert predicted > len(mart) / 2
    assert len({r["engagement_level"] for r in mart.values()}) == len(levels)


def test_next_best_action_confidence_is_the_acceptance_rate(con, mart):
    minimum = _vars()["nba_confidence_min_decided_offers"]
    decided: dict[str, list[bool]] = defaultdict(list)
    for action, outcome in con.execute(
        "select action_type, outcome from staging.stg_mlops__next_best_actions"
    ).fetchall():
        if outcome is not None:
            decided[action].append(outcome == "accepted")
    shown = 0
    for row in mart.values():
        taken = decided.get(row["next_best_action"], [])
        if len(taken) >= minimum:
            expected = sum(taken) / len(taken)
            assert row["next_best_action_confidence"] == pytest.approx(expected, abs=5e-5)
            shown += 1
        else:
            assert row["next_best_action_confidence"] is None
    assert shown > 0


def expected_migration(con) -> dict[tuple, int]:
    """(segment_kind, month, from, to) -> customers: month-end snapshots of both histories,
    consecutive months paired, recomputed here."""
    snapshots: dict[tuple[str, date], dict[str, str]] = defaultdict(dict)
    for kind, sql in (
        (
            "rfm",
            "select as_of_date, customer_id, rfm_segment from history.customer_segment_history",
        ),
        (
            "clv_decile",
            "select as_of_date, customer_id, cast(clv_decile as varchar) "
            "from history.customer_value_history",
        ),
    ):
        for as_of_date, customer_id, segment in con.execute(sql).fetchall():
            snapshots[(kind, as_of_date)][customer_id] = segment
    expected: dict[tuple, int] = defaultdict(int)
    for kind in ("rfm", "clv_decile"):
        month_end: dict[date, date] = {}
        for k, d in snapshots:
            if k == kind:
                month = d.replace(day=1)
                month_end[month] = max(month_end.get(month, d), d)
        months = sorted(month_end)
        for before, month in itertools.pairwise(months):
            old, new = snapshots[(kind, month_end[before])], snapshots[(kind, month_end[month])]
            for customer_id in old.keys() & new.keys():
                expected[(kind, month, old[customer_id], new[customer_id])] += 1
    return dict(expected)


def check_migration(con) -> dict[tuple, int]:
    expected = expected_migration(con)
    got = {
        (kind, month, f, t): (n, total, share)
        for kind, month, f, t, n, total, share in con.execute(
            "select segment_kind, migration_month, from_segment, to_segment, customers_moved, "
            "from_segment_customers, share_of_from_segment from gold.mart_segment_migration"
        ).fetchall()
    }
    assert {k: v[0] for k, v in got.items()} == expected
    for (kind, month, f, _), (n, total, share) in got.items():
        assert total == sum(v for k, v in expected.items() if k[:3] == (kind, month, f))
        assert share == pytest.approx(n / total, abs=5e-5)
    return expected


def test_segment_migration_matches_the_history(con):
    check_migration(con)


SYNTHETIC_MONTH_ENDS = [date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]
"""Month ends before the test lake's single as-of date (2026-06-30), given a made-up history."""


@pytest.fixture(scope="module")
def migrated(lake, module_dir):
    """A copy of the test lake whose RFM and CLV histories gain four earlier month ends (each
    customer's segment shuffled deterministically between its own, Champions and At Risk, the
    decile between its own and its neighbours), and mart_segment_migration rebuilt on it: the
    test lake itself has a single load, so nothing to migrate."""
    import shutil

    import duckdb

    from engagement_lake.config import RunConfig
    from engagement_lake.dbt_runner import build

    root = module_dir("migration")
    warehouse = root / "warehouse.duckdb"
    shutil.copy2(lake.cfg.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    for day in SYNTHETIC_MONTH_ENDS:
        pick = f"abs(hash(customer_id || '{day}')) % 3"
        con.execute(
            f"""
            insert into history.customer_segment_history
            select * replace (
                cast('{day}' as date) as as_of_date, false as is_latest,
                case {pick} when 0 then rfm_segment when 1 then 'Champions' else 'At Risk' end
                    as rfm_segment)
            from history.customer_segment_history where is_latest
            """
        )
        con.execute(
            f"""
            insert into history.customer_value_history
            select * replace (
                cast('{day}' as date) as as_of_date, false as is_latest,
                cast(least(10, greatest(1, clv_decile + {pick} - 1)) as integer) as clv_decile)
            from history.customer_value_history where is_latest
            """
        )
    con.close()
    cfg = RunConfig(lake.cfg.data_dir, warehouse, target_dir=root / "target")
    assert build(cfg, ["mart_segment_migration"], progress=False).success
    return warehouse


def test_segment_migration_over_months(migrated):
    import duckdb

    con = duckdb.connect(str(migrated), read_only=True)
    try:
        expected = check_migration(con)
    finally:
        con.close()
    months = {k[1] for k in expected}
    # Dec is the first snapshot; Jan-Mar and Jun (from Mar: the history has no Apr or May) move
    assert months == {date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 6, 1)}
    assert any(k[2] != k[3] for k in expected) and any(k[2] == k[3] for k in expected)
    assert {k[0] for k in expected} == {"rfm", "clv_decile"}


def test_cookbook_where_did_last_quarters_champions_go(migrated):
    import json

    import duckdb

    from engagement_lake.analyst import run_cookbook

    con = duckdb.connect(str(migrated), read_only=True)
    try:
        expected_moves = expected_migration(con)
    finally:
        con.close()
    # the as-of date is 2026-06-30: last quarter is Q1 2026, its moves are Jan, Feb and Mar's
    quarter = {date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)}
    moved: dict[str, int] = defaultdict(int)
    for (kind, month, f, t), n in expected_moves.items():
        if kind == "rfm" and f == "Champions" and month in quarter:
            moved[t] += n
    total = sum(moved.values())
    rows = json.loads(
        run_cookbook(
            migrated, "q17_where_did_last_quarters_champions_go", PROJECT_ROOT / "analyses", "json"
        )
    )
    assert {r["to_segment"]: r["customers_moved"] for r in rows} == dict(moved)
    assert len(moved) > 1 and total > 0
    for r in rows:
        assert r["share_of_champions"] == pytest.approx(moved[r["to_segment"]] / total, abs=5e-5)
