"""Reproducible to the bit: two builds of the same bronze give identical tables.

The comparison itself is tested here on small hand-made warehouses (a last-bit difference in a
double must show, row order must not). The lake-sized claim is proved by
``test_incremental.test_every_table_equals_a_build_from_scratch``: the same bronze built day by
day and from scratch, every staging, silver, gold, history and quality table compared column
by column with this comparison (the id ledger's bookkeeping alone excepted). Every model that
is not incremental is computed from all of bronze by both builds, so a floating-point
accumulation left order-dependent, or an unseeded Python model, shows up there as a named
column; a second from-scratch build of the test lake would repeat that proof at the cost of a
whole build. Both builds run in one Python process; what could differ between processes (the
interpreter's string hashing) is tested here, on the matcher.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest

from engagement_lake.analytics.clv import rfm_summary
from engagement_lake.quality.compare import Difference, compare_warehouses


def _warehouse(path: Path, *statements: str) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema gold")
        for statement in statements:
            con.execute(statement)
    return path


_BASE = (
    "create table gold.fct as"
    " select i as id, i * cast(0.1 as double) as amount, 'x' || i as label from range(50) t(i)"
)


def test_identical_tables_in_another_row_order_do_not_differ(tmp_path: Path) -> None:
    a = _warehouse(tmp_path / "a.duckdb", _BASE)
    b = _warehouse(
        tmp_path / "b.duckdb",
        "create table gold.fct as select i as id, i * cast(0.1 as double) as amount,"
        " 'x' || i as label from range(50) t(i) order by i desc",
    )
    assert compare_warehouses(a, b) == []


def test_a_last_bit_difference_in_a_double_is_named(tmp_path: Path) -> None:
    a = _warehouse(tmp_path / "a.duckdb", _BASE)
    b = _warehouse(
        tmp_path / "b.duckdb",
        _BASE,
        # one value moved by one unit in the last place, as a differently ordered sum would
        "update gold.fct set amount = nextafter(amount, 10.0) where id = 7",
    )
    assert compare_warehouses(a, b) == [
        Difference(
            "gold",
            "fct",
            "amount",
            "values",
            "DOUBLE: the column's checksums differ over 50 vs 50 rows",
        )
    ]


def test_counts_types_missing_tables_and_columns_are_named(tmp_path: Path) -> None:
    a = _warehouse(
        tmp_path / "a.duckdb",
        _BASE,
        "create table gold.only_a (x integer)",
        "alter table gold.fct add column extra integer",
    )
    b = _warehouse(
        tmp_path / "b.duckdb",
        "create table gold.fct as select i as id, cast(i * 0.1 as decimal(14, 2)) as amount,"
        " 'x' || i as label from range(51) t(i)",
    )
    found = {(d.relation, d.column, d.kind) for d in compare_warehouses(a, b)}
    assert found == {
        ("gold.only_a", None, "missing_table"),
        ("gold.fct", "extra", "missing_column"),
        ("gold.fct", "amount", "column_type"),
        ("gold.fct", None, "row_count"),
        # the extra row's id and label change those columns' checksums too
        ("gold.fct", "id", "values"),
        ("gold.fct", "label", "values"),
    }


def test_values_paired_into_other_rows_differ(tmp_path: Path) -> None:
    """Each column holds the same values, but two rows swapped a value: the row checksum shows."""
    a = _warehouse(tmp_path / "a.duckdb", _BASE)
    b = _warehouse(
        tmp_path / "b.duckdb",
        _BASE,
        "update gold.fct set label = case id when 1 then 'x2' when 2 then 'x1' end"
        " where id in (1, 2)",
    )
    assert [(d.column, d.kind) for d in compare_warehouses(a, b)] == [(None, "rows")]


def test_schemas_and_exclusions_limit_the_comparison(tmp_path: Path) -> None:
    a = _warehouse(tmp_path / "a.duckdb", _BASE, "create schema silver")
    b = _warehouse(
        tmp_path / "b.duckdb",
        _BASE,
        "create schema silver",
        "create table silver.extra (x integer)",
    )
    assert compare_warehouses(a, b, schemas=["gold"]) == []
    assert compare_warehouses(a, b, exclude=["silver.extra"]) == []
    assert [d.relation for d in compare_warehouses(a, b)] == ["silver.extra"]


def test_the_clv_inputs_do_not_depend_on_the_order_of_the_log() -> None:
    """Eight orders on one repeat day, of very different sizes: added in one order or another,
    their floating-point sum differs in the last bit. The warehouse hands the log over in any
    order; the day's spend (and every fit on it) must not follow."""
    amounts = np.array([5.0, 0.1, 0.2, 0.3, 0.7, 19.99, 0.05, 1e6, 3.33])
    ids = np.array(["C1"] * amounts.size)
    dates = np.array(["2024-01-01"] + ["2024-02-01"] * (amounts.size - 1), "datetime64[D]")
    orders = [np.arange(amounts.size), np.arange(amounts.size)[::-1]]
    orders += [np.random.default_rng(seed).permutation(amounts.size) for seed in range(8)]
    spends = {
        rfm_summary(ids[order], dates[order], amounts[order], "2024-03-31").monetary_value[0]
        for order in orders
    }
    assert len(spends) == 1, spends
    assert spends.pop() == pytest.approx(amounts[1:].sum())


_MATCH_IN_A_NEW_PROCESS = """
import sys
import duckdb
from engagement_lake.mdm import match_identities_with_review
with duckdb.connect(sys.argv[1], read_only=True) as con:
    identities = con.sql("select * from silver.int_customer_identities_unioned").pl()
    overrides = con.sql("select * from silver.match_overrides").pl()
xref, review = match_identities_with_review(identities, overrides=overrides)
xref.write_parquet(sys.argv[2])
review.write_parquet(sys.argv[3])
"""


def test_the_matcher_gives_the_same_bits_whatever_the_interpreters_string_hashing(
    lake, tmp_path: Path
) -> None:
    """Part of Splink's SQL follows the order of Python sets, so the order of the pairs EM sums
    followed PYTHONHASHSEED, and with it the last bits of the match weights: two builds of the
    same bronze in two processes differed there. The trained parameters are now rounded before
    scoring (mdm.match.PARAMETER_DIGITS): the test lake's identities matched in processes of
    different hash seeds give the same crosswalk and review queue, bit for bit."""
    import polars as pl

    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.write_bytes(lake.cfg.warehouse.read_bytes())  # a reader of its own
    runs, procs = [], []
    for seed in ("1", "2", "3", "4"):
        out = (tmp_path / f"xref_{seed}.parquet", tmp_path / f"review_{seed}.parquet")
        env = {**os.environ, "PYTHONHASHSEED": seed}
        command = [sys.executable, "-c", _MATCH_IN_A_NEW_PROCESS, str(warehouse), *map(str, out)]
        procs.append(subprocess.Popen(command, env=env, stderr=subprocess.PIPE))
        runs.append(out)
    for proc in procs:
        _, err = proc.communicate()
        assert proc.returncode == 0, err.decode()[-2000:]
    frames = [tuple(pl.read_parquet(path) for path in out) for out in runs]
    xref, review = frames[0]
    assert review.height > 10 and xref.height > 1000
    for other_xref, other_review in frames[1:]:
        assert other_xref.equals(xref)
        assert other_review.equals(review)
