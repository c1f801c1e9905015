"""Find a golden customer by name: ``engagement-lake customer --name "Randy Hunt"``.

People ask about customers by name, typed from memory: wrong case, a dropped accent, a typo,
surname first. Names are only readable in the working warehouse (the export and the serving
file pseudonymise them), so the search reads ``silver.customer_golden`` there, through the
analyst's read-only connection. Both sides are normalised with the matching's own helpers
(``engagement_lake.mdm.normalize``: upper-case ASCII letters, accents dropped, nicknames to the
one name they stand for) and compared with rapidfuzz's token-sort ratio, which ignores word
order. The thresholds are vars of ``dbt_project.yml`` (``customer_name_*``), written once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engagement_lake.analyst.connection import WarehouseError, analyst_connection, table_exists

CUSTOMER_GOLDEN = "silver.customer_golden"
_SETTINGS = (
    "customer_name_min_score",
    "customer_name_clear_score",
    "customer_name_clear_margin",
    "customer_name_max_candidates",
)


@dataclass(frozen=True)
class NameSettings:
    min_score: float
    clear_score: float
    clear_margin: float
    max_candidates: int

    @classmethod
    def from_project(cls, variables: dict[str, Any] | None = None) -> NameSettings:
        """The ``customer_name_*`` vars declared in ``dbt_project.yml``."""
        from engagement_lake.analyst.cookbook import project_vars

        declared = project_vars() if variables is None else variables
        missing = [name for name in _SETTINGS if name not in declared]
        if missing:
            raise ValueError(f"dbt_project.yml declares no var {missing[0]!r}")
        return cls(
            float(declared["customer_name_min_score"]),
            float(declared["customer_name_clear_score"]),
            float(declared["customer_name_clear_margin"]),
            int(declared["customer_name_max_candidates"]),
        )


@dataclass(frozen=True)
class NameCandidate:
    customer_id: str
    name: str
    city: str | None
    state: str | None
    score: float


@dataclass(frozen=True)
class NameSearch:
    """The ranked candidates (best first) and, when one clearly wins, that one."""

    query: str
    candidates: list[NameCandidate]
    clear: NameCandidate | None


def name_tokens(text: str | None) -> str:
    """The comparable form of a name: each word as upper-case ASCII letters, a nickname as the
    one given name it stands for (``Bob`` -> ``ROBERT``), words joined by spaces."""
    from engagement_lake.mdm.normalize import NICKNAME_TO_CANONICAL, name_key

    keys = (name_key(word) for word in re.split(r"[\s,]+", text or ""))
    return " ".join(NICKNAME_TO_CANONICAL.get(key, key) for key in keys if key)


def search_names(
    names: list[tuple[str, str | None, str | None, str | None, str | None]],
    query: str,
    settings: NameSettings,
) -> NameSearch:
    """Rank ``names`` (customer id, first name, last name, city, state) against ``query``."""
    from rapidfuzz import fuzz, process

    wanted = name_tokens(query)
    if not wanted:
        raise LookupError(f"no letters to search for in name {query!r}")
    choices = [name_tokens(f"{first or ''} {last or ''}") for _, first, last, _, _ in names]
    found = process.extract(
        wanted,
        choices,
        scorer=fuzz.token_sort_ratio,
        limit=None,
        score_cutoff=settings.min_score,
    )
    # rank by score, then id: equal scores must list (and be cut) the same way on every run
    ranked = sorted(found, key=lambda hit: (-hit[1], names[hit[2]][0]))[: settings.max_candidates]
    candidates = [
        NameCandidate(
            names[index][0],
            " ".join(part for part in (names[index][1], names[index][2]) if part),
            names[index][3],
            names[index][4],
            round(score, 1),
        )
        for _, score, index in ranked
    ]
    clear = None
    if candidates and candidates[0].score >= settings.clear_score:
        runner_up = candidates[1].score if len(candidates) > 1 else None
        if runner_up is None or candidates[0].score - runner_up >= settings.clear_margin:
            clear = candidates[0]
    return NameSearch(query, candidates, clear)


def find_customers_by_name(
    warehouse: Path, query: str, settings: NameSettings | None = None
) -> NameSearch:
    """Search the golden records' names of the working warehouse; ``LookupError`` when no name
    scores ``customer_name_min_score`` or more."""
    settings = settings or NameSettings.from_project()
    with analyst_connection(warehouse, read_views=False) as con:
        if not table_exists(con, CUSTOMER_GOLDEN):
            raise WarehouseError(
                f"{CUSTOMER_GOLDEN} is not in warehouse {warehouse}; build it first"
            )
        names = con.execute(
            f"select customer_id, first_name, last_name, city, state from {CUSTOMER_GOLDEN} "
            "order by customer_id"
        ).fetchall()
    result = search_names(names, query, settings)
    if not result.candidates:
        raise LookupError(
            f"no customer named {query.strip()!r}: no golden name in {CUSTOMER_GOLDEN} scores "
            f"{settings.min_score:g} or more"
        )
    return result


def render_name_candidates(result: NameSearch) -> Any:
    """A rich table of the candidates, best first."""
    from rich.table import Table

    table = Table(title=f"Customers named like {result.query!r}", title_justify="left")
    for header in ("golden id", "name", "city", "state", "score"):
        table.add_column(header, justify="right" if header == "score" else "left")
    for c in result.candidates:
        table.add_row(c.customer_id, c.name, c.city or "—", c.state or "—", f"{c.score:.1f}")
    return table
