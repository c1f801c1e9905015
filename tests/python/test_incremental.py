"""The daily incremental build equals a full rebuild, and a killed build is repaired.

The session's ``daily_lake`` (conftest) grows the test lake by three daily loads, each built
incrementally on the warehouse of the one before; the first load also merges two customers (a
new shop account bridging them), the last is built after three builds killed with SIGKILL at
different points; the first load also brings an order whose customer lands with the second.
The same bronze is built once more from scratch. Every staging (the base models' checked rows
too), silver, gold, history and quality table must be equal in both, to the bit
(``compare_warehouses``: row counts and order-independent checksums of every column), except
the columns named in LEGITIMATE_DIFFERENCES.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import (
    KILL_POINTS,
    LATE_CUSTOMER_ID,
    LATE_ITEM_ID,
    LATE_ORDER_ID,
    DailyLake,
)
from engagement_lake import cli, increments
from engagement_lake.config import PROJECT_ROOT
from engagement_lake.contracts import load_contracts
from engagement_lake.dbt_runner import DbtError
from engagement_lake.quality.compare import compare_warehouses

COMPARED_SCHEMAS = ("staging", "silver", "gold", "history", "quality")

LEGITIMATE_DIFFERENCES: dict[str, str] = {
    "silver.customer_id_ledger": (
        "the id ledger records the builds that ran (the one state bronze cannot rebuild): day "
        "by day it numbers four builds, dates each assignment by the build of the day the record "
        "arrived and holds the merge's redirect; from scratch, one build assigned every id"
    ),
    "silver.customer_id_redirects": (
        "the ledger's redirects: day by day the merge absorbed an id the backfill had issued; "
        "from scratch that id was never issued, so nothing is redirected"
    ),
    "silver.customer_xref.assigned_on": "the ledger's date of the record's latest assignment",
    "silver.customer_xref.assigned_reason": "the ledger's reason of that assignment",
    "gold.dim_customer_alias": (
        "one row per redirect besides the current ids: the absorbed id (above) is an alias day "
        "by day only; the current ids' rows are compared apart"
    ),
    "silver.customer_lookup": (
        "the absorbed id (above) still leads to its survivor day by day, one lookup row per "
        "redirect; every other row is compared apart"
    ),
}
"""``schema.table`` or ``schema.table.column`` that may differ between a warehouse built day
by day and one built from scratch, each with why: the id ledger's bookkeeping alone. Golden ids
(``customer_xref.customer_id``, every ``customer_key``, ``dim_customer``), every fact and every
history table are compared."""


def _incremental_models() -> dict[str, str]:
    """Incremental staging model -> unique_key, as dbt_project.yml configures them."""
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text(encoding="utf-8"))
    staging = project["models"]["engagement_lake"]["staging"]
    return {
        name: config["+unique_key"]
        for system in staging.values()
        if isinstance(system, dict)
        for name, config in system.items()
        if name != "base"
        and isinstance(config, dict)
        and config.get("+materialized") == "incremental"
    }


def test_every_base_model_checks_only_the_partitions_a_run_reads() -> None:
    """Each system's base models (bronze checked row by row) are incremental by load date, so a
    daily run checks its day alone and replaces that partition."""
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text(encoding="utf-8"))
    staging = project["models"]["engagement_lake"]["staging"]
    systems = sorted(p.parent.name for p in (PROJECT_ROOT / "models" / "staging").glob("*/base"))
    assert len(systems) == 10
    for system in systems:
        assert staging[system]["base"] == {
            "+materialized": "incremental",
            "+unique_key": "_load_date",
        }, system


def test_incremental_staging_keys_are_the_contracts_primary_keys() -> None:
    contracts = load_contracts()
    models = _incremental_models()
    assert len(models) >= 8
    for model, key in models.items():
        system, table = model.removeprefix("stg_").split("__")
        primary = [c.name for c in contracts[f"{system}.{table}"].columns if c.primary_key]
        assert [key] == primary, model


# ----------------------------------------------------------------------------- the plan


def _files(tmp_path: Path, table: str, day: str, name: str, text: str) -> Path:
    path = tmp_path / "bronze" / table / f"load_date={day}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_plan_reads_new_and_rewritten_partitions_and_rebuilds_on_a_removed_one(
    tmp_path: Path,
) -> None:
    warehouse = tmp_path / "w.duckdb"
    first = _files(tmp_path, "orders", "2026-06-30", "part-0000.parquet", "a")
    assert increments.plan(warehouse, {}).full_refresh  # no warehouse
    warehouse.write_text("")
    found = increments.partitions({"shop.orders": [first]})
    assert increments.plan(warehouse, found).full_refresh  # no record
    increments.write_record(warehouse, found)
    assert increments.plan(warehouse, found) == increments.Plan(
        False, (), "0 new or replayed load date(s)"
    )
    second = _files(tmp_path, "orders", "2026-07-01", "part-0000.parquet", "b")
    grown = increments.partitions({"shop.orders": [first, second]})
    assert increments.plan(warehouse, grown).load_dates == ("2026-07-01",)
    increments.write_record(warehouse, grown)
    second.write_text("bb")  # the day replayed: its file rewritten
    replayed = increments.partitions({"shop.orders": [first, second]})
    plan = increments.plan(warehouse, replayed)
    assert (plan.full_refresh, plan.load_dates) == (False, ("2026-07-01",))
    assert plan.dbt_env() == {increments.LOAD_DATES_ENV: "2026-07-01"}
    assert increments.plan(warehouse, increments.partitions({"shop.orders": [first]})).full_refresh
    increments.write_record(warehouse, replayed)
    register = tmp_path / increments.ERASURE_REGISTER
    register.parent.mkdir()
    register.write_text("x")  # engagement-lake forget: erased rows may be in incremental tables
    erased = increments.with_erasure_register(replayed, tmp_path)
    assert increments.plan(warehouse, erased).reason == "the erasure register changed"
    increments.forget(warehouse)
    assert increments.read_record(warehouse) is None


def test_a_plan_reads_again_the_partitions_of_orphans_whose_parent_landed(tmp_path: Path) -> None:
    """A customer lands on 07-02. Their order, landed on 07-01, was an orphan: 07-01 is read
    again. A line of that order landed on 06-30, an orphan since its order was one: 06-30 is
    read again too (the search follows the chain). An order of a customer who never lands adds
    nothing."""
    days = ("2026-06-30", "2026-07-01", "2026-07-02")

    def landed(table: str, day: str, key: str, value: str) -> Path:
        path = tmp_path / "bronze" / "shop" / table / f"load_date={day}" / "part-0000.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect() as con:
            con.execute(f"copy (select '{value}' as {key}) to '{path}'")
        return path

    files = {
        "shop.customers": [landed("customers", days[2], "customer_id", "C0000007")],
        "shop.orders": [landed("orders", days[1], "order_id", "O000000007")],
        "shop.order_items": [landed("order_items", days[0], "order_item_id", "OI0000000007")],
    }
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema staging")
        con.execute(
            "create table staging.base_shop__orders as select * from (values"
            " ('O000000007', 'C0000007', 'orphan_foreign_key', 'customer_id', date '2026-07-01'),"
            " ('O000000404', 'C0000404', 'orphan_foreign_key', 'customer_id', date '2026-06-30'))"
            " as t(order_id, customer_id, _dq_reason, _dq_column, _load_date)"
        )
        con.execute(
            "create table staging.base_shop__order_items as select * from (values"
            " ('OI0000000007', 'O000000007', 'orphan_foreign_key', 'order_id',"
            "  date '2026-06-30')) as t(order_item_id, order_id, _dq_reason, _dq_column,"
            " _load_date)"
        )
    plan = increments.Plan(False, (days[2],), "1 new or replayed load date(s)")
    found = increments.with_resolved_orphans(plan, warehouse, files, load_contracts())
    assert (found.full_refresh, found.load_dates, found.rechecked) == (False, (days[2],), days[:2])
    assert found.dbt_env() == {increments.LOAD_DATES_ENV: ",".join(days)}
    # a day bringing no parent of an orphan reads itself alone
    quiet = increments.Plan(False, (days[1],), "")
    files["shop.orders"] = []
    assert increments.with_resolved_orphans(quiet, warehouse, files, load_contracts()) == quiet


def test_the_cli_publishes_nothing_after_a_failed_build(monkeypatch, tmp_path: Path) -> None:
    """engagement-lake build exports gold only when dbt passed: a failing test stops it first."""
    exported: list[object] = []

    def failing(*args: object, **kwargs: object) -> None:
        raise DbtError("test not_null_fct_orders_order_id: fail: 1 row")

    monkeypatch.setattr("engagement_lake.dbt_runner.build", failing)
    monkeypatch.setattr(cli, "_export", lambda *a, **k: exported.append(a))
    code = cli.main(["build", "--data-dir", str(tmp_path), "--warehouse", str(tmp_path / "w")])
    assert (code, exported) == (1, [])


# ----------------------------------------------------------------------------- the daily lake


def test_the_daily_builds_read_only_their_day(daily_lake: DailyLake) -> None:
    """Each build after a daily load was incremental over that day alone (the first one too,
    when the test lake came with its record of partitions); the killed builds left the record
    as it was, so the last build read its day, not more."""
    runs = daily_lake.runs
    days = [d.isoformat() for d in daily_lake.loads[1:]]
    first_incremental = 0 if not runs[0].increment.full_refresh else 1
    for run, day in list(zip(runs, days, strict=True))[first_incremental:]:
        assert (run.increment.full_refresh, run.increment.load_dates) == (False, (day,))
    assert first_incremental == 0 or runs[0].increment.reason.startswith("no record")


def test_a_daily_run_of_an_unchanged_project_skips_the_unit_tests_and_seeds_alone(
    daily_lake: DailyLake,
) -> None:
    """The builds after the first daily load follow a whole build of the same project: they run
    the models and the data tests, not the unit tests (which check the SQL, not the data) and
    not the seeds (files of the project, which that build loaded); the seeds' tables are still
    there and still tested."""
    later = daily_lake.runs[1:]
    assert later and all(not run.increment.full_refresh for run in later)
    for run in later:
        kinds = {node.resource_type for node in run.nodes}
        assert "unit_test" not in kinds and "seed" not in kinds
        assert {"model", "test"} <= kinds
        tested = {n.name for n in run.nodes if n.resource_type == "test"}
        # a test's name carries its hash after a dot
        assert any(name.startswith("column_rules_seeds_marts.") for name in tested), tested
    assert increments.recorded_code(daily_lake.daily.warehouse) == increments.code_fingerprint(
        PROJECT_ROOT
    )


def test_a_daily_run_reuses_dbts_last_parse(daily_lake: DailyLake) -> None:
    """Each day brings other load dates; they travel in the environment, which dbt's partial
    parsing does not watch, so a daily build does not parse the whole project again (as a
    changed dbt var would make it)."""
    later = daily_lake.runs[1:]
    assert later and all(not run.increment.full_refresh for run in later)
    assert [run.full_parse_reason for run in later] == [None] * len(later)
    assert daily_lake.runs[0].full_parse_reason is not None  # a new target folder


def test_the_name_parser_model_is_incremental_on_duckdb_and_keeps_what_it_parsed(lake) -> None:
    """int_customer_full_names parses only new or changed names on an incremental run: it is
    incremental by record on DuckDB, and keeps each record's full name to compare with."""
    from engagement_lake.lineage import load_manifest

    node = load_manifest(lake.cfg.target_dir / "manifest.json")["nodes"][
        "model.engagement_lake.int_customer_full_names"
    ]
    assert node["config"]["materialized"] == "incremental"
    assert node["config"]["unique_key"] == ["source_system", "source_id"]
    with lake.connect() as con:
        unparsed = con.execute(
            """
            select count(*) from silver.int_customer_full_names as parsed
            join staging.stg_loyalty__members as member
              on parsed.source_system = 'loyalty' and parsed.source_id = member.member_id
            where parsed.full_name is distinct from member.full_name
            """
        ).fetchone()[0]
        kept = con.execute(
            "select count(*), count(full_name) from silver.int_customer_full_names"
        ).fetchone()
    assert unparsed == 0
    assert kept[0] > 100 and kept[1] > 0


def test_the_code_fingerprint_follows_every_file_the_unit_tests_exercise(tmp_path: Path) -> None:
    for entry in increments.UNIT_TESTED_CODE:
        path = tmp_path / entry
        if entry.endswith(".yml"):
            path.write_text("name: x\n", encoding="utf-8")
        else:
            (path / "sub").mkdir(parents=True)
            (path / "sub" / "a.sql").write_text("select 1", encoding="utf-8")
    (tmp_path / "src").mkdir()
    before = increments.code_fingerprint(tmp_path)
    (tmp_path / "src" / "other.py").write_text("x = 1", encoding="utf-8")  # not dbt's SQL
    assert increments.code_fingerprint(tmp_path) == before
    seen = {before}
    for entry in increments.UNIT_TESTED_CODE:
        target = tmp_path / entry if entry.endswith(".yml") else tmp_path / entry / "sub" / "a.sql"
        target.write_text(target.read_text(encoding="utf-8") + " ", encoding="utf-8")
        now = increments.code_fingerprint(tmp_path)
        assert now not in seen, entry
        seen.add(now)
    (tmp_path / "macros" / "sub" / "a.sql").rename(tmp_path / "macros" / "sub" / "b.sql")
    assert increments.code_fingerprint(tmp_path) not in seen


def test_every_table_equals_a_build_from_scratch(daily_lake: DailyLake) -> None:
    tables = [name for name in LEGITIMATE_DIFFERENCES if name.count(".") == 1]
    differences = compare_warehouses(
        daily_lake.daily.warehouse,
        daily_lake.scratch.warehouse,
        schemas=COMPARED_SCHEMAS,
        exclude=tables,
    )
    unexplained = [
        str(d) for d in differences if f"{d.relation}.{d.column}" not in LEGITIMATE_DIFFERENCES
    ]
    assert unexplained == []
    with daily_lake.connect() as con:
        # the aliases: the current ids alike on both sides, and day by day one row per redirect
        current = "select * from {}.gold.dim_customer_alias where not is_redirected"
        for a, b in (("daily", "scratch"), ("scratch", "daily")):
            only = con.execute(
                f"select count(*) from ({current.format(a)} except all {current.format(b)})"
            ).fetchone()[0]
            assert only == 0, a
        aliases, redirects = con.execute(
            "select (select list((customer_id, current_customer_id) order by customer_id)"
            " from daily.gold.dim_customer_alias where is_redirected),"
            " (select list((absorbed_customer_id, survivor_customer_id)"
            " order by absorbed_customer_id) from daily.silver.customer_id_redirects)"
        ).fetchone()
        assert aliases == redirects and len(redirects) >= 1
        # the lookup: every row alike but the absorbed ids', one per redirect
        lookup = "select * from {}.silver.customer_lookup where match_kind <> 'absorbed_golden_id'"
        for a, b in (("daily", "scratch"), ("scratch", "daily")):
            only = con.execute(
                f"select count(*) from ({lookup.format(a)} except all {lookup.format(b)})"
            ).fetchone()[0]
            assert only == 0, a
        absorbed = con.execute(
            "select list((lookup_key, customer_id) order by lookup_key)"
            " from daily.silver.customer_lookup where match_kind = 'absorbed_golden_id'"
        ).fetchone()[0]
        assert absorbed == [(a.lower(), s) for a, s in redirects]
        tables = con.execute(
            "select count(*) from information_schema.tables where table_catalog = 'daily'"
            f" and table_type = 'BASE TABLE' and table_schema in {COMPARED_SCHEMAS}"
        ).fetchone()[0]
        # the comparison covered the incremental tables, grown by the daily loads
        grown = con.execute(
            "select count(distinct regexp_extract(_source_file, 'load_date=([0-9-]+)', 1))"
            " from daily.staging.stg_shop__orders where _source_file like '%load_date=2026-07%'"
        ).fetchone()[0]
    assert tables > 50
    assert grown == len(daily_lake.loads) - 1


def test_daily_builds_leave_no_intermediate_table_behind(daily_lake: DailyLake) -> None:
    """An incremental Python model stages its new rows in an ordinary table (dbt-duckdb writes a
    Python model's rows from another cursor, where a temporary one would be invisible); the
    project's override of duckdb__dispatch_temporary_relation has the materialization drop it,
    and the build after a killed one drops what the killed one left. Without them each daily
    build left one table per incremental Python model in the warehouse's main schema."""
    from engagement_lake.lineage import load_manifest

    nodes = load_manifest(daily_lake.daily.target_dir / "manifest.json")["nodes"]
    python_incremental = {
        uid
        for uid, node in nodes.items()
        if node.get("language") == "python" and node["config"]["materialized"] == "incremental"
    }
    ran = {node.unique_id for node in daily_lake.runs[-1].nodes if node.status == "success"}
    with daily_lake.connect() as con:
        left = con.execute(
            "select coalesce(list(schema_name || '.' || table_name order by table_name), [])"
            " from duckdb_tables()"
            " where database_name = 'daily' and contains(table_name, '__dbt_tmp')"
        ).fetchone()[0]
    assert len(python_incremental) >= 2 and python_incremental <= ran
    assert left == []


def test_the_matcher_learns_once_on_the_records_as_they_stood_at_the_training_date(
    daily_lake: DailyLake,
) -> None:
    """customer_match_model: both warehouses learnt m on the identity records known on the
    training date (the last load before the newest load's month, else the first load), one
    model with one fingerprint, and the same rows (test_every_table_equals_a_build_from_scratch).
    Records that only the daily loads brought are matched but not learnt from."""
    loads = daily_lake.loads
    month = loads[-1].replace(day=1)
    expected = max((d for d in loads if d < month), default=loads[0])
    with daily_lake.connect() as con:
        for side in ("daily", "scratch"):
            through, records, fingerprints, levels = con.execute(
                "select min(trained_through), min(training_records),"
                " count(distinct training_fingerprint), count(*)"
                f" from {side}.silver.customer_match_model"
            ).fetchone()
            known, later = con.execute(
                f"select count(*) filter (where first_loaded <= ?),"
                f" count(*) filter (where first_loaded > ?)"
                f" from {side}.silver.int_customer_records_first_loaded",
                [expected, expected],
            ).fetchone()
            assert (through, fingerprints) == (expected, 1), side
            assert levels >= 30, side
            assert records == known > 0, side
            assert later >= 1, side


def test_a_merge_of_the_day_re_keys_the_facts_of_the_absorbed_customer(
    daily_lake: DailyLake,
) -> None:
    """Both bridged accounts end in one golden customer, and every order, order line and session
    of both carries that customer's key in the incrementally built facts: the day re-keyed rows
    it brought no new version of."""
    with daily_lake.connect() as con:
        golden = con.execute(
            "select distinct customer_id from daily.silver.customer_xref"
            " where source_system = 'shop' and source_id in (?, ?, ?)",
            [*daily_lake.bridged, "C9999998"],
        ).fetchall()
        assert len(golden) == 1, golden
        keys = {}
        for fact, source in (
            ("fct_orders", "stg_shop__orders"),
            ("fct_order_items", "stg_shop__orders"),
            ("fct_web_sessions", "stg_shop__web_sessions"),
        ):
            key = "order_id" if source == "stg_shop__orders" else "session_id"
            keys[fact] = con.execute(
                f"select list(distinct f.customer_key), count(*) from daily.gold.{fact} as f"
                f" inner join daily.staging.{source} as s using ({key})"
                " where s.customer_id in (?, ?)",
                list(daily_lake.bridged),
            ).fetchone()
        expected = con.execute(
            "select customer_key from daily.gold.dim_customer where customer_id = ?", [golden[0][0]]
        ).fetchone()[0]
    for fact, (customer_keys, rows) in keys.items():
        assert rows >= 2 and customer_keys == [expected], fact


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_killed_build_is_repaired_by_the_next_incremental_build(
    daily_lake: DailyLake, point: str
) -> None:
    """The build was killed (SIGKILL) at the point; the next build was incremental, passed, and
    its warehouse equals the one built from scratch (test_every_table_equals_a_build_from_scratch
    compares them), with no half-built relation left behind."""
    assert daily_lake.kills[point] < 0
    last = daily_lake.runs[-1]
    assert not last.increment.full_refresh and last.success
    with duckdb.connect(str(daily_lake.daily.warehouse), read_only=True) as con:
        leftovers = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
            " where (table_name like '%__dbt_tmp%' or table_name like '%__dbt_backup%')"
            " and table_schema in ('staging', 'silver', 'gold', 'history')"
        ).fetchall()
    assert leftovers == []


def test_killed_builds_never_change_what_users_see(daily_lake: DailyLake) -> None:
    """The export and the serving file are written only after a build that passed: the killed
    builds left every published file as it was."""
    assert len(daily_lake.published_before_kills) > 20
    assert daily_lake.published_after_kills == daily_lake.published_before_kills


def test_the_last_load_is_in_gold(daily_lake: DailyLake) -> None:
    """Independent of the comparison: the orders the last daily load brought are in fct_orders."""
    last: date = daily_lake.loads[-1]
    with daily_lake.connect() as con:
        staged, in_gold = con.execute(
            "select count(*), count(f.order_id) from daily.staging.stg_shop__orders as s"
            " left join daily.gold.fct_orders as f using (order_id)"
            " where s._source_file like ?",
            [f"%load_date={last.isoformat()}%"],
        ).fetchone()
    assert staged > 0 and in_gold == staged


def test_an_order_that_came_before_its_customer_is_staged_once_the_customer_lands(
    daily_lake: DailyLake,
) -> None:
    """The first daily load brought an order (and its line) of a customer who landed the next
    day: a day as orphans in the quarantine, then, with the customer, in staging and the facts.
    The second day's build read the first day's partition again for them (its other rows
    unchanged); the comparison with the build from scratch covers the rest."""
    first, second = daily_lake.runs[0].increment, daily_lake.runs[1].increment
    assert first.rechecked == ()
    assert (second.load_dates, second.rechecked) == (
        (daily_lake.loads[2].isoformat(),),
        (daily_lake.loads[1].isoformat(),),
    )
    with daily_lake.connect() as con:
        found = con.execute(
            """
            select
                (select count(*) from daily.gold.fct_orders as o
                 inner join daily.gold.dim_customer as c using (customer_key)
                 inner join daily.silver.customer_xref as x using (customer_id)
                 where o.order_id = ? and x.source_system = 'shop' and x.source_id = ?),
                (select count(*) from daily.gold.fct_order_items where order_item_id = ?),
                (select count(*) from daily.quality.quarantine where source_key in (?, ?))
            """,
            [LATE_ORDER_ID, LATE_CUSTOMER_ID, LATE_ITEM_ID, LATE_ORDER_ID, LATE_ITEM_ID],
        ).fetchone()
    assert found == (1, 1, 0)
