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

from engagement_lake.config import UNKNOWN_MEMBER_KEY


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
        "share of resolved tickets answered and solved within the SLA targets of their priority"
        " and channel",
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
    Check(
        "top_product_line_share",
        "share of all order lines that the best-selling product takes",
        """select max(lines) * 1.0 / sum(lines) from (
               select product_key, count(*) as lines from gold.fct_order_items group by 1)""",
        high=0.03,
    ),
    Check(
        "reviews_follow_sales",
        "correlation over products between reviews written and order lines sold",
        """select corr(coalesce(reviews, 0), lines) from (
               select product_key, count(*) as lines from gold.fct_order_items group by 1
           ) as sold
           left join (
               select product_key, count(*) as reviews from gold.fct_product_reviews group by 1
           ) as reviewed using (product_key)""",
        low=0.5,
    ),
    Check(
        "b2b_order_value_ratio",
        "average order value of the BUSINESS_PROFESSIONAL segment over that of all orders",
        """select avg(total_amount) filter (where segment = 'BUSINESS_PROFESSIONAL')
                  / avg(total_amount)
           from (
               select orders.total_amount, customers.behavioural_segment as segment
               from gold.fct_orders as orders
               left join gold.mart_customer_360 as customers using (customer_key)
               where not orders.is_cancelled
           )""",
        low=1.5,
    ),
    Check(
        "returned_line_share",
        "share of order lines (not cancelled) returned",
        """select avg(case when is_returned then 1.0 else 0.0 end)
           from gold.fct_order_items where not is_cancelled""",
        low=0.05,
        high=0.3,
    ),
    # --------------------------------------------------------------- loyalty, experiments, models
    Check(
        "tier_without_membership",
        "customers with a loyalty tier who are not loyalty members",
        f"""select count(*) from gold.dim_customer
           where loyalty_tier is not null and not is_loyalty_member
               and customer_key <> '{UNKNOWN_MEMBER_KEY}'""",
        high=0,
    ),
    Check(
        "exposure_count_off_events",
        "experiment assignments whose exposure_count differs from their exposure events",
        """with counted as (
               select assignments.assignment_id, count(events.experiment_id) as exposures
               from staging.stg_mlops__experiment_assignments as assignments
               left join staging.stg_mlops__experiment_events as events
                   on assignments.experiment_id = events.experiment_id
                   and assignments.customer_ref = events.customer_ref
                   and events.event_type = 'exposure'
                   and events.event_at >= assignments.assigned_at
               group by assignments.assignment_id
           )
           select count(*) from gold.fct_experiment_assignments as facts
           inner join counted on facts.assignment_id = counted.assignment_id
           where facts.exposure_count <> counted.exposures""",
        high=0,
    ),
    Check(
        "single_exposure_share",
        "share of experiment assignments exposed exactly once (customers come back: below 1)",
        "select avg(case when exposure_count = 1 then 1.0 else 0.0 end) "
        "from gold.fct_experiment_assignments",
        high=0.99,
    ),
    Check(
        "draft_experiment_results",
        "result rows of draft (never started) experiments",
        """select count(*) from gold.fct_experiment_results as results
           inner join gold.dim_experiment as experiments
               on results.experiment_id = experiments.experiment_id
           where experiments.status = 'draft'""",
        high=0,
    ),
    Check(
        "model_months_not_evaluated",
        "closed months of a deployed registry model without an evaluated performance row",
        f"""with as_of as (
               select max(cast(_loaded_at as date)) as as_of_date from staging.stg_shop__orders
           ),
           first_month as (
               select cast(min(month_start_date) as timestamp) as month_start
               from gold.fct_model_performance
           ),
           lives as (
               select
                   models.model_id,
                   rules.outcome_window_days,
                   date_trunc('month', greatest(models.deployed_at, first_month.month_start))
                       + interval 1 month as first_full_month,
                   date_trunc('month', coalesce(models.deprecated_at, as_of.as_of_date))
                       - interval 1 month as last_full_month
               from gold.dim_ml_model as models
               cross join as_of
               cross join first_month
               left join silver.model_outcome_rules as rules
                   on models.model_type = rules.model_type
               where models.model_key <> '{UNKNOWN_MEMBER_KEY}'
                   and models.deployed_at <= as_of.as_of_date
           ),
           months as (
               select model_id, outcome_window_days,
                   cast(unnest(generate_series(first_full_month, last_full_month, interval 1 month))
                       as date) as month_start_date
               from lives
           )
           select count(*) from months
           cross join as_of
           left join gold.fct_model_performance as performance
               on months.model_id = performance.model_id
               and months.month_start_date = performance.month_start_date
               and performance.is_evaluated
           where performance.model_id is null
               and (months.outcome_window_days is null
                    or last_day(months.month_start_date) + months.outcome_window_days
                       <= as_of.as_of_date)""",
        high=0,
    ),
    # --------------------------------------------------------------- history
    Check(
        "history_after_latest_load",
        "history rows dated after the data's latest load date (valid_from or as_of_date: a "
        "build clock, not the data's)",
        """with latest as (select max(as_of_date) as d from history.int_history_as_of_dates)
           select
               (select count(*) from history.customer_history, latest
                where cast(valid_from as date) > latest.d or known_from_load_date > latest.d)
             + (select count(*) from history.opportunity_history, latest
                where cast(valid_from as date) > latest.d or loaded_on > latest.d)
             + (select count(*) from history.customer_health_history, latest
                where as_of_date > latest.d)
             + (select count(*) from history.customer_segment_history, latest
                where as_of_date > latest.d)
             + (select count(*) from history.customer_value_history, latest
                where as_of_date > latest.d)""",
        high=0,
    ),
    Check(
        "history_current_differs_from_golden",
        "golden customers whose current customer_history row is missing or differs from "
        "customer_golden (tier, e-mail, address, state)",
        """select count(*)
           from silver.customer_golden as g
           left join history.customer_history as h
               on h.customer_id = g.customer_id and h.is_current
           where h.customer_id is null
               or h.loyalty_tier is distinct from g.loyalty_tier
               or h.email is distinct from g.email
               or h.address_line1 is distinct from g.address_line1
               or h.city is distinct from g.city
               or h.postal_code is distinct from g.postal_code
               or h.state is distinct from g.state""",
        high=0,
    ),
)


def run(con: duckdb.DuckDBPyConnection, checks: tuple[Check, ...] = CHECKS) -> list[Result]:
    """Every check against an open warehouse connection, in order."""
    out = []
    for c in checks:
        row = con.execute(c.sql).fetchone()
        value = None if row is None or row[0] is None else float(row[0])
        out.append(Result(c, value))
    return out


def markdown(results: list[Result], *, queries: bool = True) -> str:
    """The table kept in ``docs/plausibility.md`` (figure, observed value, bound, verdict),
    then each figure's query, so that the document shows how every number was measured."""
    lines = ["| check | what | observed | bound | ok |", "|---|---|---|---|---|"]
    for r in results:
        obs = "null" if r.observed is None else f"{r.observed:.4g}"
        ok = "yes" if r.passed else "**no**"
        lines.append(f"| `{r.check.name}` | {r.check.what} | {obs} | {r.check.bound()} | {ok} |")
    if queries:
        lines.append("")
        for r in results:
            sql = "\n".join(line.strip() for line in r.check.sql.strip().splitlines())
            lines += ["", f"`{r.check.name}`:", "", "```sql", sql, "```"]
    return "\n".join(lines) + "\n"
