"""Run dbt in-process with a readable progress display.

In-process (``dbtRunner``) rather than a subprocess so that the CLI, ``make`` and the tests share
one code path and get structured results back. dbt is imported here, inside the functions, because
importing it costs about three seconds and ``engagement-lake --help`` must stay instant.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engagement_lake.config import PROJECT_ROOT, RunConfig

_FAIL_STATUSES = {"error", "fail", "runtime error"}


@dataclass
class NodeOutcome:
    """What happened to one model, test, seed or snapshot."""

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
    """A bronze file cannot be read; raised before dbt runs, so no layer is touched."""


UNREADABLE_POLICIES = ("fail", "quarantine")


def check_bronze_files(data_dir: Path, unreadable: str = "fail") -> list[Path]:
    """Open the footer of every bronze Parquet file before the build.

    A truncated or corrupt file would otherwise fail one staging model half-way through the DAG
    and leave gold half rebuilt. With ``unreadable="fail"`` (the default) the build stops here
    with one line naming the file. With ``"quarantine"`` (opt-in) each unreadable file is moved,
    untouched, to ``DIR/_quarantine/<its bronze path>`` with a note beside it, and the build
    goes on without exactly those files. Returns the files moved.
    """
    import pyarrow.parquet as pq

    if unreadable not in UNREADABLE_POLICIES:
        raise ValueError(
            f"unknown policy {unreadable!r}; choose {' or '.join(UNREADABLE_POLICIES)}"
        )
    moved: list[Path] = []
    for path in sorted((data_dir / "bronze").glob("*/*/*/*.parquet")):
        try:
            pq.read_metadata(path)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            reason = " ".join(str(exc).split())
            if unreadable == "fail":
                raise BronzeFileError(
                    f"bronze file {path} is unreadable ({reason}); the build did not start. "
                    "Replace the file, or rerun with --unreadable quarantine to set it aside."
                ) from None
            dest = data_dir / "_quarantine" / path.relative_to(data_dir)
            dest.parent.mkdir(parents=True, exist_ok=True)
            path.rename(dest)
            dest.with_suffix(".reason.txt").write_text(reason + "\n")
            moved.append(dest)
    return moved


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


def run_dbt(
    args: Sequence[str],
    config: RunConfig,
    *,
    progress: bool = True,
    project_dir: Path = PROJECT_ROOT,
) -> DbtRun:
    """Invoke ``dbt <args>`` on ``config``'s data folder and warehouse; never raises on failure."""
    from dbt.cli.main import dbtRunner
    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    config.warehouse.parent.mkdir(parents=True, exist_ok=True)
    os.environ.update(config.dbt_env())
    nodes: list[NodeOutcome] = []
    started = time.perf_counter()

    def on_event(event: Any) -> None:
        name = event.info.name
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
        if progress:
            colour = (
                "red" if outcome.failed else ("yellow" if outcome.status == "warn" else "green")
            )
            console.print(
                f"[{colour}]{outcome.status:>6}[/] {outcome.resource_type:<9} {outcome.name}"
                f" [dim]{outcome.seconds:.1f}s[/]"
            )

    full = [
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--quiet",
    ]
    if config.target_dir is not None:
        full += [
            "--target-path",
            str(config.target_dir),
            "--log-path",
            str(config.target_dir / "logs"),
        ]
    try:
        result = dbtRunner(callbacks=[on_event]).invoke(full)
    finally:
        close_duckdb_connections()
    seconds = time.perf_counter() - started
    error = None
    if result.exception is not None:
        error = " ".join(str(result.exception).split())
    run = DbtRun(list(args), bool(result.success), seconds, nodes, error)
    if progress:
        console.print(run.summary())
    return run


def missing_bronze_tables(data_dir: Path) -> list[str]:
    """Contract tables with no bronze file yet, as ``system.table``.

    Their staging models are empty by design, but dbt's source tests query the files directly
    and would fail on a missing folder, so the build leaves those tests out.
    """
    from engagement_lake.contracts import load_contracts

    return [
        fqn
        for fqn, contract in load_contracts().items()
        if not any(data_dir.glob(contract.bronze_glob))
    ]


def build(
    config: RunConfig,
    select: Sequence[str] = (),
    *,
    full_refresh: bool = False,
    progress: bool = True,
    unreadable: str = "fail",
) -> DbtRun:
    """``dbt build`` (seeds, models, snapshots, tests in DAG order); raises naming what failed.

    Bronze files are checked first (``check_bronze_files``), so an unreadable file stops the
    build before any model runs — never a half-updated gold layer.
    """
    check_bronze_files(config.data_dir, unreadable)
    args = ["build"]
    if select:
        # Only tests whose parents are all selected: a partial build must not run a
        # relationships test against a model it did not build.
        args += ["--select", *select, "--indirect-selection", "cautious"]
    missing = missing_bronze_tables(config.data_dir)
    if missing:
        args += ["--exclude", *(f"source:{fqn}" for fqn in missing)]
    if full_refresh:
        args.append("--full-refresh")
    run = run_dbt(args, config, progress=progress)
    if not run.success:
        lines = [
            f"{n.resource_type} {n.name}: {n.status}: {' '.join(n.message.split())}"
            for n in run.failures
        ]
        if run.error:
            lines.append(run.error)
        raise DbtError("\n".join(lines) or "dbt build failed")
    return run
