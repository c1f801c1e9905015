"""The semantic layer (engagement_lake.semantic): every metric, computed by MetricFlow on the
serving file, equals a SQL computation written by hand over the gold tables; every dashboard
saved query answers; the working warehouse gives the same numbers as the serving file.

MetricFlow's engine is built once per file and every metric is asked in one query, so the whole
module costs a few seconds on top of the shared lake."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from engagement_lake.cli import main
from engagement_lake.config import PROJECT_ROOT
from engagement_lake.semantic import (
    SEMANTIC_MANIFEST,
    SemanticError,
    list_metrics,
    list_saved_queries,
    open_layer,
    query_metrics,
    run_saved_query,
)

REL = 1e-9

# Every metric written again by hand, ungrouped, over the gold tables. `gold.<table>` reads the
# same in the working warehouse (schema gold) and in the serving file (catalog gold).
ORDERS = "from gold.fct_orders where not is_cancelled"
EMAILS = "from gold.fct_email_events"
TICKETS = "from gold.fct_support_tickets"
REVIEWS = "from gold.fct_product_reviews"
TEXTS = "from gold.fct_customer_sentiment"
NPS = "from gold.fct_survey_responses where survey_type = 'NPS'"
C360 = "from gold.mart_customer_360"
COHORTS = "from gold.mart_cohort_retention where cohort_basis = 'first_order'"
VALUE = "from gold.fct_customer_value"
OPPS = "from gold.fct_sales_opportunities"
LEADS = "from gold.fct_sales_conversions"
CAC = "from gold.fct_customer_acquisition_cost"
RECS = "from gold.fct_product_recommendations"
NBA = "from gold.fct_next_best_action"
FITMAP_INVITES = "from gold.fct_fitmap_invitations"
FITMAP_DECIDED = f"{FITMAP_INVITES} where not was_fitmap_user and is_window_complete"
ASSIGN = "from gold.fct_experiment_assignments"
PERF = "from gold.fct_model_performance"
DRIFT = "from gold.fct_feature_drift where not is_baseline_month"
REP_MONTHS = (
    "from (select distinct sales_rep_key, commission_month_date, quota_amount, "
    "rep_month_won_amount from gold.fct_sales_commissions where quota_amount > 0)"
)
CATALOGUE = "(select count(*) from gold.dim_product where product_key <> repeat('0', 32))"


def _share(flag: str, source: str) -> str:
    return f"select count(*) filter (where {flag}) / count(*) {source}"


EXPECTED: dict[str, str] = {
    # sales
    "revenue": f"select sum(total_amount) {ORDERS}",
    "net_revenue": f"select sum(net_amount) {ORDERS}",
    "orders": f"select count(*) {ORDERS}",
    "average_order_value": f"select avg(total_amount) {ORDERS}",
    # e-mail (rates per e-mail sent)
    "emails_sent": f"select count(*) filter (where event_type = 'sent') {EMAILS}",
    "email_opens": f"select count(*) filter (where event_type = 'open') {EMAILS}",
    "email_clicks": f"select count(*) filter (where event_type = 'click') {EMAILS}",
    "email_conversions": f"select count(*) filter (where event_type = 'convert') {EMAILS}",
    "email_unsubscribes": f"select count(*) filter (where event_type = 'unsubscribe') {EMAILS}",
    **{
        f"email_{rate}_rate": f"select count(*) filter (where event_type = '{event}') / "
        f"count(*) filter (where event_type = 'sent') {EMAILS}"
        for rate, event in [
            ("open", "open"),
            ("click", "click"),
            ("conversion", "convert"),
            ("unsubscribe", "unsubscribe"),
        ]
    },
    # support
    "ticket_volume": f"select count(*) {TICKETS}",
    "average_satisfaction": f"select avg(satisfaction_score) {TICKETS}",
    "satisfaction_score_total": f"select sum(satisfaction_score) {TICKETS}",
    "satisfaction_responses": f"select count(satisfaction_score) {TICKETS}",
    "average_resolution_hours": f"select avg(resolution_hours) {TICKETS}",
    "resolution_hours_total": f"select sum(resolution_hours) {TICKETS}",
    "resolved_tickets": f"select count(resolution_hours) {TICKETS}",
    "average_first_response_minutes": f"select avg(first_response_minutes) {TICKETS}",
    "first_response_minutes_total": f"select sum(first_response_minutes) {TICKETS}",
    "answered_tickets": f"select count(first_response_minutes) {TICKETS}",
    # reviews and sentiment
    "reviews": f"select count(*) {REVIEWS}",
    "average_rating": f"select avg(rating) {REVIEWS}",
    "rating_total": f"select sum(rating) {REVIEWS}",
    "rated_reviews": f"select count(rating) {REVIEWS}",
    "scored_texts": f"select count(*) {TEXTS}",
    "negative_texts": f"select count(*) filter (where sentiment_label = 'Negative') {TEXTS}",
    "negative_sentiment_share": _share("sentiment_label = 'Negative'", TEXTS),
    "nps_responses": f"select count(*) {NPS}",
    "nps_net_responses": f"select count(*) filter (where score >= 9) - "
    f"count(*) filter (where score <= 6) {NPS}",
    "nps": f"select 100.0 * (count(*) filter (where score >= 9) - "
    f"count(*) filter (where score <= 6)) / count(*) {NPS}",
    # customers (marts)
    "customers": f"select count(*) {C360}",
    "health_score_total": f"select sum(health_score) {C360}",
    "health_scored_customers": f"select count(health_score) {C360}",
    "health_score_average": f"select avg(health_score) {C360}",
    **{
        f"health_share_{level.lower()}": _share(f"health_level = '{level}'", C360)
        for level in ("EXCELLENT", "GOOD", "FAIR", "POOR")
    },
    "purchasing_customers": f"select count(*) filter (where order_count > 0) {C360}",
    "repeat_customers": f"select count(*) filter (where order_count > 1) {C360}",
    "repeat_purchase_rate": f"select count(*) filter (where order_count > 1) / "
    f"count(*) filter (where order_count > 0) {C360}",
    "cohort_active_customers": f"select sum(active_customers) {COHORTS}",
    "cohort_size": f"select sum(cohort_customers) {COHORTS}",
    "cohort_retention_rate": f"select sum(active_customers) / sum(cohort_customers) {COHORTS}",
    "valued_customers": f"select count(*) {VALUE} where p_alive is not null",
    "clv_12mo_customers": f"select count(*) {VALUE} where p_alive is not null",
    "clv_36mo_customers": f"select count(*) {VALUE} where p_alive is not null",
    "churn_probability_total": f"select sum(churn_probability) {VALUE}",
    "churn_rate": f"select avg(churn_probability) {VALUE}",
    "predicted_clv_12mo_total": f"select sum(predicted_clv_12mo) {VALUE}",
    "predicted_clv_36mo_total": f"select sum(predicted_clv_36mo) {VALUE}",
    "clv_12mo": f"select avg(predicted_clv_12mo) {VALUE}",
    "clv_36mo": f"select avg(predicted_clv_36mo) {VALUE}",
    # pipeline
    "opportunities_created": f"select count(*) {OPPS}",
    "opportunity_amount": f"select sum(amount) {OPPS}",
    # closed opportunities count 0 towards the open pipeline: a group with none open has 0
    "pipeline_value": f"select coalesce(sum(amount) filter (where is_open), 0) {OPPS}",
    "weighted_pipeline_value": "select coalesce(sum(round(amount * probability / 100.0, 2)) "
    f"filter (where is_open), 0) {OPPS}",
    "won_opportunities": f"select count(*) filter (where stage_name = 'Closed Won') {OPPS}",
    "closed_opportunities": f"select count(*) filter (where stage_name like 'Closed%') {OPPS}",
    "win_rate": f"select count(*) filter (where stage_name = 'Closed Won') / "
    f"count(*) filter (where stage_name like 'Closed%') {OPPS}",
    "opportunity_conversion_rate": _share("stage_name = 'Closed Won'", OPPS),
    "closed_cycle_days": f"select sum(date_diff('day', created_date, closed_date)) "
    f"filter (where is_closed) {OPPS}",
    "average_sales_cycle_days": f"select avg(date_diff('day', created_date, closed_date)) "
    f"filter (where is_closed) {OPPS}",
    "commission_amount": "select sum(commission_amount) from gold.fct_sales_commissions",
    "quota_rep_months": f"select count(*) {REP_MONTHS}",
    "quota_met_rep_months": "select count(*) filter (where rep_month_won_amount >= quota_amount) "
    + REP_MONTHS,
    "quota_attainment_rate": _share("rep_month_won_amount >= quota_amount", REP_MONTHS),
    "leads": f"select count(*) {LEADS}",
    "leads_converted_to_opportunity": f"select count(opportunity_id) {LEADS}",
    "leads_converted_to_customer": f"select count(won_opportunity_id) {LEADS}",
    "lead_conversion_rate": f"select count(opportunity_id) / count(*) {LEADS}",
    "lead_to_customer_rate": f"select count(won_opportunity_id) / count(*) {LEADS}",
    "marketing_spend": f"select sum(marketing_spend) {CAC}",
    "new_customers": f"select sum(new_customers) {CAC}",
    "customer_acquisition_cost": f"select sum(marketing_spend) / sum(new_customers) {CAC}",
    # recommendations and next best action
    "recommendations_served": f"select count(*) {RECS}",
    "recommendations_clicked": f"select count(*) filter (where click_count > 0) {RECS}",
    "recommendations_converted": f"select count(*) filter (where purchase_count > 0) {RECS}",
    "recommendation_ctr": _share("click_count > 0", RECS),
    "recommendation_cvr": _share("purchase_count > 0", RECS),
    "recommended_products": f"select count(distinct product_key) {RECS}",
    "catalogue_products": f"select {CATALOGUE}",
    "recommendation_coverage": f"select count(distinct product_key) / {CATALOGUE} {RECS}",
    "nba_actions_offered": f"select count(*) {NBA}",
    "nba_actions_accepted": f"select count(*) filter (where outcome = 'accepted') {NBA}",
    "nba_acceptance_rate": _share("outcome = 'accepted'", NBA),
    # FitMap adoption after an invitation
    "fitmap_invitations": f"select count(*) {FITMAP_INVITES}",
    "fitmap_adoptions": f"select count(*) filter (where is_adopted) {FITMAP_INVITES}",
    "fitmap_invitations_window_closed": f"select count(*) {FITMAP_DECIDED}",
    "fitmap_adoptions_window_closed": f"select count(*) filter (where is_adopted) {FITMAP_DECIDED}",
    "fitmap_adoption_rate": _share("is_adopted", FITMAP_DECIDED),
    # experiments
    "experiment_assignments": f"select count(*) {ASSIGN}",
    "experiment_conversions": f"select count(*) filter (where is_converted) {ASSIGN}",
    "experiment_conversion_rate": _share("is_converted", ASSIGN),
    "experiment_control_conversion_rate": f"select count(*) filter (where is_converted) / "
    f"count(*) {ASSIGN} where is_control",
    "experiment_treatment_conversion_rate": f"select count(*) filter (where is_converted) / "
    f"count(*) {ASSIGN} where not is_control",
    "experiment_lift": "select avg(is_converted::int) filter (where not is_control) / "
    f"avg(is_converted::int) filter (where is_control) - 1 {ASSIGN}",
    # ML
    "correct_predictions": "select sum(accuracy_score * evaluated_prediction_count) "
    f"{PERF} where is_classifier and is_evaluated",
    "judged_classifications": f"select sum(evaluated_prediction_count) {PERF} where is_classifier",
    "model_accuracy": "select sum(accuracy_score * evaluated_prediction_count) / "
    f"sum(evaluated_prediction_count) {PERF} where is_classifier and is_evaluated",
    "psi_total": f"select sum(population_stability_index) {DRIFT}",
    "drift_feature_months": f"select count(*) {DRIFT}",
    "feature_drift_psi": f"select avg(population_stability_index) {DRIFT}",
}

CUMULATIVE = {"revenue_month_to_date"}
"""Cumulative metrics need metric_time; tested by month below."""

DASHBOARD_QUERIES = {
    "tickets__satisfaction_trend",
    "tickets__volume_by_channel",
    "tickets__resolution_by_type",
    "tickets__volume_by_status_priority",
    "tickets__sentiment_distribution",
    "sentiment__rating_trend",
    "sentiment__reviews_by_category",
    "pipeline__value_by_stage",
    "pipeline__win_rate_by_type",
    "pipeline__conversion_by_type",
    "pipeline__monthly_creation",
    "pipeline__by_source",
    "email__rates_by_campaign_type",
    "email__unsubscribe_trend",
    "email__engagement_by_tier",
    "email__by_day_of_week",
}
"""The charts the dashboards read, by the names they read them by."""


def _close(actual: object, expected: object) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    a, e = float(actual), float(expected)  # type: ignore[arg-type]
    if math.isnan(a) or math.isnan(e):
        return math.isnan(a) and math.isnan(e)
    return math.isclose(a, e, rel_tol=REL, abs_tol=1e-12)


@pytest.fixture(scope="module")
def manifest(lake) -> Path:
    path = (lake.cfg.target_dir or PROJECT_ROOT / "target") / SEMANTIC_MANIFEST
    assert path.is_file(), f"{path}: the lake's build wrote no semantic manifest"
    return path


@pytest.fixture(scope="module")
def serving(lake, manifest):
    """The semantic layer over the serving file, what BI tools and the dashboards read."""
    assert lake.published.serving is not None
    with open_layer(lake.published.serving, manifest=manifest) as layer:
        yield layer


@pytest.fixture(scope="module")
def every_metric(serving):
    """Every non-cumulative metric in one MetricFlow query (one row: nothing is grouped)."""
    frame = serving.query(sorted(EXPECTED))
    assert len(frame) == 1
    return frame.iloc[0]


def _scalar(layer, sql: str) -> object:
    return layer.con.execute(sql).fetchone()[0]


def test_the_manifest_lists_at_least_35_metrics_each_described(manifest) -> None:
    metrics = list_metrics(manifest)
    assert len(metrics) >= 35
    for metric in metrics:
        assert len(metric.description.split()) >= 5, metric.name
        assert metric.models, f"{metric.name} reads no gold model"
    kinds = {m.type for m in metrics}
    assert {"simple", "ratio", "derived", "cumulative"} <= kinds


def test_every_metric_has_its_hand_written_computation(manifest) -> None:
    names = {m.name for m in list_metrics(manifest)}
    assert names == set(EXPECTED) | CUMULATIVE


@pytest.mark.parametrize("metric", sorted(EXPECTED))
def test_metric_equals_sql_over_gold(serving, every_metric, metric: str) -> None:
    expected = _scalar(serving, EXPECTED[metric])
    actual = every_metric[metric]
    assert expected is not None, f"{metric}: the check reads no rows"
    assert _close(actual, expected), f"{metric}: MetricFlow {actual!r} != SQL {expected!r}"


def test_the_working_warehouse_gives_the_serving_file_numbers(lake, manifest, every_metric):
    # The manifest names the working warehouse's relations; the serving file's are relocated.
    names = ["revenue", "email_open_rate", "nps", "win_rate", "cohort_retention_rate", "clv_36mo"]
    working = query_metrics(names, warehouse=lake.cfg.warehouse, manifest=manifest)
    for name in names:
        assert _close(working[name].iloc[0], every_metric[name]), name


def test_revenue_month_to_date_ends_each_month_at_its_revenue(serving) -> None:
    names = ["revenue_month_to_date", "revenue"]
    frame = serving.query(names, ["metric_time__month"])
    monthly = dict(
        serving.con.execute(
            f"select date_trunc('month', order_date)::date, sum(total_amount) {ORDERS} group by 1"
        ).fetchall()
    )
    assert len(monthly) > 12
    seen = 0
    for month, to_date, revenue in frame[["metric_time__month", *names]].itertuples(index=False):
        key = month.date()
        if key in monthly:
            seen += 1
            assert _close(to_date, monthly[key]), key
            assert _close(revenue, monthly[key]), key
    assert seen == len(monthly)


def test_grouped_metrics_equal_sql(serving) -> None:
    frame = serving.query(["win_rate", "opportunities_created"], ["opportunity__opportunity_type"])
    expected = dict(
        serving.con.execute(
            "select opportunity_type, count(*) filter (where is_won) / "
            f"nullif(count(*) filter (where is_closed), 0) {OPPS} group by 1"
        ).fetchall()
    )
    assert len(frame) == len(expected) > 1
    for kind, rate, _ in frame.itertuples(index=False):
        assert _close(rate, expected[kind]), kind

    frame = serving.query(["average_satisfaction"], ["metric_time__month"])
    expected = dict(
        serving.con.execute(
            f"select date_trunc('month', created_date)::date, avg(satisfaction_score) {TICKETS} "
            "group by 1"
        ).fetchall()
    )
    assert len(frame) == len(expected) > 12
    for month, value in frame.itertuples(index=False):
        assert _close(value, expected[month.date()]), month

    frame = serving.query(["email_open_rate"], ["customer__loyalty_tier"])
    expected = {
        tier: rate
        for tier, rate in serving.con.execute(
            "select c.loyalty_tier, count(*) filter (where e.event_type = 'open') / "
            "count(*) filter (where e.event_type = 'sent') from gold.fct_email_events e "
            "join gold.dim_customer c using (customer_key) group by 1"
        ).fetchall()
    }
    assert len(frame) == len(expected) > 2
    for tier, rate in frame.itertuples(index=False):
        assert _close(rate, expected[None if tier != tier else tier]), tier


def test_experiment_lift_is_the_results_lift_of_two_arm_experiments(serving) -> None:
    frame = serving.query(["experiment_lift"], ["experiment_assignment__experiment_id"])
    lifts = dict(frame.itertuples(index=False))
    expected = dict(
        serving.con.execute(
            "select experiment_id, any_value(relative_lift) filter (where not is_control) "
            "from gold.fct_experiment_results where metric = 'conversion' "
            "and experiment_key <> repeat('0', 32) group by 1 "
            "having count(*) filter (where not is_control) = 1"
        ).fetchall()
    )
    assert len(expected) >= 3
    for experiment, lift in expected.items():
        assert _close(lifts[experiment], lift), experiment


def test_model_accuracy_per_model_month_is_the_facts_accuracy(serving) -> None:
    frame = serving.query(["model_accuracy"], ["model_performance__model_id", "metric_time__month"])
    expected = {
        (model, month): accuracy
        for model, month, accuracy in serving.con.execute(
            f"select model_id, month_start_date, accuracy_score {PERF} "
            "where is_classifier and is_evaluated"
        ).fetchall()
    }
    assert len(expected) > 5
    columns = ["model_performance__model_id", "metric_time__month", "model_accuracy"]
    got = {(m, t.date()): a for m, t, a in frame[columns].itertuples(index=False)}
    for key, accuracy in expected.items():
        assert _close(got[key], accuracy), key


def test_every_saved_query_answers(serving, manifest) -> None:
    queries = list_saved_queries(manifest)
    labels = {q.label for q in queries}
    assert labels >= DASHBOARD_QUERIES, DASHBOARD_QUERIES - labels
    dashboards = {"tickets", "sentiment", "pipeline", "email", "customer_360"}
    for query in queries:
        dashboard, _, chart = query.label.partition("__")
        assert dashboard in dashboards and chart, query.label
        assert query.name == f"{dashboard}_{chart}", query.label
        frame = serving.saved_query(query.label)
        assert len(frame) > 0, query.label
        assert set(query.metrics) <= set(frame.columns), query.label
        assert frame[list(query.metrics)].notna().any().all(), query.label


def test_saved_queries_come_sorted_by_their_first_group_by(serving) -> None:
    stages = serving.saved_query("pipeline__value_by_stage")
    assert len(stages) > 1
    assert stages["sales_stage__stage_order"].is_monotonic_increasing
    trend = serving.saved_query("tickets__satisfaction_trend")
    assert trend["metric_time__month"].is_monotonic_increasing
    assert str(trend["satisfaction_responses"].dtype) == "Int64"  # counts stay integers


def test_a_saved_query_equals_its_sql(lake, manifest) -> None:
    frame = run_saved_query(
        "tickets__volume_by_channel", warehouse=lake.published.serving, manifest=manifest
    )
    with open_layer(lake.published.serving, manifest=manifest) as layer:
        expected = dict(
            layer.con.execute(f"select channel, count(*) {TICKETS} group by 1").fetchall()
        )
    assert dict(frame.itertuples(index=False)) == expected


def _looked_up(column: str, dimension: str, key: str, fact: str) -> str:
    """A dimension's attribute of the fact's row, as a scalar subquery (no join, so the metric's
    unqualified columns stay unambiguous)."""
    return f"(select d.{column} from gold.{dimension} as d where d.{key} = {fact}.{key})"


#: How each saved query's group-by reads in SQL over the table its metrics' SQL above reads:
#: (select expressions, a join, an extra condition). The date of metric_time is each table's
#: own (the semantic model's agg_time_dimension).
SAVED_QUERY_GROUPS: dict[str, tuple[list[str], str, str]] = {
    "tickets__satisfaction_trend": (["date_trunc('month', created_date)::date"], "", ""),
    "tickets__volume_by_channel": (["channel"], "", ""),
    "tickets__resolution_by_type": (["ticket_type"], "", ""),
    "tickets__volume_by_status_priority": (["status", "priority"], "", ""),
    "tickets__sentiment_distribution": (["sentiment_label"], "", ""),
    "sentiment__rating_trend": (["date_trunc('month', review_date)::date"], "", ""),
    "sentiment__reviews_by_category": (
        [_looked_up("category", "dim_product", "product_key", "fct_product_reviews")],
        "",
        "",
    ),
    "sentiment__negative_share_by_source": (["source_type"], "", ""),
    "pipeline__value_by_stage": (
        [
            _looked_up(
                "stage_order", "dim_sales_stage", "sales_stage_key", "fct_sales_opportunities"
            ),
            "stage_name",
        ],
        "",
        "is_open",
    ),
    "pipeline__win_rate_by_type": (["opportunity_type"], "", ""),
    "pipeline__conversion_by_type": (["opportunity_type"], "", ""),
    "pipeline__monthly_creation": (["date_trunc('month', created_date)::date"], "", ""),
    "pipeline__by_source": (["lead_source"], "", ""),
    "email__rates_by_campaign_type": (["campaign_type"], "", ""),
    "email__unsubscribe_trend": (["date_trunc('month', event_date)::date"], "", ""),
    "email__engagement_by_tier": (
        [_looked_up("loyalty_tier", "dim_customer", "customer_key", "fct_email_events")],
        "",
        "",
    ),
    "email__by_day_of_week": (["isodow(event_date)", "dayname(event_date)"], "", ""),
    "customer_360__health_distribution": (["health_level"], "", ""),
    "customer_360__revenue_trend": (["date_trunc('month', order_date)::date"], "", ""),
}


def _grouped_sql(metric: str, groups: list[str], join: str, extra: str) -> str:
    """The metric's hand-written SQL above, grouped: the join goes before its condition."""
    head, _, rest = EXPECTED[metric].partition(" from ")
    table, _, condition = rest.partition(" where ")
    conditions = " and ".join(f"({c})" for c in (condition, extra) if c)
    where = f" where {conditions}" if conditions else ""
    keys = ", ".join(f"{g} as g{i}" for i, g in enumerate(groups))
    return (
        f"select {keys}, {head.removeprefix('select ')} as value from {table} {join}{where} "
        f"group by all"
    )


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _key(value) -> str:
    if value is None or value != value:  # None, NaN, NaT
        return "null"
    if hasattr(value, "date") and callable(value.date):
        return str(value.date())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_every_saved_query_equals_its_sql(serving, manifest) -> None:
    """Each saved query, row by row and metric by metric, against the metrics' hand-written SQL
    grouped the same way."""
    queries = {q.label: q for q in list_saved_queries(manifest)}
    assert set(queries) == set(SAVED_QUERY_GROUPS)
    for label, (groups, join, extra) in SAVED_QUERY_GROUPS.items():
        frame = serving.saved_query(label)
        group_columns = [c for c in frame.columns if c not in queries[label].metrics]
        assert len(group_columns) == len(groups), label
        got = {
            tuple(sorted(_key(v) for v in row[: len(groups)])): row[len(groups) :]
            for row in frame[group_columns + list(queries[label].metrics)].itertuples(index=False)
        }
        for position, metric in enumerate(queries[label].metrics):
            rows = serving.con.execute(_grouped_sql(metric, groups, join, extra)).fetchall()
            # group columns come in MetricFlow's order: rows matched on their sorted keys
            expected = {tuple(sorted(_key(v) for v in row[:-1])): row[-1] for row in rows}
            assert set(expected) == set(got), (label, metric)
            for key, value in expected.items():
                assert _close(_number(got[key][position]), _number(value)), (label, metric, key)


def test_unknown_names_fail_with_one_line(serving) -> None:
    with pytest.raises(SemanticError, match="unknown metric nope"):
        serving.query(["nope"])
    with pytest.raises(SemanticError, match="unknown saved query tickets__nope"):
        serving.saved_query("tickets__nope")
    with pytest.raises(SemanticError, match="does not match any of the available") as caught:
        serving.query(["revenue"], ["ticket__nope"])
    assert "\n" not in str(caught.value)


def test_a_missing_manifest_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SemanticError, match=r"semantic manifest .* not found; run `dbt parse`"):
        list_metrics(tmp_path / SEMANTIC_MANIFEST)


def test_the_cli_lists_and_queries(lake, manifest, capsys) -> None:
    assert main(["metrics", "list", "--manifest", str(manifest)]) == 0
    listed = capsys.readouterr().out
    assert re.search(r"^(\d+) metrics$", listed, flags=re.M)
    serving = str(lake.published.serving)
    # the serving file is the default: found beside the warehouse named
    args = ["--warehouse", str(lake.cfg.warehouse), "--manifest", str(manifest), "--format", "csv"]
    assert main(["metrics", "query", "ticket_volume", "-g", "ticket__priority", *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "ticket__priority,ticket_volume"
    assert sum(int(line.rsplit(",", 1)[1]) for line in lines[1:]) == int(
        query_metrics(["ticket_volume"], warehouse=serving, manifest=manifest).iloc[0, 0]
    )
    assert main(["metrics", "query", "--saved", "email__by_day_of_week", *args]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 8  # header and seven weekdays
    assert main(["metrics", "query", "nope", *args]) == 1
    assert "error: unknown metric nope" in capsys.readouterr().err
    assert main(["metrics", "query", "ticket_volume", "--read", "warehouse", *args]) == 0
    assert int(capsys.readouterr().out.splitlines()[1]) == int(
        query_metrics(["ticket_volume"], warehouse=lake.cfg.warehouse, manifest=manifest).iloc[0, 0]
    )


def test_docs_list_every_metric(manifest) -> None:
    docs = (PROJECT_ROOT / "docs" / "bi.md").read_text()
    section = docs.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `(\w+)` \|", section, flags=re.M))
    assert rows == {m.name for m in list_metrics(manifest)}
