"""The chart catalogue: every dashboard, and every chart on it as SQL over the serving file plus
a Vega-Lite spec.

One entry per chart, so that what a chart shows is written once: its query (DuckDB SQL over the
serving file's gold tables, unqualified so the file may be opened under any name), the Altair
chart that draws the query's rows, and where the semantic layer has the same question as a saved
query, its name (``saved_query``): the chart is then answered by the semantic layer
(``engagement_lake.dashboards.data.chart_data`` is the one place that decides).

Time windows are counted back from the data's as-of date (the last past day of ``dim_date``),
never from the wall clock, so the same lake always draws the same dashboards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import altair as alt
    import pandas as pd

AS_OF = "(select max(date_day) from dim_date where is_past)"
"""The data's as-of date: the last day ``dim_date`` marks as past (as the analyses use)."""

SATISFACTION_TREND_MONTHS = 6
"""Months of the support satisfaction trend, ending on the as-of date."""
TOP_TICKET_TYPES = 5
TOP_PRODUCTS = 10
TOP_OPPORTUNITIES = 10
TOP_CAMPAIGNS = 10
RECENT_RATING_DAYS = 30
"""A product's rating is declining when its average over this many days before the as-of date"""
PREVIOUS_RATING_DAYS = 60
"""... is below its average over this many days just before them."""
NO_TIER_LABEL = "No tier"
"""The loyalty tier shown for customers outside the loyalty programme (``loyalty_tier`` null)."""

CUSTOMER_PARAMETER = "customer_key"
"""The customer 360 queries read one customer: bound as ``$customer_key``, never pasted in."""

Spec = Callable[["pd.DataFrame"], "alt.TopLevelMixin"]


@dataclass(frozen=True)
class Chart:
    """One chart: its query over the serving file and how its rows are drawn.

    ``kind`` is ``chart`` (a Vega-Lite chart from ``spec``) or ``tiles`` (one row whose columns
    are shown as labelled figures). Where the semantic layer asks the same question, the chart is
    answered by its saved query (``saved_query``, columns renamed by ``saved_columns``), so a
    dashboard and a metric can never disagree; the chart's SQL is then the independent
    computation the tests compare it with. Charts the metrics do not express (a trailing window,
    a bucket for customers outside the programme, a top-N list) are answered by their SQL.
    """

    id: str
    title: str
    sql: str
    spec: Spec | None = None
    saved_query: str | None = None
    kind: str = "chart"
    description: str = ""
    saved_columns: tuple[tuple[str, str], ...] = ()
    """(the chart's column, the saved query's column) for every column the chart draws."""


@dataclass(frozen=True)
class Dashboard:
    """A page of charts. A template page (the customer 360) reads one value of ``parameter``:
    ``default_sql`` picks it when none is given, ``lookup_sql`` finds the one named (``$id``)."""

    name: str
    title: str
    description: str
    charts: tuple[Chart, ...] = field(default_factory=tuple)
    parameter: str | None = None
    default_sql: str | None = None
    lookup_sql: str | None = None

    @property
    def queries(self) -> list[str]:
        """Every query the page runs (what its exposure depends on)."""
        extra = [sql for sql in (self.default_sql, self.lookup_sql) if sql]
        return [chart.sql for chart in self.charts] + extra

    @property
    def file_name(self) -> str:
        return f"{self.name}.html"


# ----------------------------------------------------------------------------- chart builders


def _alt() -> Any:
    """Altair, imported when a page is drawn (not on ``--help``)."""
    import altair as alt

    return alt


def _sort(value: str | None, default: str) -> str | None:
    """A Vega-Lite sort: ``"none"`` keeps the query's row order (``order by``)."""
    if value == "none":
        return None
    return value or default


def _axis(number_format: str | None) -> alt.Axis:
    """An axis with the given d3 number format, or Vega-Lite's own when none is given."""
    alt = _alt()
    return alt.Axis(format=number_format) if number_format else alt.Axis()


def _tooltip(field: str, number_format: str | None) -> alt.Tooltip:
    alt = _alt()
    return (
        alt.Tooltip(f"{field}:Q", format=number_format)
        if number_format
        else alt.Tooltip(f"{field}:Q")
    )


def bars(
    x: str,
    y: str,
    *,
    color: str | None = None,
    horizontal: bool = False,
    sort: str | None = None,
    x_title: str | None = None,
    y_title: str | None = None,
    y_format: str | None = None,
    side_by_side: bool = False,
) -> Spec:
    """A bar chart of ``y`` (quantitative) by ``x`` (nominal); ``color`` stacks by a field, or
    with ``side_by_side`` puts its bars next to each other."""

    def draw(data: pd.DataFrame) -> alt.TopLevelMixin:
        alt = _alt()
        category = alt.X(f"{x}:N", title=x_title, sort=_sort(sort, "-y"))
        value = alt.Y(f"{y}:Q", title=y_title, axis=_axis(y_format))
        tooltip = [f"{x}:N", _tooltip(y, y_format)]
        if horizontal:
            category = alt.Y(f"{x}:N", title=x_title, sort=_sort(sort, "-x"))
            value = alt.X(f"{y}:Q", title=y_title, axis=_axis(y_format))
        chart = alt.Chart(data).mark_bar().encode(category, value, tooltip=tooltip)
        if color:
            chart = chart.encode(color=alt.Color(f"{color}:N"), tooltip=[*tooltip, f"{color}:N"])
            if side_by_side:
                chart = chart.encode(xOffset=alt.XOffset(f"{color}:N"))
        return chart

    return draw


def category_bars(
    chart_id: str,
    title: str,
    *,
    table: str,
    category: str,
    value: str,
    value_sql: str,
    also: str = "",
    where: str = "",
    order: str | None = None,
    limit: int | None = None,
    saved_query: str | None = None,
    saved_columns: tuple[tuple[str, str], ...] = (),
    **bar_options: Any,
) -> Chart:
    """The most common chart: one aggregate (``value_sql`` as ``value``, plus the columns
    ``also`` for the tooltip and the saved query) per ``category`` of one gold ``table``, filtered
    by ``where``, ordered by ``order`` (the value, highest first, by default) and drawn as
    ``bars`` (``bar_options``)."""
    columns = ", ".join(c for c in (category, f"{value_sql} as {value}", also) if c)
    clauses = (
        f"select {columns}",
        f"from {table}",
        f"where {where}" if where else "",
        f"group by {category}",
        f"order by {order or f'{value} desc, {category}'}",
        f"limit {limit}" if limit else "",
    )
    sql = "\n".join(c for c in clauses if c)
    return Chart(
        chart_id,
        title,
        sql,
        bars(category, value, **bar_options),
        saved_query,
        saved_columns=saved_columns,
    )


def grouped_bars(
    x: str,
    measures: dict[str, str],
    *,
    y_title: str,
    y_format: str = ".1%",
    sort: str = "ascending",
) -> Spec:
    """Side-by-side bars of several measures (columns ``measures``, shown by their labels)."""

    def draw(data: pd.DataFrame) -> alt.TopLevelMixin:
        alt = _alt()
        renamed = data.rename(columns=measures)
        labels = list(measures.values())
        return (
            alt.Chart(renamed)
            .transform_fold(labels, as_=["measure", "value"])
            .mark_bar()
            .encode(
                alt.X(f"{x}:N", sort=_sort(sort, "ascending"), title=None),
                alt.Y("value:Q", title=y_title, axis=alt.Axis(format=y_format)),
                alt.XOffset("measure:N", sort=labels),
                alt.Color("measure:N", sort=labels, title=None),
                tooltip=[f"{x}:N", "measure:N", alt.Tooltip("value:Q", format=y_format)],
            )
        )

    return draw


def line(
    x: str,
    y: str,
    *,
    y_title: str | None = None,
    y_format: str | None = None,
    time_unit: str = "yearmonth",
    zero: bool = True,
) -> Spec:
    """A line over time (``x`` a date), with points so a single month still shows a mark."""

    def draw(data: pd.DataFrame) -> alt.TopLevelMixin:
        alt = _alt()
        return (
            alt.Chart(data)
            .mark_line(point=True)
            .encode(
                alt.X(f"{time_unit}({x}):T", title=None),
                alt.Y(f"{y}:Q", title=y_title, axis=_axis(y_format), scale=alt.Scale(zero=zero)),
                tooltip=[alt.Tooltip(f"{time_unit}({x}):T", title=x), _tooltip(y, y_format)],
            )
        )

    return draw


def scatter(x: str, y: str, label: str, *, x_title: str, y_title: str) -> Spec:
    """One labelled point per row (e.g. per agent)."""

    def draw(data: pd.DataFrame) -> alt.TopLevelMixin:
        alt = _alt()
        base = alt.Chart(data).encode(
            alt.X(f"{x}:Q", title=x_title, scale=alt.Scale(zero=False)),
            alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(zero=False)),
            tooltip=[f"{label}:N", f"{x}:Q", alt.Tooltip(f"{y}:Q", format=".2f")],
        )
        return base.mark_circle(size=90) + base.mark_text(dy=-10, fontSize=10).encode(
            text=f"{label}:N"
        )

    return draw


def funnel(stage: str, value: str, order: str) -> Spec:
    """A funnel: one centred bar per stage, as wide as its value, stages in ``order``."""

    def draw(data: pd.DataFrame) -> alt.TopLevelMixin:
        alt = _alt()
        base = alt.Chart(data).transform_calculate(
            left=f"-datum.{value} / 2", right=f"datum.{value} / 2"
        )
        stage_axis = alt.Y(f"{stage}:N", sort=alt.SortField(order), title=None)
        bars_ = base.mark_bar().encode(
            stage_axis,
            alt.X("left:Q", axis=None),
            alt.X2("right:Q"),
            alt.Color(f"{stage}:N", sort=alt.SortField(order), legend=None),
            tooltip=[f"{stage}:N", f"{value}:Q"],
        )
        text = base.mark_text(color="black").encode(stage_axis, text=f"{value}:Q")
        return bars_ + text

    return draw


# ----------------------------------------------------------------------------- tickets

TICKETS = Dashboard(
    "tickets",
    "Customer engagement overview",
    "Support tickets: volume, satisfaction, resolution, sentiment, agents and SLAs.",
    (
        Chart(
            "tickets_by_status_priority",
            "Tickets by status and priority",
            """
            select status, priority, count(*) as tickets
            from fct_support_tickets
            group by status, priority
            order by status, priority
            """,
            bars("status", "tickets", color="priority", y_title="tickets"),
            "tickets__volume_by_status_priority",
            saved_columns=(
                ("status", "ticket__status"),
                ("priority", "ticket__priority"),
                ("tickets", "ticket_volume"),
            ),
        ),
        Chart(
            "tickets_satisfaction_trend",
            f"Average satisfaction, last {SATISFACTION_TREND_MONTHS} months",
            f"""
            select
                date_trunc('month', created_date) as month,
                avg(satisfaction_score) as average_satisfaction,
                count(satisfaction_score) as responses
            from fct_support_tickets
            where created_date > {AS_OF} - interval {SATISFACTION_TREND_MONTHS} month
                and satisfaction_score is not null
            group by month
            order by month
            """,
            line("month", "average_satisfaction", y_title="satisfaction (1-5)", zero=False),
        ),
        category_bars(
            "tickets_volume_by_channel",
            "Ticket volume by channel",
            table="fct_support_tickets",
            category="channel",
            value="tickets",
            value_sql="count(*)",
            y_title="tickets",
            saved_query="tickets__volume_by_channel",
            saved_columns=(("channel", "ticket__ticket_channel"), ("tickets", "ticket_volume")),
        ),
        category_bars(
            "tickets_resolution_by_type",
            "Average resolution time by ticket type (resolved tickets)",
            table="fct_support_tickets",
            category="ticket_type",
            value="average_resolution_hours",
            value_sql="avg(resolution_hours)",
            also="count(*) as resolved_tickets",
            where="resolution_hours is not null",
            horizontal=True,
            y_title="hours",
            y_format=".1f",
        ),
        category_bars(
            "tickets_top_types",
            f"Top {TOP_TICKET_TYPES} ticket types by volume",
            table="fct_support_tickets",
            category="ticket_type",
            value="tickets",
            value_sql="count(*)",
            limit=TOP_TICKET_TYPES,
            horizontal=True,
            y_title="tickets",
        ),
        category_bars(
            "tickets_sentiment_distribution",
            "Sentiment of ticket texts",
            table="fct_support_tickets",
            category="sentiment_label",
            value="tickets",
            value_sql="count(*)",
            where="sentiment_label is not null",
            order="sentiment_label",
            y_title="tickets",
            x_title="sentiment",
        ),
        Chart(
            "tickets_agent_performance",
            "Agent performance: tickets resolved and average satisfaction",
            """
            select
                'Agent ' || agent_id || ' (' || team || ')' as agent,
                tickets_resolved,
                average_satisfaction
            from dim_support_agent
            where tickets_resolved > 0
            order by agent_id
            """,
            scatter(
                "tickets_resolved",
                "average_satisfaction",
                "agent",
                x_title="tickets resolved",
                y_title="average satisfaction (1-5)",
            ),
        ),
        Chart(
            "tickets_sla_by_priority",
            "SLA breaches by priority",
            """
            select
                priority,
                avg(is_first_response_breached::int) as first_response_breach_rate,
                avg(is_resolution_breached::int) as resolution_breach_rate,
                count(*) as tickets
            from fct_support_sla
            group by priority
            order by priority
            """,
            grouped_bars(
                "priority",
                {
                    "first_response_breach_rate": "first response breached",
                    "resolution_breach_rate": "resolution breached",
                },
                y_title="share of tickets",
            ),
        ),
    ),
)

# ----------------------------------------------------------------------------- sentiment

SENTIMENT = Dashboard(
    "sentiment",
    "Customer sentiment and reviews",
    "Product reviews: ratings over time and by product, review text sentiment, verified "
    "purchases and products whose ratings are falling.",
    (
        Chart(
            "sentiment_rating_trend",
            "Average product rating by month",
            """
            select date_trunc('month', review_date) as month, avg(rating) as average_rating,
                count(*) as reviews
            from fct_product_reviews
            group by month
            order by month
            """,
            line("month", "average_rating", y_title="rating (1-5)", zero=False),
            "sentiment__rating_trend",
            saved_columns=(
                ("month", "metric_time__month"),
                ("average_rating", "average_rating"),
                ("reviews", "reviews"),
            ),
        ),
        category_bars(
            "sentiment_rating_distribution",
            "Distribution of ratings",
            table="fct_product_reviews",
            category="rating",
            value="reviews",
            value_sql="count(*)",
            order="rating",
            sort="ascending",
            x_title="stars",
            y_title="reviews",
        ),
        Chart(
            "sentiment_top_products",
            f"Top {TOP_PRODUCTS} most reviewed products",
            f"""
            select products.product_name, count(*) as reviews, avg(reviews.rating) as average_rating
            from fct_product_reviews as reviews
            inner join dim_product as products on reviews.product_key = products.product_key
            group by products.product_name
            order by reviews desc, products.product_name
            limit {TOP_PRODUCTS}
            """,
            bars("product_name", "reviews", horizontal=True, y_title="reviews"),
        ),
        Chart(
            "sentiment_reviews_by_category",
            "Review volume by product category",
            """
            select products.category, count(*) as reviews
            from fct_product_reviews as reviews
            inner join dim_product as products on reviews.product_key = products.product_key
            group by products.category
            order by reviews desc, products.category
            """,
            bars("category", "reviews", y_title="reviews"),
            "sentiment__reviews_by_category",
            saved_columns=(("category", "product__category"), ("reviews", "reviews")),
        ),
        category_bars(
            "sentiment_review_text",
            "Sentiment of review texts",
            table="fct_product_reviews",
            category="sentiment_label",
            value="reviews",
            value_sql="count(*)",
            where="sentiment_label is not null",
            order="sentiment_label",
            x_title="sentiment",
            y_title="reviews",
        ),
        Chart(
            "sentiment_verified_vs_rating",
            "Ratings of verified and unverified purchases",
            """
            select
                case when is_verified_purchase then 'verified' else 'unverified' end as purchase,
                rating,
                count(*) as reviews,
                count(*) / sum(count(*)) over (partition by is_verified_purchase) as share
            from fct_product_reviews
            group by is_verified_purchase, rating
            order by is_verified_purchase, rating
            """,
            bars(
                "rating",
                "share",
                color="purchase",
                sort="ascending",
                side_by_side=True,
                x_title="stars",
                y_title="share of the group's reviews",
                y_format=".0%",
            ),
        ),
        Chart(
            "sentiment_declining_products",
            f"Products with declining ratings (last {RECENT_RATING_DAYS} days vs the "
            f"{PREVIOUS_RATING_DAYS} before)",
            f"""
            with as_of as (
                select {AS_OF} as as_of_date
            ),

            windows as (
                select
                    reviews.product_key,
                    avg(reviews.rating) filter (
                        where reviews.review_date > as_of.as_of_date - {RECENT_RATING_DAYS}
                    ) as recent_rating,
                    avg(reviews.rating) filter (
                        where reviews.review_date <= as_of.as_of_date - {RECENT_RATING_DAYS}
                    ) as previous_rating
                from fct_product_reviews as reviews
                cross join as_of
                where reviews.review_date <= as_of.as_of_date
                    and reviews.review_date
                    > as_of.as_of_date - {RECENT_RATING_DAYS + PREVIOUS_RATING_DAYS}
                group by reviews.product_key
            )

            select
                products.product_name,
                windows.recent_rating,
                windows.previous_rating,
                windows.recent_rating - windows.previous_rating as rating_change
            from windows
            inner join dim_product as products on windows.product_key = products.product_key
            where windows.recent_rating < windows.previous_rating
            order by rating_change, products.product_name
            """,
            bars(
                "product_name",
                "rating_change",
                horizontal=True,
                sort="none",
                y_title="change in average rating (stars)",
                y_format=".1f",
            ),
        ),
    ),
)

# ----------------------------------------------------------------------------- pipeline

_STAGE_REACHED = """
    select 'Identified' as stage_name, identified_at as entered_at from fct_sales_opportunities
    union all
    select 'Qualified', qualified_at from fct_sales_opportunities
    union all
    select 'Proposal', proposal_at from fct_sales_opportunities
    union all
    select 'Negotiation', negotiation_at from fct_sales_opportunities
    union all
    select 'Closed Won', closed_at from fct_sales_opportunities where is_won
"""
"""When each opportunity entered each stage of the way to a win: the stage timestamps of
``fct_sales_opportunities``, named as ``dim_sales_stage`` names the stages."""

_STAGE_DAYS = """
    select 'Identified' as stage_name, days_in_identified as days from fct_sales_opportunities
    union all
    select 'Qualified', days_in_qualified from fct_sales_opportunities
    union all
    select 'Proposal', days_in_proposal from fct_sales_opportunities
    union all
    select 'Negotiation', days_in_negotiation from fct_sales_opportunities
"""
"""Days each opportunity spent in each open stage (``days_in_<stage>``, null when skipped)."""


def _won_share_by_type(
    name: str, title: str, count: str, saved_rate: str, saved_count: str, closed_only: bool = False
) -> Chart:
    """Share of opportunities won (column ``<rate>``) by opportunity type, over every opportunity
    created or, with ``closed_only``, over the closed ones; chart ``pipeline_<name>_by_type``,
    answered by the saved query ``pipeline__<name>_by_type`` (metrics ``saved_rate`` and
    ``saved_count``). ``name`` is ``conversion`` (rate column conversion_rate) or ``win_rate``."""
    rate = name if name.endswith("_rate") else f"{name}_rate"
    return category_bars(
        f"pipeline_{name}_by_type",
        title,
        table="fct_sales_opportunities",
        category="opportunity_type",
        value=rate,
        value_sql="avg(is_won::int)",
        also=f"count(*) as {count}",
        where="is_closed" if closed_only else "",
        y_format=".0%",
        y_title="won / closed" if closed_only else "won / created",
        saved_query=f"pipeline__{name}_by_type",
        saved_columns=(
            ("opportunity_type", "opportunity__opportunity_type"),
            (rate, saved_rate),
            (count, saved_count),
        ),
    )


PIPELINE = Dashboard(
    "pipeline",
    "Sales opportunities pipeline",
    "Opportunities from identification to a win: the funnel, value and time per stage, "
    "conversion and win rates, sources and the monthly intake.",
    (
        Chart(
            "pipeline_funnel",
            "Pipeline funnel: opportunities that reached each stage",
            f"""
            with reached as ({_STAGE_REACHED})

            select stages.stage_name, stages.stage_order, count(*) as opportunities
            from reached
            inner join dim_sales_stage as stages on reached.stage_name = stages.stage_name
            where reached.entered_at is not null
            group by stages.stage_name, stages.stage_order
            order by stages.stage_order
            """,
            funnel("stage_name", "opportunities", "stage_order"),
        ),
        Chart(
            "pipeline_value_by_stage",
            "Estimated value by current stage",
            """
            select
                stages.stage_name,
                stages.stage_order,
                sum(opportunities.amount) as amount,
                sum(opportunities.weighted_amount) as weighted_amount
            from fct_sales_opportunities as opportunities
            inner join dim_sales_stage as stages
                on opportunities.sales_stage_key = stages.sales_stage_key
            group by stages.stage_name, stages.stage_order
            order by stages.stage_order
            """,
            grouped_bars(
                "stage_name",
                {"amount": "amount", "weighted_amount": "probability-weighted amount"},
                y_title="value",
                y_format=",.0f",
                sort="none",
            ),
        ),
        _won_share_by_type(
            "conversion",
            "Conversion rate by opportunity type (won / created)",
            "opportunities",
            "opportunity_conversion_rate",
            "opportunities_created",
        ),
        Chart(
            "pipeline_time_in_stage",
            "Average days in each stage",
            f"""
            with stage_days as ({_STAGE_DAYS})

            select stages.stage_name, stages.stage_order, avg(stage_days.days) as average_days
            from stage_days
            inner join dim_sales_stage as stages on stage_days.stage_name = stages.stage_name
            where stage_days.days is not null
            group by stages.stage_name, stages.stage_order
            order by stages.stage_order
            """,
            bars("stage_name", "average_days", sort="none", y_title="days", y_format=".1f"),
        ),
        Chart(
            "pipeline_top_opportunities",
            f"Top {TOP_OPPORTUNITIES} open opportunities by value",
            f"""
            select
                opportunity_id || ' ' || opportunity_type || ' (' || stage_name || ')'
                    as opportunity,
                amount
            from fct_sales_opportunities
            where is_open
            order by amount desc, opportunity_id
            limit {TOP_OPPORTUNITIES}
            """,
            bars("opportunity", "amount", horizontal=True, y_title="amount", y_format=",.0f"),
        ),
        category_bars(
            "pipeline_by_source",
            "Opportunities and value by lead source",
            table="fct_sales_opportunities",
            category="lead_source",
            value="amount",
            value_sql="sum(amount)",
            also="count(*) as opportunities",
            y_title="amount",
            y_format=",.0f",
        ),
        _won_share_by_type(
            "win_rate",
            "Win rate by opportunity type (won / closed)",
            "closed_opportunities",
            "win_rate",
            "closed_opportunities",
            closed_only=True,
        ),
        Chart(
            "pipeline_monthly_creation",
            "Opportunities created per month",
            """
            select date_trunc('month', created_date) as month, count(*) as opportunities
            from fct_sales_opportunities
            group by month
            order by month
            """,
            line("month", "opportunities", y_title="opportunities"),
            "pipeline__monthly_creation",
            saved_columns=(
                ("month", "metric_time__month"),
                ("opportunities", "opportunities_created"),
            ),
        ),
    ),
)

# ----------------------------------------------------------------------------- email


def _email_rates(table: str = "") -> str:
    """Sent, and opens, clicks and conversions per e-mail sent (as the headline query d04
    counts them), over ``fct_email_events`` read as ``table``."""
    t = f"{table}." if table else ""
    sent = f"count(*) filter (where {t}event_type = 'sent')"
    return f"""
    {sent} as sent,
    count(*) filter (where {t}is_open) / nullif({sent}, 0) as open_rate,
    count(*) filter (where {t}is_click) / nullif({sent}, 0) as click_rate,
    count(*) filter (where {t}is_conversion) / nullif({sent}, 0) as conversion_rate
    """


_EMAIL_MEASURES = {
    "open_rate": "open rate",
    "click_rate": "click-through rate",
    "conversion_rate": "conversion rate",
}

EMAIL = Dashboard(
    "email",
    "E-mail campaign performance",
    "Opens, clicks, conversions and unsubscribes per e-mail sent, by campaign, loyalty tier "
    "and day of the week.",
    (
        Chart(
            "email_rates_by_campaign_type",
            "Open, click-through and conversion rate by campaign type",
            f"""
            select campaign_type, {_email_rates()}
            from fct_email_events
            group by campaign_type
            order by campaign_type
            """,
            grouped_bars("campaign_type", _EMAIL_MEASURES, y_title="per e-mail sent"),
            "email__rates_by_campaign_type",
            saved_columns=(
                ("campaign_type", "email_event__campaign_type"),
                ("sent", "emails_sent"),
                ("open_rate", "email_open_rate"),
                ("click_rate", "email_click_rate"),
                ("conversion_rate", "email_conversion_rate"),
            ),
        ),
        Chart(
            "email_unsubscribe_trend",
            "Unsubscribe rate by month",
            """
            select
                date_trunc('month', event_date) as month,
                count(*) filter (where is_unsubscribe)
                / nullif(count(*) filter (where event_type = 'sent'), 0) as unsubscribe_rate
            from fct_email_events
            group by month
            having count(*) filter (where event_type = 'sent') > 0
            order by month
            """,
            line("month", "unsubscribe_rate", y_title="per e-mail sent", y_format=".2%"),
            "email__unsubscribe_trend",
            saved_columns=(
                ("month", "metric_time__month"),
                ("unsubscribe_rate", "email_unsubscribe_rate"),
            ),
        ),
        Chart(
            "email_best_campaigns",
            f"Best {TOP_CAMPAIGNS} campaigns by conversions",
            f"""
            select
                campaigns.campaign_name,
                count(*) filter (where events.is_conversion) as conversions,
                count(*) filter (where events.event_type = 'sent') as sent
            from fct_email_events as events
            inner join dim_campaign as campaigns on events.campaign_key = campaigns.campaign_key
            group by campaigns.campaign_name
            having count(*) filter (where events.is_conversion) > 0
            order by conversions desc, campaigns.campaign_name
            limit {TOP_CAMPAIGNS}
            """,
            bars("campaign_name", "conversions", horizontal=True, y_title="conversions"),
        ),
        Chart(
            "email_engagement_by_tier",
            "Engagement by loyalty tier",
            f"""
            select coalesce(customers.loyalty_tier, '{NO_TIER_LABEL}') as loyalty_tier,
                {_email_rates("events")}
            from fct_email_events as events
            inner join dim_customer as customers on events.customer_key = customers.customer_key
            group by coalesce(customers.loyalty_tier, '{NO_TIER_LABEL}')
            order by loyalty_tier
            """,
            grouped_bars("loyalty_tier", _EMAIL_MEASURES, y_title="per e-mail sent"),
        ),
        Chart(
            "email_by_day_of_week",
            "Performance by the day of the week the e-mail was sent",
            f"""
            with sends as (
                select customer_key, campaign_key, min(event_date) as sent_date
                from fct_email_events
                where event_type = 'sent'
                group by customer_key, campaign_key
            ),

            events as (
                select sends.sent_date, email_events.*
                from fct_email_events as email_events
                inner join sends
                    on email_events.customer_key = sends.customer_key
                    and email_events.campaign_key = sends.campaign_key
            )

            select dates.day_name, dates.day_of_week,
                {_email_rates("events")}
            from events
            inner join dim_date as dates on events.sent_date = dates.date_day
            group by dates.day_name, dates.day_of_week
            order by dates.day_of_week
            """,
            grouped_bars("day_name", _EMAIL_MEASURES, y_title="per e-mail sent", sort="none"),
        ),
    ),
)

# ----------------------------------------------------------------------------- customer 360

_INTERACTIONS = """
    select customer_key, channel_key, 'order' as interaction from fct_orders
    union all
    select customer_key, channel_key, 'support ticket' from fct_support_tickets
    union all
    select customer_key, channel_key, 'FitMap scan' from fct_fitmap_scans
    union all
    select customer_key, channel_key, 'e-mail response' from fct_email_events
    where is_open or is_click or is_conversion or is_unsubscribe
"""
"""Every contact a customer made, with its channel: orders, support tickets, FitMap scans and
responses to e-mails (an open, click, conversion or unsubscribe; a send is ours, not theirs)."""

DEFAULT_CUSTOMER_SQL = f"""
    with interactions as ({_INTERACTIONS})

    select customer_key
    from interactions
    where customer_key in (select customer_key from mart_customer_360)
    group by customer_key
    order by count(*) desc, customer_key
    limit 1
"""
"""The customer 360 page's default customer: the one with most interactions (ties by key)."""

FIND_CUSTOMER_SQL = """
    select customer_key from mart_customer_360 where customer_id = $id or customer_key = $id
"""
"""A customer named on the command line, by the golden id or the surrogate key the serving file
shows."""


def _profile(columns: str) -> str:
    return f"select {columns} from mart_customer_360 where customer_key = ${CUSTOMER_PARAMETER}"


CUSTOMER_360 = Dashboard(
    "customer_360",
    "360° customer view",
    "One customer across every system: who they are (pseudonymised), what they bought, "
    "FitMap, support, reviews, e-mail, open opportunities and health.",
    (
        Chart(
            "customer_basic_info",
            "Customer",
            _profile(
                "customer_id, full_name as pseudonymised_name, loyalty_tier, signup_date, state, "
                "lifecycle_stage, behavioural_segment"
            ),
            kind="tiles",
        ),
        Chart(
            "customer_purchases",
            "Purchase history",
            _profile(
                "lifetime_revenue as total_spend, order_count, average_order_value, "
                "last_order_date as last_purchase, favourite_category, second_category"
            ),
            kind="tiles",
        ),
        Chart(
            "customer_fitmap",
            "FitMap usage",
            _profile(
                "fitmap_scan_count, last_fitmap_scan_date, recommended_top_size, "
                "recommended_bottom_size"
            ),
            kind="tiles",
        ),
        Chart(
            "customer_support",
            "Support interactions",
            _profile("ticket_count, average_satisfaction, last_ticket_date"),
            kind="tiles",
        ),
        Chart(
            "customer_reviews",
            "Reviews",
            _profile("review_count, average_rating_given"),
            kind="tiles",
        ),
        Chart(
            "customer_email",
            "E-mail engagement",
            _profile("email_open_rate, email_click_rate, last_email_interaction_date"),
            kind="tiles",
        ),
        Chart(
            "customer_opportunities",
            "Open opportunities",
            _profile("open_opportunity_count, open_opportunity_value"),
            kind="tiles",
        ),
        Chart(
            "customer_health",
            "Health and value",
            _profile(
                "health_score, health_level, churn_probability, predicted_clv_12mo, "
                "rfm_segment, next_best_action, as_of_date"
            ),
            kind="tiles",
        ),
        Chart(
            "customer_spend_over_time",
            "Spend per month",
            f"""
            select date_trunc('month', order_date) as month, sum(net_amount) as spend,
                count(*) as orders
            from fct_orders
            where customer_key = ${CUSTOMER_PARAMETER}
            group by month
            order by month
            """,
            line("month", "spend", y_title="net spend", y_format=",.0f"),
        ),
        Chart(
            "customer_interactions_by_channel",
            "Interactions by channel",
            f"""
            with interactions as ({_INTERACTIONS})

            select channels.channel_name, interactions.interaction, count(*) as interactions
            from interactions
            inner join dim_channel as channels on interactions.channel_key = channels.channel_key
            where interactions.customer_key = ${CUSTOMER_PARAMETER}
            group by channels.channel_name, interactions.interaction
            order by channels.channel_name, interactions.interaction
            """,
            bars("channel_name", "interactions", color="interaction", y_title="interactions"),
        ),
    ),
    parameter=CUSTOMER_PARAMETER,
    default_sql=DEFAULT_CUSTOMER_SQL,
    lookup_sql=FIND_CUSTOMER_SQL,
)

DASHBOARDS: tuple[Dashboard, ...] = (TICKETS, SENTIMENT, PIPELINE, EMAIL, CUSTOMER_360)
"""Every dashboard, in the order the index lists them."""


def all_charts() -> list[Chart]:
    return [chart for dashboard in DASHBOARDS for chart in dashboard.charts]
