"""The dashboards: every chart's query answers on the test lake and agrees with an independent
computation over the working warehouse, the pages are offline and pseudonymised, each page draws
every chart in headless Chromium without a network request, and the dbt exposures list exactly
the models the charts read."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from engagement_lake.cli import app
from engagement_lake.config import PROJECT_ROOT
from engagement_lake.dashboards import DASHBOARDS, Site, build_site, tables_read
from engagement_lake.dashboards import catalogue as cat
from engagement_lake.dashboards.browser import find_chromium, launch
from engagement_lake.dashboards.data import dashboard_data, saved_query_data, serving_connection
from engagement_lake.semantic import SemanticLayer, load_manifest

SCREENSHOTS = PROJECT_ROOT / "reports" / "dashboards" / "screenshots"
BY_NAME = {d.name: d for d in DASHBOARDS}
runner = CliRunner()


def _manifest(lake) -> Path:
    return (lake.cfg.target_dir or PROJECT_ROOT / "target") / "semantic_manifest.json"


@pytest.fixture(scope="module")
def site(lake, module_dir) -> Site:
    return build_site(lake.published.serving, module_dir("dashboards"), manifest=_manifest(lake))


@pytest.fixture(scope="module")
def answers(lake) -> dict[str, pd.DataFrame]:
    """Every chart's rows from its own SQL on the serving file: for the charts the semantic layer
    answers on the site, the independent computation."""
    rows: dict[str, pd.DataFrame] = {}
    with serving_connection(lake.published.serving) as con:
        for dashboard in DASHBOARDS:
            rows.update(dashboard_data(dashboard, con)[1])
    return rows


@pytest.fixture(scope="module")
def saved_answers(lake) -> dict[str, pd.DataFrame]:
    """The rows of every chart the site answers through a saved query, as the site reads them."""
    with serving_connection(lake.published.serving) as con:
        layer = SemanticLayer(con, load_manifest(_manifest(lake)))
        return {
            chart.id: saved_query_data(chart, layer)
            for chart in cat.all_charts()
            if chart.saved_columns
        }


def _warehouse(lake, sql: str) -> pd.DataFrame:
    with lake.connect() as con:
        return con.execute(sql).df()


def _as_of(lake) -> pd.Timestamp:
    frame = _warehouse(lake, "select max(date_day) as d from gold.dim_date where is_past")
    return pd.Timestamp(frame["d"].iloc[0])


# ----------------------------------------------------------------------------- the catalogue


def test_catalogue_ids_are_unique_and_saved_queries_named_once() -> None:
    charts = cat.all_charts()
    ids = [c.id for c in charts]
    assert len(ids) == len(set(ids))
    saved = [c.saved_query for c in charts if c.saved_query]
    assert len(saved) == len(set(saved)) == 9
    for chart in charts:
        if chart.saved_query:
            dashboard = chart.saved_query.split("__")[0]
            assert chart in BY_NAME[dashboard].charts, chart.saved_query
            assert {column for column, _ in chart.saved_columns} == set(_columns_of(chart)), (
                chart.id
            )
        assert (chart.kind == "tiles") == (chart.spec is None), chart.id


def _columns_of(chart: cat.Chart) -> list[str]:
    import sqlglot
    from sqlglot.errors import ErrorLevel

    tree = sqlglot.parse_one(chart.sql, read="duckdb", error_level=ErrorLevel.RAISE)
    return [select.alias_or_name for select in tree.selects]


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            frame[column] = pd.to_datetime(frame[column]).dt.strftime("%Y-%m-%d")
    return frame.sort_values(list(frame.columns), ignore_index=True)


def test_saved_queries_answer_as_the_charts_own_sql(answers, saved_answers) -> None:
    """A chart the semantic layer answers draws the same rows its independent SQL gives."""
    assert len(saved_answers) == 9
    for chart_id, saved in saved_answers.items():
        expected = _sorted(answers[chart_id])
        got = _sorted(saved[list(expected.columns)])
        assert len(got) == len(expected), chart_id
        for column in expected.columns:
            if pd.api.types.is_numeric_dtype(expected[column]):
                assert got[column].astype(float).to_numpy() == pytest.approx(
                    expected[column].astype(float).to_numpy(), rel=1e-9
                ), (chart_id, column)
            else:
                assert got[column].astype(str).tolist() == expected[column].astype(str).tolist(), (
                    chart_id,
                    column,
                )


def test_every_catalogue_query_returns_rows(answers: dict[str, pd.DataFrame]) -> None:
    empty = [chart.id for chart in cat.all_charts() if answers[chart.id].empty]
    assert empty == []


def test_ticket_volumes_match_the_warehouse(lake, answers) -> None:
    tickets = _warehouse(lake, "select status, priority, channel from gold.fct_support_tickets")
    by_status = answers["tickets_by_status_priority"]
    assert by_status["tickets"].sum() == len(tickets)
    expected = tickets.groupby(["status", "priority"]).size().sort_index()
    got = by_status.set_index(["status", "priority"])["tickets"].sort_index()
    assert got.to_dict() == expected.to_dict()
    by_channel = answers["tickets_volume_by_channel"].set_index("channel")["tickets"]
    assert by_channel.to_dict() == tickets.groupby("channel").size().to_dict()
    top = answers["tickets_top_types"]
    assert len(top) == min(cat.TOP_TICKET_TYPES, len(top))
    assert list(top["tickets"]) == sorted(top["tickets"], reverse=True)


def test_satisfaction_trend_covers_the_last_months_of_the_data(lake, answers) -> None:
    as_of = _as_of(lake)
    tickets = _warehouse(
        lake,
        "select created_date, satisfaction_score from gold.fct_support_tickets "
        "where satisfaction_score is not null",
    )
    tickets["created_date"] = pd.to_datetime(tickets["created_date"])
    since = as_of - pd.DateOffset(months=cat.SATISFACTION_TREND_MONTHS)
    window = tickets[tickets["created_date"] > since]
    expected = window.groupby(window["created_date"].dt.to_period("M"))["satisfaction_score"].mean()
    trend = answers["tickets_satisfaction_trend"]
    got = dict(
        zip(
            pd.to_datetime(trend["month"]).dt.to_period("M"),
            trend["average_satisfaction"],
            strict=True,
        )
    )
    assert got.keys() == expected.to_dict().keys()
    assert len(got) <= cat.SATISFACTION_TREND_MONTHS + 1
    for month, value in expected.items():
        assert got[month] == pytest.approx(value)


def test_funnel_counts_each_stage_reached(lake, answers) -> None:
    opportunities = _warehouse(lake, "select * from gold.fct_sales_opportunities")
    expected = {
        "Identified": opportunities["identified_at"].notna().sum(),
        "Qualified": opportunities["qualified_at"].notna().sum(),
        "Proposal": opportunities["proposal_at"].notna().sum(),
        "Negotiation": opportunities["negotiation_at"].notna().sum(),
        "Closed Won": (opportunities["is_won"] & opportunities["closed_at"].notna()).sum(),
    }
    funnel = answers["pipeline_funnel"]
    assert dict(zip(funnel["stage_name"], funnel["opportunities"], strict=True)) == {
        k: v for k, v in expected.items() if v
    }
    assert list(funnel["stage_order"]) == sorted(funnel["stage_order"])
    closed = opportunities[opportunities["is_closed"]]
    win = answers["pipeline_win_rate_by_type"].set_index("opportunity_type")["win_rate"]
    for kind, rate in closed.groupby("opportunity_type")["is_won"].mean().items():
        assert win[kind] == pytest.approx(rate)


def test_email_rates_match_the_warehouse(lake, answers) -> None:
    events = _warehouse(
        lake,
        "select campaign_type, event_type, is_open, is_click, is_conversion "
        "from gold.fct_email_events",
    )
    rates = answers["email_rates_by_campaign_type"].set_index("campaign_type")
    for kind, group in events.groupby("campaign_type"):
        sent = (group["event_type"] == "sent").sum()
        assert rates.loc[kind, "sent"] == sent
        assert rates.loc[kind, "open_rate"] == pytest.approx(group["is_open"].sum() / sent)
        assert rates.loc[kind, "click_rate"] == pytest.approx(group["is_click"].sum() / sent)
        assert rates.loc[kind, "conversion_rate"] == pytest.approx(
            group["is_conversion"].sum() / sent
        )
    by_day = answers["email_by_day_of_week"]
    assert by_day["sent"].sum() == (events["event_type"] == "sent").sum()
    assert list(by_day["day_of_week"]) == sorted(set(by_day["day_of_week"]))


def test_declining_products_compare_the_windows_before_the_as_of_date(lake, answers) -> None:
    as_of = _as_of(lake)
    reviews = _warehouse(
        lake,
        "select products.product_name, reviews.review_date, reviews.rating "
        "from gold.fct_product_reviews as reviews "
        "join gold.dim_product as products using (product_key)",
    )
    reviews["review_date"] = pd.to_datetime(reviews["review_date"])
    recent_start = as_of - pd.Timedelta(days=cat.RECENT_RATING_DAYS)
    previous_start = recent_start - pd.Timedelta(days=cat.PREVIOUS_RATING_DAYS)
    recent = reviews[(reviews["review_date"] > recent_start) & (reviews["review_date"] <= as_of)]
    previous = reviews[
        (reviews["review_date"] > previous_start) & (reviews["review_date"] <= recent_start)
    ]
    both = pd.concat(
        [
            recent.groupby("product_name")["rating"].mean().rename("recent"),
            previous.groupby("product_name")["rating"].mean().rename("previous"),
        ],
        axis=1,
    ).dropna()
    falling = both[both["recent"] < both["previous"]]
    got = answers["sentiment_declining_products"].set_index("product_name")
    assert set(got.index) == set(falling.index)
    for name, row in falling.iterrows():
        assert got.loc[name, "rating_change"] == pytest.approx(row["recent"] - row["previous"])


def test_default_customer_has_most_interactions(lake, site: Site) -> None:
    counts = _warehouse(
        lake,
        """
        select customer_key, count(*) as n from (
            select customer_key from gold.fct_orders
            union all select customer_key from gold.fct_support_tickets
            union all select customer_key from gold.fct_fitmap_scans
            union all select customer_key from gold.fct_email_events
                where event_type in ('open', 'click', 'convert', 'unsubscribe')
        ) group by customer_key
        """,
    )
    customers = _warehouse(lake, "select customer_key from gold.mart_customer_360")
    counts = counts[counts["customer_key"].isin(customers["customer_key"])]
    top = counts[counts["n"] == counts["n"].max()]["customer_key"].min()
    assert site.parameters["customer_360"] == top


# ----------------------------------------------------------------------------- the pages


_REMOTE = re.compile(
    r"<script[^>]*\bsrc\s*=\s*[\"']?https?://|<link[^>]*\bhref\s*=\s*[\"']?https?://",
    re.IGNORECASE,
)


def test_site_has_an_index_and_a_page_per_dashboard(site: Site) -> None:
    assert sorted(p.name for p in site.index.parent.glob("*.html")) == sorted(
        ["index.html", *(d.file_name for d in DASHBOARDS)]
    )
    index = site.index.read_text()
    for dashboard in DASHBOARDS:
        assert f'href="{dashboard.file_name}"' in index


def test_pages_load_nothing_from_the_network(site: Site) -> None:
    for page in [site.index, *site.pages.values()]:
        text = page.read_text()
        assert not _REMOTE.search(text), page.name
        assert "cdn.jsdelivr" not in text, page.name
        if page != site.index:
            assert "window.vegaEmbed=" in text, page.name  # the libraries are inline


def test_customer_page_is_pseudonymised(lake, site: Site) -> None:
    key = site.parameters["customer_360"]
    raw = _warehouse(
        lake,
        f"select full_name, email, phone from gold.mart_customer_360 where customer_key = '{key}'",
    )
    page = site.pages["customer_360"].read_text()
    for value in raw.iloc[0]:
        if value:
            assert str(value) not in page
    with serving_connection(lake.published.serving) as con:
        (served,) = con.execute(
            "select full_name from mart_customer_360 where customer_key = ?", [key]
        ).fetchone()
    assert served in page and served != raw["full_name"].iloc[0]


def test_cli_writes_the_site_for_a_named_customer(lake, tmp_path: Path) -> None:
    with lake.connect() as con:
        key, customer_id = con.execute(
            "select customer_key, customer_id from gold.mart_customer_360 "
            "where order_count > 0 order by customer_key limit 1"
        ).fetchone()
    serving = str(lake.published.serving)
    out = tmp_path / "site"
    result = runner.invoke(
        app,
        [
            "dashboards",
            *("--out", str(out), "--serving", serving, "--customer", customer_id),
            *("--manifest", str(_manifest(lake))),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == str((out / "index.html").resolve())
    assert key in (out / "customer_360.html").read_text()
    missing = runner.invoke(
        app,
        [
            "dashboards",
            *("--out", str(out), "--serving", serving, "--customer", "CUS-nobody"),
            *("--manifest", str(_manifest(lake))),
        ],
    )
    assert missing.exit_code == 1
    assert missing.output.strip().splitlines() == [
        "error: customer_360: no customer_key or id 'CUS-nobody'"
    ]


def _chromium() -> str:
    found = find_chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; .ci/run installs it (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium); CI always runs this")
    return found


def test_every_page_draws_every_chart_offline_in_chromium(site: Site, answers) -> None:
    executable = _chromium()
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    started = time.perf_counter()
    with launch(executable) as browser:
        for name, page in [("index", site.index), *site.pages.items()]:
            check = browser.check_page(page, screenshot=SCREENSHOTS / f"{page.stem}.png")
            assert check.error is None, (name, check.error)
            assert check.console_errors == [], (name, check.console_errors)
            assert check.requests and check.requests[0] == page.resolve().as_uri()
            assert check.network_requests == [], (name, check.network_requests)
            expected = (
                [
                    c.id
                    for c in BY_NAME[name].charts
                    if c.kind == "chart" and not answers[c.id].empty
                ]
                if name in BY_NAME
                else []
            )
            assert sorted(check.charts) == sorted(expected), name
            undrawn = {c: n for c, n in check.marks.items() if n == 0}
            assert sorted(check.marks) == sorted(expected) and undrawn == {}, (name, check.marks)
            assert check.screenshot is not None and check.screenshot.stat().st_size > 0
            assert check.colours > 1, f"{name}: the screenshot is a single colour"
    print(f"chromium checked {len(site.pages) + 1} pages in {time.perf_counter() - started:.1f} s")


# ----------------------------------------------------------------------------- exposures


def _exposures(lake, tmp_path: Path) -> dict[str, dict]:
    """The project's exposures: from the manifest the lake's build wrote in this session, else
    (a lake reused without a build) from `dbt ls`, which parses the project again."""
    if lake.run.seconds > 0:
        manifest = json.loads((lake.cfg.target_dir / "manifest.json").read_text())
        return {e["name"]: e for e in manifest["exposures"].values()}
    from dbt.cli.main import dbtRunner

    from engagement_lake.dbt_runner import _invocation, close_duckdb_connections

    listing = replace(lake.cfg, target_dir=tmp_path / "target")
    os.environ.update(listing.dbt_env())
    args = ["ls", "--resource-type", "exposure", "--output", "json"]
    args += ["--output-keys", "name", "type", "url", "depends_on"]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            result = dbtRunner().invoke(_invocation(args, listing, PROJECT_ROOT))
    finally:
        close_duckdb_connections()
    assert result.success, result.exception
    return {e["name"]: e for e in map(json.loads, result.result)}


def test_exposures_depend_on_the_models_the_charts_read(lake, tmp_path: Path) -> None:
    exposures = _exposures(lake, tmp_path)
    assert sorted(exposures) == sorted(f"dashboard_{d.name}" for d in DASHBOARDS)
    for dashboard in DASHBOARDS:
        exposure = exposures[f"dashboard_{dashboard.name}"]
        assert exposure["type"] == "dashboard"
        assert exposure["url"].endswith(dashboard.file_name)
        read = set().union(*(tables_read(sql) for sql in dashboard.queries))
        declared = {node.rsplit(".", 1)[-1] for node in exposure["depends_on"]["nodes"]}
        assert declared == read, dashboard.name
