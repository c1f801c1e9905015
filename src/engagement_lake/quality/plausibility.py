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
