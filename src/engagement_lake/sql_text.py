"""SQL text written from Python: one spelling of a quoted name and of a string literal.

Every statement the package builds for DuckDB (the checks, the publication, the comparisons,
the analyst's sandbox) quotes table and column names and embeds file paths the same way, so a
name with a double quote or a path with an apostrophe cannot break out of its place.
"""

from __future__ import annotations


def identifier(name: str) -> str:
    """``name`` as a double-quoted SQL identifier (``a"b`` -> ``"a""b"``)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: object) -> str:
    """``text`` (a path is written as its string) as a single-quoted SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"
