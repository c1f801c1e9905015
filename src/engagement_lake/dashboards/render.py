"""Rendering: each dashboard as one self-contained HTML page, plus an index linking them.

Charts are Vega-Lite specs drawn by Altair, with their rows inline. The Vega, Vega-Lite and
vega-embed libraries are embedded in every page (``vl_convert.javascript_bundle``), not loaded
from a CDN as Altair's own HTML does: a page opens from disk, offline, and makes no network
request. Each page records its rendered Vega views in ``window.dashboardViews`` and sets
``window.dashboardReady`` (or ``window.dashboardError``), so a headless browser can check that
every chart drew.
"""

from __future__ import annotations

import html
import json
import math
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engagement_lake.dashboards.catalogue import DASHBOARDS, Chart, Dashboard
from engagement_lake.dashboards.data import as_of_date, dashboard_data, serving_connection

if TYPE_CHECKING:
    import pandas as pd

CHART_WIDTH = 440
CHART_HEIGHT = 260
INDEX_NAME = "index.html"

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
header { background: #1d2330; color: #fff; padding: 14px 24px; }
header a { color: #9cc3ff; margin-right: 14px; text-decoration: none; }
header h1 { margin: 6px 0 2px; font-size: 22px; }
header p { margin: 2px 0; color: #c9cfdb; font-size: 13px; }
main { display: flex; flex-wrap: wrap; gap: 16px; padding: 16px 24px; }
section { background: #fff; border-radius: 6px; padding: 10px 14px;
          box-shadow: 0 1px 3px rgba(0,0,0,.12); }
section h2 { font-size: 15px; margin: 4px 0 8px; }
dl.tiles { display: grid; grid-template-columns: repeat(2, minmax(120px, 1fr)); gap: 6px 18px;
           margin: 0; min-width: 300px; }
dl.tiles dt { font-size: 11px; color: #5a6375; text-transform: uppercase; }
dl.tiles dd { margin: 0 0 4px; font-size: 17px; font-weight: 600; }
p.empty { color: #8a93a5; font-style: italic; }
ul.dashboards li { margin: 8px 0; }
"""


@dataclass(frozen=True)
class Site:
    index: Path
    pages: dict[str, Path]
    """Each dashboard's page, by dashboard name."""
    charts: int
    """Vega-Lite charts drawn across the pages (tiles not counted)."""
    parameters: dict[str, str]
    """The value each template page shows (e.g. ``customer_360`` -> the customer key)."""
    seconds: float


@cache
def vega_bundle() -> str:
    """Vega, Vega-Lite (the version Altair writes) and vega-embed as one inline script."""
    import altair as alt
    import vl_convert

    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return vl_convert.javascript_bundle(vl_version=major_minor)


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element (no ``</script>`` can end it early)."""
    return json.dumps(value, default=str).replace("</", "<\\/")


def vega_lite_spec(chart: Chart, data: pd.DataFrame) -> dict[str, Any]:
    """The chart's Vega-Lite spec with its rows inline."""
    if chart.spec is None:
        raise ValueError(f"chart {chart.id} has no spec")
    drawn = chart.spec(data)
    return drawn.properties(width=CHART_WIDTH, height=CHART_HEIGHT).to_dict()


PERCENT_SUFFIXES = ("_rate", "_probability", "_share")
"""Tile columns shown as percentages (shares from 0 to 1)."""


def _tile_value(name: str, value: Any) -> str:
    """A figure as a person reads it: thousands separated, shares as percentages, dates as
    days, a missing value as a dash."""
    import pandas as pd

    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        if name.endswith(PERCENT_SUFFIXES):
            return f"{float(value):.1%}"
        return f"{value:,.2f}"
    if isinstance(value, datetime | date) or hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value)


def _tiles(data: pd.DataFrame) -> str:
    """The first row's columns as labelled figures (column by column, so an integer column is
    not widened to a float by its neighbours)."""
    items = "".join(
        f"<dt>{html.escape(str(name).replace('_', ' '))}</dt>"
        f"<dd>{html.escape(_tile_value(str(name), data[name].iloc[0]))}</dd>"
        for name in data.columns
    )
    return f'<dl class="tiles">{items}</dl>'


def _nav(current: str | None) -> str:
    links = [f'<a href="{INDEX_NAME}">All dashboards</a>']
    for dashboard in DASHBOARDS:
        label = html.escape(dashboard.title)
        if dashboard.name == current:
            label = f"<b>{label}</b>"
        links.append(f'<a href="{dashboard.file_name}">{label}</a>')
    return "<nav>" + "".join(links) + "</nav>"


def _page(title: str, header: str, body: str, script: str = "") -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><header>{header}</header><main>{body}</main>{script}</body></html>\n"
    )


def render_dashboard(
    dashboard: Dashboard,
    data: dict[str, pd.DataFrame],
    *,
    as_of: str,
    parameter: str | None = None,
) -> tuple[str, int]:
    """One dashboard page and the number of Vega-Lite charts on it."""
    sections = []
    specs: dict[str, dict[str, Any]] = {}
    for chart in dashboard.charts:
        rows = data[chart.id]
        title = html.escape(chart.title)
        if rows.empty:
            content = '<p class="empty">No rows for this chart in the serving file.</p>'
        elif chart.kind == "tiles":
            content = _tiles(rows)
        else:
            specs[chart.id] = vega_lite_spec(chart, rows)
            content = f'<div class="vis" id="vis-{chart.id}"></div>'
        sections.append(f'<section data-chart="{chart.id}"><h2>{title}</h2>{content}</section>')
    subtitle = f"{html.escape(dashboard.description)} Data as of {html.escape(as_of)}."
    if parameter is not None and dashboard.parameter:
        subtitle += f" {html.escape(dashboard.parameter)}: {html.escape(parameter)}."
    header = f"{_nav(dashboard.name)}<h1>{html.escape(dashboard.title)}</h1><p>{subtitle}</p>"
    script = (
        f"<script>{vega_bundle()}</script>"
        f"<script>const dashboardSpecs = {_script_json(specs)};\n"
        "window.dashboardViews = {};\n"
        "Promise.all(Object.entries(dashboardSpecs).map(([id, spec]) =>\n"
        "  vegaEmbed('#vis-' + id, spec, {actions: false, renderer: 'svg'})\n"
        "    .then(result => { window.dashboardViews[id] = result.view; })))\n"
        "  .then(() => { window.dashboardReady = true; })\n"
        "  .catch(error => { window.dashboardError = String(error); });\n"
        "</script>"
    )
    return _page(dashboard.title, header, "".join(sections), script), len(specs)


def render_index(as_of: str, serving_name: str, parameters: dict[str, str]) -> str:
    items = []
    for dashboard in DASHBOARDS:
        shown = parameters.get(dashboard.name)
        note = f" ({html.escape(dashboard.parameter or '')}: {html.escape(shown)})" if shown else ""
        items.append(
            f'<li><a href="{dashboard.file_name}">{html.escape(dashboard.title)}</a>: '
            f"{html.escape(dashboard.description)}{note}</li>"
        )
    header = (
        f"{_nav(None)}<h1>Engagement Lake dashboards</h1>"
        f"<p>Read from the serving file {html.escape(serving_name)} (personal columns "
        f"pseudonymised); data as of {html.escape(as_of)}.</p>"
    )
    body = f'<section><ul class="dashboards">{"".join(items)}</ul></section>'
    return _page("Engagement Lake dashboards", header, body)


def build_site(
    serving: Path,
    out: Path,
    *,
    customer: str | None = None,
    manifest: Path | None = None,
) -> Site:
    """Every dashboard page and the index under ``out``, from the serving file.

    ``customer`` (a golden id or customer key) is the customer 360 page's customer; by default
    the customer with most interactions. Charts with a saved query are answered by the semantic
    layer over the same file (``manifest``: the semantic manifest dbt wrote, by default
    ``target/semantic_manifest.json``), the rest by their SQL. Pages are written whole, so a
    failing query leaves no half-drawn page behind (it raises ``ValueError`` naming the chart).
    """
    from engagement_lake.semantic import SemanticError, SemanticLayer, load_manifest

    try:
        semantic_manifest = load_manifest(manifest)
    except SemanticError as exc:
        raise ValueError(str(exc)) from None
    started = time.perf_counter()
    out = Path(out)
    pages: dict[str, str] = {}
    parameters: dict[str, str] = {}
    charts = 0
    with serving_connection(serving) as con:
        as_of = as_of_date(con)
        layer = SemanticLayer(con, semantic_manifest)
        for dashboard in DASHBOARDS:
            value, data = dashboard_data(dashboard, con, customer, layer)
            if value is not None:
                parameters[dashboard.name] = value
            pages[dashboard.name], drawn = render_dashboard(
                dashboard, data, as_of=as_of, parameter=value
            )
            charts += drawn
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for dashboard in DASHBOARDS:
        path = out / dashboard.file_name
        path.write_text(pages[dashboard.name], encoding="utf-8")
        written[dashboard.name] = path
    index = out / INDEX_NAME
    index.write_text(render_index(as_of, Path(serving).name, parameters), encoding="utf-8")
    return Site(index, written, charts, parameters, time.perf_counter() - started)
