"""Looking a customer up: one rule (silver.customer_lookup) for ids, rapidfuzz for names.

Expected answers are computed here from the crosswalk and the contracts, independently of the
model: which systems hold an id, with which prefix, and which golden customer each record has.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from engagement_lake.analyst.cookbook import render_cookbook_sql, run_cookbook
from engagement_lake.analyst.customer_search import (
    NameSettings,
    find_customers_by_name,
    search_names,
)
from engagement_lake.cli import app
from engagement_lake.config import PROJECT_ROOT
from engagement_lake.contracts import load_contracts
from engagement_lake.mdm.lookup import (
    ID_SYSTEMS_SEED,
    AmbiguousCustomer,
    id_systems,
    resolve_customer,
)

runner = CliRunner()
LOOKUP_MODEL = PROJECT_ROOT / "models" / "silver" / "customers" / "customer_lookup.sql"


# ----------------------------------------------------------------------------- the seed


def test_id_systems_agree_with_the_contracts() -> None:
    contracts = load_contracts()
    systems = id_systems()
    assert [s.lookup_order for s in systems] == sorted({s.lookup_order for s in systems})
    for system in systems:
        contract = contracts[system.contract]
        assert list(contract.primary_key) == [system.id_column], system.contract
        column = next(c for c in contract.columns if c.name == system.id_column)
        pattern = column.pattern or ""
        if system.id_prefix:
            assert pattern.startswith("^" + system.id_prefix), (system.contract, pattern)
        else:
            assert not re.match(r"^\^[A-Za-z]", pattern), (system.contract, pattern)


def test_id_systems_are_the_crosswalk_systems(con) -> None:
    systems = {s.source_system for s in id_systems()}
    found = {
        r[0]
        for r in con.execute("select distinct source_system from silver.customer_xref").fetchall()
    }
    assert found == systems


# ----------------------------------------------------------------------------- ids, on the lake


def _xref(con) -> list[tuple[str, str, str]]:
    return con.execute(
        "select source_system, source_id, customer_id from silver.customer_xref"
    ).fetchall()


def _number_of(system, source_id: str) -> int | None:
    """The id's number, computed from the contract prefix (independently of the model)."""
    rest = source_id[len(system.id_prefix) :] if source_id.startswith(system.id_prefix) else None
    return int(rest) if rest and rest.isdigit() else None


def _expected_candidates(con, number: int) -> list[tuple[str, str, str]]:
    order = {s.source_system: s for s in id_systems()}
    rows = [
        (system, sid, golden)
        for system, sid, golden in _xref(con)
        if _number_of(order[system], sid) == number
    ]
    rows.sort(key=lambda r: (order[r[0]].lookup_order, r[1]))
    first: dict[str, tuple[str, str, str]] = {}
    for row in rows:
        first.setdefault(row[2], row)
    return list(first.values())


def test_a_bare_number_lists_one_candidate_per_system_in_seed_order(con) -> None:
    expected = _expected_candidates(con, 42)
    assert len(expected) >= 3  # 42 is an id in most systems: the case that used to mislead
    with pytest.raises(AmbiguousCustomer) as raised:
        resolve_customer(con, " 42 ")
    got = [(c.source_system, c.source_id, c.customer_id) for c in raised.value.candidates]
    assert got == expected
    assert "shop:C0000042" in str(raised.value)


@pytest.mark.parametrize(
    ("typed", "system", "number"),
    [
        ("C0000042", "shop", 42),
        ("c0000042", "shop", 42),
        ("shop:42", "shop", 42),
        ("SHOP:C0000042", "shop", 42),
        ("support:42", "support", 42),
        ("crm:42", "crm_contact", 42),
        ("crm_contact:003000000000042", "crm_contact", 42),
        ("loyalty:7", "loyalty", 7),
        ("SUB00000007", "marketing", 7),
    ],
)
def test_a_source_id_resolves_and_says_which_system_matched(con, typed, system, number) -> None:
    seed = {s.source_system: s for s in id_systems()}
    (expected,) = [
        (sid, golden)
        for s, sid, golden in _xref(con)
        if s == system and _number_of(seed[system], sid) == number
    ]
    match = resolve_customer(con, typed)
    assert (match.source_system, match.source_id, match.customer_id) == (system, *expected)
    assert match.matched() == f"{system}:{expected[0]}"


def test_a_golden_id_resolves_to_itself_in_any_case(con) -> None:
    golden = con.execute("select max(customer_id) from silver.customer_golden").fetchone()[0]
    match = resolve_customer(con, golden.lower())
    assert (match.customer_id, match.match_kind, match.source_system) == (
        golden,
        "golden_id",
        None,
    )


@pytest.mark.parametrize("unknown", ["CUS-000000000000", "C9999999", "shop:SUB00000042", "x:42"])
def test_an_unknown_id_is_a_lookup_error_naming_it(con, unknown) -> None:
    with pytest.raises(LookupError, match=re.escape(repr(unknown))):
        resolve_customer(con, unknown)


def _read(lake, read):
    """Read with a connection closed before the analyst's sandboxed one opens the same file
    (DuckDB shares one instance per file in a process, and the sandbox locks its settings)."""
    con = lake.connect()
    try:
        return read(con)
    finally:
        con.close()


def test_cookbook_q07_lists_the_same_candidates_as_the_cli(lake) -> None:
    expected = _read(lake, lambda con: _expected_candidates(con, 42))
    got = json.loads(run_cookbook(lake.cfg.warehouse, "q07_customer_360_deep_dive", fmt="json"))
    rows = [(r["matched_system"], r["matched_id"], r["customer_id"]) for r in got]
    assert rows == expected
    assert {r["candidate_count"] for r in got} == {len(expected)}


def test_cli_customer_reports_the_match_and_lists_an_ambiguous_id(lake) -> None:
    db = str(lake.cfg.warehouse)
    xref = _read(lake, _xref)
    candidates = _read(lake, lambda con: _expected_candidates(con, 42))
    (golden,) = [g for s, sid, g in xref if (s, sid) == ("shop", "C0000042")]
    shown = runner.invoke(app, ["customer", "shop:42", "--warehouse", db])
    assert shown.exit_code == 0, shown.output
    assert f"matched shop:C0000042 → {golden}" in shown.output
    ambiguous = runner.invoke(app, ["customer", "42", "--warehouse", db])
    assert ambiguous.exit_code == 1
    for system, sid, candidate in candidates:
        assert f"{system}:{sid} ({candidate})" in ambiguous.output


# ----------------------------------------------------------------------------- the model, tiny


def build_customer_lookup(con: duckdb.DuckDBPyConnection, golden: list[str]) -> None:
    """Run the real customer_lookup model on the silver.customer_xref (and, when present,
    silver.customer_id_redirects) of a hand-made warehouse; ``golden`` are its golden ids."""
    con.execute(
        "create or replace table silver.customer_id_systems as select * "
        f"from read_csv('{ID_SYSTEMS_SEED}', all_varchar = true)"
    )
    con.execute("alter table silver.customer_id_systems alter lookup_order type integer")
    con.execute("create or replace table silver.customer_golden (customer_id varchar)")
    con.executemany("insert into silver.customer_golden values (?)", [[g] for g in golden])
    con.execute(
        "create table if not exists silver.customer_id_redirects (absorbed_customer_id varchar, "
        "survivor_customer_id varchar, redirected_on date, reason varchar)"
    )
    schemas = dict.fromkeys(
        ("customer_id_systems", "customer_xref", "customer_golden", "customer_id_redirects"),
        "silver",
    )
    sql = render_cookbook_sql(LOOKUP_MODEL.read_text(), schemas, name="customer_lookup").sql
    con.execute(f"create or replace table silver.customer_lookup as {sql}")


def _tiny_lookup(tmp_path: Path, xref, golden, redirects=()) -> Path:
    path = tmp_path / "tiny.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema silver")
        con.execute(
            "create table silver.customer_xref "
            "(source_system varchar, source_id varchar, customer_id varchar)"
        )
        con.executemany("insert into silver.customer_xref values (?, ?, ?)", list(xref))
        con.execute(
            "create table silver.customer_id_redirects (absorbed_customer_id varchar, "
            "survivor_customer_id varchar, redirected_on date, reason varchar)"
        )
        con.executemany(
            "insert into silver.customer_id_redirects values (?, ?, date '2026-07-01', 'merge')",
            list(redirects),
        )
        build_customer_lookup(con, list(golden))
    return path


def test_golden_ids_win_and_absorbed_ids_lead_to_their_survivor(tmp_path) -> None:
    # a source id spelled like a golden id must not compete with the golden id
    path = _tiny_lookup(
        tmp_path,
        xref=[("support", "CUS-1", "CUS-2"), ("shop", "C0000001", "CUS-1")],
        golden=["CUS-1", "CUS-2"],
        redirects=[("CUS-9", "CUS-2")],
    )
    with duckdb.connect(str(path), read_only=True) as con:
        assert resolve_customer(con, "cus-1").customer_id == "CUS-1"
        absorbed = resolve_customer(con, "CUS-9")
        assert (absorbed.customer_id, absorbed.match_kind) == ("CUS-2", "absorbed_golden_id")
        assert resolve_customer(con, "support:CUS-1").customer_id == "CUS-2"
        # one customer holding the number in two systems is not ambiguous: first system reported
        assert resolve_customer(con, "1").matched() == "shop:C0000001"


# ----------------------------------------------------------------------------- names


def _settings() -> NameSettings:
    return NameSettings.from_project()


def _unique_long_name(con) -> tuple[str, str, str]:
    """A golden customer whose full name no other golden record shares, long enough to garble."""
    return con.execute(
        """
        select customer_id, first_name, last_name from silver.customer_golden
        where length(first_name) >= 5 and length(last_name) >= 7
          and first_name ~ '^[A-Za-z]+$' and last_name ~ '^[A-Za-z]+$'
        qualify count(*) over (partition by lower(first_name || ' ' || last_name)) = 1
        order by customer_id
        limit 1
        """
    ).fetchone()


def test_name_exact_typo_swapped_case_and_accent_find_the_customer(lake) -> None:
    golden, first, last = _read(lake, _unique_long_name)
    typo = last[:2] + last[3] + last[2] + last[4:]  # two letters transposed
    accented = first[:-1] + {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú"}.get(
        first[-1], first[-1]
    )
    for query in (
        f"{first} {last}",
        f"{first} {typo}",
        f"{last}, {first}",
        f"{last.upper()} {first.lower()}",
        f"{accented} {last}",
    ):
        found = find_customers_by_name(lake.cfg.warehouse, query, _settings())
        assert found.clear is not None and found.clear.customer_id == golden, (query, found)
    shown = runner.invoke(
        app, ["customer", "--name", f"{last} {first}", "--warehouse", str(lake.cfg.warehouse)]
    )
    assert shown.exit_code == 0, shown.output
    assert golden in shown.output


def test_a_shared_name_lists_the_candidates(lake) -> None:
    name, ids = _read(
        lake,
        lambda con: con.execute(
            """
        select first_name || ' ' || last_name, list(customer_id order by customer_id)
        from silver.customer_golden where first_name is not null and last_name is not null
        group by 1 having count(*) = 2 order by 1 limit 1
        """
        ).fetchone(),
    )
    found = find_customers_by_name(lake.cfg.warehouse, name, _settings())
    assert found.clear is None
    assert [c.customer_id for c in found.candidates[:2]] == ids
    assert [c.score for c in found.candidates[:2]] == [100.0, 100.0]
    shown = runner.invoke(app, ["customer", "--name", name, "--warehouse", str(lake.cfg.warehouse)])
    assert shown.exit_code == 0 and all(i in shown.output for i in ids)
    assert "no single clear match" in shown.output


def test_no_name_close_enough_is_a_one_line_error(lake) -> None:
    shown = runner.invoke(
        app, ["customer", "--name", "Qxzqv Wkjhpz", "--warehouse", str(lake.cfg.warehouse)]
    )
    assert shown.exit_code == 1
    lines = [line for line in shown.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Qxzqv Wkjhpz" in lines[0]


def test_thresholds_decide_between_a_clear_match_and_a_list() -> None:
    names = [
        ("CUS-1", "Randy", "Hunt", "Austin", "TX"),
        ("CUS-2", "Randi", "Hunter", "Boise", "ID"),
        ("CUS-3", "Mary", "Lee", None, None),
    ]
    strict = NameSettings(min_score=50, clear_score=90, clear_margin=20, max_candidates=5)
    loose = NameSettings(min_score=50, clear_score=90, clear_margin=5, max_candidates=5)
    assert search_names(names, "randy hunt", strict).clear is None  # Randi Hunter is too close
    assert search_names(names, "randy hunt", loose).clear.customer_id == "CUS-1"
    assert [c.customer_id for c in search_names(names, "Hunt Randy", strict).candidates] == [
        "CUS-1",
        "CUS-2",
    ]
