"""The customer 360 view: one golden customer's row of the 360 mart, found by any of its ids.

A golden id (``CUS-…``), a retired golden id (followed through its redirect) or a source system's
id (``C0000042``, ``support:127``, ``shop:42``) all lead to the same row, by the project's one
lookup rule (``engagement_lake.mdm.lookup``, ``silver.customer_lookup``); the rendering groups
its columns for a terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from engagement_lake.analyst.connection import WarehouseError, analyst_connection, table_exists
from engagement_lake.mdm.lookup import CUSTOMER_LOOKUP, CustomerMatch, resolve_customer

if TYPE_CHECKING:
    from rich.console import RenderableType

CUSTOMER_360 = "gold.mart_customer_360"


def customer_360(warehouse: Path, customer: str) -> dict[str, Any]:
    """One customer's row of ``gold.mart_customer_360``, as a dict of column → value.

    ``customer`` is anything ``silver.customer_lookup`` knows: a golden id, an id a merge
    absorbed, a source id as stored, ``system:id`` or a bare number. Raises ``LookupError``
    naming the id when no customer matches, and ``AmbiguousCustomer`` listing the candidates
    when it names several.
    """
    return find_customer_360(warehouse, customer)[1]


def find_customer_360(warehouse: Path, customer: str) -> tuple[CustomerMatch, dict[str, Any]]:
    """How ``customer`` matched (which system, which record) and the customer's 360 row."""
    with analyst_connection(warehouse, read_views=False) as con:
        for needed in (CUSTOMER_360, CUSTOMER_LOOKUP):
            if not table_exists(con, needed):
                raise WarehouseError(f"{needed} is not in warehouse {warehouse}; build it first")
        match = resolve_customer(con, customer)
        row = _mart_row(con, match.customer_id)
    if row is None:
        raise LookupError(
            f"customer {customer.strip()!r} (golden id {match.customer_id}) "
            f"not found in {CUSTOMER_360}"
        )
    return match, row


def _mart_row(con: duckdb.DuckDBPyConnection, customer_id: str) -> dict[str, Any] | None:
    cursor = con.execute(f"select * from {CUSTOMER_360} where customer_id = ?", [customer_id])
    columns = [d[0] for d in cursor.description]
    found = cursor.fetchone()
    return dict(zip(columns, found, strict=True)) if found else None


# Panels of the 360 view, in display order: known column names first, then name fragments that
# place columns the mart may add later, so a renamed or new column still lands somewhere sensible.
_SECTIONS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "Profile",
        (
            "customer_id",
            "customer_key",
            "full_name",
            "first_name",
            "last_name",
            "email",
            "phone",
            "loyalty_tier",
            "signup_date",
            "city",
            "state",
            "postal_code",
            "birth_date",
        ),
        ("loyalty", "signup", "address"),
    ),
    (
        "Purchases",
        (
            "lifetime_revenue",
            "order_count",
            "last_order_date",
            "favourite_category",
            "favorite_category",
            "average_order_value",
            "days_since_last_order",
            "return_rate",
        ),
        ("order", "revenue", "purchase", "spend", "return", "categor"),
    ),
    (
        "FitMap",
        (
            "fitmap_scan_count",
            "last_fitmap_scan_date",
            "recommended_top_size",
            "recommended_bottom_size",
        ),
        ("fitmap", "scan", "size"),
    ),
    (
        "Support",
        ("ticket_count", "average_satisfaction", "last_ticket_date", "open_ticket_count"),
        ("ticket", "satisfaction", "support", "nps", "csat"),
    ),
    (
        "Reviews",
        ("review_count", "average_rating_given", "last_review_date"),
        ("review", "rating"),
    ),
    (
        "E-mail",
        ("email_open_rate", "email_click_rate", "last_email_interaction_date"),
        ("email_", "open_rate", "click_rate", "unsubscri"),
    ),
    (
        "Opportunities",
        ("open_opportunity_count", "open_opportunity_value"),
        ("opportunit",),
    ),
    (
        "Value & risk",
        (
            "predicted_clv_12mo",
            "churn_probability",
            "health_score",
            "health_level",
            "rfm_score",
            "rfm_segment",
            "lifecycle_stage",
            "behavioural_segment",
        ),
        ("clv", "churn", "health", "rfm", "segment", "lifecycle", "p_alive", "risk", "value"),
    ),
    (
        "Next best action",
        ("next_best_action", "next_best_action_reason"),
        ("next_best", "nba"),
    ),
)

_ACRONYMS = {
    "clv": "CLV",
    "rfm": "RFM",
    "nps": "NPS",
    "csat": "CSAT",
    "12mo": "12 mo",
    "fitmap": "FitMap",
}
_HEADER_ONLY = ("as_of_date",)
"""Columns shown in the header of the view rather than in a section."""
_MONEY_WORDS = ("revenue", "value", "clv", "amount", "spend", "price")
_NOT_MONEY_WORDS = ("decile", "count", "score", "rank", "rate", "probability")


def group_customer_360(data: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The 360 row split into titled sections (insertion-ordered), the leftovers under "Other"."""
    sections: dict[str, dict[str, Any]] = {title: {} for title, _, _ in _SECTIONS}
    placed: set[str] = set()
    for title, names, _ in _SECTIONS:
        for name in names:
            if name in data:
                sections[title][name] = data[name]
                placed.add(name)
    other: dict[str, Any] = {}
    for name, value in data.items():
        if name in placed or name in _HEADER_ONLY:
            continue
        title = next(
            (t for t, _, fragments in _SECTIONS if any(f in name.lower() for f in fragments)),
            None,
        )
        (sections[title] if title else other)[name] = value
    if other:
        sections["Other"] = other
    return {title: columns for title, columns in sections.items() if columns}


def _label(column: str) -> str:
    words = [_ACRONYMS.get(word, word) for word in column.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _display_value(column: str, value: Any) -> str:
    """Money as dollars, rates as percentages, dates as ISO, missing as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        name = column.lower()
        number = float(value)
        if name.endswith(("_rate", "_probability", "_share")) and 0 <= number <= 1:
            return f"{number:.0%}" if number in (0, 1) else f"{number:.1%}"
        if any(w in name for w in _MONEY_WORDS) and not any(w in name for w in _NOT_MONEY_WORDS):
            return f"${number:,.2f}"
        if isinstance(value, int):
            return f"{value:,}"
        return f"{number:,.2f}"
    return str(value)


def render_customer_360(data: Mapping[str, Any]) -> RenderableType:
    """A rich renderable: a header, then one panel per section of the 360 view."""
    from rich.columns import Columns
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    sections = group_customer_360(data)
    name = data.get("full_name") or data.get("customer_id") or "customer"
    header = Text.assemble(
        (str(name), "bold"),
        "  ",
        (str(data.get("customer_id", "")), "dim"),
        "  ",
        (str(data.get("loyalty_tier") or ""), "cyan"),
    )
    if data.get("as_of_date") is not None:
        header.append(f"  as of {_display_value('as_of_date', data['as_of_date'])}", "dim")
    panels: list[RenderableType] = []
    footer: list[RenderableType] = []
    for title, columns in sections.items():
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        for column, value in columns.items():
            grid.add_row(_label(column), _display_value(column, value))
        # the action is what the reader came for: full width, below the facts that explain it
        if title == "Next best action":
            footer.append(Panel(grid, title=title, title_align="left", border_style="green"))
        else:
            panels.append(Panel(grid, title=title, title_align="left", border_style="blue"))
    parts: list[RenderableType] = [Panel(header, border_style="bold blue"), Columns(panels)]
    return Group(*parts, *footer)
