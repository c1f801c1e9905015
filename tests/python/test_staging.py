"""The contract-driven staging mechanism: typed, standardised, newest version per key, every
invalid row quarantined with the right reason, and reconciliation that adds up.

The lake here is built from the contracts alone (bronze_factory), with one deliberate break per
rule, so each expected quarantine row is known exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from bronze_factory import build_rows, write_table
from engagement_lake.config import RunConfig
from engagement_lake.contracts import load_contracts
from engagement_lake.dbt_runner import DbtError, build

DAY2 = date(2026, 7, 1)


@pytest.fixture(scope="module")
def contracts():
    return load_contracts()


@pytest.fixture(scope="module")
def staged(module_dir, contracts):
    """Build once: a valid lake, plus a second batch carrying every kind of break."""
    root = module_dir("staged")
    data = root / "data"
    tables = build_rows(contracts, rows_per_table=6)
    for fqn, rows in tables.items():
        write_table(data, contracts[fqn], rows)

    customers = tables["shop.customers"]
    bad_customers = [
        {**customers[0], "customer_id": None},  # null_primary_key
        {**customers[0], "customer_id": "C0000101", "birth_date": "31/12/1980"},  # unparsable_date
        {
            **customers[0],
            "customer_id": "C0000102",
            "loyalty_tier": "Diamond",
        },  # unknown_allowed_value
        {**customers[0], "email": "NEW.Address@example.com"},  # a newer version of C0000001
        dict(customers[1]),  # an exact replay of C0000002
    ]
    write_table(
        data, contracts["shop.customers"], bad_customers, load_date=DAY2, batch_id="daily-2"
    )

    orders = tables["shop.orders"]
    bad_orders = [
        {
            **orders[0],
            "order_id": "O900000001",
            "total_amount": Decimal("99999.00"),
        },  # out_of_range
        {**orders[0], "order_id": "O900000002", "customer_id": "C9999999"},  # orphan
        {**orders[0], "order_id": "O900000003", "status": None},  # missing_required
    ]
    write_table(data, contracts["shop.orders"], bad_orders, load_date=DAY2, batch_id="daily-2")

    leads = tables["crm.leads"]
    write_table(
        data,
        contracts["crm.leads"],
        [{**leads[0], "lead_id": "00Q900000000001", "created_date": "yesterday"}],
        load_date=DAY2,
        batch_id="daily-2",
    )
    # Schema drift: an extra column is ignored.
    products = tables["shop.products"]
    write_table(
        data,
        contracts["shop.products"],
        [{**products[0], "product_id": "P09001"}],
        load_date=DAY2,
        batch_id="daily-2",
        extra_columns={"colour": ["navy"]},
    )

    cfg = RunConfig(data, root / "warehouse.duckdb", target_dir=root / "target")
    run = build(cfg, progress=False)
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    yield con, run
    con.close()


EXPECTED_QUARANTINE = {
    ("shop", "customers", None, "null_primary_key", "customer_id"),
    ("shop", "customers", "C0000101", "unparsable_date", "birth_date"),
    ("shop", "customers", "C0000102", "unknown_allowed_value", "loyalty_tier"),
    ("shop", "orders", "O900000001", "out_of_range", "total_amount"),
    ("shop", "orders", "O900000002", "orphan_foreign_key", "customer_id"),
    ("shop", "orders", "O900000003", "missing_required", "status"),
    ("crm", "leads", "00Q900000000001", "unparsable_date", "created_date"),
}


def test_build_passes_with_invalid_rows(staged):
    _, run = staged
    assert run.success
    assert not run.failures
    assert any(n.name == "assert_reconciliation_balances" for n in run.nodes)


def test_every_invalid_row_is_quarantined_with_its_reason(staged):
    con, _ = staged
    rows = set(
        con.execute(
            "select system, table_name, source_key, reason, column_name from quality.quarantine"
        ).fetchall()
    )
    assert rows == EXPECTED_QUARANTINE


def test_quarantine_keeps_the_raw_row(staged):
    con, _ = staged
    raw, source_file = con.execute(
        "select raw_row, _source_file from quality.quarantine "
        "where reason = 'unknown_allowed_value'"
    ).fetchone()
    assert '"loyalty_tier":"Diamond"' in raw
    assert source_file == "bronze/shop/customers/load_date=2026-07-01/part-0000.parquet"


def test_reconciliation_adds_up(staged):
    con, _ = staged
    rows = con.execute(
        "select system, table_name, bronze_rows, staging_rows, quarantined_rows, collapsed_rows, "
        "erased_rows from quality.reconciliation"
    ).fetchall()
    assert {e for *_, e in rows} == {0}  # no erasure register: nothing erased
    rec = {(s, t): (b, st, q, c) for s, t, b, st, q, c, _ in rows}
    assert len(rec) == 45
    # 6 valid + 3 invalid + a newer version + a replay
    assert rec[("shop", "customers")] == (11, 6, 3, 2)
    assert rec[("shop", "orders")] == (9, 6, 3, 0)
    assert rec[("shop", "products")] == (7, 7, 0, 0)
    assert rec[("crm", "leads")] == (7, 6, 1, 0)
    for b, st, q, c in rec.values():
        assert b == st + q + c


def test_newest_version_wins(staged):
    con, _ = staged
    email, batch = con.execute(
        "select email, _batch_id from staging.stg_shop__customers where customer_id = 'C0000001'"
    ).fetchone()
    assert (email, batch) == ("new.address@example.com", "daily-2")
    (replayed_batch,) = con.execute(
        "select _batch_id from staging.stg_shop__customers where customer_id = 'C0000002'"
    ).fetchone()
    assert replayed_batch == "daily-2"


def test_standardisation_and_renames(staged):
    con, _ = staged
    row = con.execute(
        """
        select email, phone, state, first_name, postal_code, birth_date, has_marketing_opt_in
        from staging.stg_shop__customers where customer_id = 'C0000003'
        """
    ).fetchone()
    assert row[0] == "person.2@example.com"
    assert row[1] == "+15550121002"
    assert row[2] == "NY"
    assert row[3] == "Smith Cson"
    assert row[4] == "10002"
    assert row[5] == date(2024, 1, 3)
    assert row[6] is True
    columns = {r[0] for r in con.execute("describe staging.stg_shop__orders").fetchall()}
    assert "ordered_at" in columns and "order_ts" not in columns


def test_extra_column_is_ignored(staged):
    con, _ = staged
    columns = {r[0] for r in con.execute("describe staging.stg_shop__products").fetchall()}
    assert "colour" not in columns
    assert con.execute(
        "select count(*) from staging.stg_shop__products where product_id = 'P09001'"
    ).fetchone() == (1,)


def test_only_shop_customers_builds_and_matches(tmp_path, contracts):
    """A lake with one table builds end to end, and its duplicate accounts are merged. A
    customer without a last name or birth date is a customer with nulls, not a quarantined row."""
    data = tmp_path / "data"
    rows = build_rows(contracts, 5)["shop.customers"]
    *rows, unnamed = rows
    unnamed = {**unnamed, "last_name": None, "birth_date": None}
    duplicates = [
        # the same person again: e-mail in another case with a plus-tag
        {**rows[0], "customer_id": "C0000901", "email": "PERSON.0+SALE@example.com"},
        # and again with no e-mail at all, the phone typed differently
        {**rows[1], "customer_id": "C0000902", "email": None, "phone": "555.011.1001"},
    ]
    write_table(data, contracts["shop.customers"], [*rows, *duplicates, unnamed])
    cfg = RunConfig(data, tmp_path / "w.duckdb", target_dir=tmp_path / "target")
    build(cfg, progress=False)
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    assert con.execute("select count(*) from staging.stg_shop__customers").fetchone() == (7,)
    assert con.execute(
        "select count(*) from quality.quarantine where table_name = 'customers'"
    ).fetchone() == (0,)
    assert con.execute(
        "select last_name, birth_date from silver.int_customer_identities_unioned "
        "where source_id = ?",
        [unnamed["customer_id"]],
    ).fetchone() == (None, None)
    assert con.execute("select count(*) from staging.stg_shop__orders").fetchone() == (0,)
    assert con.execute(
        "select bronze_rows, staging_rows from quality.reconciliation where table_name = 'orders'"
    ).fetchone() == (0, 0)
    assert con.execute("select count(*) from silver.customer_golden").fetchone() == (5,)
    pairs = dict(
        con.execute(
            "select source_id, customer_id from silver.customer_xref where source_system = 'shop'"
        ).fetchall()
    )
    assert pairs["C0000901"] == pairs["C0000001"]
    assert pairs["C0000902"] == pairs["C0000002"]
    assert pairs[unnamed["customer_id"]] not in {pairs[f"C000000{i}"] for i in range(1, 5)}
    assert con.execute("select count(*) from gold.dim_customer").fetchone() == (6,)  # + unknown
    con.close()


def test_missing_required_column_fails_naming_table_and_column(tmp_path, contracts):
    data = tmp_path / "data"
    rows = build_rows(contracts, 3)["shop.customers"]
    path = write_table(data, contracts["shop.customers"], rows, drop_columns=("customer_id",))
    cfg = RunConfig(data, tmp_path / "w.duckdb", target_dir=tmp_path / "target")
    with pytest.raises(DbtError) as info:
        build(cfg, ["stg_shop__customers"], progress=False)
    message = str(info.value)
    assert "\n" not in message
    assert "bronze shop.customers: " in message
    assert "missing required column ('customer_id' not in the file); the build did not start" in (
        message
    )
    assert not cfg.warehouse.exists(), "refused before any model runs"
    assert str(Path(path).name) in message
