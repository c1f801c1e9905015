"""The SQL cookbook: one question per ``analyses/*.sql`` file, run read-only on the warehouse."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb

from engagement_lake.analyst.connection import analyst_connection, table_exists
from engagement_lake.analyst.sql import run_sql
from engagement_lake.config import LAYER_SCHEMAS, PROJECT_ROOT

ANALYSES_DIR = PROJECT_ROOT / "analyses"
MACROS_DIR = PROJECT_ROOT / "macros"
"""The SQL cookbook: one question per file, stated in the file's leading comment."""


@dataclass(frozen=True)
class CookbookEntry:
    """One analysis of the cookbook: its name (file stem), the question it answers, its file."""

    name: str
    question: str
    path: Path


def _leading_question(sql: str) -> str:
    """The first paragraph of the file's leading ``--`` comment, on one line."""
    lines: list[str] = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped and not lines:
            continue
        if not stripped.startswith("--"):
            break
        text = stripped[2:].strip()
        if not text:
            if lines:
                break
            continue
        lines.append(text)
    question = " ".join(lines)
    return re.sub(r"^(question|q)\s*:\s*", "", question, flags=re.IGNORECASE)


def list_cookbook(analyses_dir: Path = ANALYSES_DIR) -> list[CookbookEntry]:
    """Every ``analyses/*.sql`` file with the question its leading comment states, by name."""
    analyses_dir = Path(analyses_dir)
    if not analyses_dir.is_dir():
        return []
    return [
        CookbookEntry(path.stem, _leading_question(path.read_text(encoding="utf-8")), path)
        for path in sorted(analyses_dir.glob("*.sql"))
    ]


AS_OF_PARAMETER = "cast($as_of_date as date)"
"""What ``var('as_of_date')`` renders to: a bound parameter, never a pasted-in date."""

_AS_OF_TOKEN = "__engagement_lake_as_of_date__"
_QUOTED_AS_OF = re.compile(rf"'{_AS_OF_TOKEN}'|{_AS_OF_TOKEN}")
_OWN_GLOBALS = ("ref", "var", "source", "return")


@dataclass(frozen=True)
class RenderedAnalysis:
    """A cookbook file rendered to plain SQL."""

    sql: str
    uses_as_of: bool
    """Whether the SQL needs the ``$as_of_date`` parameter."""
    as_of_default: date | None = None
    """The default the file gives in ``var('as_of_date', '…')``, if any."""


@cache
def project_vars(project_file: Path = PROJECT_ROOT / "dbt_project.yml") -> dict[str, Any]:
    """The vars declared in ``dbt_project.yml``: what ``var()`` resolves to, as in dbt."""
    import yaml

    return dict(yaml.safe_load(project_file.read_text(encoding="utf-8")).get("vars") or {})


_DBT_ONLY_BLOCKS = re.compile(r"\{%-?\s*(test|materialization|snapshot|docs)\b")


def _project_macro_sources(macros_dir: Path) -> list[tuple[Path, str]]:
    """The project's macro files, without those defining generic tests or materializations:
    their block tags are dbt's own, and an analysis cannot call them anyway."""
    found = []
    for path in sorted(macros_dir.rglob("*.sql")):
        text = path.read_text(encoding="utf-8")
        if not _DBT_ONLY_BLOCKS.search(text):
            found.append((path, text))
    return found


class _Return(Exception):
    """dbt's ``return()``: ends a macro with a value (carried out of Jinja as an exception)."""

    def __init__(self, value: Any) -> None:
        super().__init__()
        self.value = value


def render_cookbook_sql(
    sql: str,
    schemas: Mapping[str, str] | None = None,
    *,
    name: str = "analysis",
    variables: Mapping[str, Any] | None = None,
    macros_dir: Path = MACROS_DIR,
) -> RenderedAnalysis:
    """Render a cookbook file with Jinja the way dbt would, without starting dbt.

    The environment is real Jinja (dbt's ``do`` extension, strict undefined names) holding the
    project's macros from ``macros/`` and three globals of its own: ``ref('x')`` renders
    ``gold.x`` (or ``<schema>.x`` when ``schemas`` maps x to another layer); ``var(name)`` the
    value declared in ``dbt_project.yml`` (``variables`` overrides), except ``var('as_of_date',
    …)``, quoted or not, which becomes the parameter ``cast($as_of_date as date)`` bound at run
    time; ``source()`` is refused, because the cookbook reads the warehouse's models only.
    Macros written per engine render their DuckDB spelling (``adapter.dispatch`` picks
    ``duckdb__x``, else ``default__x``; ``dbt.type_string()`` is ``varchar``). A macro that needs
    more of dbt's adapter, or any name Jinja cannot resolve, raises ``ValueError`` naming the
    analysis: a half-rendered query must not run.
    """
    import jinja2

    schemas = schemas or {}
    declared = dict(project_vars()) if variables is None else dict(variables)
    as_of: dict[str, Any] = {}

    def ref(*parts: str) -> str:
        table = parts[-1]
        return f"{schemas.get(table, 'gold')}.{table}"

    def var(key: str, default: Any = None) -> Any:
        if key == "as_of_date":
            as_of["used"] = True
            as_of.setdefault("default", default)
            return _AS_OF_TOKEN
        if key in declared:
            return declared[key]
        if default is not None:
            return default
        raise ValueError(f"cookbook {name!r}: var {key!r} is not declared in dbt_project.yml")

    def source(*_: str) -> str:
        raise ValueError(f"cookbook {name!r} calls source(); the cookbook reads models: use ref()")

    def dbt_return(value: Any) -> None:
        raise _Return(value)

    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"], autoescape=False
    )
    env.globals.update(
        ref=ref,
        var=var,
        source=source,
        adapter=_DuckDBDispatch(env.globals),
        dbt=SimpleNamespace(type_string=lambda: "varchar"),
        **{"return": dbt_return},
    )
    for path, text in _project_macro_sources(Path(macros_dir)):
        try:
            module = env.from_string(text).module
        except jinja2.TemplateError as exc:
            raise ValueError(f"macro file {path}: {exc}") from None
        for macro_name in dir(module):
            macro = getattr(module, macro_name)
            if isinstance(macro, jinja2.runtime.Macro) and macro_name not in _OWN_GLOBALS:
                env.globals[macro_name] = _returning(macro)
    try:
        text = env.from_string(sql).render()
    except ValueError:
        raise
    except (jinja2.TemplateError, TypeError, AttributeError) as exc:
        raise ValueError(f"cookbook {name!r} does not render outside dbt: {exc}") from None
    default = as_of.get("default")
    return RenderedAnalysis(
        _QUOTED_AS_OF.sub(AS_OF_PARAMETER, text),
        bool(as_of.get("used")),
        date.fromisoformat(str(default).strip()) if default else None,
    )


class _DuckDBDispatch:
    """dbt's ``adapter.dispatch`` for the engine the cookbook runs on: a macro written per
    adapter (``duckdb__name``, else ``default__name``) renders its DuckDB spelling."""

    def __init__(self, macros: Mapping[str, Any]) -> None:
        self.macros = macros

    def dispatch(self, macro_name: str, macro_namespace: str | None = None) -> Any:
        for prefix in ("duckdb__", "default__"):
            if prefix + macro_name in self.macros:
                return self.macros[prefix + macro_name]
        raise ValueError(f"macro {macro_name!r} has no duckdb__ or default__ implementation")


def _returning(macro: Any) -> Any:
    """A project macro callable like dbt calls it: ``return(x)`` inside it gives x."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return macro(*args, **kwargs)
        except _Return as value:
            return value.value

    return call


def _model_schemas(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Table name → layer schema, gold first: where a ``ref('x')`` of the cookbook lives."""
    found = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in (select unnest(?))",
        [list(LAYER_SCHEMAS)],
    ).fetchall()
    order = {schema: i for i, schema in enumerate(("gold", *LAYER_SCHEMAS))}
    schemas: dict[str, str] = {}
    for schema, table in sorted(found, key=lambda row: order.get(row[0], 99)):
        schemas.setdefault(table, schema)
    return schemas


def _lake_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    """The lake's as-of date: the last past day of gold.dim_date (dbt's as_of_date macro)."""
    if not table_exists(con, "gold.dim_date"):
        return None
    found = con.execute(
        "select max(date_day) from gold.dim_date where is_past and year_number > 0"
    ).fetchone()
    return found[0] if found else None


def run_cookbook(
    warehouse: Path,
    name: str,
    analyses_dir: Path = ANALYSES_DIR,
    fmt: str = "table",
    *,
    as_of: date | None = None,
    width: int | None = None,
) -> str:
    """Render one cookbook analysis and run it read-only through ``run_sql``.

    ``as_of`` fills ``var('as_of_date')``; without it, the file's default, else the lake's own
    as-of date. An unknown name raises ``LookupError`` listing the available analyses.
    """
    entries = {entry.name: entry for entry in list_cookbook(analyses_dir)}
    key = name.removesuffix(".sql")
    if key not in entries:
        available = ", ".join(entries) or "none"
        raise LookupError(f"no cookbook analysis named {name!r}; available: {available}")
    raw = entries[key].path.read_text(encoding="utf-8")
    with analyst_connection(warehouse) as con:
        schemas = _model_schemas(con)
        lake_as_of = _lake_as_of(con)
    rendered = render_cookbook_sql(raw, schemas, name=key)
    params: dict[str, Any] | None = None
    if rendered.uses_as_of:
        day = as_of or rendered.as_of_default or lake_as_of
        if day is None:
            raise ValueError(
                f"cookbook {key!r} needs an as-of date and the warehouse has no gold.dim_date; "
                "pass one"
            )
        params = {"as_of_date": day.isoformat()}
    return run_sql(warehouse, rendered.sql, params, fmt, width=width)
