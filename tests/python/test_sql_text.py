"""The one spelling of quoted names and string literals in the SQL the package writes."""

from __future__ import annotations

from pathlib import Path

import duckdb

from engagement_lake.sql_text import identifier, literal


def test_a_quote_inside_a_name_or_a_path_stays_inside_it(tmp_path: Path) -> None:
    assert identifier('odd "name"') == '"odd ""name"""'
    assert literal("it's") == "'it''s'"
    folder = tmp_path / "o'brien"
    folder.mkdir()
    path = folder / "x.parquet"
    column = identifier('a "b')
    with duckdb.connect() as con:
        con.execute(f"copy (select 1 as {column}) to {literal(path)}")
        row = con.execute(f"select {column} from read_parquet({literal(path)})").fetchone()
    assert row == (1,)
