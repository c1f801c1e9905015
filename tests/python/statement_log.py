"""A DuckDB connection that keeps the text of every statement run through it, so that a test can
assert what a step executed (for instance, that a check of unchanged rows writes nothing)."""

from __future__ import annotations

from typing import Any

WRITES = ("insert", "delete", "update", "begin", "create or replace table checked_rows")
"""How the statements that write to the checks' ledger (or open a transaction to) begin."""


class Recording:
    """``con`` with every ``execute`` recorded, lowercased and on one line, in ``statements``."""

    def __init__(self, con: Any, statements: list[str] | None = None) -> None:
        self.con = con
        self.statements: list[str] = [] if statements is None else statements

    def execute(self, query: str, *args: Any) -> Any:
        self.statements.append(" ".join(str(query).split()).lower())
        return self.con.execute(query, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)

    def writes(self) -> list[str]:
        """The statements that write, or open a transaction to write."""
        return [q for q in self.statements if q.startswith(WRITES)]
