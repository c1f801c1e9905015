"""Every cookbook query in analyses/ is run through `engagement-lake cookbook` and its answer is
compared with an independent computation in Python (polars) from staging and silver — never from
the gold table the query reads."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import date, timedelta

import polars as pl
import pytest

from engagement_lake.analyst import list_cookbook, run_cookbook
from engagement_lake.config import PROJECT_ROOT

ANALYSES = PROJECT_ROOT / "analyses"
UNKNOWN = "0" * 32


def key(customer_id: str) -> str:
    """dim_customer's surrogate key, computed independently of the macro."""
    return hashlib.md5(customer_id.encode()).hexdigest()


@pytest.fixture(scope="module")
def data(lake):
    con = lake.connect()

    def q(sql: str) -> pl.DataFrame:
        return con.execute(sql).pl()

    d = {
        "as_of": q("select max(cast(_loaded_at as date)) as d from staging.stg_shop__orders")["d"][
            0
        ],
        "tickets": q("select * from staging.stg_support__tickets"),
        "texts": q("select * from silver.sentiment_unified"),
        "xref": q("select * from silver.customer_xref"),
        "golden": q("select * from silver.customer_golden"),
        "orders": q("select * from staging.stg_shop__orders where status <> 'cancelled'"),
        "items": q("select * from staging.stg_shop__order_items"),
        "returns": q("select * from staging.stg_shop__returns"),
        "reviews": q("select * from staging.stg_reviews__product_reviews"),
        "scans": q("select * from staging.stg_fitmap__scans"),
        "events": q("select * from staging.stg_marketing__email_events"),
        "campaigns": q("select * from staging.stg_marketing__campaigns"),
        "opportunities": q("select * from staging.stg_crm__opportunities"),
        "value": q(
            "select customer_id, clv_decile, churn_probability from gold.fct_customer_value"
        ),
    }
    con.close()
    return d


def cookbook(lake, name: str) -> pl.DataFrame:
    rows = json.loads(run_cookbook(lake.cfg.warehouse, name, ANALYSES, "json"))
    return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()


def golden_of(d, system: str) -> pl.DataFrame:
    return d["xref"].filter(pl.col("source_system") == system).select("source_id", "customer_id")


def ticket_sentiment(d) -> pl.DataFrame:
    return (
        d["texts"]
        .filter(
            pl.col("source_type").is_in(["ticket_message", "call_transcript"])
            & pl.col("ticket_id").is_not_null()
        )
        .group_by("ticket_id")
        .agg(pl.col("sentiment_score").mean().alias("score"))
    )


def test_every_analysis_states_its_question():
    entries = list_cookbook(ANALYSES)
    assert len(entries) == 19
    for entry in entries:
        assert entry.question.strip().endswith((".", "?", ")")), entry.name


def test_q01_negative_tickets_last_30_days(lake, data):
    d = data
    since = d["as_of"] - timedelta(days=30)
    expected = set(
        d["tickets"]
        .join(ticket_sentiment(d), on="ticket_id")
        .filter((pl.col("score") <= -0.05) & (pl.col("created_at").dt.date() > since))["ticket_id"]
    )
    got = cookbook(lake, "q01_negative_tickets_last_30_days")
    assert set(got["ticket_id"]) if got.height else set() == expected


def test_q02_satisfaction_by_ticket_type(lake, data):
    expected = {
        r["ticket_type"]: r["avg"]
        for r in data["tickets"]
        .group_by("ticket_type")
        .agg(pl.col("satisfaction_score").mean().alias("avg"))
        .iter_rows(named=True)
    }
    got = {
        r["ticket_type"]: r["average_satisfaction"]
        for r in cookbook(lake, "q02_satisfaction_by_ticket_type").iter_rows(named=True)
    }
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        # the query rounds half away from zero to 2 decimals
        assert got[k] == pytest.approx(v, abs=0.0051)


def test_q03_customers_with_3_tickets(lake, data):
    d = data
    since = d["as_of"] - timedelta(days=60)
    counts = (
        d["tickets"]
        .with_columns(pl.col("requester_id").cast(pl.String).alias("source_id"))
        .join(golden_of(d, "support"), on="source_id")
        .filter(pl.col("created_at").dt.date() > since)
        .group_by("customer_id")
        .len()
        .filter(pl.col("len") >= 3)
    )
    expected = {(key(r["customer_id"]), r["len"]) for r in counts.iter_rows(named=True)}
    got = cookbook(lake, "q03_customers_with_3_tickets_in_60_days")
    assert {(r["customer_key"], r["tickets_60d"]) for r in got.iter_rows(named=True)} == expected


def test_q04_five_star_reviewers_not_buying(lake, data):
    d = data
    last_order = (
        d["orders"]
        .join(golden_of(d, "shop"), left_on="customer_id", right_on="source_id")
        .group_by("customer_id_right")
        .agg(pl.col("ordered_at").max().dt.date().alias("last"))
        .rename({"customer_id_right": "golden"})
    )
    five = (
        d["reviews"]
        .filter(pl.col("rating") == 5)
        .join(golden_of(d, "shop"), left_on="customer_id", right_on="source_id")
        .group_by("customer_id_right")
        .len()
        .rename({"customer_id_right": "golden"})
        .join(last_order, on="golden", how="left")
        .filter(pl.col("last").is_null() | (pl.col("last") <= d["as_of"] - timedelta(days=90)))
    )
    expected = {(r["golden"], r["len"]) for r in five.iter_rows(named=True)}
    got = cookbook(lake, "q04_five_star_reviewers_not_buying")
    assert {
        (r["customer_id"], r["five_star_reviews"]) for r in got.iter_rows(named=True)
    } == expected


def test_q05_email_conversion_by_campaign_type(lake, data):
    d = data
    events = d["events"].join(
        d["campaigns"].select("campaign_id", "campaign_type"), on="campaign_id"
    )
    stats = events.group_by("campaign_type").agg(
        (pl.col("event_type") == "sent").sum().alias("sent"),
        (pl.col("event_type") == "convert").sum().alias("conv"),
    )
    got = {
        r["campaign_type"]: r
        for r in cookbook(lake, "q05_email_conversion_by_campaign_type").iter_rows(named=True)
    }
    assert set(got) == set(stats["campaign_type"])
    for r in stats.iter_rows(named=True):
        assert got[r["campaign_type"]]["emails_sent"] == r["sent"]
        assert got[r["campaign_type"]]["conversions"] == r["conv"]
        if r["sent"]:
            assert got[r["campaign_type"]]["conversion_rate"] == pytest.approx(
                r["conv"] / r["sent"], abs=5e-5
            )


def test_q06_open_opportunities(lake, data):
    o = data["opportunities"]
    expected = set(
        o.filter(~pl.col("is_closed") & (pl.col("probability") > 70) & (pl.col("amount") > 200))[
            "opportunity_id"
        ]
    )
    got = cookbook(lake, "q06_open_opportunities_probability_over_70")
    assert (set(got["opportunity_id"]) if got.height else set()) == expected


def test_q07_customer_42_deep_dive(lake, data):
    d = data
    customer = d["golden"].sort("customer_id")["customer_id"][41]
    revenue = (
        d["orders"]
        .join(golden_of(d, "shop"), left_on="customer_id", right_on="source_id")
        .filter(pl.col("customer_id_right") == customer)["total_amount"]
        .sum()
    )
    got = cookbook(lake, "q07_customer_360_deep_dive")
    assert got.height == 1 and got["customer_id"][0] == customer
    assert float(got["lifetime_revenue"][0]) == pytest.approx(float(revenue or 0), abs=0.01)


def _topics() -> dict[str, list[str]]:
    topics: dict[str, list[str]] = {}
    with (PROJECT_ROOT / "seeds" / "gold" / "sentiment_topics.csv").open() as handle:
        for row in csv.DictReader(handle):
            topics.setdefault(row["topic"], []).append(row["keyword"])
    return topics


def test_q08_top_reasons_for_negative_reviews(lake, data):
    d = data
    since = d["as_of"] - timedelta(days=90)
    negative = d["texts"].filter(
        (pl.col("source_type") == "review")
        & (pl.col("sentiment_label") == "negative")
        & (pl.col("written_at").dt.date() > since)
    )
    counts = {}
    for topic, words in _topics().items():
        pattern = re.compile("|".join(rf"\b{re.escape(w)}\b" for w in words))
        counts[topic] = sum(1 for t in negative["text"] if t and pattern.search(t.lower()))
    expected = sorted(((-n, t) for t, n in counts.items() if n), key=lambda x: x)[:3]
    got = cookbook(lake, "q08_top_reasons_for_negative_reviews")
    assert [(r["topic"], r["negative_reviews"]) for r in got.iter_rows(named=True)] == [
        (t, -n) for n, t in expected
    ]


def test_q09_fitmap_users_who_returned(lake, data):
    d = data
    shop = golden_of(d, "shop")
    scanned = set(
        d["scans"].join(shop, left_on="customer_id", right_on="source_id")["customer_id_right"]
    )
    line_reason = d["returns"].group_by("order_item_id").agg(pl.col("reason").min())
    lines = (
        d["items"]
        .join(line_reason, on="order_item_id")
        .join(d["orders"].select("order_id", "customer_id"), on="order_id")
        .join(shop, left_on="customer_id", right_on="source_id")
        .filter(pl.col("customer_id_right").is_in(list(scanned)))
        .group_by("reason")
        .agg(pl.len().alias("n"), pl.col("customer_id_right").n_unique().alias("c"))
    )
    expected = {(r["reason"], r["n"], r["c"]) for r in lines.iter_rows(named=True)}
    got = cookbook(lake, "q09_fitmap_users_who_returned")
    assert {
        (r["return_reason"], r["returned_lines"], r["customers"]) for r in got.iter_rows(named=True)
    } == expected


def test_q10_gold_tier_not_engaged(lake, data):
    d = data
    engaged = (
        d["events"]
        .filter(pl.col("event_type").is_in(["open", "click", "convert"]))
        .join(golden_of(d, "marketing"), left_on="subscriber_id", right_on="source_id")
        .group_by("customer_id")
        .agg(pl.col("event_at").max().dt.date().alias("last"))
    )
    gold = (
        d["golden"]
        .filter(pl.col("loyalty_tier") == "Gold")
        .select("customer_id")
        .join(engaged, on="customer_id", how="left")
        .filter(pl.col("last").is_null() | (pl.col("last") <= d["as_of"] - timedelta(days=60)))
    )
    got = cookbook(lake, "q10_gold_tier_not_engaged_60_days")
    assert (set(got["customer_id"]) if got.height else set()) == set(gold["customer_id"])


def _metrics(d) -> pl.DataFrame:
    """Segment inputs recomputed from staging and silver (CLV outputs are model inputs here)."""
    orders = (
        d["orders"]
        .join(golden_of(d, "shop"), left_on="customer_id", right_on="source_id")
        .group_by("customer_id_right")
        .agg(
            pl.len().alias("order_count"),
            pl.col("total_amount").sum().cast(pl.Float64).alias("revenue"),
            pl.col("ordered_at").max().dt.date().alias("last"),
        )
        .rename({"customer_id_right": "customer_id"})
    )
    return (
        d["golden"]
        .select("customer_id", "first_seen_date")
        .join(orders, on="customer_id", how="left")
        .join(d["value"], on="customer_id", how="left")
        .with_columns(
            pl.col("order_count").fill_null(0),
            pl.col("revenue").fill_null(0.0),
            pl.col("clv_decile").fill_null(0),
            (pl.lit(d["as_of"]) - pl.col("last")).dt.total_days().alias("days_since_last_order"),
            (pl.lit(d["as_of"]) - pl.col("first_seen_date").cast(pl.Date))
            .dt.total_days()
            .alias("days_since_signup"),
        )
    )


def _lifecycle(row: dict, rules: list[dict]) -> str:
    values = {
        "days_since_last_order": row["days_since_last_order"],
        "days_since_signup": row["days_since_signup"],
        "order_count": row["order_count"],
        "lifetime_revenue": row["revenue"],
        "clv_decile": row["clv_decile"],
        "churn_probability": row["churn_probability"],
    }
    by_rule: dict[str, list[dict]] = {}
    for rule in rules:
        by_rule.setdefault(rule["rule_id"], []).append(rule)
    for rule_id in sorted(by_rule, key=lambda r: (int(by_rule[r][0]["rule_order"]), r)):
        conditions = by_rule[rule_id]
        if all(
            values[c["metric"]] is not None
            and (c["min_value"] == "" or values[c["metric"]] >= float(c["min_value"]))
            and (c["max_value"] == "" or values[c["metric"]] <= float(c["max_value"]))
            for c in conditions
        ):
            return conditions[0]["segment"]
    return "Active"


def test_s01_vip_customers(lake, data):
    with (PROJECT_ROOT / "seeds" / "marts" / "segment_rules.csv").open() as handle:
        rules = [r for r in csv.DictReader(handle) if r["segmentation"] == "lifecycle"]
    metrics = _metrics(data)
    expected = {
        r["customer_id"] for r in metrics.iter_rows(named=True) if _lifecycle(r, rules) == "VIP"
    }
    got = cookbook(lake, "s01_vip_customers")
    assert expected, "the test lake should have VIPs"
    assert (set(got["customer_id"]) if got.height else set()) == expected


def test_s02_churn_risk(lake, data):
    expected = set(data["value"].filter(pl.col("churn_probability") > 0.25)["customer_id"])
    got = cookbook(lake, "s02_churn_risk_over_25_percent")
    assert set(got["customer_id"]) == expected


def test_s03_business_professional_segment(lake, data):
    got = cookbook(lake, "s03_business_professional_segment")
    con = lake.connect()
    b2b = set(
        con.execute(
            "select distinct x.customer_id from staging.stg_crm__contacts c "
            "join silver.customer_xref x "
            "on x.source_system = 'crm_contact' and x.source_id = c.contact_id "
            "where c.account_name is not null"
        ).pl()["customer_id"]
    )
    members = set(
        con.execute(
            "select customer_id from gold.mart_customer_360 "
            "where behavioural_segment = 'BUSINESS_PROFESSIONAL'"
        ).pl()["customer_id"]
    )
    con.close()
    # every member is a B2B buyer (higher-priority segments may claim some B2B buyers first)
    assert members <= b2b
    assert got.height == (1 if members else 0)
    if members:
        assert got["customers"][0] == len(members)


def test_s04_top_customer(lake, data):
    metrics = _metrics(data).sort(["revenue", "customer_id"], descending=[True, False])
    got = cookbook(lake, "s04_top_customer_deep_dive")
    assert got["customer_id"][0] == metrics["customer_id"][0]
    assert float(got["lifetime_revenue"][0]) == pytest.approx(metrics["revenue"][0], abs=0.01)


def test_d01_engagement_overview(lake, data):
    t = data["tickets"]
    got = cookbook(lake, "d01_engagement_overview").row(0, named=True)
    assert got["total_tickets"] == t.height
    open_statuses = ["Open", "In Progress", "Pending"]  # pending: waiting on the customer
    assert got["open_tickets"] == t.filter(pl.col("status").is_in(open_statuses)).height


def test_d02_sentiment_and_reviews(lake, data):
    r = data["reviews"]
    got = cookbook(lake, "d02_sentiment_and_reviews").row(0, named=True)
    assert got["reviews"] == r.height
    assert got["average_rating"] == pytest.approx(r["rating"].mean(), abs=0.0051)
    assert got["low_rating_share"] == pytest.approx((r["rating"] <= 2).mean(), abs=5e-5)


def test_d03_sales_pipeline(lake, data):
    o = data["opportunities"]
    got = cookbook(lake, "d03_sales_pipeline").row(0, named=True)
    assert got["open_opportunities"] == o.filter(~pl.col("is_closed")).height
    closed = o.filter(pl.col("is_closed"))
    assert got["win_rate"] == pytest.approx(closed["is_won"].mean(), abs=5e-5)


def test_d04_email_performance(lake, data):
    e = data["events"]
    sent = (e["event_type"] == "sent").sum()
    got = cookbook(lake, "d04_email_performance").row(0, named=True)
    assert got["emails_sent"] == sent
    assert got["open_rate"] == pytest.approx((e["event_type"] == "open").sum() / sent, abs=5e-5)
    assert got["unsubscribe_rate"] == pytest.approx(
        (e["event_type"] == "unsubscribe").sum() / sent, abs=5e-5
    )


def test_d05_customer_360_overview(lake, data):
    got = cookbook(lake, "d05_customer_360_overview").row(0, named=True)
    assert got["customers"] == data["golden"].height
    metrics = _metrics(data)
    assert got["average_lifetime_revenue"] == pytest.approx(metrics["revenue"].mean(), abs=0.01)


def test_as_of_is_the_newest_load_not_the_wall_clock(data):
    assert data["as_of"] < date.today()
