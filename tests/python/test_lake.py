"""The built test lake end to end: every layer present, reconciled, matched, and shaped as gold
promises (contracts enforced, grain stated, personal data only where allowed)."""

from __future__ import annotations

import json

import duckdb
import polars as pl
import pytest

from engagement_lake.config import UNKNOWN_MEMBER_KEY
from engagement_lake.contracts import load_contracts
from engagement_lake.mdm import evaluate_matches

# Customers' identifying columns reach gold only in these tables (staff and free text are
# classified too: tests/python/test_privacy.py follows them by lineage).
PERSONAL_ALLOWED = {"dim_customer", "mart_customer_360"}
PERSONAL_NAMES = {
    "first_name",
    "last_name",
    "full_name",
    "email",
    "phone",
    "birth_date",
    "address_line1",
    "postal_code",
    "author_handle",
}


def test_build_passed_every_model_and_test(lake):
    assert lake.run.success
    assert lake.run.failures == []
    kinds = {n.resource_type for n in lake.run.nodes}
    assert {"model", "test", "seed"} <= kinds


def test_every_bronze_row_is_accounted_for(con):
    rows = con.execute("select * from quality.reconciliation").fetchall()
    assert len(rows) == len(load_contracts())
    for system, table, bronze, staged, quarantined, collapsed, skipped, erased in rows:
        assert bronze == staged + quarantined + collapsed, (system, table)
        assert skipped == 0, "no file is set aside in a clean lake"
        assert erased == 0, "nobody asked to be forgotten in the test lake"
        assert bronze > 0, f"the generator wrote no {system}.{table}"
    # faults are off: nothing is quarantined
    assert con.execute("select count(*) from quality.quarantine").fetchone() == (0,)


def test_customer_matching_meets_the_goal(lake, con):
    xref = con.execute("select * from silver.customer_xref").pl()
    truth = pl.read_parquet(lake.truth / "identity.parquet")
    metrics = evaluate_matches(xref, truth)
    assert metrics.f1 >= 0.98, str(metrics)
    golden = con.execute("select count(*) from silver.customer_golden").fetchone()[0]
    assert golden == xref["customer_id"].n_unique()


def test_golden_records_name_the_winning_source(con):
    row = con.execute(
        """
        select count(*) filter (where email is not null and email_source is null),
               count(*) filter (where address_line1 is not null and address_source is null),
               count(*) filter (where email_source is not null
                                and split_part(email_source, ':', 1)
                                    not in ('shop', 'crm_contact', 'support',
                                            'marketing', 'loyalty'))
        from silver.customer_golden
        """
    ).fetchone()
    assert row == (0, 0, 0)


# The gold interface: conformed dimensions, facts per domain and marts, with model-monitoring
# and journey facts.
DESIGN_GOLD = {
    "dim_customer",
    "dim_date",
    "dim_product",
    "dim_channel",
    "dim_sales_rep",
    "dim_sales_territory",
    "dim_lead_source",
    "dim_sales_stage",
    "dim_campaign",
    "dim_experiment",
    "dim_ml_model",
    "dim_recommendation_algorithm",
    "dim_sentiment_source",
    "fct_sales_opportunities",
    "fct_sales_pipeline_daily",
    "fct_sales_activities",
    "fct_sales_conversions",
    "fct_sales_commissions",
    "fct_customer_sentiment",
    "fct_sentiment_drivers",
    "fct_product_recommendations",
    "fct_recommendation_conversions",
    "fct_next_best_action",
    "fct_customer_value",
    "fct_experiment_assignments",
    "fct_experiment_results",
    "fct_orders",
    "fct_order_items",
    "fct_support_tickets",
    "fct_email_events",
    "fct_product_reviews",
    "fct_fitmap_scans",
    "fct_web_sessions",
    "fct_ml_model_predictions",
    "fct_model_performance",
    "fct_customer_journey",
    "fct_marketing_attribution",
    "fct_journey_states",
    "fct_journey_completion_rates",
    "fct_loyalty_points",
    "fct_loyalty_tier_changes",
    "fct_referrals",
    "fct_sales_quotes",
    "fct_customer_acquisition_cost",
    "fct_personalization_events",
    "fct_personalization_strategy_segments",
    "mart_customer_360",
    "mart_customer_health",
    "mart_daily_engagement_summary",
    "mart_at_risk_customers",
    "mart_opportunity_followups",
    "mart_review_response_queue",
    "mart_fitmap_invitations",
    "fct_fitmap_invitations",
    "fct_support_sla",
    "dim_support_agent",
    "fct_survey_responses",
    "mart_cohort_retention",
    "fct_sentiment_daily",
    "mart_sentiment_alerts",
    "dim_health_level",
    "dim_behavioural_segment",
    "dim_next_best_action",
    "dim_rfm_segment",
    "dim_return_reason",
}


def test_every_gold_table_of_the_design_is_built(con):
    tables = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'gold'"
        ).fetchall()
    }
    assert tables >= DESIGN_GOLD, sorted(DESIGN_GOLD - tables)


def test_gold_models_have_enforced_contracts_and_grain(lake):
    manifest = json.loads((lake.cfg.target_dir / "manifest.json").read_text())
    gold = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
        and n["schema"] == "gold"
        and n["config"]["materialized"] != "ephemeral"
    ]
    assert len(gold) >= len(DESIGN_GOLD)
    for node in gold:
        assert node["config"]["contract"]["enforced"], node["name"]
        assert node["description"].startswith("One row per"), node["name"]
        assert node["columns"], node["name"]
        for name, col in node["columns"].items():
            assert col["data_type"], (node["name"], name)
            assert col["description"], (node["name"], name)


def test_personal_data_reaches_gold_only_where_allowed(con):
    rows = con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'gold'"
    ).fetchall()
    leaks = {(t, c) for t, c in rows if c in PERSONAL_NAMES and t not in PERSONAL_ALLOWED}
    assert leaks == set()
    assert any(t == "dim_customer" and c == "email" for t, c in rows)


def test_every_dimension_has_one_unknown_member(con):
    for table, key in (
        ("dim_customer", "customer_key"),
        ("dim_product", "product_key"),
        ("dim_channel", "channel_key"),
        ("dim_campaign", "campaign_key"),
        ("dim_sentiment_source", "sentiment_source_key"),
    ):
        n = con.execute(
            f"select count(*) from gold.{table} where {key} = '{UNKNOWN_MEMBER_KEY}'"
        ).fetchone()[0]
        assert n == 1, table


def test_dim_date_covers_every_fact_date(con):
    low, high = con.execute(
        "select min(date_day), max(date_day) from gold.dim_date where year_number > 0"
    ).fetchone()
    for table, column in (
        ("fct_orders", "order_date"),
        ("fct_email_events", "event_date"),
        ("fct_support_tickets", "created_date"),
        ("fct_web_sessions", "session_date"),
    ):
        first, last = con.execute(
            f"select min({column}), max({column}) from gold.{table}"
        ).fetchone()
        assert low <= first and last <= high, table


def test_gold_export_masks_personal_columns(lake, con):
    files = lake.export.files
    tables = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'gold'"
        ).fetchall()
    }
    assert set(files) == tables
    assert lake.export.masked["dim_customer"] == sorted(
        [
            "first_name",
            "last_name",
            "full_name",
            "email",
            "phone",
            "birth_date",
            "address_line1",
            "city",
            "postal_code",
        ]
    )
    exported = duckdb.sql(f"select * from read_parquet('{files['dim_customer']}')").pl()
    original = con.execute("select * from gold.dim_customer").pl()
    assert exported.height == original.height
    emails = exported.filter(pl.col("email").is_not_null())["email"]
    assert emails.len() > 0
    assert emails.str.contains(r"^[0-9a-f]{32}$").all()  # keyed pseudonyms (test_privacy.py)
    births = exported["birth_date"].drop_nulls()
    assert births.len() > 0 and births.dt.month().eq(1).all() and births.dt.day().eq(1).all()
    # non-personal columns are exported as they are
    assert (
        exported.sort("customer_key")["loyalty_tier"].to_list()
        == original.sort("customer_key")["loyalty_tier"].to_list()
    )


def test_sentiment_covers_every_text_with_a_bounded_score(con):
    n_texts, low, high, unlabelled = con.execute(
        "select count(*), min(sentiment_score), max(sentiment_score), "
        "count(*) filter (where sentiment_label is null and text <> '') "
        "from silver.sentiment_unified"
    ).fetchone()
    assert n_texts > 0 and low >= -1 and high <= 1 and unlabelled == 0
    vendor, vendor_used = con.execute(
        """
        select count(*), count(*) filter (where u.score_method = 'vendor'
                                          and u.sentiment_score = v.sentiment_score)
        from staging.stg_mlops__nlp_sentiment v
        join silver.sentiment_unified u
          on u.source_type = v.source_type and u.source_id = v.source_id
        """
    ).fetchone()
    assert vendor > 0 and vendor_used == vendor


def test_sentiment_labels_agree_with_the_truth(lake, con):
    truth = pl.read_parquet(lake.truth / "texts.parquet")
    label_col = next(c for c in truth.columns if "sentiment" in c)
    ours = con.execute(
        "select source_type, source_id, sentiment_label from silver.sentiment_unified"
    ).pl()
    joined = ours.join(
        truth.select(
            "source_type",
            pl.col("source_id").cast(pl.String),
            pl.col(label_col).str.to_lowercase().alias("true_label"),
        ),
        on=["source_type", "source_id"],
    )
    assert joined.height > 0.8 * ours.height
    agreement = (joined["sentiment_label"] == joined["true_label"]).mean()
    assert agreement > 0.7, agreement


def test_clv_predictions_are_coherent(con):
    stats = con.execute(
        """
        select count(*) filter (where p_alive is not null),
               count(*) filter (where p_alive < 0 or p_alive > 1),
               count(*) filter (where predicted_clv_36mo < predicted_clv_12mo),
               min(clv_decile), max(clv_decile),
               corr(predicted_clv_12mo, historical_revenue)
        from gold.fct_customer_value
        """
    ).fetchone()
    predicted, out_of_range, inverted, low_decile, high_decile, corr = stats
    assert predicted > 100
    assert out_of_range == 0 and inverted == 0
    assert (low_decile, high_decile) == (1, 10)
    assert corr > 0.3


def test_type2_history_has_one_current_row_per_key(con):
    for table, key, current in (
        ("customer_history", "customer_id", "customer_golden"),
        ("opportunity_history", "opportunity_id", "opportunity_golden"),
    ):
        dupes, keys = con.execute(
            f"select count(*) filter (where n > 1), count(*) from (select {key}, "
            f"count(*) filter (where is_current) as n from history.{table} group by {key})"
        ).fetchone()
        assert dupes == 0, table
        # every key of the current state has its history (the backfill's version at least)
        assert keys == con.execute(f"select count(*) from silver.{current}").fetchone()[0], table


def test_history_trends_end_at_the_marts(con):
    """The newest as-of date of each trend is the mart it tracks: same rules, same inputs."""
    for trend, mart, compared in (
        ("customer_health_history", "gold.mart_customer_health", ("health_score", "health_level")),
        ("customer_segment_history", "gold.mart_customer_rfm", ("rfm_score", "rfm_segment")),
        (
            "customer_value_history",
            "(select * from gold.fct_customer_value where clv_decile > 0)",
            ("predicted_clv_12mo", "clv_decile"),
        ),
    ):
        differs = " or ".join(f"h.{c} is distinct from m.{c}" for c in compared)
        rows, mismatched = con.execute(
            f"select count(*), count(*) filter (where {differs}) from {mart} as m "
            f"full join (select * from history.{trend} where is_latest) as h using (customer_key)"
        ).fetchone()
        assert rows > 0 and mismatched == 0, (trend, rows, mismatched)


@pytest.mark.parametrize(
    "table",
    [
        "fct_orders",
        "fct_order_items",
        "fct_support_tickets",
        "fct_email_events",
        "fct_product_reviews",
        "fct_fitmap_scans",
        "fct_web_sessions",
        "fct_customer_sentiment",
    ],
)
def test_engagement_facts_are_populated(con, table):
    assert con.execute(f"select count(*) from gold.{table}").fetchone()[0] > 0


def test_ticket_texts_are_filed_under_their_orders_main_product(con):
    """A support ticket raised on an order files its texts under the order's largest line:
    recomputed here from staging with pandas, and every other text without a product keeps none."""
    items = con.execute(
        "select order_id, product_id, line_amount from staging.stg_shop__order_items"
        " where product_id is not null"
    ).df()
    top = (
        items.sort_values(["order_id", "line_amount", "product_id"], ascending=[True, False, True])
        .drop_duplicates("order_id")
        .set_index("order_id")["product_id"]
    )
    tickets = con.execute(
        "select ticket_id, order_id from staging.stg_support__tickets where order_id is not null"
    ).df()
    expected = tickets.assign(product_id=tickets["order_id"].map(top)).dropna(subset=["product_id"])
    texts = con.execute(
        """
        select s.ticket_id, s.product_attribution, p.product_id
        from gold.fct_customer_sentiment as s
        left join gold.dim_product as p on s.product_key = p.product_key
        where s.source_type in ('ticket_message', 'call_transcript', 'survey')
        """
    ).df()
    attributed = texts[texts["product_attribution"] == "ticket_order"]
    assert len(attributed) > 0
    wanted = dict(zip(expected["ticket_id"], expected["product_id"], strict=True))
    assert attributed["product_id"].tolist() == attributed["ticket_id"].map(wanted).tolist()
    unattributed = texts[texts["product_attribution"].isna()]
    assert not unattributed["ticket_id"].isin(list(wanted)).any()


def test_every_identity_source_contributes_names(con):
    """Support and loyalty keep one full-name field; it must be split, not lost."""
    rows = con.execute(
        """
        select source_system,
               avg(case when last_name is not null then 1.0 else 0 end),
               avg(case when first_name is not null then 1.0 else 0 end)
        from silver.int_customer_identities_unioned
        group by source_system
        """
    ).fetchall()
    assert {r[0] for r in rows} == {"shop", "crm_contact", "support", "marketing", "loyalty"}
    for system, has_last, has_first in rows:
        if system != "marketing":  # subscribers often leave names out
            assert has_last > 0.9 and has_first > 0.9, (system, has_last, has_first)


def test_descriptions_reach_duckdb_comments(con):
    """persist_docs: BI tools read the grain and column meanings from the warehouse itself."""
    (table_comment,) = con.execute(
        "select comment from duckdb_tables() "
        "where schema_name = 'gold' and table_name = 'fct_orders'"
    ).fetchone()
    assert table_comment.startswith("One row per")
    missing = con.execute(
        "select count(*) from duckdb_columns() c join duckdb_tables() t "
        "on c.schema_name = t.schema_name and c.table_name = t.table_name "
        "where c.schema_name = 'gold' and (c.comment is null or c.comment = '')"
    ).fetchone()[0]
    assert missing == 0
