"""Data-quality checks: GX expectation suites from the contracts and the dbt manifest,
foreign keys, reconciliation and freshness counted in DuckDB, one JSON and one HTML report.

Nothing heavy is imported here (great_expectations costs seconds to import and is loaded inside
the functions that validate), so the CLI can import ``main_check`` at start-up.
"""

from __future__ import annotations

import os
from pathlib import Path

from engagement_lake.quality.gx_engine import DEFAULT_CHUNK_ROWS
from engagement_lake.quality.report import CheckReport, CheckResult
from engagement_lake.quality.run import LAYER_CHOICES, run_checks

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "LAYER_CHOICES",
    "CheckReport",
    "CheckResult",
    "main_check",
    "run_checks",
]


def main_check(
    layer: str = "all",
    data_dir: str | os.PathLike[str] | None = None,
    warehouse: str | os.PathLike[str] | None = None,
    report_dir: str | os.PathLike[str] = Path("reports/quality"),
    *,
    fail_on_error: bool | None = None,
    target_dir: str | os.PathLike[str] | None = None,
    all_rows: bool = False,
) -> int:
    """``engagement-lake check``: run the checks, print one line per failing check (errors red,
    warnings yellow) and the summary, and return the exit code.

    ``data_dir`` and ``warehouse`` resolve like every other command (argument, environment,
    default); ``target_dir`` is where the dbt manifest is read (default ``target/``).
    ``all_rows`` validates the rows a previous check already passed too (``checked_rows``).
    """
    from rich.console import Console

    from engagement_lake import config

    cfg = config.RunConfig(
        config.data_dir(data_dir),
        config.warehouse_path(warehouse),
        target_dir=Path(target_dir) if target_dir is not None else None,
    )
    report = run_checks(
        cfg, layer, report_dir=Path(report_dir), fail_on_error=fail_on_error, all_rows=all_rows
    )
    console = Console(highlight=False, soft_wrap=True)
    for result in report.failures():
        style = "red" if result.severity == "error" else "yellow"
        console.print(result.line(), style=style, markup=False)
    console.print(
        report.summary(), style="bold red" if report.exit_code else "bold green", markup=False
    )
    return report.exit_code
