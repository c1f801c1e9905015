"""The build's distance to its limit: ``python -m engagement_lake.bench.build --scale S``.

``make bench-build SCALE=…`` generates a lake (or reuses one generated at the same scale and seed
in ``--work-dir``), builds it with dbt, and measures in the same run, each step in a child
process so that the kernel reports its peak resident memory (``ru_maxrss`` from ``wait4``):

- **dbt**: the full ``dbt build`` (``engagement_lake.dbt_runner.build``, from an empty
  warehouse), with the per-node seconds of ``run_results.json`` summed apart for SQL models,
  Python models, seeds, data tests and unit tests; what no node accounts for (start-up, parsing,
  the bronze preflight) is "dbt overhead".
- **raw** (the reference): the same compiled model SQL that dbt ran (``compiled_code`` in
  ``manifest.json``), executed in DAG order in one DuckDB connection on a fresh file with the
  profile's settings (``profiles.yml``: memory limit, threads, insertion order, time zone), each
  as ``create or replace table|view <relation> as …`` following the model's materialization;
  ephemeral models are inlined by dbt in the compiled SQL already. What dbt does not compute with
  SQL (seeds, Python models' tables) is copied in from dbt's warehouse first, untimed. Then
  every data test's compiled SQL runs as ``select count(*) from (<compiled>)`` (dbt's own test
  query counts the same rows). Unit tests read fixtures, not the lake, and have no raw twin.
- **I/O floor**: in one DuckDB connection on a fresh file with the same settings, timed:
  ``create table … as select * from read_parquet(<the source's files>)`` for every bronze
  table the project declares as a source (every column of every row read and decoded once), then
  ``create table … as select * from <table>`` for every silver and gold table dbt built (seeds
  and views excluded), read from dbt's warehouse attached read-only (every row written once).
  No transformation can produce those tables for less than it costs to read their inputs and
  write them, so raw / floor is the cost of the transformations themselves.
- **cookbook**: each ``analyses/*.sql`` question rendered as ``engagement-lake cookbook`` does
  and run through the analyst's read-only connection, the query alone timed.
- **checks**: ``engagement-lake check --layer all`` on the built lake, timed (the full cycle
  starts without the checks' ledger, so GX validates every row; the increment's check reuses
  the rows the full cycle's check passed, as a daily check does); and the replay's
  own correctness: every model has the same row count in dbt's warehouse and the raw one, and
  every data test finds the same number of failing rows raw as in dbt.
- **publish**: ``engagement_lake.publish.publish`` (export and serving file) after each build,
  timed, so that a phase's "build + checks + publish" is what a user waits for.
- **increment**: ``generate_day`` for the day after the last load, then the same build on the
  warehouse the full build left (incremental: it reads the new load date alone, see
  ``engagement_lake.increments``), checks, publish, raw replay and floor. The raw replay of the
  increment starts from a copy of the full build's raw warehouse and runs each incremental
  model's compiled SQL (the rows of the keys the day touched) as delete+insert by its
  ``unique_key``, as dbt-duckdb does, so that row counts still compare.

``--no-replay`` leaves out the raw replay and the floor (and the ratios taken from them) and
times the build, checks and publish alone.

Targets, as ratios within one run: dbt SQL models ≤ 1.3 × raw models; dbt data tests ≤ 1.5 ×
raw tests; raw models ≤ 4 × floor; increment build ≤ 20 % of the full build, and the same for
build + checks + publish; every cookbook query ≤ 5 % of the floor. Printed as a table, written as
JSON (``--json``, default ``reports/bench-build.json``).
"""

from __future__ import annotations

import argparse
import graphlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from engagement_lake.config import DEFAULT_SEED, PROJECT_ROOT, RunConfig, duckdb_settings
from engagement_lake.increments import record_path
from engagement_lake.publish import VERSIONS_DIR, previous_path, serving_path
from engagement_lake.quality.checked_rows import remove_ledger

TARGETS: dict[str, float] = {
    "dbt_models_over_raw": 1.3,
    "dbt_tests_over_raw": 1.5,
    "raw_models_over_floor": 4.0,
    "increment_over_full": 0.20,
    "increment_cycle_over_full": 0.20,
    "cookbook_query_over_floor": 0.05,
}
"""The goals, each a ceiling on a ratio taken within one run."""

FLOOR_SCHEMAS = ("silver", "gold")
"""The layers whose tables the I/O floor writes once."""

SLOWEST = 10
REPLAYED = ("table", "view", "incremental")
"""Materializations of a SQL model the raw replay runs (ephemeral ones are inlined)."""


# ----------------------------------------------------------------------------- dbt artefacts


def profile_settings(profiles: Path = PROJECT_ROOT / "profiles.yml") -> dict[str, str]:
    """The DuckDB ``settings`` of the dbt profile (``config.duckdb_settings``), so the raw
    replay and the floor run under the same limits as dbt."""
    return duckdb_settings(profiles)


def connect(path: Path | str, settings: Mapping[str, str]) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the profile's settings applied."""
    con = duckdb.connect(str(path))
    for key, value in settings.items():
        con.execute(f"set {key} = '{value}'")
    return con


def load_artefacts(target: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``manifest.json`` and ``run_results.json`` of a dbt build."""
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    return manifest, results


def parents(node: Mapping[str, Any]) -> list[str]:
    """The nodes a node reads (a seed has no ``depends_on.nodes``)."""
    return list(node.get("depends_on", {}).get("nodes", []))


def dag_order(nodes: Mapping[str, Mapping[str, Any]], ids: Iterable[str]) -> list[str]:
    """``ids`` ordered so that every node comes after all of its ancestors among ``nodes``
    (``depends_on.nodes``), ties broken by name so that the order is the same on every run."""
    wanted = set(ids)
    graph = {uid: {p for p in parents(nodes[uid]) if p in nodes} for uid in nodes}
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order += [uid for uid in ready if uid in wanted]
        sorter.done(*ready)
    return order


def sql_models(manifest: Mapping[str, Any]) -> list[str]:
    """The SQL models the raw replay runs, in DAG order."""
    nodes = manifest["nodes"]
    return dag_order(
        nodes,
        (
            uid
            for uid, n in nodes.items()
            if n["resource_type"] == "model"
            and n.get("language") == "sql"
            and n["config"]["materialized"] in REPLAYED
        ),
    )


def copied_nodes(manifest: Mapping[str, Any]) -> list[str]:
    """What dbt computes without SQL: seeds and Python models, copied into the raw warehouse."""
    return sorted(
        uid
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "seed"
        or (n["resource_type"] == "model" and n.get("language") == "python")
    )


def data_tests(manifest: Mapping[str, Any]) -> list[str]:
    return sorted(uid for uid, n in manifest["nodes"].items() if n["resource_type"] == "test")


def _relation(node: Mapping[str, Any]) -> str:
    """``"schema"."name"``: the relation without its catalog, which differs between files."""
    return f'"{node["schema"]}"."{node["alias"] or node["name"]}"'


def _body(compiled: str) -> str:
    """Compiled SQL as a subquery body: no trailing semicolon, a final newline so that a trailing
    ``--`` comment cannot swallow the closing parenthesis."""
    return compiled.strip().rstrip(";") + "\n"


def dbt_seconds(manifest: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, Any]:
    """Per-node seconds of the build, summed by kind, and every node's own time."""
    nodes = manifest["nodes"]
    # saved queries and exposures are nodes of a build too (no-ops), and so is the on-run-start
    # hook (Spark's bronze views; nothing on DuckDB): tiny, but counted
    kinds = (
        *("sql_models", "python_models", "seeds", "tests", "unit_tests"),
        *("saved_queries", "exposures", "hooks"),
    )
    sums = dict.fromkeys(kinds, 0.0)
    counts = dict.fromkeys(sums, 0)
    per_node: dict[str, float] = {}
    for r in results["results"]:
        uid, seconds = r["unique_id"], float(r["execution_time"] or 0.0)
        per_node[uid] = seconds
        node = nodes.get(uid, {})
        kind = uid.split(".", 1)[0]
        if kind == "model":
            key = "python_models" if node.get("language") == "python" else "sql_models"
        elif kind == "test":
            key = "tests"
        elif kind == "unit_test":
            key = "unit_tests"
        elif kind == "seed":
            key = "seeds"
        elif kind == "saved_query":
            key = "saved_queries"
        elif kind == "exposure":
            key = "exposures"
        elif kind == "operation":
            key = "hooks"
        else:
            continue
        sums[key] += seconds
        counts[key] += 1
    return {
        "seconds": sums,
        "nodes": counts,
        "per_node": per_node,
        "elapsed": float(results.get("elapsed_time") or 0.0),
        "failures": {
            r["unique_id"]: r.get("failures")
            for r in results["results"]
            if r["unique_id"].startswith("test.")
        },
    }


# ----------------------------------------------------------------------------- raw replay


def _merge_sql(node: Mapping[str, Any]) -> str:
    """An incremental model's compiled SQL (the rows of the keys the run rebuilt) replayed as
    the project's delete+insert does it: that key's rows deleted, the new ones inserted; for a
    model replaced by scope (``replace_scope``, macros/incremental/replace_scope.sql), every row
    of the scopes the run brings deleted, and its rows inserted but the tombstones (a null key)."""
    rel, body = _relation(node), _body(node["compiled_code"])
    keys = node["config"]["unique_key"]
    keys = [keys] if isinstance(keys, str) else list(keys)
    scope = node["config"].get("replace_scope")
    match = f"t.{scope} = d.{scope}" if scope else " and ".join(f"t.{k} = d.{k}" for k in keys)
    kept = " and ".join(f"{k} is not null" for k in keys) if scope else "true"
    return (
        f"create or replace temp table _delta as (\n{body});\n"
        f"delete from {rel} as t where exists (select 1 from _delta as d where {match});\n"
        f"insert into {rel} by name select * from _delta where {kept}"
    )


def replay(target: Path, built: Path, raw: Path, start_from: Path | None = None) -> dict[str, Any]:
    """Run dbt's compiled SQL without dbt in ``raw`` (a new file named like ``built``, so the
    catalog in the compiled relation names resolves): models in DAG order, then the data tests.
    ``start_from`` (the raw warehouse of the previous build) replays an incremental build: raw
    starts as a copy of it, and incremental models merge their compiled rows into it.

    Returns the seconds per model and per test, the row counts of every replayed model on both
    sides, and each test's failing rows raw."""
    manifest, _ = load_artefacts(target)
    nodes = manifest["nodes"]
    if raw.name != built.name:
        raise ValueError(f"{raw} must have the file name of {built}: compiled SQL names it")
    raw.parent.mkdir(parents=True, exist_ok=True)
    for stale in (raw, raw.with_name(raw.name + ".wal")):
        stale.unlink(missing_ok=True)
    if start_from is not None:
        shutil.copy2(start_from, raw)
    settings = profile_settings()
    con = connect(raw, settings)
    con.execute(f"attach '{built}' as built (read_only)")
    order = sql_models(manifest)
    for schema in sorted({nodes[uid]["schema"] for uid in order + copied_nodes(manifest)}):
        con.execute(f'create schema if not exists "{schema}"')
    t0 = time.perf_counter()
    for uid in copied_nodes(manifest):
        rel = _relation(nodes[uid])
        con.execute(f"create or replace table {rel} as select * from built.{rel}")
    copy_seconds = time.perf_counter() - t0

    model_seconds: dict[str, float] = {}
    for uid in order:
        node = nodes[uid]
        kind = "view" if node["config"]["materialized"] == "view" else "table"
        sql = f"create or replace {kind} {_relation(node)} as (\n{_body(node['compiled_code'])})"
        if start_from is not None and node["config"]["materialized"] == "incremental":
            sql = _merge_sql(node)
        t = time.perf_counter()
        con.execute(sql)
        model_seconds[uid] = time.perf_counter() - t

    test_seconds: dict[str, float] = {}
    failures: dict[str, int] = {}
    for uid in data_tests(manifest):
        sql = f"select count(*) from (\n{_body(nodes[uid]['compiled_code'])}) as dbt_test"
        t = time.perf_counter()
        failures[uid] = con.execute(sql).fetchone()[0]
        test_seconds[uid] = time.perf_counter() - t

    rows = {
        uid: {
            "dbt": con.execute(f"select count(*) from built.{_relation(nodes[uid])}").fetchone()[0],
            "raw": con.execute(f"select count(*) from {_relation(nodes[uid])}").fetchone()[0],
        }
        for uid in order
    }
    con.close()
    return {
        "model_seconds": model_seconds,
        "test_seconds": test_seconds,
        "copy_seconds": copy_seconds,
        "failures": failures,
        "rows": rows,
        "order": order,
        "settings": settings,
    }


# ----------------------------------------------------------------------------- I/O floor


def floor_inputs(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, ``read_parquet(…)``) of every bronze source the project declares."""
    return sorted(
        (f"{s['source_name']}__{s['name']}", s["relation_name"])
        for s in manifest["sources"].values()
        if s["relation_name"].startswith("read_parquet(")
    )


def floor_outputs(manifest: Mapping[str, Any]) -> list[str]:
    """``"schema"."name"`` of every silver and gold table dbt builds (seeds and views left out:
    a seed is an input, a view writes no rows)."""
    return sorted(
        _relation(n)
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
        and n["schema"] in FLOOR_SCHEMAS
        and n["config"]["materialized"] in ("table", "incremental")
    )


def io_floor(target: Path, built: Path, floor: Path) -> dict[str, Any]:
    """Time reading every bronze table once and writing every silver and gold table once, in one
    DuckDB connection on a fresh file with the profile's settings (see the module docstring)."""
    manifest, _ = load_artefacts(target)
    floor.parent.mkdir(parents=True, exist_ok=True)
    for stale in (floor, floor.with_name(floor.name + ".wal")):
        stale.unlink(missing_ok=True)
    con = connect(floor, profile_settings())
    con.execute(f"attach '{built}' as built (read_only)")
    con.execute("create schema bronze")
    inputs, outputs = floor_inputs(manifest), floor_outputs(manifest)
    for schema in FLOOR_SCHEMAS:
        con.execute(f'create schema "{schema}"')
    t0 = time.perf_counter()
    for name, reader in inputs:
        con.execute(f'create table bronze."{name}" as select * from {reader}')
    read_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    for rel in outputs:
        con.execute(f"create table {rel} as select * from built.{rel}")
    write_seconds = time.perf_counter() - t1
    bronze_rows = sum(
        con.execute(f'select count(*) from bronze."{name}"').fetchone()[0] for name, _ in inputs
    )
    written_rows = sum(con.execute(f"select count(*) from {r}").fetchone()[0] for r in outputs)
    con.close()
    return {
        "seconds": read_seconds + write_seconds,
        "read_seconds": read_seconds,
        "write_seconds": write_seconds,
        "bronze_tables": len(inputs),
        "bronze_rows": bronze_rows,
        "written_tables": len(outputs),
        "written_rows": written_rows,
    }


# ----------------------------------------------------------------------------- steps


def step_generate(data_dir: str, scale: float, seed: int) -> dict[str, Any]:
    from engagement_lake.generate import generate

    result = generate(Path(data_dir), scale=scale, seed=seed, progress=False)
    return {"seconds": result.seconds, "rows": sum(result.rows.values())}


def step_generate_day(data_dir: str, seed: int) -> dict[str, Any]:
    """One daily load, for the day after the lake's last load."""
    from engagement_lake.generate import generate_day

    state = json.loads((Path(data_dir) / "_truth" / "state.json").read_text())
    day = date.fromisoformat(state["last_load_date"]) + timedelta(days=1)
    result = generate_day(Path(data_dir), day, seed=seed, progress=False)
    return {"seconds": result.seconds, "rows": sum(result.rows.values()), "day": day.isoformat()}


def step_build(data_dir: str, warehouse: str, target: str) -> dict[str, Any]:
    """``engagement_lake.dbt_runner.build``; the per-node figures come from its artefacts."""
    from engagement_lake.dbt_runner import build

    cfg = RunConfig(Path(data_dir), Path(warehouse), target_dir=Path(target))
    t = time.perf_counter()
    run = build(cfg, progress=False)
    plan = run.increment
    return {
        "seconds": time.perf_counter() - t,
        "nodes": len(run.nodes),
        "full_refresh": plan.full_refresh if plan else None,
        "load_dates": list(plan.load_dates) if plan else [],
    }


def step_replay(target: str, built: str, raw: str, start_from: str | None = None) -> dict[str, Any]:
    return replay(Path(target), Path(built), Path(raw), Path(start_from) if start_from else None)


def step_publish(data_dir: str, warehouse: str, target: str) -> dict[str, Any]:
    """``engagement_lake.publish.publish``: the export and the serving file, as the build does."""
    from engagement_lake.publish import publish

    cfg = RunConfig(Path(data_dir), Path(warehouse), target_dir=Path(target))
    t = time.perf_counter()
    result = publish(cfg)
    # an update lists its tables' changes; a serving file written whole lists none (the first
    # publication, and every config.SERVING_REWRITE_EVERY-th)
    return {"seconds": time.perf_counter() - t, "serving_whole": not result.serving_changes}


def step_floor(target: str, built: str, floor: str) -> dict[str, Any]:
    return io_floor(Path(target), Path(built), Path(floor))


def step_cookbook(warehouse: str) -> dict[str, Any]:
    """Each cookbook question's query, rendered as ``engagement-lake cookbook`` renders it and run
    on the analyst's read-only connection; the seconds of execute + fetch alone."""
    from engagement_lake.analyst.connection import analyst_connection
    from engagement_lake.analyst.cookbook import (
        _lake_as_of,
        _model_schemas,
        list_cookbook,
        render_cookbook_sql,
    )

    seconds: dict[str, float] = {}
    rows: dict[str, int] = {}
    with analyst_connection(Path(warehouse)) as con:
        schemas, as_of = _model_schemas(con), _lake_as_of(con)
        for entry in list_cookbook():
            rendered = render_cookbook_sql(entry.path.read_text(encoding="utf-8"), schemas)
            params = None
            if rendered.uses_as_of:
                day = rendered.as_of_default or as_of
                params = {"as_of_date": day.isoformat() if day else None}
            t = time.perf_counter()
            rows[entry.name] = len(con.execute(rendered.sql, params).fetchall())
            seconds[entry.name] = time.perf_counter() - t
    return {"seconds": seconds, "rows": rows}


def step_checks(data_dir: str, warehouse: str, report_dir: str, target: str) -> dict[str, Any]:
    """``engagement-lake check --layer all`` on the build just measured: with that build's
    manifest (``target``), whose tests the silver and gold suites are read from; without it the
    gold layer would find no manifest and check nothing."""
    from engagement_lake.quality import run_checks

    cfg = RunConfig(Path(data_dir), Path(warehouse), target_dir=Path(target))
    report = run_checks(cfg, "all", report_dir=Path(report_dir), fail_on_error=False)
    return {
        "seconds": report.seconds,
        "layer_seconds": dict(report.layer_seconds),
        "checks": {layer: sum(r.layer == layer for r in report.results) for layer in report.layers},
        "errors": len(report.failures("error")),
        "warnings": len(report.failures("warning")),
        "rows_reused": report.rows_reused,
    }


_CHILD = """
import json, sys
from engagement_lake.bench import build
result = getattr(build, sys.argv[1])(**json.loads(sys.argv[2]))
with open(sys.argv[3], "w") as out:
    json.dump(result, out, default=str)
"""


def in_child(step: str, **kwargs: Any) -> dict[str, Any]:
    """Run ``step(**kwargs)`` of this module in a fresh interpreter; its JSON result plus the
    kernel's wall, CPU and peak resident memory of that process."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = Path(tmp.name)
    try:
        t = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, step, json.dumps(kwargs), str(out)],
            env=env,
            stdout=subprocess.DEVNULL,  # DuckDB's progress bars; errors go to stderr
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise RuntimeError(f"benchmark step {step} failed with exit code {code}")
        result = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
    result["process"] = {
        "wall_seconds": wall,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_bytes": usage.ru_maxrss * 1024,  # Linux reports kilobytes
    }
    return result


# ----------------------------------------------------------------------------- one measurement


def clear_for_full_cycle(data_dir: Path, warehouse: Path) -> None:
    """Remove what a full cycle must not find: the warehouse (a build from nothing), the checks'
    ledger (every row validated), the record of partitions (no increment), the serving file
    with its previous copy (written whole: a reused work folder still holds the last run's,
    which would make the full cycle's publish an update of it) and the export's versions (the
    full cycle publishes version 1 and the increment version 2, a usual day's update: on a
    reused folder the numbers went on, and every seventh publication is written whole)."""
    for path in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        path.unlink(missing_ok=True)
    remove_ledger(warehouse)
    record_path(warehouse).unlink(missing_ok=True)
    serving = serving_path(RunConfig(data_dir, warehouse))
    for path in (serving, previous_path(serving)):
        path.unlink(missing_ok=True)
    shutil.rmtree(data_dir / VERSIONS_DIR, ignore_errors=True)
    (data_dir / "gold").unlink(missing_ok=True)


def measure(
    data_dir: Path,
    warehouse: Path,
    work: Path,
    label: str,
    *,
    fresh: bool,
    replayed: bool = True,
    previous: str = "full",
) -> dict[str, Any]:
    """Build the lake in ``data_dir`` into ``warehouse`` and measure it against the raw replay
    and the floor. ``fresh`` deletes the warehouse first (a full build from nothing); otherwise
    the build runs on the warehouse as the previous build (``previous``, its label) left it, in
    a copy of that build's dbt target folder, as a daily build finds yesterday's: dbt reuses the
    parse saved there (the daily increment)."""
    target = work / f"target-{label}"
    shutil.rmtree(target, ignore_errors=True)
    if fresh:
        clear_for_full_cycle(data_dir, warehouse)
    else:
        shutil.copytree(work / f"target-{previous}", target)
    print(f"[{label}] dbt build …", flush=True)
    build = in_child(
        "step_build", data_dir=str(data_dir), warehouse=str(warehouse), target=str(target)
    )
    manifest, results = load_artefacts(target)
    dbt = dbt_seconds(manifest, results)
    print(f"[{label}] engagement-lake check --layer all …", flush=True)
    checks = in_child(
        "step_checks",
        data_dir=str(data_dir),
        warehouse=str(warehouse),
        report_dir=str(work / f"q-{label}"),
        target=str(target),
    )
    print(f"[{label}] publish (export and serving file) …", flush=True)
    published = in_child(
        "step_publish", data_dir=str(data_dir), warehouse=str(warehouse), target=str(target)
    )
    if not replayed:  # --no-replay: the build, checks and publish alone
        return {
            "build": build,
            "quality_checks": checks,
            "publish": published,
            "dbt": dbt,
            "raw": None,
            "floor": None,
            "checks": None,
            "slowest": slowest(manifest, dbt, {"model_seconds": {}, "test_seconds": {}}),
            "totals": totals(dbt, None, build, None),
        }
    print(f"[{label}] raw replay of the compiled SQL …", flush=True)
    previous = work / "raw-full" / warehouse.name
    raw = in_child(
        "step_replay",
        target=str(target),
        built=str(warehouse),
        raw=str(work / f"raw-{label}" / warehouse.name),
        start_from=None if fresh else str(previous),
    )
    print(f"[{label}] I/O floor …", flush=True)
    floor = in_child(
        "step_floor",
        target=str(target),
        built=str(warehouse),
        floor=str(work / f"floor-{label}" / "floor.duckdb"),
    )
    return {
        "build": build,
        "quality_checks": checks,
        "publish": published,
        "dbt": dbt,
        "raw": raw,
        "floor": floor,
        "checks": replay_checks(manifest, dbt, raw),
        "slowest": slowest(manifest, dbt, raw),
        "totals": totals(dbt, raw, build, floor),
    }


def totals(
    dbt: Mapping[str, Any],
    raw: Mapping[str, Any] | None,
    build: Mapping[str, Any],
    floor: Mapping[str, Any] | None,
) -> dict[str, float | None]:
    """The seconds the ratios are taken from."""
    node_sum = sum(dbt["seconds"].values())
    return {
        "dbt_build_wall": build["seconds"],
        "dbt_sql_models": dbt["seconds"]["sql_models"],
        "dbt_python_models": dbt["seconds"]["python_models"],
        "dbt_seeds": dbt["seconds"]["seeds"],
        "dbt_tests": dbt["seconds"]["tests"],
        "dbt_unit_tests": dbt["seconds"]["unit_tests"],
        "dbt_overhead": build["seconds"] - node_sum,
        "raw_models": sum(raw["model_seconds"].values()) if raw else None,
        "raw_tests": sum(raw["test_seconds"].values()) if raw else None,
        "floor": floor["seconds"] if floor else None,
    }


def _publish_cell(published: Mapping[str, Any]) -> str:
    whole = published.get("serving_whole")  # not in reports written before it was recorded
    how = "" if whole is None else (" (written whole)" if whole else " (updated)")
    return f"{published['seconds']:.1f} s{how}"


def cycle_seconds(phase: Mapping[str, Any]) -> float:
    """What a user waits for: the build (bronze preflight included), the quality checks and the
    publication of gold, each timed as its own process."""
    return sum(phase[k]["seconds"] for k in ("build", "quality_checks", "publish"))


def replay_checks(
    manifest: Mapping[str, Any], dbt: Mapping[str, Any], raw: Mapping[str, Any]
) -> dict[str, Any]:
    """Whether the raw replay did the same work as dbt: equal row counts for every model, equal
    failing rows for every data test, every parent replayed before its children."""
    nodes = manifest["nodes"]
    rows_differ = {uid: r for uid, r in raw["rows"].items() if r["dbt"] != r["raw"]}
    failures_differ = {
        uid: {"dbt": dbt["failures"].get(uid), "raw": n}
        for uid, n in raw["failures"].items()
        if (dbt["failures"].get(uid) or 0) != n
    }
    position = {uid: i for i, uid in enumerate(raw["order"])}
    out_of_order = [
        uid
        for uid in raw["order"]
        for parent in parents(nodes[uid])
        if parent in position and position[parent] > position[uid]
    ]
    return {
        "models_compared": len(raw["rows"]),
        "rows_differ": rows_differ,
        "tests_compared": len(raw["failures"]),
        "failures_differ": failures_differ,
        "out_of_order": out_of_order,
        "passed": not (rows_differ or failures_differ or out_of_order),
    }


def slowest(
    manifest: Mapping[str, Any], dbt: Mapping[str, Any], raw: Mapping[str, Any], n: int = SLOWEST
) -> list[dict[str, Any]]:
    """The ``n`` slowest nodes of the dbt build, each with its raw time when it has one."""
    raw_seconds = {**raw["model_seconds"], **raw["test_seconds"]}
    ranked = sorted(dbt["per_node"].items(), key=lambda kv: kv[1], reverse=True)[:n]
    return [
        {
            "node": uid.split(".", 2)[-1],
            "kind": manifest["nodes"].get(uid, {}).get("language", "")
            if uid.startswith("model.")
            else uid.split(".", 1)[0],
            "dbt_seconds": seconds,
            "raw_seconds": raw_seconds.get(uid),
        }
        for uid, seconds in ranked
    ]


def ratios(
    full: Mapping[str, Any], increment: Mapping[str, Any] | None, cookbook: Mapping[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """Each target's ratio in this run and whether it is met (``None`` when not measured)."""
    t = full["totals"]
    replayed = t["raw_models"] is not None and t["floor"] is not None
    found: dict[str, float | None] = {
        "dbt_models_over_raw": t["dbt_sql_models"] / t["raw_models"] if replayed else None,
        "dbt_tests_over_raw": t["dbt_tests"] / t["raw_tests"] if replayed else None,
        "raw_models_over_floor": t["raw_models"] / t["floor"] if replayed else None,
        "increment_over_full": increment["totals"]["dbt_build_wall"] / t["dbt_build_wall"]
        if increment
        else None,
        "increment_cycle_over_full": cycle_seconds(increment) / cycle_seconds(full)
        if increment and "publish" in increment and "publish" in full
        else None,
        "cookbook_query_over_floor": max(cookbook["seconds"].values()) / t["floor"]
        if cookbook and cookbook["seconds"] and replayed
        else None,
    }
    return {
        key: {
            "ratio": value,
            "target": TARGETS[key],
            "met": None if value is None else value <= TARGETS[key],
        }
        for key, value in found.items()
    }


# ----------------------------------------------------------------------------- report


def _gb(n: float) -> str:
    return f"{n / 2**30:.2f} GB"


def _rows(p: Mapping[str, Any]) -> list[tuple[str, str]]:
    """One phase's column of the summary table: (label, value); "not run" for the raw replay and
    the floor under --no-replay."""
    t, n, f = p["totals"], p["dbt"]["nodes"], p["floor"]
    steps = [k for k in ("build", "raw", "floor") if p.get(k)]
    rss = {k: _gb(p[k]["process"]["peak_rss_bytes"]) for k in steps}
    cpu = " / ".join(f"{p[k]['process']['cpu_seconds']:.0f}" for k in steps)
    cycle = "publish" in p
    rows = [
        ("build + checks + publish", f"{cycle_seconds(p):.1f} s" if cycle else "—"),
        ("  checks", f"{p['quality_checks']['seconds']:.1f} s" if cycle else "—"),
        ("  publish", _publish_cell(p["publish"]) if cycle else "—"),
        ("dbt build (wall)", f"{t['dbt_build_wall']:.1f} s ({p['build']['nodes']} nodes)"),
        (
            "  incremental",
            "no (full refresh)"
            if p["build"].get("full_refresh", True)
            else f"yes: {', '.join(p['build']['load_dates'])}",
        ),
        ("  SQL models", f"{t['dbt_sql_models']:.1f} s ({n['sql_models']})"),
        ("  Python models", f"{t['dbt_python_models']:.1f} s ({n['python_models']})"),
        ("  seeds", f"{t['dbt_seeds']:.1f} s ({n['seeds']})"),
        ("  data tests", f"{t['dbt_tests']:.1f} s ({n['tests']})"),
        ("  unit tests", f"{t['dbt_unit_tests']:.1f} s ({n['unit_tests']})"),
        ("  overhead (in no node)", f"{t['dbt_overhead']:.1f} s"),
    ]
    if p.get("raw") and f:
        rows += [
            ("raw SQL models", f"{t['raw_models']:.1f} s ({len(p['raw']['model_seconds'])})"),
            ("raw data tests", f"{t['raw_tests']:.1f} s ({len(p['raw']['test_seconds'])})"),
            ("I/O floor", f"{t['floor']:.1f} s"),
            ("  read bronze", f"{f['read_seconds']:.1f} s ({f['bronze_rows']:,} rows)"),
            ("  write silver + gold", f"{f['write_seconds']:.1f} s ({f['written_rows']:,} rows)"),
            ("dbt SQL models / raw", f"{t['dbt_sql_models'] / t['raw_models']:.2f}"),
            ("dbt data tests / raw", f"{t['dbt_tests'] / t['raw_tests']:.2f}"),
            ("raw models / floor", f"{t['raw_models'] / t['floor']:.2f}"),
        ]
    else:
        rows.append(("raw replay and I/O floor", "not run (--no-replay)"))
    rows.append((f"CPU s: {' / '.join(steps)}", cpu))
    rows += [(f"peak RSS: {k}", v) for k, v in rss.items()]
    if p.get("checks"):
        rows.append(("replay checks", "passed" if p["checks"]["passed"] else "FAILED"))
    return rows


def render(report: Mapping[str, Any]) -> str:
    """The benchmark as plain-text tables (what ``docs/benchmarks.md`` quotes)."""
    phases = {"full build": report["full"]}
    if report.get("increment"):
        phases[f"increment {report['increment']['day']['day']}"] = report["increment"]
    raw = report["full"].get("raw")
    # the replay records the settings it ran with; without one, the build ran with the profile's
    settings = raw["settings"] if raw else profile_settings()
    lines = [f"scale {report['scale']}, seed {report['seed']}, DuckDB settings {settings}", ""]
    columns = [_rows(p) for p in phases.values()]
    lines.append(f"{'':<28}" + "".join(f"{name:>30}" for name in phases))
    for i, (label, _) in enumerate(columns[0]):
        lines.append(f"{label:<28}" + "".join(f"{col[i][1]:>30}" for col in columns))
    for name, p in phases.items():
        c = p["checks"]
        if c is None:
            continue
        lines.append(
            f"{name}: row counts of {c['models_compared']} models and failing rows of "
            f"{c['tests_compared']} data tests compared; {len(c['rows_differ'])} row counts and "
            f"{len(c['failures_differ'])} failure counts differ, {len(c['out_of_order'])} "
            "models out of DAG order"
        )
        differ = [*c["rows_differ"].items(), *c["failures_differ"].items()]
        lines += [f"  differs: {uid} {diff}" for uid, diff in differ[:10]]
    if report.get("quality_checks"):
        q = report["quality_checks"]
        lines.append(
            f"engagement-lake check --layer all (full build): {q['seconds']:.1f} s, "
            f"peak RSS {_gb(q['process']['peak_rss_bytes'])}"
        )
        if "checks" in q:
            per_layer = ", ".join(
                f"{layer} {n} ({q['layer_seconds'].get(layer, 0):.1f} s)"
                for layer, n in q["checks"].items()
            )
            lines.append(
                f"  checks per layer: {per_layer}; {q['errors']} errors, {q['warnings']} warnings"
            )
    lines += ["", "ten slowest nodes of the full build:"]
    lines.append(f"{'node':<64}{'kind':>8}{'dbt s':>9}{'raw s':>9}")
    for s in report["full"]["slowest"]:
        raw_s = "" if s["raw_seconds"] is None else f"{s['raw_seconds']:.1f}"
        lines.append(f"{s['node'][:63]:<64}{s['kind']:>8}{s['dbt_seconds']:>9.1f}{raw_s:>9}")
    if report.get("cookbook"):
        floor = report["full"]["totals"]["floor"]
        lines += ["", f"{'cookbook question (full build)':<52}{'query s':>9}{'/ floor':>9}"]
        for name, seconds in report["cookbook"]["seconds"].items():
            share = f"{seconds / floor:>9.3f}" if floor else f"{'—':>9}"
            lines.append(f"{name:<52}{seconds:>9.3f}{share}")
    lines += ["", f"{'target':<30}{'ratio':>8}{'ceiling':>9}  met"]
    for key, r in report["ratios"].items():
        value = "—" if r["ratio"] is None else f"{r['ratio']:.2f}"
        met = "—" if r["met"] is None else ("yes" if r["met"] else "no")
        lines.append(f"{key:<30}{value:>8}{r['target']:>9.2f}  {met}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="where the lake, warehouses and dbt artefacts go (default: "
        "<temp>/engagement-lake-bench-build-<scale>-<seed>); a lake generated "
        "there at the same scale and seed is reused",
    )
    parser.add_argument("--no-increment", action="store_true", help="skip the daily increment")
    parser.add_argument(
        "--no-replay",
        action="store_true",
        help="time the build, checks and publish alone (no raw replay, no I/O floor)",
    )
    parser.add_argument("--json", type=Path, default=Path("reports/bench-build.json"))
    parser.add_argument("--render", type=Path, help="print the tables of a saved report, and exit")
    args = parser.parse_args(argv)
    if args.render:
        print(render(json.loads(args.render.read_text())))
        return 0
    work = args.work_dir or Path(tempfile.gettempdir()) / (
        f"engagement-lake-bench-build-{args.scale:g}-{args.seed}"
    )
    work = work.resolve()
    data_dir, warehouse = work / "data", work / "warehouse.duckdb"
    report: dict[str, Any] = {"scale": args.scale, "seed": args.seed, "work_dir": str(work)}
    manifest_file = data_dir / "_truth" / "manifest.json"
    reuse = (
        manifest_file.exists()
        and float(json.loads(manifest_file.read_text())["scale"]) == args.scale
    )
    if reuse:
        print(f"reusing the lake in {data_dir}", flush=True)
        report["generate"] = None
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
        print(f"generating scale {args.scale} into {data_dir} …", flush=True)
        report["generate"] = in_child(
            "step_generate", data_dir=str(data_dir), scale=args.scale, seed=args.seed
        )
    replayed = not args.no_replay
    report["full"] = measure(data_dir, warehouse, work, "full", fresh=True, replayed=replayed)
    save(report, args.json)
    print("[full] cookbook queries …", flush=True)
    report["cookbook"] = in_child("step_cookbook", warehouse=str(warehouse))
    report["quality_checks"] = report["full"]["quality_checks"]
    save(report, args.json)
    if not args.no_increment:
        print("[increment] generate one day …", flush=True)
        day = in_child("step_generate_day", data_dir=str(data_dir), seed=args.seed)
        report["increment"] = {
            "day": day,
            **measure(data_dir, warehouse, work, "increment", fresh=False, replayed=replayed),
        }
    print(render(save(report, args.json)))
    print(f"\nwritten: {args.json}")
    return 0 if all(c["passed"] for c in _phases(report)) else 1


def save(report: dict[str, Any], path: Path) -> dict[str, Any]:
    """Write the report as it stands (after each phase, so that a run cut short keeps what it
    measured), ratios included; returns it."""
    report["ratios"] = ratios(report["full"], report.get("increment"), report.get("cookbook"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str))
    return report


def _phases(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        report[k]["checks"] for k in ("full", "increment") if report.get(k) and report[k]["checks"]
    ]


if __name__ == "__main__":
    raise SystemExit(main())
