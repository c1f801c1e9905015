"""Type-2 history over two daily loads: a contact whose e-mail changed and an opportunity that
moved stage each get a closed old version and a current new one, valid from the moment the source
changed them (its last-modified time), not from a build's clock.

History is rebuilt from bronze's versions on every build, so both loads land first and one build
reads them: nothing depends on a build having run between the loads (test_history_data_time.py
proves that for a generated lake)."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from bronze_factory import build_rows, write_table
from engagement_lake.config import RunConfig
from engagement_lake.contracts import load_contracts
from engagement_lake.dbt_runner import build

DAY2 = date(2026, 7, 1)
CHANGED_AT = datetime(2026, 7, 1, 9, 30)
HISTORY = ["+customer_history", "+opportunity_history"]


@pytest.fixture(scope="module")
def history(module_dir):
    contracts = load_contracts()
    root = module_dir("history")
    data = root / "data"
    tables = build_rows(contracts, rows_per_table=5)
    for fqn, rows in tables.items():
        write_table(data, contracts[fqn], rows)
    cfg = RunConfig(data, root / "warehouse.duckdb", target_dir=root / "target")

    contact = tables["crm.contacts"][0]
    opportunity = tables["crm.opportunities"][0]
    write_table(
        data,
        contracts["crm.contacts"],
        [{**contact, "email": "moved.on@example.com", "last_modified_date": CHANGED_AT}],
        load_date=DAY2,
        batch_id="daily-2026-07-01",
    )
    write_table(
        data,
        contracts["crm.opportunities"],
        [
            {
                **opportunity,
                "stage_name": "Negotiation",
                "probability": 80,
                "last_modified_date": CHANGED_AT,
            }
        ],
        load_date=DAY2,
        batch_id="daily-2026-07-01",
    )
    build(cfg, HISTORY, progress=False)
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    yield con, contact, opportunity
    con.close()


def test_changed_opportunity_has_two_versions(history):
    con, _, opportunity = history
    rows = con.execute(
        """
        select stage, probability, valid_from, valid_to, is_current, loaded_on
        from history.opportunity_history
        where opportunity_id = ?
        order by valid_from
        """,
        [opportunity["opportunity_id"]],
    ).fetchall()
    assert len(rows) == 2
    (old_stage, old_p, old_from, old_to, old_cur, old_load) = rows[0]
    (new_stage, new_p, new_from, new_to, new_cur, new_load) = rows[1]
    assert (old_stage, old_p) == (opportunity["stage_name"], opportunity["probability"])
    assert old_from == opportunity["last_modified_date"]
    assert old_to == CHANGED_AT == new_from
    assert (new_stage, new_p, new_to) == ("Negotiation", 80, None)
    assert (old_cur, new_cur) == (False, True)
    assert old_load < DAY2 == new_load


def test_unchanged_opportunities_keep_one_version(history):
    con, _, opportunity = history
    counts = con.execute(
        "select count(*), count(distinct opportunity_id) from history.opportunity_history "
        "where opportunity_id <> ?",
        [opportunity["opportunity_id"]],
    ).fetchone()
    assert counts == (4, 4)


def test_golden_customer_email_history(history):
    con, contact, _ = history
    (customer_id,) = con.execute(
        "select customer_id from silver.customer_xref "
        "where source_system = 'crm_contact' and source_id = ?",
        [contact["contact_id"]],
    ).fetchone()
    rows = con.execute(
        """
        select email, valid_from, valid_to, known_from_load_date
        from history.customer_history
        where customer_id = ?
        order by valid_from
        """,
        [customer_id],
    ).fetchall()
    # the e-mail's last two versions: the backfill's, closed by the change, and the new one
    (old_email, _, old_to, _), (new_email, new_from, new_to, known) = rows[-2:]
    assert old_email == contact["email"].strip().lower()
    assert new_email == "moved.on@example.com"
    assert old_to == new_from == CHANGED_AT
    assert new_to is None and known == DAY2
    others = con.execute(
        "select count(*) from history.customer_history "
        "where customer_id <> ? and (valid_from >= ? or known_from_load_date >= ?)",
        [customer_id, DAY2, DAY2],
    ).fetchone()[0]
    assert others == 0
