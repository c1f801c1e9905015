"""Run the quality suites of a layer and collect one result per check.

Reading: bronze is read straight from the Parquet files (only those whose footer opens, so a
truncated file is one failing check, never a crash); silver and gold from the warehouse opened
read-only. Each table's rows stream out of DuckDB in chunks of ``chunk_rows`` into pandas for GX,
so memory stays bounded whatever the scale; the checks that need the whole table (uniqueness,
foreign keys, row counts, SQL rules, freshness, reconciliation) are counted in DuckDB.

The as-of of freshness is the newest bronze load of any table, never the wall clock, so that a
regenerated or copied lake gives the same answer on any day.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engagement_lake.config import CHECK_LAYERS, RunConfig
from engagement_lake.contracts import Contract, load_contracts
from engagement_lake.quality.bronze import run_bronze
from engagement_lake.quality.checked_rows import CheckedRows, ledger_path
from engagement_lake.quality.gx_engine import DEFAULT_CHUNK_ROWS, GxValidator
from engagement_lake.quality.report import (
    LAYERS,
    CheckReport,
    CheckResult,
    write_html,
    write_json,
)
from engagement_lake.quality.warehouse import missing, run_gold, run_silver

LAYER_CHOICES = CHECK_LAYERS


def gating_layers(layer: str, fail_on_error: bool | None = None) -> tuple[str, ...]:
    """Layers whose error failures set the exit code (see ``run_checks``)."""
    layers = LAYERS if layer == "all" else (layer,)
    return () if fail_on_error is False else layers


def run_checks(
    cfg: RunConfig,
    layer: str = "all",
    *,
    report_dir: Path = Path("reports/quality"),
    fail_on_error: bool | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    contracts: Mapping[str, Contract] | None = None,
    all_rows: bool = False,
) -> CheckReport:
    """Run the checks of ``layer`` (bronze, silver, gold or all) and write the JSON and HTML
    report to ``report_dir/check_<layer>.{json,html}``.

    ``fail_on_error`` decides which error-severity failures set ``exit_code``. None (default):
    every error except bronze rows that the build quarantines (bronze is raw data where invalid
    rows are expected; staging sets them aside, so downstream is clean) — structural bronze
    errors (an unreadable file, a missing required column) still fail, and ``--layer bronze``
    and ``--layer all`` agree. True: every error, quarantined bronze rows included. False:
    none (report-only). A data folder with no bronze raises ``NoBronzeError``.

    GX validates only the rows the ledger beside the warehouse has not seen pass
    (``checked_rows``), and the key checks that the build which wrote the warehouse passed as
    dbt tests are taken from it (``build_verdicts``); ``all_rows`` validates every row,
    counts every key and rebuilds the ledger.
    """
    if layer not in LAYER_CHOICES:
        raise ValueError(f"unknown layer {layer!r}; choose one of {', '.join(LAYER_CHOICES)}")
    layers = LAYERS if layer == "all" else (layer,)
    gating = gating_layers(layer, fail_on_error)
    contracts = contracts if contracts is not None else load_contracts()
    started = time.perf_counter()
    if "bronze" in layers:
        from engagement_lake.preflight import require_bronze

        require_bronze(cfg.data_dir, contracts)
    validator = GxValidator()
    if cfg.warehouse.parent.is_dir():
        validator.ledger = CheckedRows.open(ledger_path(cfg.warehouse), reuse=not all_rows)
    try:
        results, seconds, as_of = _run_layers(
            cfg, layers, validator, contracts, chunk_rows, trust_build=not all_rows
        )
    finally:
        if validator.ledger is not None:
            validator.ledger.close()
    report = CheckReport(
        results,
        layers,
        gating,
        time.perf_counter() - started,
        seconds,
        as_of=None if as_of is None else as_of.isoformat(sep=" "),
        strict=bool(fail_on_error),
        rows_reused=None if validator.ledger is None else validator.ledger.reused_rows,
    )
    report.json_path = report_dir / f"check_{layer}.json"
    report.html_path = report_dir / f"check_{layer}.html"
    write_json(report, report.json_path)
    write_html(report, report.html_path)
    return report


def _run_layers(
    cfg: RunConfig,
    layers: tuple[str, ...],
    validator: GxValidator,
    contracts: Mapping[str, Contract],
    chunk_rows: int,
    *,
    trust_build: bool = True,
) -> tuple[list[CheckResult], dict[str, float], Any]:
    """Each layer's results in order, the seconds per layer and bronze's as-of;
    ``trust_build``: see ``run_silver``."""
    import duckdb

    results: list[CheckResult] = []
    seconds: dict[str, float] = {}
    as_of = None
    if "bronze" in layers:
        t = time.perf_counter()
        found, as_of, _ = run_bronze(cfg, validator, contracts, chunk_rows=chunk_rows)
        results += found
        seconds["bronze"] = time.perf_counter() - t
    warehouse_layers = [x for x in layers if x != "bronze"]
    if warehouse_layers:
        if not cfg.warehouse.exists():
            for x in warehouse_layers:
                results.append(missing(x, "warehouse", f"{cfg.warehouse} does not exist"))
        else:
            con = duckdb.connect(str(cfg.warehouse), read_only=True)
            try:
                if "silver" in layers:
                    t = time.perf_counter()
                    found, _ = run_silver(
                        cfg,
                        validator,
                        contracts,
                        con,
                        chunk_rows=chunk_rows,
                        trust_build=trust_build,
                    )
                    results += found
                    seconds["silver"] = time.perf_counter() - t
                if "gold" in layers:
                    t = time.perf_counter()
                    found, _ = run_gold(
                        cfg, validator, con, chunk_rows=chunk_rows, trust_build=trust_build
                    )
                    results += found
                    seconds["gold"] = time.perf_counter() - t
            finally:
                if validator.ledger is not None:
                    validator.ledger.release(con)
                con.close()
    return results, seconds, as_of
