"""Dashboards: the five engagement dashboards as an offline HTML site over the serving file.

One module per concern:

- ``catalogue``: every dashboard and chart (id, title, SQL over the serving file, Vega-Lite spec,
  and the semantic layer's saved query that answers the same question, where there is one);
- ``data``: the read-only serving connection and ``chart_data``, the one function that answers a
  chart;
- ``render``: the pages (Vega libraries inline, so they open offline) and the index;
- ``browser``: headless Chromium over the DevTools protocol, to check that pages draw and to take
  screenshots.
"""

from engagement_lake.dashboards.catalogue import DASHBOARDS, Chart, Dashboard, all_charts
from engagement_lake.dashboards.data import chart_data, serving_connection, tables_read
from engagement_lake.dashboards.render import Site, build_site

__all__ = [
    "DASHBOARDS",
    "Chart",
    "Dashboard",
    "Site",
    "all_charts",
    "build_site",
    "chart_data",
    "serving_connection",
    "tables_read",
]
