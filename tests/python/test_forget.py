"""Right to erasure: after `forget`, nothing built, exported or served holds the person.

Runs on a copy of the test lake: publish once more (so a previous serving file and export
folder exist), forget the person with the most source records, then search every column of
every table of the working warehouse, the export (current and kept versions) and the serving
file (current and previous) for the person's ids, golden key and full name.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from engagement_lake.config import RunConfig
from engagement_lake.erasure import ForgetResult, forget, read_register
from engagement_lake.publish import VERSIONS_DIR, previous_path, publish, serving_path
from engagement_lake.quality.checked_rows import CheckedRows, ledger_path

runner = CliRunner()


@dataclass
class Forgotten:
    cfg: RunConfig
    result: ForgetResult
    golden: str
    records: list[tuple[str, str]]
    names: list[str]
    before: dict[str, set[str]]
    """Per gold table with a customer_key: every row's customer_key before the request."""
    customers_before: set[str]


def _pick_person(con) -> tuple[str, list[tuple[str, str]], list[str]]:
    """The customer with the most source records whose full names nobody else has."""
    rows = con.execute(
        """
        with names as (
            select source_system, source_id,
                lower(trim(first_name) || ' ' || trim(last_name)) as full_name
            from silver.int_customer_identities_unioned
            where first_name is not null and last_name is not null
        ),
        owners as (
            select names.full_name, count(distinct xref.customer_id) as people
            from names inner join silver.customer_xref as xref using (source_system, source_id)
            group by 1
        ),
        candidates as (
            select xref.customer_id, count(*) as records,
                bool_and(coalesce(owners.people, 1) = 1) as names_unique
            from silver.customer_xref as xref
            left join names using (source_system, source_id)
            left join owners using (full_name)
            group by 1
        )
        select customer_id from candidates where names_unique
        order by records desc, customer_id limit 1
        """
    ).fetchone()
    golden = rows[0]
    records = con.execute(
        "select source_system, source_id from silver.customer_xref where customer_id = ? "
        "order by 1, 2",
        [golden],
    ).fetchall()
    names = [
        r[0]
        for r in con.execute(
            """
            select distinct trim(first_name) || ' ' || trim(last_name)
            from silver.int_customer_identities_unioned
            inner join silver.customer_xref using (source_system, source_id)
            where customer_id = ? and first_name is not null and last_name is not null
            """,
            [golden],
        ).fetchall()
    ]
    return golden, records, names


def _keyed_tables(con, schema: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.columns where table_schema = ? "
            "and column_name = 'customer_key' order by 1",
            [schema],
        ).fetchall()
    ]


@pytest.fixture(scope="module")
def forgotten(lake, module_dir) -> Forgotten:
    root = module_dir("forget")
    source_root = lake.cfg.warehouse.parent
    for item in source_root.iterdir():
        target = root / item.name
        if item.is_dir() and not item.is_symlink():
            shutil.copytree(item, target, symlinks=True)
        else:
            shutil.copy2(item, target, follow_symlinks=False)
    cfg = RunConfig(
        root / lake.cfg.data_dir.name,
        root / lake.cfg.warehouse.name,
        scale=lake.cfg.scale,
        seed=lake.cfg.seed,
        target_dir=root / "target",
    )
    publish(cfg)  # a second publication: the first is now the kept previous one
    assert previous_path(serving_path(cfg)).exists()
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        golden, records, names = _pick_person(con)
        before = {
            table: {r[0] for r in con.execute(f"select customer_key from gold.{table}").fetchall()}
            for table in _keyed_tables(con, "gold")
        }
        customers_before = {
            r[0] for r in con.execute("select customer_id from gold.dim_customer").fetchall()
        }
    system, source_id = records[0]
    CheckedRows(ledger_path(cfg.warehouse)).close()  # as a check run leaves it
    assert ledger_path(cfg.warehouse).exists()
    result = forget(cfg, f"{system}:{source_id}")
    return Forgotten(cfg, result, golden, records, names, before, customers_before)


def _needles(f: Forgotten) -> tuple[set[str], set[str]]:
    """Exact values (ids, golden id and key) and name substrings that must be gone."""
    exact = {f.golden, hashlib.md5(f.golden.encode()).hexdigest()}
    exact |= {sid for system, sid in f.records if system != "support"}
    return exact, {name.lower() for name in f.names}


def _hits(con, table_sql: str, columns: list[tuple[str, str]], exact, names, numeric) -> list[str]:
    """Columns of the table holding a needle: one scan of the table, a count per column."""
    counts = []
    for column, kind in columns:
        quoted = '"' + column.replace('"', '""') + '"'
        text = f"cast({quoted} as varchar)"
        conditions = [f"{text} in ({', '.join(repr(v) for v in sorted(exact))})"]
        if "VARCHAR" in kind.upper() or "JSON" in kind.upper():
            conditions += [f"contains(lower({text}), {name!r})" for name in sorted(names)]
        if column.endswith("requester_id") and numeric:
            conditions.append(f"{text} in ({', '.join(repr(v) for v in sorted(numeric))})")
        counts.append(f"count(*) filter (where {' or '.join(conditions)})")
    row = con.execute(f"select {', '.join(counts)} from {table_sql}").fetchone()
    return [f"{table_sql}.{c[0]}" for c, n in zip(columns, row, strict=True) if n]


def _search_database(path: Path, f: Forgotten, schemas: tuple[str, ...] | None) -> list[str]:
    exact, names = _needles(f)
    numeric = {sid for system, sid in f.records if system == "support"}
    hits = []
    with duckdb.connect(str(path), read_only=True) as con:
        where = f"where table_schema in ({', '.join(repr(s) for s in schemas)})" if schemas else ""
        tables = con.execute(
            f"select table_schema, table_name from information_schema.tables {where} order by 1, 2"
        ).fetchall()
        assert tables, path
        for schema, table in tables:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                [schema, table],
            ).fetchall()
            hits += _hits(con, f'"{schema}"."{table}"', columns, exact, names, numeric)
    return hits


def test_the_working_warehouse_holds_nothing_of_the_person(forgotten) -> None:
    schemas = ("staging", "quality", "silver", "history", "gold")
    assert _search_database(forgotten.cfg.warehouse, forgotten, schemas) == []


def test_the_serving_files_current_and_previous_hold_nothing_of_the_person(forgotten) -> None:
    serving = serving_path(forgotten.cfg)
    for path in (serving, previous_path(serving)):
        assert path.exists()
        assert _search_database(path, forgotten, None) == [], path


def test_every_kept_export_holds_nothing_of_the_person(forgotten) -> None:
    exact, names = _needles(forgotten)
    versions = sorted((forgotten.cfg.data_dir / VERSIONS_DIR).glob("gold-*"))
    assert versions and (forgotten.cfg.data_dir / "gold").resolve() in [
        v.resolve() for v in versions
    ]
    hits = []
    with duckdb.connect() as con:
        for version in versions:
            for file in sorted(version.glob("*.parquet")):
                relation = f"read_parquet('{file}')"
                columns = con.execute(f"describe select * from {relation}").fetchall()
                hits += _hits(con, relation, [(c[0], c[1]) for c in columns], exact, names, set())
    assert hits == []


def test_other_customers_keep_their_rows(forgotten) -> None:
    key = hashlib.md5(forgotten.golden.encode()).hexdigest()
    with duckdb.connect(str(forgotten.cfg.warehouse), read_only=True) as con:
        customers = {
            r[0] for r in con.execute("select customer_id from gold.dim_customer").fetchall()
        }
        assert customers == forgotten.customers_before - {forgotten.golden}
        for table, keys in forgotten.before.items():
            after = {r[0] for r in con.execute(f"select customer_key from gold.{table}").fetchall()}
            assert after == keys - {key}, table
    removed = forgotten.result.removed
    assert removed["gold.dim_customer"] == 1
    assert removed["silver.customer_xref"] == len(forgotten.records)


def test_the_register_records_every_source_id_and_the_data_date(forgotten) -> None:
    rows = read_register(forgotten.cfg.data_dir)
    assert {(r["source_system"], r["source_id"]) for r in rows} == set(forgotten.records)
    assert {r["customer_id"] for r in rows} == {forgotten.golden}
    assert {r["request_id"] for r in rows} == {forgotten.result.request_id}
    folders = (forgotten.cfg.data_dir / "bronze" / "shop" / "customers").glob("load_date=*")
    newest = max(date.fromisoformat(f.name.split("=", 1)[1]) for f in folders)
    assert {r["requested_as_of"] for r in rows} == {newest}


def test_reconciliation_counts_the_erased_rows_and_bronze_keeps_them(forgotten) -> None:
    shop_id = next(sid for system, sid in forgotten.records if system == "shop")
    with duckdb.connect(str(forgotten.cfg.warehouse), read_only=True) as con:
        recon = {
            (r[0], r[1]): r[2:]
            for r in con.execute(
                "select system, table_name, bronze_rows, staging_rows, quarantined_rows, "
                "collapsed_rows, erased_rows from quality.reconciliation"
            ).fetchall()
        }
        bronze_versions = con.execute(
            "select count(*) from read_parquet(?) where customer_id = ?",
            [
                str(forgotten.cfg.data_dir / "bronze" / "shop" / "customers" / "*" / "*.parquet"),
                shop_id,
            ],
        ).fetchone()[0]
    for bronze, staged, quarantined, collapsed, erased in recon.values():
        assert bronze == staged + quarantined + collapsed + erased
    assert bronze_versions >= 1  # bronze itself is untouched
    assert recon[("shop", "customers")][4] == bronze_versions
    assert recon[("shop", "orders")][4] > 0


def test_a_later_rebuild_keeps_the_person_out(forgotten) -> None:
    from engagement_lake.dbt_runner import build

    build(
        forgotten.cfg,
        ["path:models/staging", "path:models/quality", "customer_xref"],
        progress=False,
    )
    schemas = ("staging", "quality")
    assert _search_database(forgotten.cfg.warehouse, forgotten, schemas) == []
    with duckdb.connect(str(forgotten.cfg.warehouse), read_only=True) as con:
        assert not con.execute(
            "select count(*) from silver.customer_xref where customer_id = ?", [forgotten.golden]
        ).fetchone()[0]


def test_forget_deletes_the_checks_ledger_of_raw_row_hashes(forgotten) -> None:
    assert not ledger_path(forgotten.cfg.warehouse).exists()


def test_forgetting_again_says_the_person_is_already_erased(forgotten) -> None:
    from engagement_lake.erasure import ErasureError

    system, source_id = forgotten.records[-1]
    with pytest.raises(ErasureError, match=forgotten.result.request_id):
        forget(forgotten.cfg, f"{system}:{source_id}")


def test_forget_refuses_an_ambiguous_id_with_its_candidates(lake) -> None:
    from engagement_lake.cli import app

    result = runner.invoke(app, ["forget", "42", "--yes", "--warehouse", str(lake.cfg.warehouse)])
    assert result.exit_code == 1
    assert "ambiguous" in result.output and "shop:C0000042" in result.output
    assert not (lake.cfg.data_dir / "_erasure").exists()
