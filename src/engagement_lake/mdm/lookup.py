"""Which golden customer a typed id means: the one lookup rule, read from the warehouse.

People hold the id of the system they work in, and the same text can be an id in several
systems ("42" is shop customer C0000042, CRM contact 003000000000042, support requester 42 …).
The rule lives in one dbt model, ``silver.customer_lookup`` (golden id first, then the source
systems in the order of ``seeds/mdm/customer_id_systems.csv``); this module only reads it, so
the CLI, ``forget`` and the cookbook (macro ``resolve_customer``) cannot disagree. A key with
one candidate customer resolves and says which system matched; a key with several raises
``AmbiguousCustomer`` listing them, never picking one.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb

from engagement_lake.config import PROJECT_ROOT

CUSTOMER_LOOKUP = "silver.customer_lookup"
ID_SYSTEMS_SEED = PROJECT_ROOT / "seeds" / "mdm" / "customer_id_systems.csv"


@dataclass(frozen=True)
class IdSystem:
    """One row of ``seeds/mdm/customer_id_systems.csv``: a system whose records are customers."""

    lookup_order: int
    source_system: str
    system_alias: str
    contract: str
    id_column: str
    id_prefix: str


def id_systems(seed: Path = ID_SYSTEMS_SEED) -> list[IdSystem]:
    """The identity systems in lookup order, from the seed (the one place the order is written)."""
    with Path(seed).open(encoding="utf-8", newline="") as handle:
        rows = [
            IdSystem(
                int(row["lookup_order"]),
                row["source_system"],
                row["system_alias"],
                row["contract"],
                row["id_column"],
                row["id_prefix"] or "",
            )
            for row in csv.DictReader(handle)
        ]
    return sorted(rows, key=lambda s: s.lookup_order)


@dataclass(frozen=True)
class CustomerMatch:
    """One way a typed id leads to a golden customer."""

    customer_id: str
    match_kind: str
    """golden_id, absorbed_golden_id, source_id, system_id, system_number or number."""
    source_system: str | None
    source_id: str | None

    def matched(self) -> str:
        """How the id matched, for a person: ``shop:C0000042``, or the golden id itself."""
        if self.source_system is None:
            absorbed = " (a merged id)" if self.match_kind == "absorbed_golden_id" else ""
            return f"golden id{absorbed}"
        return f"{self.source_system}:{self.source_id}"


class AmbiguousCustomer(LookupError):
    """The id names more than one golden customer; ``candidates`` lists them in lookup order."""

    def __init__(self, wanted: str, candidates: list[CustomerMatch]) -> None:
        self.wanted = wanted
        self.candidates = candidates
        listed = ", ".join(f"{c.matched()} ({c.customer_id})" for c in candidates)
        super().__init__(
            f"customer {wanted!r} is ambiguous: it is {listed}; ask for one of them "
            "(system:id or the golden id)"
        )


def resolve_customer(con: duckdb.DuckDBPyConnection, customer: str) -> CustomerMatch:
    """The golden customer ``customer`` means, by the rule of ``silver.customer_lookup``.

    Raises ``LookupError`` naming the id when nothing matches, ``AmbiguousCustomer`` (a
    ``LookupError``) when it matches several customers.
    """
    wanted = customer.strip()
    if not wanted:
        raise LookupError("no customer id given")
    found = con.execute(
        f"select customer_id, match_kind, source_system, source_id from {CUSTOMER_LOOKUP} "
        "where lookup_key = lower(?) and is_candidate "
        "order by lookup_order, source_system, source_id, customer_id",
        [wanted],
    ).fetchall()
    if not found:
        raise LookupError(
            f"customer {wanted!r} matches no golden or source id in {CUSTOMER_LOOKUP}"
        )
    matches = [CustomerMatch(*row) for row in found]
    first_per_customer: dict[str, CustomerMatch] = {}
    for match in matches:
        first_per_customer.setdefault(match.customer_id, match)
    if len(first_per_customer) > 1:
        raise AmbiguousCustomer(wanted, list(first_per_customer.values()))
    return matches[0]
