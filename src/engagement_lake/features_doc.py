"""The feature map: ``docs/features.md`` rendered from the catalogue ``docs/features.yml``.

A user asks for a feature ("segment migration", "SLA breaches"), not for a model. The catalogue
says, feature by feature, which models, metrics, commands and analyses serve it, or that it is
only partly served or planned, and why. This module checks the catalogue's shape, measures each
served feature on a warehouse (the primary model's row count and one sample figure, read through
the analyst's sandboxed read-only connection, so rendering can never change the warehouse) and
writes the page. Whether the named models and commands exist is checked by the tests, against
the dbt manifest and the command line, so that a renamed model fails CI rather than the page.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from engagement_lake.config import PROJECT_ROOT

CATALOGUE_PATH = PROJECT_ROOT / "docs" / "features.yml"
DEFAULT_OUT = PROJECT_ROOT / "docs" / "features.md"
STATUSES = ("served", "partial", "planned")
"""served: what the catalogue names answers the feature; partial: it answers part of it
(``missing`` says what not); planned: nothing answers it yet (``reason``, or ``planned_by`` for
work that is on its way)."""
ANALYSIS_PREFIX = "analyses/"
CLI_PREFIX = "engagement-lake "
SCHEMA_PREFERENCE = ("gold", "silver", "history", "quality", "staging")
"""The warehouse schemas a model's relation is looked for in, in this order."""

_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_FEATURE_KEYS = {
    "id",
    "area",
    "name",
    "description",
    "status",
    "models",
    "metrics",
    "planned_metrics",
    "commands",
    "sample",
    "missing",
    "reason",
    "planned_by",
}


class CatalogueError(ValueError):
    """The catalogue is malformed; the message is one line naming the file and the feature."""


class SampleError(RuntimeError):
    """A feature's sample query failed or did not return exactly one non-null value."""


@dataclass(frozen=True)
class Area:
    id: str
    title: str


@dataclass(frozen=True)
class Feature:
    """One feature of the engagement space and what serves it."""

    id: str
    area: str
    name: str
    description: str
    status: str
    models: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    planned_metrics: tuple[str, ...] = ()
    """Semantic-layer metrics on their way: renamed to ``metrics`` once in the manifest."""
    commands: tuple[str, ...] = ()
    sample: str | None = None
    missing: str | None = None
    reason: str | None = None
    planned_by: str | None = None

    @property
    def is_checked(self) -> bool:
        """Served and partial features are measured and checked; planned ones are not (yet)."""
        return self.status != "planned"

    @property
    def analyses(self) -> tuple[str, ...]:
        """The cookbook analyses among the commands, by file stem."""
        return tuple(
            c.removeprefix(ANALYSIS_PREFIX) for c in self.commands if c.startswith(ANALYSIS_PREFIX)
        )

    @property
    def cli_commands(self) -> tuple[str, ...]:
        return tuple(c for c in self.commands if c.startswith(CLI_PREFIX))


@dataclass(frozen=True)
class Catalogue:
    path: Path
    areas: tuple[Area, ...]
    features: tuple[Feature, ...]

    def in_area(self, area: str) -> list[Feature]:
        return [f for f in self.features if f.area == area]

    def status_counts(self) -> Counter[str]:
        return Counter(f.status for f in self.features)


def _fail(path: Path, where: str, problem: str) -> CatalogueError:
    return CatalogueError(f"{path}: {where}: {problem}")


def _names(path: Path, where: str, raw: dict[str, Any], key: str) -> tuple[str, ...]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(path, where, f"'{key}' must be a list of names")
    return tuple(v.strip() for v in value)


def _text(path: Path, where: str, raw: dict[str, Any], key: str, required: bool) -> str | None:
    value = raw.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, where, f"'{key}' must be non-empty text")
    return " ".join(value.split())


def _feature(path: Path, index: int, raw: Any, area_ids: set[str]) -> Feature:
    if not isinstance(raw, dict):
        raise _fail(path, f"feature #{index + 1}", "must be a mapping")
    fid = raw.get("id")
    if not isinstance(fid, str) or not _ID.match(fid):
        raise _fail(path, f"feature #{index + 1}", f"id {fid!r} must be kebab-case")
    where = f"feature '{fid}'"
    unknown = sorted(set(raw) - _FEATURE_KEYS)
    if unknown:
        raise _fail(path, where, f"unknown key(s) {', '.join(unknown)}")
    area = _text(path, where, raw, "area", True)
    if area not in area_ids:
        raise _fail(path, where, f"area '{area}' is not one of the catalogue's areas")
    status = _text(path, where, raw, "status", True)
    if status not in STATUSES:
        raise _fail(path, where, f"status '{status}' must be one of {', '.join(STATUSES)}")
    feature = Feature(
        id=fid,
        area=area,
        name=_text(path, where, raw, "name", True) or "",
        description=_text(path, where, raw, "description", True) or "",
        status=status,
        models=_names(path, where, raw, "models"),
        metrics=_names(path, where, raw, "metrics"),
        planned_metrics=_names(path, where, raw, "planned_metrics"),
        commands=_names(path, where, raw, "commands"),
        sample=_text(path, where, raw, "sample", False),
        missing=_text(path, where, raw, "missing", False),
        reason=_text(path, where, raw, "reason", False),
        planned_by=_text(path, where, raw, "planned_by", False),
    )
    for command in feature.commands:
        if not command.startswith((ANALYSIS_PREFIX, CLI_PREFIX)):
            raise _fail(
                path,
                where,
                f"command '{command}' must start with '{CLI_PREFIX}' or '{ANALYSIS_PREFIX}'",
            )
    if feature.is_checked or feature.planned_by:
        # planned_by work carries what it will be checked with, and keeps its planned_by as a
        # record once served, so that serving it is a one-line change of status
        kind = "planned_by" if not feature.is_checked else status
        if not feature.sample:
            raise _fail(path, where, f"a {kind} feature needs a sample query")
        if not feature.models:
            raise _fail(path, where, f"a {kind} feature needs at least one model")
    if status == "partial" and not feature.missing:
        raise _fail(path, where, "a partial feature says what is 'missing'")
    if status != "partial" and feature.missing:
        raise _fail(path, where, "'missing' belongs to partial features only")
    if status == "planned" and not (feature.reason or feature.planned_by):
        raise _fail(path, where, "a planned feature gives a 'reason' or 'planned_by'")
    if status != "planned" and feature.reason:
        raise _fail(path, where, "'reason' belongs to planned features only")
    return feature


def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Read and validate the catalogue: unique kebab-case ids, known areas each with at least
    one feature, a status from STATUSES with what it requires (a sample and a model when served
    or partial, ``missing`` when partial, ``reason`` or ``planned_by`` when planned)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"{path}: no such catalogue") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("areas"), list):
        raise CatalogueError(f"{path}: needs a list 'areas' and a list 'features'")
    if not isinstance(raw.get("features"), list):
        raise CatalogueError(f"{path}: needs a list 'areas' and a list 'features'")
    areas: list[Area] = []
    for index, item in enumerate(raw["areas"]):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise _fail(path, f"area #{index + 1}", "needs an 'id' and a 'title'")
        title = _text(path, f"area '{item['id']}'", item, "title", True) or ""
        areas.append(Area(item["id"], title))
    area_ids = [a.id for a in areas]
    duplicated = sorted({a for a in area_ids if area_ids.count(a) > 1})
    if duplicated:
        raise _fail(path, f"area '{duplicated[0]}'", "is declared twice")
    features = [_feature(path, i, item, set(area_ids)) for i, item in enumerate(raw["features"])]
    seen: set[str] = set()
    for feature in features:
        if feature.id in seen:
            raise _fail(path, f"feature '{feature.id}'", "id is used twice")
        seen.add(feature.id)
    empty = [a for a in area_ids if not any(f.area == a for f in features)]
    if empty:
        raise _fail(path, f"area '{empty[0]}'", "has no feature")
    return Catalogue(path, tuple(areas), tuple(features))


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader where PyYAML was built with it: the project's YAML is large."""


def model_yaml_paths(root: Path = PROJECT_ROOT) -> dict[str, Path]:
    """Each model's and seed's YAML file (where its description and columns live), by name,
    read from the project's ``models/`` and ``seeds/`` folders."""
    found: dict[str, Path] = {}
    for folder, key in (("models", "models"), ("seeds", "seeds")):
        for path in sorted((root / folder).rglob("*.yml")):
            try:
                doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
            except yaml.YAMLError:
                continue
            entries = doc.get(key) if isinstance(doc, dict) else None
            for entry in entries or []:
                if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                    found.setdefault(entry["name"], path)
    return found


@dataclass(frozen=True)
class Measure:
    """What the warehouse says about one checked feature."""

    primary_rows: int | None
    """Rows of the feature's first model; None when the model has no relation (ephemeral)."""
    sample: Any


def _relations(con: Any) -> dict[str, str]:
    """Every table and view of the layer schemas, by name, in the schema SCHEMA_PREFERENCE
    prefers when a name is in several."""
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_schema in (" + ", ".join("?" for _ in SCHEMA_PREFERENCE) + ")",
        list(SCHEMA_PREFERENCE),
    ).fetchall()
    found: dict[str, str] = {}
    for schema, name in sorted(rows, key=lambda r: SCHEMA_PREFERENCE.index(r[0])):
        found.setdefault(name, f"{schema}.{name}")
    return found


def run_sample(con: Any, feature: Feature) -> Any:
    """The feature's sample query, refused unless read-only; it must return one non-null value."""
    from engagement_lake.analyst.sql import check_read_only

    assert feature.sample is not None
    try:
        check_read_only(feature.sample)
        rows = con.execute(feature.sample).fetchall()
    except Exception as exc:
        raise SampleError(
            f"feature '{feature.id}': sample query failed: {' '.join(str(exc).split())[:300]}"
        ) from None
    if len(rows) != 1 or len(rows[0]) != 1 or rows[0][0] is None:
        if not rows:
            shape = "no value"
        elif len(rows) == 1 and len(rows[0]) == 1:
            shape = "null"
        else:
            shape = f"{len(rows)} row(s) of {len(rows[0])} column(s)"
        raise SampleError(
            f"feature '{feature.id}': sample must return one non-null value, got {shape}"
        )
    return rows[0][0]


def measure(catalogue: Catalogue, warehouse: Path) -> dict[str, Measure]:
    """Row count of the primary model and the sample figure of every served or partial feature,
    read through the analyst's sandboxed, read-only connection."""
    from engagement_lake.analyst.connection import analyst_connection

    measures: dict[str, Measure] = {}
    with analyst_connection(Path(warehouse)) as con:
        relations = _relations(con)
        counts: dict[str, int] = {}
        for feature in catalogue.features:
            if not feature.is_checked:
                continue
            primary = feature.models[0]
            relation = relations.get(primary)
            if relation is not None and primary not in counts:
                counts[primary] = con.execute(f"select count(*) from {relation}").fetchone()[0]
            measures[feature.id] = Measure(counts.get(primary), run_sample(con, feature))
    return measures


def lake_origin(data_dir: Path) -> str:
    """Which generated lake the figures come from: scale, seed and last load date, as the
    generator recorded them beside bronze."""
    manifest = Path(data_dir) / "_truth" / "manifest.json"
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"a lake whose scale and seed are unknown (no readable {manifest})"
    loads = meta.get("loads") or []
    last = max((load.get("load_date", "") for load in loads), default=meta.get("as_of", "?"))
    scale, seed = meta.get("scale"), meta.get("seed")
    return f"a lake generated at scale {scale} with seed {seed} (last load {last})"


def format_figure(value: Any) -> str:
    """A sample figure as a reader wants it: thousands separators, four significant digits for
    rates, two decimals for amounts."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.4g}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _link(target: Path, out_dir: Path, label: str) -> str:
    return f"[{label}]({Path(os.path.relpath(target, out_dir)).as_posix()})"


def _served_by(feature: Feature, yaml_paths: dict[str, Path], out_dir: Path, root: Path) -> str:
    parts: list[str] = []
    for model in feature.models:
        path = yaml_paths.get(model)
        parts.append(_link(path, out_dir, model) if path else f"`{model}`")
    parts += [f"metric `{m}`" for m in feature.metrics]
    parts += [f"metric `{m}` (planned)" for m in feature.planned_metrics]
    for command in feature.commands:
        if command.startswith(ANALYSIS_PREFIX):
            stem = command.removeprefix(ANALYSIS_PREFIX)
            sql = root / "analyses" / f"{stem}.sql"
            parts.append(_link(sql, out_dir, stem) if sql.is_file() else f"`{command}`")
        else:
            parts.append(f"`{command}`")
    text = ", ".join(parts)
    if feature.status == "partial":
        text += f"<br>*missing:* {feature.missing}"
    if feature.status == "planned":
        note = f"*planned:* {feature.planned_by}" if feature.planned_by else "*planned*"
        if feature.reason:
            note += f" ({feature.reason})" if feature.planned_by else f": {feature.reason}"
        text = f"{text}<br>{note}" if text else note
    return _cell(text)


def render(
    catalogue: Catalogue,
    measures: dict[str, Measure],
    origin: str,
    out: Path = DEFAULT_OUT,
    root: Path = PROJECT_ROOT,
) -> str:
    """The page: a summary, then per area a table of features with what serves them, the
    primary model's row count and the sample figure (with the query that computes it)."""
    out_dir = Path(out).resolve().parent
    yaml_paths = model_yaml_paths(root)
    counts = catalogue.status_counts()
    total = len(catalogue.features)
    catalogue_link = _link(catalogue.path.resolve(), out_dir, catalogue.path.name)
    lines = [
        "# Feature map",
        "",
        "Every feature of the customer-engagement space this project sets out to serve, and what "
        "serves it: dbt models (linked to the YAML that documents them), semantic-layer metrics, "
        "`engagement-lake` commands and cookbook analyses. **Served** means what is named answers "
        "the feature; **partial** names what is missing; **planned** says why nothing serves it "
        "yet, or what will.",
        "",
        f"Generated by `engagement-lake features` from {catalogue_link}; the row counts and "
        f"sample figures were read from {origin}. Edit the catalogue, not this page.",
        "",
        "## Summary",
        "",
        f"{total} features in {len(catalogue.areas)} areas: "
        f"**{counts['served']} served**, **{counts['partial']} partial**, "
        f"**{counts['planned']} planned**.",
        "",
        "| area | features | served | partial | planned |",
        "|---|---:|---:|---:|---:|",
    ]
    for area in catalogue.areas:
        c = Counter(f.status for f in catalogue.in_area(area.id))
        anchor = re.sub(r"[^a-z0-9 -]", "", area.title.lower()).replace(" ", "-")
        lines.append(
            f"| [{area.title}](#{anchor}) | {c.total()} | {c['served']} | {c['partial']} | "
            f"{c['planned']} |"
        )
    waiting = [f for f in catalogue.features if f.status == "planned" and f.planned_by]
    if waiting:
        lines += ["", "Planned features with the work that will serve them:", ""]
        lines += [f"- `{f.id}`: {f.planned_by}" for f in waiting]
    for area in catalogue.areas:
        lines += [
            "",
            f"## {area.title}",
            "",
            "| feature | status | served by | rows | sample figure |",
            "|---|---|---|---:|---|",
        ]
        for feature in catalogue.in_area(area.id):
            m = measures.get(feature.id)
            rows = "" if m is None or m.primary_rows is None else f"{m.primary_rows:,}"
            figure = ""
            if m is not None and feature.sample:
                figure = f"**{format_figure(m.sample)}**<br>`{_cell(feature.sample)}`"
            lines.append(
                f"| **{_cell(feature.name)}** (`{feature.id}`): {_cell(feature.description)} | "
                f"{feature.status} | {_served_by(feature, yaml_paths, out_dir, root)} | {rows} | "
                f"{figure} |"
            )
    return "\n".join(lines) + "\n"


def write_features_doc(
    warehouse: Path,
    data_dir: Path,
    out: Path = DEFAULT_OUT,
    catalogue_path: Path = CATALOGUE_PATH,
) -> Catalogue:
    """Load the catalogue, measure it on the warehouse and write the page to ``out``."""
    catalogue = load_catalogue(catalogue_path)
    measures = measure(catalogue, warehouse)
    out = Path(out)
    text = render(catalogue, measures, lake_origin(data_dir), out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return catalogue
