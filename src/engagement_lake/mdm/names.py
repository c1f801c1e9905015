"""Full-name parsing for sources that keep a person's name in one field.

Support requesters and loyalty members send ``name`` / ``full_name`` as typed: ``Mary Ann
Smith``, ``Smith, Mary``, ``Dr. John Q. Public Jr.``. Splitting on the last space turns
``Bennett, Dwayne`` into first name ``Bennett,`` and last name ``Dwayne``; the ``nameparser``
library instead recognises the surname-first comma form, titles, suffixes, middle names and
initials. Its result is what ``int_customer_identities_unioned`` carries for those sources.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import polars as pl

#: Columns of :func:`parse_full_names`, in order (after the key columns).
NAME_PARTS: tuple[str, ...] = ("first_name", "middle_name", "last_name", "title", "suffix")


@lru_cache(maxsize=65_536)
def parse_full_name(value: str | None) -> tuple[str | None, ...]:
    """(first, middle, last, title, suffix) of one full name; blank parts are null.

    ``Smith, Mary`` -> (Mary, None, Smith, None, None);
    ``Dr. John Q. Public Jr.`` -> (John, Q., Public, Dr., Jr.). A single word is a first name.
    """
    from nameparser import HumanName

    if value is None or not value.strip():
        return (None,) * len(NAME_PARTS)
    name = HumanName(" ".join(value.split()))
    parts = (name.first, name.middle, name.last, name.title, name.suffix)
    return tuple(p.strip() or None for p in parts)


def parse_full_names(records: Any, key_columns: tuple[str, ...], column: str) -> pl.DataFrame:
    """Parse ``column`` of ``records`` (polars, pandas or Arrow) into :data:`NAME_PARTS`.

    Returns the key columns and one column per name part, one row per input row. Each distinct
    name is parsed once.
    """
    frame = records if isinstance(records, pl.DataFrame) else pl.DataFrame(pl.from_arrow(records))
    missing = [c for c in (*key_columns, column) if c not in frame.columns]
    if missing:
        raise ValueError(f"records lack column(s): {', '.join(missing)}")
    distinct = frame.select(pl.col(column).cast(pl.String)).unique().drop_nulls()
    parsed = [parse_full_name(v) for v in distinct[column].to_list()]
    lookup = pl.DataFrame(
        {
            column: distinct[column],
            **{part: [p[i] for p in parsed] for i, part in enumerate(NAME_PARTS)},
        },
        schema={column: pl.String, **{part: pl.String for part in NAME_PARTS}},
    )
    return (
        frame.select(*key_columns, pl.col(column).cast(pl.String))
        .join(lookup, on=column, how="left", nulls_equal=False)
        .select(*key_columns, *NAME_PARTS)
    )
