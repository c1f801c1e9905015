"""Analyst marts: the health score is the weighted mean of its components with the active weight
profile of seeds/marts/health_weight_profiles.csv and the seeded health levels; RFM segments follow
the seed's rule order; segments and the next best action are assigned to everyone; the flow marts
honour their filters as of the as-of date."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import pytest
import yaml

from engagement_lake.config import PROJECT_ROOT

COMPONENTS = {
    "recency": "recency_component",
    "frequency": "frequency_component",
    "satisfaction": "satisfaction_component",
    "email": "email_component",
    "sentiment": "sentiment_component",
    "support_volume": "support_volume_component",
    "spending": "spending_component",
    "loyalty_engagement": "loyalty_engagement_component",
}
SEED_000_WEIGHTS = {
    "recency": 30,
    "frequency": 20,
    "satisfaction": 20,
    "email": 10,
    "sentiment": 10,
    "support_volume": 10,
}
"""The original six-component score: the standard profile, in percent."""
VALUE_AND_LOYALTY_WEIGHTS = {
    "recency": 25,
    "frequency": 20,
    "spending": 15,
    "satisfaction": 15,
    "email": 15,
    "loyalty_engagement": 10,
}


@functools.cache
def project_vars() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"]


def weight_profiles() -> dict[str, dict[str, float]]:
    """profile -> component -> weight (share), from the seed."""
    with (PROJECT_ROOT / "seeds" / "marts" / "health_weight_profiles.csv").open() as handle:
        profiles: dict[str, dict[str, float]] = {}
        for row in csv.DictReader(handle):
            profiles.setdefault(row["profile"], {})[row["component"]] = float(row["weight"])
    return profiles


def test_health_weight_profiles_cover_every_component_and_sum_to_one():
    profiles = weight_profiles()
    assert project_vars()["health_weight_profile"] == "standard"
    for name, weights in profiles.items():
        assert set(weights) == set(COMPONENTS), name
        assert sum(weights.values()) == pytest.approx(1.0, abs=1e-12), name
        assert min(weights.values()) >= 0, name
    nonzero = {p: {k: round(100 * w) for k, w in ws.items() if w} for p, ws in profiles.items()}
    assert nonzero["standard"] == SEED_000_WEIGHTS
    assert nonzero["value_and_loyalty"] == VALUE_AND_LOYALTY_WEIGHTS


def test_health_score_is_the_weighted_mean_of_its_components(con):
    profile_in_use = project_vars()["health_weight_profile"]
    weights = weight_profiles()[profile_in_use]
    rows = con.execute(
        f"select health_score, health_weight_profile, {', '.join(COMPONENTS.values())} "
        "from gold.mart_customer_health"
    ).fetchall()
    assert len(rows) > 100
    for score, profile, *components in rows:
        assert profile == profile_in_use
        assert all(0 <= c <= 100 for c in components)
        expected = sum(weights[k] * c for k, c in zip(COMPONENTS, components, strict=True))
        # components are rounded to 0.1 in the mart, the score is rounded after weighting
        assert score == pytest.approx(expected, abs=0.11)
        assert 0 <= score <= 100


def test_new_health_components_follow_their_inputs(con):
    """Spending is the lifetime-revenue percentile; loyalty engagement counts the member's own
    ledger entries of the window, recomputed here from staging."""
    rules = project_vars()
    types = "', '".join(rules["health_loyalty_entry_types"])
    rows = con.execute(
        f"""
        with as_of as (
            select max(cast(_loaded_at as date)) as d from staging.stg_shop__orders
        ),
        entries as (
            select x.customer_id, count(*) as n
            from staging.stg_loyalty__points_ledger l
            join silver.customer_xref x
              on x.source_system = 'loyalty' and x.source_id = l.member_id
            cross join as_of
            where l.entry_type in ('{types}')
              and l.entry_at < as_of.d + 1
              and l.entry_at >= as_of.d - {int(rules["health_loyalty_window_days"])}
            group by 1
        ),
        revenue as (
            select x.customer_id, sum(o.total_amount) as revenue
            from staging.stg_shop__orders o
            join silver.customer_xref x
              on x.source_system = 'shop' and x.source_id = o.customer_id
            where o.status <> 'cancelled'
            group by 1
        )
        select h.loyalty_engagement_component, coalesce(e.n, 0),
               h.spending_component,
               100.0 * percent_rank() over (order by coalesce(r.revenue, 0))
        from gold.mart_customer_health h
        left join entries e using (customer_id)
        left join revenue r using (customer_id)
        """
    ).fetchall()
    full = rules["health_loyalty_full_activity_entries"]
    assert sum(1 for r in rows if r[1] > 0) > 10, "the test lake should have active members"
    for loyalty, n, spending, expected_spending in rows:
        assert loyalty == pytest.approx(100 * min(1, n / full), abs=0.051)
        assert spending == pytest.approx(expected_spending, abs=0.051)


def test_top_performer_benchmark(con):
    share = project_vars()["health_benchmark_top_share"]
    rows = con.execute(
        f"select health_score, is_top_performer, top_performer_average_score, "
        f"score_vs_top_performers, {', '.join('top_performer_' + c for c in COMPONENTS.values())},"
        f" {', '.join(COMPONENTS.values())} from gold.mart_customer_health"
    ).fetchall()
    n = len(rows)
    scores = sorted(r[0] for r in rows)
    # percent_rank: (number of customers scoring strictly less) / (n - 1)
    below = {s: sum(1 for t in scores if t < s) for s in set(scores)}
    top = [r for r in rows if below[r[0]] / (n - 1) >= 1 - share]
    assert {id(r) for r in top} == {id(r) for r in rows if r[1]}
    assert 0.05 * n < len(top) < 0.15 * n
    average = sum(r[0] for r in top) / len(top)
    k = len(COMPONENTS)
    for r in rows:
        assert r[2] == pytest.approx(average, abs=0.051)
        assert r[3] == pytest.approx(r[0] - average, abs=0.11)
        for i in range(k):
            expected = sum(t[4 + k + i] for t in top) / len(top)
            assert r[4 + i] == pytest.approx(expected, abs=0.051)
    assert min(r[0] for r in top) >= max(r[0] for r in rows if not r[1])


def test_health_levels_follow_seed_004(con):
    thresholds = {"EXCELLENT": 80, "GOOD": 60, "FAIR": 40, "POOR": 0}
    for level, low, high in con.execute(
        "select health_level, min(health_score), max(health_score) "
        "from gold.mart_customer_health group by 1"
    ).fetchall():
        assert low >= thresholds[level]
        above = [t for t in thresholds.values() if t > thresholds[level]]
        assert high < min(above, default=101)


def test_health_benchmarks(con):
    rows = con.execute(
        """
        select behavioural_segment, segment_average_score, avg(health_score),
               min(percentile_rank), max(percentile_rank)
        from gold.mart_customer_health group by 1, 2
        """
    ).fetchall()
    assert len(rows) > 1
    for _, segment_average, recomputed, low, high in rows:
        assert segment_average == pytest.approx(recomputed, abs=0.06)
        assert 0 <= low <= high <= 100


def _rfm_rules() -> list[dict]:
    with (PROJECT_ROOT / "seeds" / "marts" / "rfm_segments.csv").open() as handle:
        return sorted(csv.DictReader(handle), key=lambda r: int(r["rule_order"]))


def test_rfm_map_covers_every_cell_and_every_segment_is_reachable():
    rules = _rfm_rules()
    reached = set()
    for r in range(1, 6):
        for fm in range(1, 6):
            winner = next(
                rule["segment"]
                for rule in rules
                if int(rule["r_min"]) <= r <= int(rule["r_max"])
                and int(rule["fm_min"]) <= fm <= int(rule["fm_max"])
            )
            reached.add(winner)
    assert reached == {rule["segment"] for rule in rules}
    assert len(reached) == 10


def test_rfm_segments_in_the_lake_follow_the_rule_order(con):
    rules = _rfm_rules()
    rows = con.execute(
        "select recency_score, fm_score, frequency_score, monetary_score, rfm_segment "
        "from gold.mart_customer_rfm"
    ).fetchall()
    assert rows
    for r, fm, f, m, segment in rows:
        assert fm == int((f + m) / 2 + 0.5)
        expected = next(
            rule["segment"]
            for rule in rules
            if int(rule["r_min"]) <= r <= int(rule["r_max"])
            and int(rule["fm_min"]) <= fm <= int(rule["fm_max"])
        )
        assert segment == expected


def test_every_customer_has_a_stage_segment_and_action(con):
    missing = con.execute(
        """
        select count(*) from gold.mart_customer_360
        where lifecycle_stage is null or behavioural_segment is null
           or next_best_action is null or next_best_action_reason is null or health_level is null
        """
    ).fetchone()[0]
    assert missing == 0
    customers = con.execute("select count(*) from silver.customer_golden").fetchone()[0]
    assert con.execute("select count(*) from gold.mart_customer_360").fetchone()[0] == customers


def test_churn_probability_is_one_minus_p_alive(con):
    bad = con.execute(
        """
        select count(*) from gold.mart_customer_360 m
        join gold.fct_customer_value v using (customer_key)
        where abs(m.churn_probability - (1 - v.p_alive)) > 1e-9
        """
    ).fetchone()[0]
    assert bad == 0


def test_at_risk_customers_meet_the_flow_criteria(con):
    rows = con.execute(
        "select negative_tickets_60d, low_reviews_60d, lifetime_revenue "
        "from gold.mart_at_risk_customers"
    ).fetchall()
    for negative, low_reviews, value in rows:
        assert negative >= 2 or low_reviews >= 1
        assert value > 500


def test_opportunity_followups_are_stale_qualified_or_proposal(con):
    for stage, days in con.execute(
        "select stage, days_in_stage from gold.mart_opportunity_followups"
    ).fetchall():
        assert stage in ("Qualified", "Proposal") and days > 14


def test_review_queue_holds_only_new_low_reviews(con):
    rows = con.execute(
        "select rating, review_date, as_of_date, has_open_ticket, response_action "
        "from gold.mart_review_response_queue"
    ).fetchall()
    for rating, review_date, as_of, has_ticket, action in rows:
        assert rating <= 2 and 0 <= (as_of - review_date).days < 7
        assert action == ("notify_ticket_owner" if has_ticket else "create_ticket")


def test_review_queue_links_the_customers_open_ticket(con):
    """Every queued review's link recomputed from staging: the reviewer's open tickets (statuses
    var open_ticket_statuses, both sides resolved to golden customers through the crosswalk), the
    one about the reviewed order first, else the most recently opened."""
    rules = project_vars()
    (as_of,) = con.execute(
        "select max(cast(_loaded_at as date)) from staging.stg_reviews__product_reviews"
    ).fetchone()
    statuses = ", ".join(f"'{s}'" for s in rules["open_ticket_statuses"])
    open_tickets: dict[str, list[tuple]] = {}
    for golden, ticket_id, order_id, created_at, agent_id in con.execute(
        f"""
        select x.customer_id, t.ticket_id, t.order_id, t.created_at, t.agent_id
        from staging.stg_support__tickets t
        join silver.customer_xref x
          on x.source_system = 'support' and x.source_id = cast(t.requester_id as varchar)
        where t.status in ({statuses})
        """
    ).fetchall():
        open_tickets.setdefault(golden, []).append((ticket_id, order_id, created_at, agent_id))
    expected = {}
    for review_id, golden, order_id in con.execute(
        f"""
        select r.review_id, x.customer_id, r.order_id
        from staging.stg_reviews__product_reviews r
        left join silver.customer_xref x
          on x.source_system = 'shop' and x.source_id = r.customer_id
        where r.rating <= {rules["low_review_max_rating"]}
          and cast(r.submitted_at as date) > cast('{as_of}' as date) - {rules["review_queue_days"]}
          and cast(r.submitted_at as date) <= cast('{as_of}' as date)
        """
    ).fetchall():
        mine = sorted(
            open_tickets.get(golden, []),
            key=lambda t: (t[1] != order_id or order_id is None, -t[2].timestamp(), t[0]),
        )
        first = mine[0] if mine else (None, None, None, None)
        expected[review_id] = (first[0], first[3], len(mine), bool(mine) and first[1] == order_id)
    rows = con.execute(
        "select review_id, open_ticket_id, open_ticket_agent_id, open_ticket_count, "
        "is_ticket_on_reviewed_order from gold.mart_review_response_queue"
    ).fetchall()
    assert {r[0]: tuple(r[1:]) for r in rows} == expected
    # every link is an open ticket of the reviewer
    (wrong,) = con.execute(
        """
        select count(*)
        from gold.mart_review_response_queue q
        left join gold.fct_support_tickets t on q.open_ticket_id = t.ticket_id
        where q.open_ticket_id is not null
          and (t.ticket_id is null or not t.is_open or t.customer_key <> q.customer_key)
        """
    ).fetchone()
    assert wrong == 0


def test_fitmap_invitations_are_recent_buyers_without_a_scan(con):
    rows = con.execute(
        """
        select i.customer_key, i.last_order_date, i.as_of_date,
               (select count(*) from gold.fct_fitmap_scans s where s.customer_key = i.customer_key)
        from gold.mart_fitmap_invitations i
        """
    ).fetchall()
    assert rows, "the test lake should have someone to invite"
    for _, last_order, as_of, scans in rows:
        assert (as_of - last_order).days < 30 and scans == 0


def test_daily_summary_counts_match_the_facts(con):
    day, new_tickets, orders = con.execute(
        "select summary_date, new_tickets, orders from gold.mart_daily_engagement_summary "
        "order by new_tickets desc, summary_date limit 1"
    ).fetchone()
    assert (
        new_tickets
        == con.execute(
            "select count(*) from gold.fct_support_tickets where created_date = ?", [day]
        ).fetchone()[0]
    )
    assert (
        orders
        == con.execute(
            "select count(*) from gold.fct_orders where order_date = ? and not is_cancelled", [day]
        ).fetchone()[0]
    )


def test_seeds_are_where_the_rules_live():
    for name in ("rfm_segments", "segment_rules", "health_levels", "next_best_actions"):
        assert (Path(PROJECT_ROOT) / "seeds" / "marts" / f"{name}.csv").exists()
