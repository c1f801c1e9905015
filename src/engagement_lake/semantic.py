"""The semantic layer, queried in-process: MetricFlow's engine over the gold tables.

The metrics, their semantic models and the dashboards' saved queries are dbt YAML beside the gold
models (``models/gold/**/_*__semantic.yml``, ``models/gold/_dashboards__saved_queries.yml``); dbt
writes them to ``target/semantic_manifest.json`` on every parse or build. This module reads that
file and runs MetricFlow's engine in this process, for three reasons:

* **Speed.** The ``mf`` command starts dbt, checks the package index on every call and answers
  one query per process; a dashboard or a test asks for dozens. Here one engine is built per
  manifest and warehouse (about a second) and every query after that costs only its SQL.
* **The serving file.** The manifest names the working warehouse's relations
  (``"engagement"."gold"."fct_orders"``), but BI tools and dashboards read the serving file
  ``warehouse/gold.duckdb``, whose tables sit in its default schema with personal columns
  pseudonymised (``engagement_lake.publish``). Each semantic model's relation is pointed at the
  table of that name in whichever file is opened (``_relocate``), so the same metric answers the
  same way on both.
* **Safety.** The file is opened read-only through the analyst's sandboxed connection
  (``engagement_lake.analyst.connection``): a ``where`` filter is SQL, and there it can read
  nothing but the warehouse's tables.

MetricFlow writes the SQL; DuckDB runs it and returns a pandas DataFrame, one column per group-by
item (``metric_time__month``, ``ticket__ticket_channel``) and per metric.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engagement_lake.config import PROJECT_ROOT, warehouse_path
from engagement_lake.sql_text import identifier

SEMANTIC_MANIFEST = "semantic_manifest.json"
DEFAULT_MANIFEST = PROJECT_ROOT / "target" / SEMANTIC_MANIFEST
"""Where ``dbt parse`` / ``engagement-lake build`` write the semantic manifest."""

LABEL_SEPARATOR = "__"
"""Saved queries are labelled ``<dashboard>__<chart>``; MetricFlow forbids ``__`` in names, so the
name itself is ``<dashboard>_<chart>`` and queries are looked up by either."""


class SemanticError(RuntimeError):
    """The semantic layer cannot answer: no manifest, an unknown metric or saved query, a gold
    table missing from the warehouse, or a query MetricFlow rejects (one line)."""


@dataclass(frozen=True)
class MetricInfo:
    """One metric of the manifest, as ``engagement-lake metrics list`` and docs/bi.md show it."""

    name: str
    type: str
    label: str
    description: str
    models: tuple[str, ...]
    """The gold models its measures read."""


@dataclass(frozen=True)
class SavedQueryInfo:
    name: str
    label: str
    description: str
    metrics: tuple[str, ...]
    group_by: tuple[str, ...]


# ------------------------------------------------------------------------------ the manifest


def manifest_path(override: str | Path | None = None) -> Path:
    """The semantic manifest: argument, else ``target/semantic_manifest.json`` of the project."""
    return Path(override) if override is not None else DEFAULT_MANIFEST


def load_manifest(path: str | Path | None = None) -> dict[str, Any]:
    """The manifest as dbt wrote it (JSON); a one-line error when it is missing or unreadable."""
    found = manifest_path(path)
    if not found.is_file():
        raise SemanticError(
            f"semantic manifest {found} not found; run `dbt parse` or `engagement-lake build` first"
        )
    try:
        return json.loads(found.read_text())
    except (OSError, ValueError) as exc:
        raise SemanticError(f"semantic manifest {found} is unreadable: {exc}") from None


def _measure_models(manifest: Mapping[str, Any]) -> dict[str, str]:
    """measure name -> the gold model (table) it is defined on."""
    found: dict[str, str] = {}
    for model in manifest["semantic_models"]:
        for measure in model.get("measures") or []:
            found[measure["name"]] = model["node_relation"]["alias"]
    return found


def _metric_models(manifest: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """metric name -> the gold models its measures read (through input metrics too)."""
    metrics = {m["name"]: m for m in manifest["metrics"]}
    measures = _measure_models(manifest)
    done: dict[str, tuple[str, ...]] = {}

    def visit(name: str) -> tuple[str, ...]:
        if name not in done:
            params = metrics[name]["type_params"]
            found: set[str] = set()
            for ref in [params.get("measure"), *(params.get("input_measures") or [])]:
                if ref and ref.get("name") in measures:
                    found.add(measures[ref["name"]])
            for key in ("numerator", "denominator"):
                if params.get(key):
                    found.update(visit(params[key]["name"]))
            for ref in params.get("metrics") or []:
                found.update(visit(ref["name"]))
            done[name] = tuple(sorted(found))
        return done[name]

    return {name: visit(name) for name in metrics}


def list_metrics(manifest: str | Path | None = None) -> list[MetricInfo]:
    """Every metric of the manifest, by name: no warehouse needed."""
    data = load_manifest(manifest)
    models = _metric_models(data)
    return sorted(
        (
            MetricInfo(
                name=m["name"],
                type=m["type"],
                label=m.get("label") or m["name"],
                description=" ".join((m.get("description") or "").split()),
                models=models[m["name"]],
            )
            for m in data["metrics"]
        ),
        key=lambda info: info.name,
    )


def list_saved_queries(manifest: str | Path | None = None) -> list[SavedQueryInfo]:
    """Every saved query of the manifest, by label (``<dashboard>__<chart>``)."""
    data = load_manifest(manifest)
    return sorted(
        (
            SavedQueryInfo(
                name=q["name"],
                label=q.get("label") or q["name"],
                description=" ".join((q.get("description") or "").split()),
                metrics=tuple(q["query_params"]["metrics"]),
                group_by=tuple(q["query_params"].get("group_by") or ()),
            )
            for q in data.get("saved_queries") or []
        ),
        key=lambda info: info.label,
    )


# ------------------------------------------------------------------------------ relations


def _relocate(manifest: dict[str, Any], tables: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """The manifest with every relation pointed at the opened file's table of the same name.

    ``tables`` maps a table name to its (catalog, schema) in the opened file. dbt wrote the working
    warehouse's catalog and schema; the serving file keeps the same table names in another
    catalog and in its default schema, so the table name is what both share.
    """
    relocated = json.loads(json.dumps(manifest))
    relations = [m["node_relation"] for m in relocated["semantic_models"]]
    config = relocated.get("project_configuration") or {}
    relations += [spine["node_relation"] for spine in config.get("time_spines") or []]
    for relation in relations:
        table = relation["alias"]
        if table not in tables:
            raise SemanticError(
                f"table {table} (schema {relation['schema_name']}) is not in the warehouse opened; "
                "build and publish gold first (engagement-lake build)"
            )
        catalog, schema = tables[table]
        relation.update(
            database=catalog,
            schema_name=schema,
            relation_name=".".join(map(identifier, (catalog, schema, table))),
        )
    return relocated


def _gold_tables(con: Any, preferred_schema: str) -> dict[str, tuple[str, str]]:
    """table name -> (catalog, schema): the gold schema of a working warehouse, else any schema
    of the file (the serving file keeps gold in ``main``)."""
    rows = con.execute(
        "select table_catalog, table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database()"
    ).fetchall()
    found: dict[str, tuple[str, str]] = {}
    for catalog, schema, table in sorted(rows, key=lambda r: r[1] != preferred_schema):
        found.setdefault(table, (catalog, schema))
    return found


# ------------------------------------------------------------------------------ the engine


def _sql_client_class() -> type:
    """A MetricFlow ``SqlClient`` over one DuckDB connection (built lazily: MetricFlow's imports
    take about a second, which ``engagement-lake --help`` must not pay).

    dbt_metricflow's own client runs through a dbt adapter, which would load the whole dbt project
    and open the file read-write; this one only needs a connection, and the dialect is DuckDB's.
    """
    from metricflow.data_table.mf_table import MetricFlowDataTable
    from metricflow.protocols.sql_client import SqlEngine
    from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

    class DuckDbSqlClient:
        def __init__(self, con: Any) -> None:
            self._con = con
            self._renderer = DuckDbSqlPlanRenderer()

        @property
        def sql_engine_type(self) -> SqlEngine:
            return SqlEngine.DUCKDB

        @property
        def sql_plan_renderer(self) -> DuckDbSqlPlanRenderer:
            return self._renderer

        def query(self, stmt: str, sql_bind_parameter_set: Any = None) -> MetricFlowDataTable:
            cursor = self._con.execute(stmt, _bind(sql_bind_parameter_set))
            columns = [d[0] for d in cursor.description]
            return MetricFlowDataTable.create_from_rows(
                column_names=columns, rows=cursor.fetchall()
            )

        def execute(self, stmt: str, sql_bind_parameter_set: Any = None) -> None:
            self._con.execute(stmt, _bind(sql_bind_parameter_set))

        def dry_run(self, stmt: str, sql_bind_parameter_set: Any = None) -> None:
            self._con.execute(f"explain {stmt}", _bind(sql_bind_parameter_set))

        def close(self) -> None:
            self._con.close()

        def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
            return f"${bind_parameter_key}"

    return DuckDbSqlClient


def _bind(parameters: Any) -> dict[str, Any] | None:
    """MetricFlow's bind parameters as DuckDB's named parameters (none for metric queries)."""
    if parameters is None or not parameters.param_dict:
        return None
    return {key: value.value for key, value in parameters.param_dict.items()}


def _one_line(exc: BaseException) -> str:
    """MetricFlow's multi-paragraph resolution error as one line: the message, what was asked and
    the suggestions, without the location trace."""
    text = str(exc).split("Issue Location:")[0] or type(exc).__name__
    for noise in ("Got error(s) during query resolution.", "Error #1:", "Message:"):
        text = text.replace(noise, " ")
    text = " ".join(text.replace("\n", " ").split())
    return text if len(text) <= 600 else text[:597] + "..."


_WIDE_INTEGERS = frozenset({"HUGEINT", "UHUGEINT", "BIGINT", "UBIGINT", "INTEGER"})

_GROUP_BY_SPEC = re.compile(
    r"""^\s*(?:Time)?(?:Dimension|Entity)\(\s*'([^']+)'(?:\s*,\s*'(\w+)')?\s*\)\s*$"""
)


def _group_by_column(spec: str) -> str:
    """The output column of a saved query's group-by item: ``Dimension('ticket__status')`` ->
    ``ticket__status``, ``TimeDimension('metric_time', 'month')`` -> ``metric_time__month``."""
    found = _GROUP_BY_SPEC.match(spec)
    if not found:
        return spec
    name, grain = found.groups()
    return f"{name}__{grain}" if grain else name


class SemanticLayer:
    """One MetricFlow engine over one open warehouse: build it once, ask it many queries.

    ``query_metrics`` and ``run_saved_query`` open one for a single call; the CLI and the tests
    keep one open so that the engine (about a second to build) is built once.
    """

    def __init__(self, con: Any, manifest: Mapping[str, Any], *, gold_schema: str = "gold"):
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.dbt_manifest_parser import (
            parse_manifest_from_dbt_generated_manifest,
        )
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        self.con = con
        self.manifest = _relocate(dict(manifest), _gold_tables(con, gold_schema))
        parsed = parse_manifest_from_dbt_generated_manifest(json.dumps(self.manifest))
        self.engine = MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(parsed),
            sql_client=_sql_client_class()(con),
        )
        self._saved = {
            q.get("label") or q["name"]: q["name"] for q in self.manifest.get("saved_queries") or []
        }
        self._saved.update({name: name for name in list(self._saved.values())})

    def explain(
        self,
        metrics: Sequence[str] = (),
        group_by: Sequence[str] = (),
        where: Sequence[str] = (),
        *,
        saved: str | None = None,
    ) -> str:
        """The SQL MetricFlow writes for a query or a saved query (``mf query --explain``)."""
        request = self._saved_request(saved) if saved else self._request(metrics, group_by, where)
        return self._explain(request).sql

    def _explain(self, request: Any) -> Any:
        try:
            return self.engine.explain(request).sql_statement
        except Exception as exc:  # MetricFlow's own errors carry multi-line context
            raise SemanticError(f"MetricFlow rejected the query: {_one_line(exc)}") from exc

    def _run(self, request: Any) -> Any:
        statement = self._explain(request)
        if _bind(statement.bind_parameter_set) is not None:
            return self.con.execute(statement.sql, _bind(statement.bind_parameter_set)).df()
        relation = self.con.sql(statement.sql)
        frame = relation.df()
        # DuckDB sums integers into HUGEINT, which pandas can only hold as float: counts come
        # back as nullable integers instead (2, not 2.0).
        for column, kind in zip(relation.columns, relation.types, strict=True):
            if str(kind) in _WIDE_INTEGERS:
                frame[column] = frame[column].round().astype("Int64")
        return frame

    def query(
        self,
        metrics: Sequence[str],
        group_by: Sequence[str] = (),
        where: Sequence[str] = (),
        order_by: Sequence[str] = (),
        limit: int | None = None,
    ) -> Any:
        """Metrics grouped and filtered as ``mf query`` takes them: group-by items such as
        ``metric_time__month`` or ``ticket__ticket_channel``, where filters such as
        ``{{ Dimension('ticket__status') }} = 'Open'``, order-by items with ``-`` for descending.
        Without an order, rows come sorted by the group-by items (stable output)."""
        frame = self._run(self._request(metrics, group_by, where, order_by, limit))
        if not order_by:
            columns = [c for c in frame.columns if c not in set(metrics)]
            if columns:
                frame = frame.sort_values(columns, kind="stable").reset_index(drop=True)
        return frame

    def _request(
        self,
        metrics: Sequence[str],
        group_by: Sequence[str] = (),
        where: Sequence[str] = (),
        order_by: Sequence[str] = (),
        limit: int | None = None,
    ) -> Any:
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        if not metrics:
            raise SemanticError("no metric named (engagement-lake metrics list)")
        known = {m["name"] for m in self.manifest["metrics"]}
        unknown = [m for m in metrics if m not in known]
        if unknown:
            listed = ", ".join(unknown)
            raise SemanticError(f"unknown metric {listed} (engagement-lake metrics list)")
        return MetricFlowQueryRequest.create(
            metric_names=list(metrics),
            group_by_names=list(group_by) or None,
            where_constraints=list(where) or None,
            order_by_names=list(order_by) or None,
            limit=limit,
        )

    def _saved_request(self, name: str) -> Any:
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        if name not in self._saved:
            known = ", ".join(sorted(k for k in self._saved if LABEL_SEPARATOR in k))
            raise SemanticError(f"unknown saved query {name}; known: {known}")
        return MetricFlowQueryRequest.create(saved_query_name=self._saved[name])

    def saved_query(self, name: str) -> Any:
        """A saved query by its label (``tickets__satisfaction_trend``) or its name, rows sorted by
        its group-by items in the order the query lists them (a sort key such as a stage order
        comes first)."""
        frame = self._run(self._saved_request(name))
        query = next(q for q in self.manifest["saved_queries"] if q["name"] == self._saved[name])
        specs = query["query_params"].get("group_by") or []
        columns = [c for c in map(_group_by_column, specs) if c in frame.columns]
        if columns:
            frame = frame.sort_values(columns, kind="stable").reset_index(drop=True)
        return frame


_PER_CONNECTION_SETTINGS = frozenset({"python_enable_replacements"})


@contextmanager
def _sandboxed(warehouse: Path) -> Iterator[Any]:
    """A read-only connection with the analyst's sandbox (no file, network or extension access,
    configuration locked), tables only.

    DuckDB shares one database instance among the connections of a process to the same file, and
    the sandbox locks that instance's configuration: a second connection (a dashboard holding
    one layer while asking another, or the analyst's ``sql`` beside a layer) finds it locked. It is
    then already sandboxed, which is checked, not assumed, before the connection is used. Only
    replacement scans cannot be switched off on it (a per-connection setting, refused once the
    configuration is locked); they let a query read data frames of this very process, which its
    caller holds already, and nothing outside it.
    """
    import duckdb

    from engagement_lake.analyst.connection import (
        SANDBOX_SETTINGS,
        WarehouseError,
        analyst_connection,
    )

    try:
        with analyst_connection(warehouse, read_views=False) as con:
            yield con
        return
    except WarehouseError as exc:
        raise SemanticError(str(exc)) from None
    except duckdb.InvalidInputException as exc:
        if "configuration has been locked" not in str(exc):
            raise
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for name, value in SANDBOX_SETTINGS:
            if name in _PER_CONNECTION_SETTINGS:
                continue
            (current,) = con.execute("select current_setting(?)", [name]).fetchone()
            if str(current).lower() != value:
                raise SemanticError(f"{warehouse} is open unsandboxed in this process ({name})")
        yield con
    finally:
        con.close()


@contextmanager
def open_layer(
    warehouse: str | Path | None = None, *, manifest: str | Path | None = None
) -> Iterator[SemanticLayer]:
    """The semantic layer over ``warehouse`` (the working warehouse or the serving file
    ``gold.duckdb``), opened read-only and sandboxed; default: ENGAGEMENT_LAKE_WAREHOUSE."""
    data = load_manifest(manifest)
    with _sandboxed(warehouse_path(warehouse)) as con:
        yield SemanticLayer(con, data)


def query_metrics(
    metrics: Sequence[str],
    group_by: Sequence[str] = (),
    where: Sequence[str] = (),
    order_by: Sequence[str] = (),
    limit: int | None = None,
    *,
    warehouse: str | Path | None = None,
    manifest: str | Path | None = None,
) -> Any:
    """Metrics as a pandas DataFrame, in one engine call (see ``SemanticLayer.query``)."""
    with open_layer(warehouse, manifest=manifest) as layer:
        return layer.query(metrics, group_by, where, order_by, limit)


def run_saved_query(
    name: str, *, warehouse: str | Path | None = None, manifest: str | Path | None = None
) -> Any:
    """A dashboard's saved query (``<dashboard>__<chart>``) as a pandas DataFrame."""
    with open_layer(warehouse, manifest=manifest) as layer:
        return layer.saved_query(name)


def format_frame(frame: Any, fmt: str = "table", *, width: int | None = None) -> str:
    """A result as ``engagement-lake sql`` prints one: a terminal table, CSV or JSON (missing
    values as NULL / empty / null, whole-number floats as integers)."""
    from engagement_lake.analyst.formats import format_csv, format_json, format_table

    def cell(value: Any) -> Any:
        if value is None or value != value:  # None, NaN and NaT
            return None
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if hasattr(value, "to_pydatetime"):
            stamp = value.to_pydatetime()
            return stamp.date() if stamp.time() == stamp.min.time() else stamp
        return value.item() if hasattr(value, "item") else value

    columns = [str(c) for c in frame.columns]
    rows = [[cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    if fmt == "csv":
        return format_csv(columns, rows)
    if fmt == "json":
        return format_json(columns, rows)
    return format_table(columns, rows, width=width)
