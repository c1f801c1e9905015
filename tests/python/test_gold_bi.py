"""Gold a BI tool reads without help: the conventions of docs/architecture.md ("Conventions in
gold") checked on the built test lake: one spelling of the unknown member, labels that start with
a capital, and a date dimension whose unknown member stays out of the date range."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import yaml

from engagement_lake.config import PROJECT_ROOT, UNKNOWN_MEMBER_KEY


def _gold_text_columns(con) -> list[tuple[str, str]]:
    return con.execute(
        """select table_name, column_name from information_schema.columns
           where table_schema = 'gold' and data_type = 'VARCHAR'
           order by table_name, column_name"""
    ).fetchall()


def _fiscal_start_month() -> int:
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())
    return int(project["vars"]["fiscal_year_start_month"])


def test_the_unknown_member_has_one_spelling(con):
    label = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())["vars"][
        "unknown_member_label"
    ]
    spellings: dict[str, set[str]] = {}
    for table, column in _gold_text_columns(con):
        for (value,) in con.execute(
            f'select distinct "{column}" from gold."{table}" '
            f"where lower(\"{column}\") like 'unknown%'"
        ).fetchall():
            spellings.setdefault(value, set()).add(f"{table}.{column}")
    assert set(spellings) == {label}, spellings


@pytest.mark.parametrize(
    "table, key",
    [
        ("dim_customer", "customer_key"),
        ("dim_product", "product_key"),
        ("dim_channel", "channel_key"),
        ("dim_sales_rep", "sales_rep_key"),
    ],
)
def test_every_text_column_of_the_unknown_member_reads_unknown(con, table, key):
    columns = [c for t, c in _gold_text_columns(con) if t == table and not c.endswith("_key")]
    row = con.execute(
        f"select {', '.join(columns)} from gold.{table} where {key} = ?", [UNKNOWN_MEMBER_KEY]
    ).fetchone()
    assert row is not None
    assert dict(zip(columns, row, strict=True)) == dict.fromkeys(columns, "Unknown")


def test_labels_start_with_a_capital_letter(con):
    bad = {}
    labels = [(t, c) for t, c in _gold_text_columns(con) if c.endswith("_label")]
    assert {
        ("fct_support_tickets", "sentiment_label"),
        ("dim_health_level", "health_level_label"),
    } <= set(labels)
    for table, column in labels:
        wrong = con.execute(
            f'select distinct "{column}" from gold."{table}" where "{column}" is not null '
            f'and left("{column}", 1) <> upper(left("{column}", 1))'
        ).fetchall()
        if wrong:
            bad[f"{table}.{column}"] = [w[0] for w in wrong]
    assert not bad


def test_sentiment_labels_agree_across_gold(con):
    values = set()
    for table in ("fct_support_tickets", "fct_product_reviews", "fct_customer_sentiment"):
        values |= {
            r[0]
            for r in con.execute(
                f"select distinct sentiment_label from gold.{table} "
                "where sentiment_label is not null"
            ).fetchall()
        }
    assert values == {"Positive", "Neutral", "Negative"}


def test_codes_have_their_labels_in_gold(con):
    # AT_RISK, offer_fitmap_scan and poor_fit were codes without a label in gold.
    assert con.execute(
        "select behavioural_segment_label from gold.dim_behavioural_segment "
        "where behavioural_segment = 'AT_RISK'"
    ).fetchone() == ("At risk",)
    assert con.execute(
        "select next_best_action_label from gold.dim_next_best_action "
        "where next_best_action = 'offer_fitmap_scan'"
    ).fetchone() == ("Offer a FitMap scan",)
    assert con.execute(
        "select return_reason_label, is_fit_related from gold.dim_return_reason "
        "where return_reason = 'poor_fit'"
    ).fetchone() == ("Poor fit", True)
    # every level a mart carries finds its label
    missing = con.execute(
        """select count(*) from gold.mart_customer_health as health
           left join gold.dim_health_level as levels using (health_level)
           where levels.health_level_label is null"""
    ).fetchone()[0]
    assert missing == 0
    missing = con.execute(
        """select count(*) from gold.mart_customer_360 as customers
           left join gold.dim_engagement_level as levels using (engagement_level)
           where levels.engagement_level_label is null"""
    ).fetchone()[0]
    assert missing == 0


def test_dim_date_unknown_member_is_outside_the_date_range(con):
    unknown = con.execute(
        "select date_day, year_number, month_name, is_past from gold.dim_date where date_key = 0"
    ).fetchall()
    assert unknown == [(None, None, "Unknown", False)]
    low, high, days, keys = con.execute(
        "select min(date_day), max(date_day), count(date_day), count(distinct date_key) "
        "from gold.dim_date"
    ).fetchone()
    # whole years, contiguous, every day once; the unknown member adds a key but no day
    assert (low.month, low.day, high.month, high.day) == (1, 1, 12, 31)
    assert low.year >= 2000
    assert days == (high - low).days + 1 and keys == days + 1


def test_dim_date_calendar_attributes(con):
    start = _fiscal_start_month()
    rows = con.execute(
        """select date_day, date_key, iso_year, week_of_year, iso_year_week, day_of_year,
                  is_month_end, year_quarter, fiscal_year, fiscal_quarter, fiscal_year_quarter
           from gold.dim_date where date_day is not null order by date_day"""
    ).fetchall()
    for day, key, iso_year, iso_week, iso_label, doy, month_end, yq, fy, fq, fyq in rows:
        assert key == day.year * 10000 + day.month * 100 + day.day
        assert (iso_year, iso_week) == day.isocalendar()[:2]
        assert iso_label == f"{iso_year}-W{iso_week:02d}"
        assert doy == day.timetuple().tm_yday
        assert month_end == ((day + timedelta(days=1)).day == 1)
        assert yq == f"{day.year}-Q{(day.month - 1) // 3 + 1}"
        offset = (day.month - start) % 12
        assert fq == offset // 3 + 1
        assert fy == day.year + (1 if start > 1 and day.month >= start else 0)
        assert fyq == f"FY{fy}-Q{fq}"


def test_dim_date_holidays(con):
    years = [
        r[0]
        for r in con.execute(
            "select distinct year_number from gold.dim_date where date_day is not null"
        ).fetchall()
    ]
    for year in years:
        july_4 = date(year, 7, 4)
        assert con.execute(
            "select is_holiday, holiday_name from gold.dim_date where date_day = ?", [july_4]
        ).fetchone() == (True, "Independence Day")
        # a weekend holiday is observed on the nearest weekday
        observed = {5: july_4 - timedelta(days=1), 6: july_4 + timedelta(days=1)}.get(
            july_4.weekday(), july_4
        )
        assert con.execute(
            "select is_holiday_observed from gold.dim_date where date_day = ?", [observed]
        ).fetchone() == (True,)
        # eleven federal holidays a year from 2021 (Juneteenth), ten before
        count = con.execute(
            "select count(*) from gold.dim_date where is_holiday and year_number = ?", [year]
        ).fetchone()[0]
        assert count == (11 if year >= 2021 else 10)
