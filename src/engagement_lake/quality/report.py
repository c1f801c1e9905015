"""Check results, and the two forms they are written in: JSON for machines, one HTML page for
people.

The HTML is a single self-contained page (no GX Data Docs site): the report must open from a CI
artefact or a file browser without a server, and it has to show the DuckDB-counted checks
(uniqueness, foreign keys, reconciliation, freshness) beside the GX ones, which Data Docs cannot.
"""

from __future__ import annotations

import html
import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from engagement_lake.config import QUALITY_LAYERS

LAYERS = QUALITY_LAYERS
SEVERITIES = ("error", "warning")
SAMPLE_SIZE = 5


@dataclass
class CheckResult:
    """The outcome of one check on one table (summed over all chunks of the table)."""

    layer: str
    table: str
    column: str | None
    check: str
    severity: str
    success: bool
    unexpected_count: int = 0
    element_count: int | None = None
    sample: list[Any] = field(default_factory=list)
    observed: Any = None
    """The measured value of aggregate checks (row count, hours since the last load, …)."""
    note: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict)
    suite: str = ""
    quarantined: bool = False
    """A bronze row-level rule: the build quarantines the rows that break it, so the data
    downstream is clean and the failure is reported without failing the run."""
    from_build: bool = False
    """Not counted by the check: the dbt test that counts the same rule passed in the build
    that wrote the warehouse, which has not changed since (``build_verdicts``)."""

    def line(self) -> str:
        """``layer table column check unexpected=N sample=…``: one grep-able line."""
        sample = json.dumps(self.sample, default=str, ensure_ascii=False)
        text = (
            f"{self.layer} {self.table} {self.column or '-'} {self.check} "
            f"unexpected={self.unexpected_count} sample={sample}"
        )
        if self.observed is not None and not self.unexpected_count:
            text += f" observed={self.observed}"
        return f"{text} severity={self.severity}" + (" (quarantined)" if self.quarantined else "")


@dataclass
class CheckReport:
    """All results of one ``run_checks`` call, and what they mean for the exit code."""

    results: list[CheckResult]
    layers: tuple[str, ...]
    gating_layers: tuple[str, ...]
    """Layers whose error-severity failures set the exit code; the others are report-only."""
    seconds: float = 0.0
    layer_seconds: dict[str, float] = field(default_factory=dict)
    json_path: Path | None = None
    html_path: Path | None = None
    as_of: str | None = None
    """Newest bronze load (``_loaded_at``) that freshness was measured against."""
    strict: bool = False
    """Whether bronze rows the build quarantines fail the run too (``--fail-on-error``)."""
    rows_reused: int | None = None
    """Rows GX did not re-validate because they passed unchanged before (``checked_rows``);
    None when the run had no ledger."""

    def gates(self, result: CheckResult) -> bool:
        """Whether this failing error decides the exit code."""
        return result.layer in self.gating_layers and (self.strict or not result.quarantined)

    def failures(self, severity: str | None = None) -> list[CheckResult]:
        """Failing checks, errors first, optionally of one severity only."""
        out = [r for r in self.results if not r.success]
        if severity is not None:
            out = [r for r in out if r.severity == severity]
        return sorted(out, key=_order)

    @property
    def exit_code(self) -> int:
        """1 when an error-severity check fails that gates (see ``gates``), else 0. Bronze rows
        the build quarantines never gate by default, so ``--layer bronze`` and ``--layer all``
        agree on the same data."""
        return int(any(self.gates(r) for r in self.failures("error")))

    def lines(self) -> list[str]:
        """One line per failing check, errors first."""
        return [r.line() for r in self.failures()]

    def summary(self) -> str:
        passed = sum(r.success for r in self.results)
        errors = self.failures("error")
        warnings = self.failures("warning")
        text = (
            f"quality {'+'.join(self.layers)}: {len(self.results)} checks, {passed} passed, "
            f"{len(errors)} errors, {len(warnings)} warnings in {self.seconds:.1f}s"
        )
        report_only = [
            layer
            for layer in self.layers
            if layer not in self.gating_layers and any(r.layer == layer for r in errors)
        ]
        if report_only:
            text += f" (report-only: errors in {', '.join(report_only)} do not fail the run)"
        handled = [r for r in errors if r.layer in self.gating_layers and not self.gates(r)]
        if handled:
            text += (
                f" ({len(handled)} bronze errors are rows the build quarantines: reported, "
                "not failing the run)"
            )
        if self.rows_reused:
            text += f"; {self.rows_reused:,} unchanged rows already validated"
        taken = sum(r.from_build for r in self.results)
        if taken:
            text += f"; {taken} key checks passed by the build's dbt tests"
        if self.html_path is not None:
            text += f"; report {self.html_path}"
        return text

    def to_json(self) -> dict[str, Any]:
        counts = Counter((r.layer, "passed" if r.success else r.severity) for r in self.results)
        return {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "layers": list(self.layers),
            "gating_layers": list(self.gating_layers),
            "as_of": self.as_of,
            "seconds": round(self.seconds, 3),
            "layer_seconds": {k: round(v, 3) for k, v in self.layer_seconds.items()},
            "rows_reused": self.rows_reused,
            "exit_code": self.exit_code,
            "summary": self.summary(),
            "counts": {
                layer: {k: counts[(layer, k)] for k in ("passed", *SEVERITIES)}
                for layer in self.layers
            },
            "results": [jsonable(asdict(r)) for r in self.results],
        }


def _order(r: CheckResult) -> tuple[int, int, str, str, str]:
    layer = LAYERS.index(r.layer) if r.layer in LAYERS else len(LAYERS)
    return (SEVERITIES.index(r.severity), layer, r.table, r.column or "", r.check)


def jsonable(value: Any) -> Any:
    """Plain JSON values from what pandas, numpy, DuckDB and GX hand back."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    try:
        import pandas as pd

        missing = bool(pd.isna(value))
    except (ImportError, TypeError, ValueError):  # arrays and odd objects are not "missing"
        missing = False
    return None if missing else str(value)


def write_json(report: CheckReport, path: Path) -> Path:
    """Every result with its expectation kwargs, so that a run can be diffed with the next."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), indent=1, ensure_ascii=False) + "\n")
    return path


# ----------------------------------------------------------------------------- HTML

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin:0;display:inline}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}
td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.ok{color:#1a7f37}.error{color:#b42318;font-weight:600}
.warning{color:#9a6700;font-weight:600}code{font-size:12px;word-break:break-all}
details{border:1px solid #ddd;border-radius:4px;margin:.4em 0;padding:.4em .8em}
summary{cursor:pointer}.muted{color:#777}
"""


def _status(r: CheckResult) -> str:
    if r.success:
        return '<span class="ok">pass</span>'
    return f'<span class="{r.severity}">{r.severity}</span>'


def _cell(value: Any) -> str:
    if value in (None, [], ""):
        return ""
    text = value if isinstance(value, str) else json.dumps(jsonable(value), ensure_ascii=False)
    return f"<code>{html.escape(text)}</code>"


def render_html(report: CheckReport) -> str:
    """One page: the summary, the failing checks, then one section per suite."""
    esc = html.escape
    suites: dict[str, list[CheckResult]] = {}
    for r in report.results:
        suites.setdefault(r.suite or f"{r.layer}.{r.table}", []).append(r)
    rows = []
    for layer in report.layers:
        mine = [r for r in report.results if r.layer == layer]
        mode = "gates the exit code" if layer in report.gating_layers else "report-only"
        rows.append(
            f"<tr><td>{esc(layer)}</td><td>{len(mine)}</td>"
            f"<td>{sum(r.success for r in mine)}</td>"
            f"<td class='error'>{sum(not r.success and r.severity == 'error' for r in mine)}</td>"
            f"<td class='warning'>"
            f"{sum(not r.success and r.severity == 'warning' for r in mine)}</td>"
            f"<td>{report.layer_seconds.get(layer, 0):.1f}s</td><td>{mode}</td></tr>"
        )
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Quality report: {esc('+'.join(report.layers))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Engagement Lake quality report ({esc(', '.join(report.layers))})</h1>",
        f"<p>{esc(report.summary())}</p>",
        f"<p class='muted'>exit code {report.exit_code}; freshness as of "
        f"{esc(str(report.as_of or 'n/a'))}</p>",
        "<table><tr><th>layer</th><th>checks</th><th>passed</th><th>errors</th>"
        "<th>warnings</th><th>time</th><th>mode</th></tr>",
        *rows,
        "</table>",
    ]
    failures = report.failures()
    if failures:
        parts.append("<h2>Failing checks</h2>")
        parts.append(_result_table(failures, with_table=True))
    parts.append("<h2>Suites</h2>")
    for name, results in suites.items():
        failed = [r for r in results if not r.success]
        badge = (
            f"<span class='{failed[0].severity if failed else 'ok'}'>{len(failed)} failing</span>"
            if failed
            else "<span class='ok'>all pass</span>"
        )
        parts.append(
            f"<details{' open' if failed else ''}><summary><h2>{esc(name)}</h2> "
            f"— {len(results)} checks, {badge}</summary>"
            f"{_result_table(sorted(results, key=lambda r: (r.success, _order(r))))}</details>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def _result_table(results: Iterable[CheckResult], *, with_table: bool = False) -> str:
    esc = html.escape
    head = "<th>table</th>" if with_table else ""
    out = [
        f"<table><tr>{head}<th>column</th><th>check</th><th>status</th><th>unexpected</th>"
        "<th>of rows</th><th>observed</th><th>sample</th><th>why</th></tr>"
    ]
    for r in results:
        table = f"<td>{esc(r.layer)} {esc(r.table)}</td>" if with_table else ""
        out.append(
            f"<tr>{table}<td>{esc(r.column or '-')}</td><td>{esc(r.check)}</td>"
            f"<td>{_status(r)}</td><td>{r.unexpected_count}</td>"
            f"<td>{'' if r.element_count is None else r.element_count}</td>"
            f"<td>{_cell(r.observed)}</td><td>{_cell(r.sample)}</td>"
            f"<td class='muted'>{esc(r.note)}</td></tr>"
        )
    out.append("</table>")
    return "\n".join(out)


def write_html(report: CheckReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report))
    return path
