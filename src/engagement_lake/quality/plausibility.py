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
    # --------------------------------------------------------------- shop, web and marketing
    # --------------------------------------------------------------- loyalty, experiments, models
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


def markdown(results: list[Result]) -> str:
    """The table kept in ``docs/plausibility.md``: figure, observed value, bound, verdict."""
    lines = ["| check | what | observed | bound | ok |", "|---|---|---|---|---|"]
    for r in results:
        obs = "null" if r.observed is None else f"{r.observed:.4g}"
        ok = "yes" if r.passed else "**no**"
        lines.append(f"| `{r.check.name}` | {r.check.what} | {obs} | {r.check.bound()} | {ok} |")
    return "\n".join(lines) + "\n"
