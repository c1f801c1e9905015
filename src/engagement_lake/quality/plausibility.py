"""Plausibility: the figures a reader of the demo warehouse would question, each with the bound a
living business stays within.

A data test proves a row is well formed; it cannot tell that 0.06 % of tickets are open or that
one product sells 14 % of all lines. These checks are the warehouse read the way a sceptical
analyst reads it. Each check is one SQL query returning one number (``observed``) and the bounds
it must stay within, written once here: the test suite runs them against the test lake, and
``engagement-lake plausibility --markdown`` prints the table kept in ``docs/plausibility.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Check:
    """One figure: ``sql`` returns a single row with one column, the observed value."""

    name: str
    what: str
    sql: str
    low: float | None = None
    high: float | None = None

    def bound(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{self.low:g} to {self.high:g}"
        if self.low is not None:
            return f">= {self.low:g}"
        return f"<= {self.high:g}"


@dataclass(frozen=True)
class Result:
    check: Check
    observed: float | None

    @property
    def passed(self) -> bool:
        v = self.observed
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return False
        lo, hi = self.check.low, self.check.high
        return (lo is None or v >= lo) and (hi is None or v <= hi)


CHECKS: tuple[Check, ...] = (
    # --------------------------------------------------------------- customer value and churn
    Check(
        "one_time_buyer_churn",
        "mean churn probability of one-time buyers silent for over a year",
        """select avg(churn_probability) from gold.fct_customer_value
           where frequency = 0 and age_days > 365""",
        low=0.5,
    ),
    # --------------------------------------------------------------- support and CRM
    Check(
        "open_ticket_share",
        "share of all support tickets still open (open, in progress, pending) on the as-of date",
        "select avg(case when is_open then 1.0 else 0.0 end) from gold.fct_support_tickets",
        low=0.03,
        high=0.10,
    ),
    Check(
        "ticket_channels_missing_in_sentiment",
        "ticket channels with no ticket-message text in customer sentiment",
        """select count(*) from (select distinct channel_key from gold.fct_support_tickets) t
           where t.channel_key not in (
               select channel_key from gold.fct_customer_sentiment
               where source_type = 'ticket_message')""",
        high=0,
    ),
    Check(
        "ticket_sla_met_share",
        "share of resolved tickets answered and solved within their priority's SLA targets",
        "select avg(case when is_sla_met then 1.0 else 0.0 end) from gold.fct_support_tickets"
        " where is_sla_met is not null",
        low=0.5,
        high=0.95,
    ),
    # crm
    Check(
        "quota_months_missing_from_commissions",
        "rep-months with a quota that are not a row of the commissions fact",
        """select count(*) from staging.stg_crm__quotas as quotas
           where not exists (
               select 1 from gold.fct_sales_commissions as commissions
               where commissions.quota_id = quotas.quota_id)""",
        high=0,
    ),
    Check(
        "mean_quota_attainment",
        "mean quota attainment over rep-months with a quota (quotas are set above the expected "
        "won amount)",
        """select avg(attainment) from (
               select sales_rep_id, commission_month_date, max(quota_attainment) as attainment
               from gold.fct_sales_commissions where quota_amount > 0 group by all)""",
        low=0.4,
        high=1.2,
    ),
    Check(
        "open_opportunities_at_stage_default",
        "share of open opportunities whose probability is exactly their stage's default",
        """select avg(case when opportunities.probability = stages.default_probability
                           then 1.0 else 0.0 end)
           from gold.fct_sales_opportunities as opportunities
           join gold.dim_sales_stage as stages
               on opportunities.sales_stage_key = stages.sales_stage_key
           where opportunities.is_open""",
        high=0.5,
    ),
    # --------------------------------------------------------------- shop, web and marketing
    # web and marketing
    Check(
        "email_sessions_per_click",
        "web sessions from e-mail per e-mail click (a click opens at most one session)",
        """select (select count(*) from gold.fct_web_sessions where traffic_source = 'email')
               / nullif((select count(*) from gold.fct_email_events where is_click), 0)""",
        high=1.0,
    ),
    Check(
        "session_conversion_spread",
        "conversion rate of the best traffic source minus the worst (sources with 100+ sessions)",
        """select max(rate) - min(rate) from (
               select avg(case when is_converted then 1.0 else 0.0 end) as rate
               from gold.fct_web_sessions group by traffic_source having count(*) >= 100)""",
        low=0.05,
    ),
    Check(
        "abandoned_cart_send_without_abandoned_session",
        "share of abandoned-cart e-mails whose customer abandoned no cart in the day before",
        """select avg(case when exists (
                   select 1 from gold.fct_web_sessions as s
                   where s.customer_key = e.customer_key
                       and s.has_added_to_cart and not s.is_converted
                       and s.session_started_at between e.event_at - interval 1 day and e.event_at
               ) then 0.0 else 1.0 end)
           from gold.fct_email_events as e
           where e.event_type = 'sent' and e.campaign_type = 'Abandoned Cart'""",
        high=0.05,
    ),
    Check(
        "email_conversions_per_click",
        "e-mail conversions per e-mail click",
        """select count(*) filter (where is_conversion)
               / nullif(count(*) filter (where is_click), 0)
           from gold.fct_email_events""",
        low=0.02,
        high=0.5,
    ),
    # --------------------------------------------------------------- loyalty, experiments, models
    # --------------------------------------------------------------- history
)


def run(con: duckdb.DuckDBPyConnection, checks: tuple[Check, ...] = CHECKS) -> list[Result]:
    """Every check against an open warehouse connection, in order."""
    out = []
    for c in checks:
        row = con.execute(c.sql).fetchone()
        value = None if row is None or row[0] is None else float(row[0])
        out.append(Result(c, value))
    return out


def markdown(results: list[Result]) -> str:
    """The table kept in ``docs/plausibility.md``: figure, observed value, bound, verdict."""
    lines = ["| check | what | observed | bound | ok |", "|---|---|---|---|---|"]
    for r in results:
        obs = "null" if r.observed is None else f"{r.observed:.4g}"
        ok = "yes" if r.passed else "**no**"
        lines.append(f"| `{r.check.name}` | {r.check.what} | {obs} | {r.check.bound()} | {ok} |")
    return "\n".join(lines) + "\n"
