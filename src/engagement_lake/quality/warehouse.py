"""Silver and gold checks: suites from the contracts and the dbt manifest, run on the warehouse
opened read-only, and the row-count reconciliation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engagement_lake.build_verdicts import proved_tests
from engagement_lake.config import RunConfig
from engagement_lake.contracts import Contract
from engagement_lake.quality import suites as S
from engagement_lake.quality.gx_engine import DEFAULT_CHUNK_ROWS, GxValidator
from engagement_lake.quality.manifest_suites import manifest_suites
from engagement_lake.quality.report import (
    CheckResult,
)
from engagement_lake.quality.suite_run import run_guarded
from engagement_lake.quality.suites import TableSuite


def _manifest(cfg: RunConfig) -> dict[str, Any] | None:
    import json

    path = cfg.artefacts / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else None


def _relations(con: Any) -> set[str]:
    return {
        f'"{s}"."{t}"'
        for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }


def missing(layer: str, table: str, what: str) -> CheckResult:
    """Something the layer needs is absent: one failing check that says what (in the line)."""
    return CheckResult(
        layer,
        table,
        None,
        S.RELATION_EXISTS,
        S.ERROR,
        False,
        1,
        sample=[what],
        note=what,
        suite=f"{layer}.{table}",
    )


def _proved(
    cfg: RunConfig, manifest: Mapping[str, Any] | None, trust_build: bool
) -> frozenset[str]:
    if manifest is None or not trust_build:
        return frozenset()
    return proved_tests(cfg.warehouse, manifest)


def _run_warehouse_suites(
    con: Any,
    suites: Sequence[TableSuite],
    validator: GxValidator,
    chunk_rows: int,
    proved: frozenset[str] = frozenset(),
) -> list[CheckResult]:
    existing = _relations(con)
    results: list[CheckResult] = []
    for suite in suites:
        if suite.relation not in existing:
            results.append(
                missing(
                    suite.layer,
                    suite.table,
                    f"{suite.relation} is not in the warehouse: build first",
                )
            )
            continue
        found, _ = run_guarded(con, suite, validator, chunk_rows=chunk_rows, proved=proved)
        results.extend(found)
    return results


def _reconciliation(con: Any) -> list[CheckResult]:
    """bronze = staged + quarantined + collapsed + erased, per table, from
    quality.reconciliation (erased: rows of people who asked to be forgotten)."""
    rows = con.execute(
        "select system, table_name, bronze_rows, staging_rows, quarantined_rows, collapsed_rows, "
        "erased_rows from quality.reconciliation order by system, table_name"
    ).fetchall()
    out = []
    for system, table, bronze, staged, quarantined, collapsed, erased in rows:
        accounted = staged + quarantined + collapsed + erased
        out.append(
            CheckResult(
                "silver",
                f"{system}.{table}",
                None,
                S.RECONCILIATION,
                S.ERROR,
                bronze == accounted,
                abs(bronze - accounted),
                bronze,
                observed={
                    "bronze": bronze,
                    "staged": staged,
                    "quarantined": quarantined,
                    "collapsed": collapsed,
                    "erased": erased,
                },
                note="bronze rows = staged + quarantined + collapsed + erased "
                "(quality.reconciliation)",
                suite="silver.quality.reconciliation",
            )
        )
    return out


def run_silver(
    cfg: RunConfig,
    validator: GxValidator,
    contracts: Mapping[str, Contract],
    con: Any,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    trust_build: bool = True,
) -> tuple[list[CheckResult], list[TableSuite]]:
    """Staging against what the contracts promise, silver models against their dbt tests,
    and the row-count reconciliation. ``trust_build``: take the key checks the build's dbt
    tests passed on this very warehouse (``build_verdicts``) instead of counting them again."""
    suites = S.staging_suites(contracts)
    manifest = _manifest(cfg)
    if manifest is not None:
        suites += manifest_suites(manifest, "silver", "silver")
    proved = _proved(cfg, manifest, trust_build)
    results = _run_warehouse_suites(con, suites, validator, chunk_rows, proved)
    if manifest is None:
        results.append(missing("silver", "dbt.manifest", "no dbt manifest: build first"))
    if '"quality"."reconciliation"' in _relations(con):
        results.extend(_reconciliation(con))
    else:
        results.append(missing("silver", "quality.reconciliation", "build first"))
    return results, suites


def run_gold(
    cfg: RunConfig,
    validator: GxValidator,
    con: Any,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    trust_build: bool = True,
) -> tuple[list[CheckResult], list[TableSuite]]:
    """Gold models against their dbt tests and documented columns (from the manifest);
    ``trust_build`` as in ``run_silver``."""
    manifest = _manifest(cfg)
    if manifest is None:
        return [missing("gold", "dbt.manifest", "no dbt manifest: build first")], []
    suites = manifest_suites(manifest, "gold", "gold")
    proved = _proved(cfg, manifest, trust_build)
    return _run_warehouse_suites(con, suites, validator, chunk_rows, proved), suites
