"""Run dbt in-process with a readable progress display.

In-process (``dbtRunner``) rather than a subprocess so that the CLI, ``make`` and the tests share
one code path and get structured results back. dbt is imported here, inside the functions, because
importing it costs about three seconds and ``engagement-lake --help`` must stay instant.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engagement_lake import build_verdicts, increments
from engagement_lake.config import PROJECT_ROOT, UNREADABLE_POLICIES, RunConfig
from engagement_lake.preflight import Preflight, PreflightError

__all__ = ["UNREADABLE_POLICIES", "BronzeFileError", "DbtError", "DbtRun", "build", "run_dbt"]

_FAIL_STATUSES = {"error", "fail", "runtime error"}


@dataclass
class NodeOutcome:
    """What happened to one model, test or seed."""

    unique_id: str
    resource_type: str
    status: str
    seconds: float
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.status in _FAIL_STATUSES

    @property
    def name(self) -> str:
        return self.unique_id.split(".", 2)[-1]


@dataclass
class DbtRun:
    """The outcome of one dbt invocation."""

    command: list[str]
    success: bool
    seconds: float
    nodes: list[NodeOutcome] = field(default_factory=list)
    error: str | None = None
    preflight: Preflight | None = None
    """The bronze preflight of a build: files set aside, warnings."""
    increment: increments.Plan | None = None
    """How a build treated the incremental models: a full refresh, or the load dates it read."""
    full_parse_reason: str | None = None
    """Why dbt parsed the whole project, when it could not reuse its last parse."""

    @property
    def failures(self) -> list[NodeOutcome]:
        return [n for n in self.nodes if n.failed]

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.status] = counts.get(node.status, 0) + 1
        parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        return f"dbt {self.command[0]}: {parts or 'nothing to do'} in {self.seconds:.1f}s"


class DbtError(RuntimeError):
    """dbt failed; the message names the failing nodes (one per line)."""


class BronzeFileError(DbtError):
    """Bronze the build must not start on; raised before dbt runs, so no layer is touched."""


def close_duckdb_connections() -> None:
    """Release the DuckDB file held by dbt-duckdb after an in-process run (dbt-duckdb #616).

    dbt-duckdb keeps one process-wide environment with an open handle; until it is closed, a
    second connection to the same file in this process fails or sees stale data.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a hard dependency
        return
    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
        DuckDBConnectionManager._ENV = None


def _invocation(args: Sequence[str], config: RunConfig, project_dir: Path) -> list[str]:
    """``args`` plus the project, profiles and (per data folder) target paths."""
    full = [*args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir), "--quiet"]
    full += ["--target", config.engine]
    if config.target_dir is not None:
        full += ["--target-path", str(config.target_dir)]
        full += ["--log-path", str(config.target_dir / "logs")]
    return full


def run_dbt(
    args: Sequence[str],
    config: RunConfig,
    *,
    progress: bool = True,
    verbose: bool = False,
    project_dir: Path = PROJECT_ROOT,
    env: Mapping[str, str] | None = None,
) -> DbtRun:
    """Invoke ``dbt <args>`` on ``config``'s data folder and warehouse; never raises on failure.

    ``env`` is set for this run only (the load dates of an incremental build); without it no
    model reads an incremental run's dates, so a run reads every partition.

    With ``progress``, failures and warnings are printed in full as they happen, a progress line
    (on a terminal) counts the nodes as they finish, and a summary closes the run; ``verbose``
    prints one line per node, as dbt does.
    """
    from contextlib import nullcontext

    from dbt.cli.main import dbtRunner
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, highlight=False)
    config.warehouse.parent.mkdir(parents=True, exist_ok=True)
    os.environ.update(config.dbt_env())
    os.environ.pop(increments.LOAD_DATES_ENV, None)
    os.environ.update(env or {})
    nodes: list[NodeOutcome] = []
    reparsed: list[str] = []
    started = time.perf_counter()
    bar = (
        Progress(
            SpinnerColumn(),
            TextColumn(f"dbt {args[0]}: {{task.completed}} nodes done"),
            TextColumn("{task.description}", style="dim"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        if progress and not verbose and console.is_terminal
        else None
    )
    task = bar.add_task("", total=None) if bar is not None else None

    def on_event(event: Any) -> None:
        name = event.info.name
        if name == "UnableToPartialParse":
            reparsed.append(event.data.reason)
        if name not in ("NodeFinished",):
            return
        result = event.data.run_result
        node_info = event.data.node_info
        outcome = NodeOutcome(
            unique_id=node_info.unique_id,
            resource_type=node_info.resource_type,
            status=str(result.status).lower(),
            seconds=float(result.execution_time or 0.0),
            message=result.message or "",
        )
        nodes.append(outcome)
        if not progress:
            return
        colour = "red" if outcome.failed else ("yellow" if outcome.status == "warn" else "green")
        line = (
            f"[{colour}]{outcome.status:>6}[/] {outcome.resource_type:<9} {outcome.name}"
            f" [dim]{outcome.seconds:.1f}s[/]"
        )
        if bar is not None:
            bar.update(task, advance=1, description=outcome.name)
        if verbose or outcome.failed or outcome.status == "warn":
            console.print(line)

    if config.engine == "spark":
        from engagement_lake.spark import enable_python_models

        enable_python_models()
    try:
        with bar if bar is not None else nullcontext():
            result = dbtRunner(callbacks=[on_event]).invoke(_invocation(args, config, project_dir))
    finally:
        close_duckdb_connections()
        for name in env or {}:
            os.environ.pop(name, None)
    seconds = time.perf_counter() - started
    error = None
    if result.exception is not None:
        error = " ".join(str(result.exception).split())
    run = DbtRun(list(args), bool(result.success), seconds, nodes, error)
    run.full_parse_reason = reparsed[0] if reparsed else None
    if progress:
        console.print(run.summary())
    return run


def selected_sources(select: Sequence[str], config: RunConfig) -> set[str]:
    """``system.table`` of every source upstream of a dbt selection (one ``dbt ls``)."""
    from dbt.cli.main import dbtRunner

    upstream = [s if s.startswith("+") else "+" + s for s in select]
    os.environ.update(config.dbt_env())
    args = ["ls", "--select", *upstream, "--resource-type", "source", "--output", "name"]
    try:
        # its own target folder: a manifest written by `ls` carries no compiled SQL, and the
        # build's manifest is what the export and the checks read
        listing = replace(config, target_dir=config.artefacts / "ls")
        with contextlib.redirect_stdout(io.StringIO()):  # dbt ls prints what it lists
            result = dbtRunner().invoke(_invocation(args, listing, PROJECT_ROOT))
    finally:
        close_duckdb_connections()
    if not result.success:
        raise DbtError(f"dbt could not resolve --select {' '.join(select)}: {result.exception}")
    # names look like "source:engagement_lake.shop.orders"
    return {".".join(name.split(".")[-2:]) for name in result.result or []}


def preflight(
    config: RunConfig,
    select: Sequence[str] = (),
    *,
    unreadable: str = "fail",
    allow_missing_sources: Sequence[str] = (),
) -> Preflight:
    """Check bronze before any model runs (see ``engagement_lake.preflight``).

    Raises ``BronzeFileError`` naming every problem, one line each, when the folder holds no
    bronze, lacks tables the warehouse was built from, or has a bad file and ``unreadable`` is
    ``"fail"``. With ``"quarantine"`` the bad files are recorded in the quarantine manifest and
    left out of the build.
    """
    from engagement_lake import preflight as pf
    from engagement_lake.contracts import load_contracts

    if unreadable not in UNREADABLE_POLICIES:
        raise ValueError(
            f"unknown policy {unreadable!r}; choose {' or '.join(UNREADABLE_POLICIES)}"
        )
    contracts = load_contracts()
    unknown = sorted(set(allow_missing_sources) - set(contracts))
    if unknown:
        raise BronzeFileError(
            f"--allow-missing-sources names no contract table: {', '.join(unknown)} "
            "(use system.table, e.g. shop.orders)"
        )
    try:
        found = pf.require_bronze(config.data_dir, contracts)
        pf.check_sources_kept(found, pf.previous_sources(config.warehouse), allow_missing_sources)
    except PreflightError as exc:
        raise BronzeFileError(str(exc)) from None
    tables = selected_sources(select, config) if select else None
    result = pf.scan(config.data_dir, contracts, tables)
    if result.errors:
        if unreadable == "fail":
            lines = [
                f"{p.line(config.data_dir)}; the build did not start. Replace the file, or "
                "rerun with --unreadable quarantine to set it aside"
                for p in result.errors
            ]
            raise BronzeFileError("\n".join(lines))
        pf.record_quarantine(config.data_dir, result.errors)
    return result


def build(
    config: RunConfig,
    select: Sequence[str] = (),
    *,
    full_refresh: bool = False,
    progress: bool = True,
    verbose: bool = False,
    unreadable: str = "fail",
    allow_missing_sources: Sequence[str] = (),
) -> DbtRun:
    """``dbt build`` (seeds, models, tests in DAG order); raises naming what failed.

    The bronze preflight runs first, so a wrong folder or a bad file stops the build before any
    model runs: never an emptied warehouse, never a half-updated gold layer. Then the bronze
    partitions are compared with those the last whole build read (``engagement_lake.increments``):
    the incremental models read only the new load dates, or everything is rebuilt
    (``--full-refresh``) when that comparison cannot be trusted.
    """
    checked = preflight(
        config, select, unreadable=unreadable, allow_missing_sources=allow_missing_sources
    )
    found = increments.with_erasure_register(increments.partitions(checked.files), config.data_dir)
    if full_refresh:
        plan = increments.Plan(True, reason="--full-refresh asked for")
    else:
        plan = increments.plan(config.warehouse, found)
    if not plan.full_refresh and plan.load_dates:
        plan = increments.with_resolved_orphans(
            plan, config.warehouse, checked.files, checked.contracts, config.engine
        )
    if plan.full_refresh and not select:
        increments.forget(config.warehouse)
    args = ["build"]
    if select:
        # Only tests whose parents are all selected: a partial build must not run a
        # relationships test against a model it did not build.
        args += ["--select", *select, "--indirect-selection", "cautious"]
    skipped = checked.skipped()
    dbt_vars = checked.dbt_vars() if skipped else {}
    if config.engine == "spark":
        # the tables bronze has files for: Spark's bronze views are made for these only
        dbt_vars["bronze_tables"] = sorted(fqn for fqn, files in checked.files.items() if files)
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    if plan.full_refresh:
        args.append("--full-refresh")
    code = increments.code_fingerprint(PROJECT_ROOT)
    if not plan.full_refresh and not select and increments.recorded_code(config.warehouse) == code:
        # the unit tests check the project's SQL on fixed inputs; the last whole build ran this
        # very SQL and passed them, so a daily run over new data has nothing new for them. The
        # seeds are files of that same project: the last whole build loaded these very rows
        # (their own data tests still run, on the tables it left)
        args += ["--exclude-resource-type", "unit_test", "seed"]
    if config.engine == "duckdb":
        build_verdicts.forget(config.warehouse)
    run = run_dbt(args, config, progress=progress, verbose=verbose, env=plan.dbt_env())
    run.preflight = checked
    run.increment = plan
    if not run.success:
        lines = [
            f"{n.resource_type} {n.name}: {n.status}: {' '.join(n.message.split())}"
            for n in run.failures
        ]
        if run.error:
            lines.append(run.error)
        raise DbtError("\n".join(lines) or "dbt build failed")
    if not select:
        increments.write_record(config.warehouse, found, code)
    if config.engine == "duckdb":
        # the tests this build passed, for the check to take instead of counting keys again
        results = json.loads((config.artefacts / "run_results.json").read_text(encoding="utf-8"))
        build_verdicts.record(config.warehouse, results)
    return run
