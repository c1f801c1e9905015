"""The build benchmark measures what it claims: the raw replay of dbt's compiled SQL does the same
work as dbt (same rows in every model, same failing rows in every data test, parents before
children), and the I/O floor reads every bronze table and writes every silver and gold table.

All on the session test lake: its dbt build already left the manifest and run results behind, so
no extra dbt build runs here. No test looks at wall time."""

from __future__ import annotations

import json

import duckdb
import pytest

from engagement_lake.bench import build as bench


@pytest.fixture(scope="module")
def artefacts(lake):
    return bench.load_artefacts(lake.cfg.target_dir)


@pytest.fixture(scope="module")
def replayed(lake, module_dir):
    raw = module_dir("raw") / lake.cfg.warehouse.name
    return bench.replay(lake.cfg.target_dir, lake.cfg.warehouse.resolve(), raw)


def test_dag_order_puts_parents_first():
    nodes = {
        "c": {"depends_on": {"nodes": ["b", "a"]}},
        "b": {"depends_on": {"nodes": ["a", "source.x"]}},
        "a": {"depends_on": {"nodes": []}},
        "d": {"depends_on": {"nodes": []}},
    }
    assert bench.dag_order(nodes, ["c", "b", "a", "d"]) == ["a", "d", "b", "c"]
    # a node left out still orders the ones it links
    assert bench.dag_order(nodes, ["c", "a"]) == ["a", "c"]


def _replayed_merge(config: dict, delta: str) -> list[tuple]:
    """``bench._merge_sql`` of a model with ``config`` whose compiled SQL is ``delta``, run on
    a table holding customer c1's two rows and c2's one row."""
    node = {"schema": "gold", "alias": "f", "name": "f", "config": config, "compiled_code": delta}
    with duckdb.connect() as con:
        con.execute("create schema gold")
        con.execute(
            "create table gold.f as select * from (values "
            "('k1', 'c1', 1), ('k2', 'c1', 2), ('k3', 'c2', 1)) as t(row_key, customer, seq)"
        )
        con.execute(bench._merge_sql(node))
        return con.execute("select * from gold.f order by all").fetchall()


def test_the_replay_merges_a_model_by_its_key():
    delta = "select 'k2' as row_key, 'c1' as customer, 9 as seq"
    assert _replayed_merge({"unique_key": "row_key"}, delta) == [
        ("k1", "c1", 1),
        ("k2", "c1", 9),
        ("k3", "c2", 1),
    ]


def test_the_replay_replaces_a_model_by_scope_as_the_project_strategy_does():
    """c1's rows all go and its one new row comes in; c2's tombstone (a null key) deletes c2's
    row and is not inserted (macros/incremental/replace_scope.sql)."""
    delta = "select 'k4' as row_key, 'c1' as customer, 1 as seq union all select null, 'c2', null"
    config = {"unique_key": "row_key", "replace_scope": "customer"}
    assert _replayed_merge(config, delta) == [("k4", "c1", 1)]


def test_replay_order_respects_every_dependency(artefacts, replayed):
    manifest, _ = artefacts
    nodes = manifest["nodes"]
    position = {uid: i for i, uid in enumerate(replayed["order"])}
    checked = 0
    for uid in replayed["order"]:
        for parent in nodes[uid]["depends_on"]["nodes"]:
            if parent in position:
                assert position[parent] < position[uid], f"{parent} after its child {uid}"
                checked += 1
    assert checked > 100


def test_replay_covers_every_sql_model(artefacts, replayed):
    manifest, _ = artefacts
    expected = {
        uid
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "model"
        and n["language"] == "sql"
        and n["config"]["materialized"] != "ephemeral"
    }
    assert set(replayed["order"]) == expected
    schemas = {manifest["nodes"][uid]["schema"] for uid in expected}
    assert {"staging", "silver", "gold"} <= schemas


def test_raw_replay_builds_the_same_rows_as_dbt(replayed):
    assert replayed["rows"]
    differ = {uid: r for uid, r in replayed["rows"].items() if r["dbt"] != r["raw"]}
    assert differ == {}
    assert sum(r["raw"] for r in replayed["rows"].values()) > 0


def test_raw_tests_find_the_failures_dbt_found(artefacts, replayed):
    manifest, results = artefacts
    dbt = bench.dbt_seconds(manifest, results)
    assert len(replayed["failures"]) == dbt["nodes"]["tests"] == len(bench.data_tests(manifest))
    differ = {
        uid: (dbt["failures"][uid], n)
        for uid, n in replayed["failures"].items()
        if (dbt["failures"][uid] or 0) != n
    }
    assert differ == {}
    checks = bench.replay_checks(manifest, dbt, replayed)
    assert checks["passed"], checks


def test_dbt_seconds_account_for_every_node(artefacts):
    manifest, results = artefacts
    dbt = bench.dbt_seconds(manifest, results)
    total = sum(float(r["execution_time"] or 0) for r in results["results"])
    assert sum(dbt["seconds"].values()) == pytest.approx(total)
    python = sum(
        1
        for uid in dbt["per_node"]
        if uid.startswith("model.") and manifest["nodes"][uid]["language"] == "python"
    )
    assert dbt["nodes"]["python_models"] == python > 0
    assert dbt["nodes"]["seeds"] > 0 and dbt["nodes"]["unit_tests"] > 0


def test_floor_reads_all_bronze_and_writes_every_silver_and_gold_table(lake, tmp_path):
    manifest, _ = bench.load_artefacts(lake.cfg.target_dir)
    floor = bench.io_floor(lake.cfg.target_dir, lake.cfg.warehouse.resolve(), tmp_path / "f.db")
    seeds = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "seed"}
    with duckdb.connect(str(lake.cfg.warehouse), read_only=True) as con:
        tables = [
            (schema, name)
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables() "
                "where schema_name in ('silver', 'gold')"
            ).fetchall()
            if name not in seeds
        ]
        written = sum(
            con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables
        )
    folders = sorted((lake.cfg.data_dir.resolve() / "bronze").glob("*/*"))
    bronze = sum(
        duckdb.sql(f"select count(*) from read_parquet('{folder}/*/*.parquet')").fetchone()[0]
        for folder in folders
    )
    assert floor["written_tables"] == len(tables)
    assert floor["written_rows"] == written
    assert floor["bronze_tables"] == len(folders)
    assert floor["bronze_rows"] == bronze > 0


def test_profile_settings_follow_the_environment(monkeypatch):
    monkeypatch.setenv("ENGAGEMENT_LAKE_MEMORY_LIMIT", "3GB")
    monkeypatch.delenv("ENGAGEMENT_LAKE_DUCKDB_THREADS", raising=False)
    settings = bench.profile_settings()
    assert settings["memory_limit"] == "3GB"
    assert settings["threads"] == "2"
    assert settings["preserve_insertion_order"] in ("false", "False")


def test_ratios_compare_against_the_targets():
    totals = {"dbt_sql_models": 13.0, "raw_models": 10.0, "dbt_tests": 16.0, "raw_tests": 10.0}
    totals |= {"floor": 2.0, "dbt_build_wall": 100.0}
    report = bench.ratios(
        {"totals": totals},
        {"totals": {"dbt_build_wall": 25.0}},
        {"seconds": {"q01": 0.05, "q02": 0.2}},
    )
    assert report["dbt_models_over_raw"] == {"ratio": 1.3, "target": 1.3, "met": True}
    assert report["dbt_tests_over_raw"]["met"] is False
    assert report["raw_models_over_floor"]["ratio"] == 5.0
    assert report["increment_over_full"]["ratio"] == 0.25
    assert report["cookbook_query_over_floor"]["ratio"] == pytest.approx(0.1)
    assert json.dumps(report)


def test_a_run_without_the_replay_renders_what_it_measured(artefacts):
    """``--no-replay`` (how scale 10 is run) keeps the build, checks, publish and cookbook
    figures and says the replay and the floor did not run; the ratios are left empty."""
    manifest, results = artefacts
    dbt = bench.dbt_seconds(manifest, results)
    process = {"wall_seconds": 2.0, "cpu_seconds": 3.0, "peak_rss_bytes": 2**30}
    build = {
        "seconds": 100.0,
        "nodes": 10,
        "full_refresh": True,
        "load_dates": [],
        "process": process,
    }
    checks = {"seconds": 40.0, "process": process}
    full = {
        "build": build,
        "quality_checks": checks,
        "publish": {"seconds": 20.0, "serving_whole": True, "process": process},
        "dbt": dbt,
        "raw": None,
        "floor": None,
        "checks": None,
        "slowest": bench.slowest(manifest, dbt, {"model_seconds": {}, "test_seconds": {}}),
        "totals": bench.totals(dbt, None, build, None),
    }
    report = {"scale": 10.0, "seed": 42, "full": full, "quality_checks": checks}
    report["cookbook"] = {"seconds": {"q01_example": 0.25}}
    report["ratios"] = bench.ratios(full, None, report["cookbook"])
    text = bench.render(report)
    assert "160.0 s" in text  # build + checks + publish
    assert "20.0 s (written whole)" in text
    assert "not run (--no-replay)" in text
    assert "q01_example" in text and "0.250" in text
    assert all(r["ratio"] is None for r in report["ratios"].values())


def test_a_full_cycle_starts_without_warehouse_ledger_record_or_serving_file(tmp_path, monkeypatch):
    """A reused work folder keeps the lake, not the last run's results: the full cycle builds
    from nothing, validates every row, writes its serving file whole and publishes version 1."""
    from engagement_lake.increments import record_path
    from engagement_lake.publish import SERVING_ENV, previous_path, serving_path
    from engagement_lake.quality.checked_rows import ledger_path

    monkeypatch.delenv(SERVING_ENV, raising=False)
    data, warehouse = tmp_path / "data", tmp_path / "warehouse.duckdb"
    (data / "bronze").mkdir(parents=True)
    serving = serving_path(bench.RunConfig(data, warehouse))
    left = [
        warehouse,
        warehouse.with_name(warehouse.name + ".wal"),
        ledger_path(warehouse),
        record_path(warehouse),
        serving,
        previous_path(serving),
    ]
    for path in left:
        path.write_text("left by the last run")
    # the export's versions: the full cycle's publication is version 1 again
    (data / ".published" / "gold-13").mkdir(parents=True)
    (data / "gold").symlink_to(".published/gold-13")
    bench.clear_for_full_cycle(data, warehouse)
    assert [p.name for p in left if p.exists()] == []
    assert not (data / ".published").exists() and not (data / "gold").is_symlink()
    assert (data / "bronze").is_dir()
