"""Load and validate the bronze data contracts in ``schemas/<system>/<table>.odcs.yaml``.

The contracts (Open Data Contract Standard v3) are the single source of truth for the bronze
tables: the generator, the dbt sources, the staging casts and quarantine rules, the quality
suites and the warehouse DDL are all derived from the typed objects returned here.

Validation is layered because each layer catches what the previous one lets through:
1. YAML syntax;
2. the JSON Schema shipped with ``open-data-contract-standard`` (draft 2019-09), which rejects
   unknown logical types and misspelled keys that the package's pydantic model silently accepts;
3. the pydantic model itself (types of nested objects);
4. this project's rules: one table per file, named after its path, a primary key, physical
   types DuckDB can parse, known custom properties, and foreign keys that point at real columns.
Every failure is one line: ``<file>: <field>: <problem>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from engagement_lake.config import SCHEMAS_DIR
from engagement_lake.lineage import INTERNAL, PERSONAL, PERSONAL_TEXT, SENSITIVE

SOURCE_CLASSIFICATIONS = (INTERNAL, PERSONAL, PERSONAL_TEXT)
"""What a contract may call a source column (the rest of the vocabulary, ``derived-aggregate``,
describes computed columns: see engagement_lake.lineage.CLASSIFICATIONS)."""

SUPPORTED_API_VERSIONS = ("v3.1.0",)
LOGICAL_TYPES = ("string", "integer", "number", "boolean", "date", "timestamp")
STANDARDIZERS = ("email", "phone", "name", "state", "postcode", "address")
SEVERITIES = ("error", "warning", "info")
# versionHistory: staging also exposes every version of the table (stg_<system>__<table>_versions),
# for the history models that rebuild type-2 tables from bronze instead of keeping state.
TABLE_CUSTOM_PROPERTIES = ("eventTimestampColumn", "freshness", "versionHistory")
COLUMN_CUSTOM_PROPERTIES = ("standardize", "stagingName", "notAfterLoadDate")
RELATIONSHIP_CUSTOM_PROPERTIES = ("referenceRequired",)

# Physical types each logical type may be stored as. A date or timestamp may arrive as text
# (the source sends strings); staging then parses it with the contract's format.
_PHYSICAL_FAMILIES: dict[str, tuple[str, ...]] = {
    "string": ("VARCHAR",),
    "integer": ("BIGINT", "INTEGER", "SMALLINT", "TINYINT"),
    "number": ("DECIMAL", "DOUBLE", "FLOAT", "REAL"),
    "boolean": ("BOOLEAN",),
    "date": ("DATE", "VARCHAR"),
    "timestamp": ("TIMESTAMP", "VARCHAR"),
}


# Staged column names follow the project conventions: `_at` timestamps, `_date`
# dates, `is_`/`has_` booleans. A source that names a column otherwise declares `stagingName`.
_NAMING_CONVENTIONS = {
    "timestamp": (lambda n: n.endswith("_at"), "timestamps end in _at"),
    "date": (lambda n: n.endswith("_date"), "dates end in _date"),
    "boolean": (lambda n: n.startswith(("is_", "has_")), "booleans start with is_ or has_"),
}


class ContractError(ValueError):
    """A contract is malformed. ``str(error)`` is one line: ``<file>: <field>: <problem>``."""

    def __init__(self, path: Path | str, field_path: str, problem: str) -> None:
        self.path = Path(path)
        self.field_path = field_path
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.path}: {field_path}: {self.problem}")


@dataclass(frozen=True)
class Reference:
    """A foreign key: this column's values must exist in ``system.table.column``."""

    system: str
    table: str
    column: str
    required: bool
    """True when an orphan value is a contract violation (the row is quarantined); otherwise a
    missing parent is only reported."""

    @property
    def table_fqn(self) -> str:
        return f"{self.system}.{self.table}"


@dataclass(frozen=True)
class QualityRule:
    """A contract ``quality`` entry: a library metric or a SQL query compared with a bound."""

    name: str
    kind: str  # "library" or "sql"
    severity: str
    description: str
    metric: str | None = None
    query: str | None = None
    arguments: Mapping[str, Any] = field(default_factory=dict)
    operator: str | None = None  # mustBe, mustBeGreaterThan, ...
    threshold: Any = None


@dataclass(frozen=True)
class Column:
    """One bronze column with everything the contract says about it."""

    name: str
    logical_type: str
    physical_type: str
    description: str
    required: bool = False
    unique: bool = False
    primary_key: bool = False
    critical: bool = False
    classification: str = "internal"
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: Any = None
    maximum: Any = None
    date_format: str | None = None
    allowed_values: tuple[Any, ...] | None = None
    reference: Reference | None = None
    standardize: str | None = None
    staging_name: str | None = None
    not_after_load_date: bool = False
    """A date or time that has happened by the time its row lands: later than the row's load date
    is implausible (a birth date, an order, a signup), so the row is quarantined."""
    quality: tuple[QualityRule, ...] = ()

    @property
    def is_personal(self) -> bool:
        """Personal data by classification: a value that identifies someone (``personal``) or free
        text that may embed names and e-mails (``personal-text``)."""
        return self.classification in SENSITIVE

    @property
    def target_name(self) -> str:
        """The column's name after staging renames it to the project conventions."""
        return self.staging_name or self.name

    @property
    def arrives_as_text(self) -> bool:
        """A date or timestamp that the source sends as a string, to be parsed in staging."""
        return self.logical_type in ("date", "timestamp") and self.physical_type == "VARCHAR"


METADATA_COLUMNS: tuple[Column, ...] = (
    Column(
        "_loaded_at",
        "timestamp",
        "TIMESTAMP",
        "When the landing process wrote the row (UTC).",
        required=True,
    ),
    Column(
        "_source_file",
        "string",
        "VARCHAR",
        "Bronze file the row was landed in, relative to the data folder.",
        required=True,
    ),
    Column(
        "_batch_id",
        "string",
        "VARCHAR",
        "Landing batch (one per backfill or daily load).",
        required=True,
    ),
)
"""Columns the landing process adds to every bronze row; not part of any source's contract."""


@dataclass(frozen=True)
class Contract:
    """A bronze table's contract, typed."""

    path: Path
    id: str
    version: str
    system: str
    table: str
    description: str
    grain: str
    columns: tuple[Column, ...]
    quality: tuple[QualityRule, ...] = ()
    event_timestamp_column: str | None = None
    freshness_warn_hours: int | None = None
    freshness_error_hours: int | None = None
    version_history: bool = False

    @property
    def fqn(self) -> str:
        return f"{self.system}.{self.table}"

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.primary_key)

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """Source columns followed by the landing metadata columns, as stored in bronze."""
        return self.columns + METADATA_COLUMNS

    def column(self, name: str) -> Column:
        for col in self.all_columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.fqn} has no column {name!r}")

    @property
    def bronze_glob(self) -> str:
        """Files of this table relative to the data folder."""
        return f"bronze/{self.system}/{self.table}/*/*.parquet"


# ----------------------------------------------------------------------------- JSON Schema


@cache
def _odcs_validator() -> Any:
    import jsonschema

    schema = json.loads(
        resources.files("open_data_contract_standard").joinpath("schema.json").read_text()
    )
    return jsonschema.Draft201909Validator(schema)


def _field_path(doc: Any, path: Iterable[Any]) -> str:
    """Render a JSON path like ``schema[0].properties[3](email).logicalType``."""
    out, node = "", doc
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, Mapping) and isinstance(node.get("name"), str):
                out += f"({node['name']})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, Mapping) else None
    return out or "(document)"


def _schema_error(path: Path, doc: Any) -> ContractError | None:
    import jsonschema

    errors = list(_odcs_validator().iter_errors(doc))
    if not errors:
        return None
    best = jsonschema.exceptions.best_match(errors)
    message = best.message
    if best.validator == "enum":
        message = f"{best.instance!r} is not one of {', '.join(map(str, best.validator_value))}"
    elif best.validator == "unevaluatedProperties":
        message = message.replace("Unevaluated properties are not allowed", "unknown key(s)")
    return ContractError(path, _field_path(doc, best.absolute_path), message)


# ----------------------------------------------------------------------------- parsing


def _custom_properties(
    path: Path, where: str, items: list[Mapping[str, Any]] | None, known: tuple[str, ...]
) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for i, item in enumerate(items or []):
        name = item.get("property")
        if name not in known:
            raise ContractError(
                path,
                f"{where}.customProperties[{i}]",
                f"unknown custom property {name!r} (known: {', '.join(known)})",
            )
        props[name] = item.get("value")
    return props


def _quality_rules(
    path: Path, where: str, items: list[Mapping[str, Any]] | None
) -> tuple[QualityRule, ...]:
    rules = []
    operators = (
        "mustBe",
        "mustNotBe",
        "mustBeGreaterThan",
        "mustBeGreaterOrEqualTo",
        "mustBeLessThan",
        "mustBeLessOrEqualTo",
        "mustBeBetween",
        "mustNotBeBetween",
    )
    for i, item in enumerate(items or []):
        here = f"{where}.quality[{i}]"
        kind = item.get("type", "library")
        if kind not in ("library", "sql"):
            raise ContractError(
                path, f"{here}.type", f"{kind!r} rules cannot be executed; use library or sql"
            )
        severity = item.get("severity", "error")
        if severity not in SEVERITIES:
            raise ContractError(
                path, f"{here}.severity", f"{severity!r} is not one of {', '.join(SEVERITIES)}"
            )
        if not item.get("name"):
            raise ContractError(path, f"{here}.name", "every quality rule needs a name")
        operator = next((op for op in operators if op in item), None)
        rules.append(
            QualityRule(
                name=item["name"],
                kind=kind,
                severity=severity,
                description=item.get("description", ""),
                metric=item.get("metric"),
                query=item.get("query"),
                arguments=dict(item.get("arguments") or {}),
                operator=operator,
                threshold=item.get(operator) if operator else None,
            )
        )
    return tuple(rules)


def _parse_reference(
    path: Path, where: str, rels: list[Mapping[str, Any]] | None
) -> Reference | None:
    if not rels:
        return None
    if len(rels) > 1:
        raise ContractError(path, f"{where}.relationships", "at most one foreign key per column")
    rel = rels[0]
    target = rel.get("to")
    parts = target.split(".") if isinstance(target, str) else []
    if len(parts) != 3:
        raise ContractError(
            path, f"{where}.relationships[0].to", f"{target!r} must be written system.table.column"
        )
    cps = _custom_properties(
        path,
        f"{where}.relationships[0]",
        rel.get("customProperties"),
        RELATIONSHIP_CUSTOM_PROPERTIES,
    )
    return Reference(parts[0], parts[1], parts[2], bool(cps.get("referenceRequired", False)))


def _physical_ok(logical: str, physical: str) -> bool:
    base = physical.split("(")[0].strip().upper()
    return base in _PHYSICAL_FAMILIES[logical]


def _parse_column(path: Path, where: str, raw: Mapping[str, Any]) -> Column:
    name = raw["name"]
    logical = raw.get("logicalType")
    if logical not in LOGICAL_TYPES:
        raise ContractError(
            path,
            f"{where}.logicalType",
            f"{logical!r} is not supported here (use one of {', '.join(LOGICAL_TYPES)})",
        )
    physical = raw.get("physicalType")
    if not physical:
        raise ContractError(path, f"{where}.physicalType", "every column needs a physical type")
    _check_physical_type(path, f"{where}.physicalType", physical)
    if not _physical_ok(logical, physical):
        raise ContractError(
            path, f"{where}.physicalType", f"{physical!r} cannot hold logical type {logical!r}"
        )
    opts = raw.get("logicalTypeOptions") or {}
    cps = _custom_properties(path, where, raw.get("customProperties"), COLUMN_CUSTOM_PROPERTIES)
    if cps.get("standardize") is not None and cps["standardize"] not in STANDARDIZERS:
        raise ContractError(
            path,
            f"{where}.customProperties.standardize",
            f"{cps['standardize']!r} is not one of {', '.join(STANDARDIZERS)}",
        )
    quality = _quality_rules(path, where, raw.get("quality"))
    allowed = None
    for rule in quality:
        if rule.metric == "invalidValues":
            values = rule.arguments.get("validValues")
            if not isinstance(values, list) or not values:
                raise ContractError(
                    path,
                    f"{where}.quality({rule.name}).arguments.validValues",
                    "invalidValues needs a non-empty list of validValues",
                )
            allowed = tuple(values)
    target = cps.get("stagingName") or name
    convention = _NAMING_CONVENTIONS.get(logical)
    if convention and not convention[0](target):
        raise ContractError(
            path,
            where,
            f"staged name {target!r} breaks the convention: "
            f"{convention[1]} (set customProperties.stagingName)",
        )
    if logical in ("date", "timestamp"):
        _check_date_window(path, where, opts, cps)
    if raw.get("primaryKey") and not raw.get("required"):
        raise ContractError(path, f"{where}.required", "a primary-key column must be required")
    return Column(
        name=name,
        logical_type=logical,
        physical_type=physical,
        description=raw.get("description") or "",
        required=bool(raw.get("required", False)),
        unique=bool(raw.get("unique", False)),
        primary_key=bool(raw.get("primaryKey", False)),
        critical=bool(raw.get("criticalDataElement", False)),
        classification=_classification(path, where, raw.get("classification")),
        pattern=opts.get("pattern"),
        min_length=opts.get("minLength"),
        max_length=opts.get("maxLength"),
        minimum=opts.get("minimum"),
        maximum=opts.get("maximum"),
        date_format=opts.get("format") if logical in ("date", "timestamp") else None,
        allowed_values=allowed,
        reference=_parse_reference(path, where, raw.get("relationships")),
        standardize=cps.get("standardize"),
        staging_name=cps.get("stagingName"),
        not_after_load_date=bool(cps.get("notAfterLoadDate", False)),
        quality=quality,
    )


def _check_date_window(
    path: Path, where: str, opts: Mapping[str, Any], cps: Mapping[str, Any]
) -> None:
    """Every date needs a plausible window: a minimum after the unknown member's date (so no
    source date can pose as it) and an upper bound, either a maximum or ``notAfterLoadDate``."""
    from engagement_lake.config import UNKNOWN_MEMBER_DATE

    minimum = opts.get("minimum")
    try:
        lowest = date.fromisoformat(str(minimum)[:10]) if minimum is not None else None
    except ValueError:
        lowest = None
    if lowest is None or lowest <= UNKNOWN_MEMBER_DATE:
        raise ContractError(
            path,
            f"{where}.logicalTypeOptions.minimum",
            f"a date needs a minimum (YYYY-MM-DD) after {UNKNOWN_MEMBER_DATE}, "
            "the unknown member's date",
        )
    if opts.get("maximum") is None and not cps.get("notAfterLoadDate"):
        raise ContractError(
            path,
            where,
            "a date needs an upper bound: logicalTypeOptions.maximum, or the custom property "
            "notAfterLoadDate for a date that has happened by the time its row lands",
        )


def _classification(path: Path, where: str, value: Any) -> str:
    """A source column is ``internal`` (default), ``personal`` or ``personal-text``."""
    value = value or INTERNAL
    if value not in SOURCE_CLASSIFICATIONS:
        raise ContractError(
            path,
            f"{where}.classification",
            f"{value!r} is not one of {', '.join(SOURCE_CLASSIFICATIONS)}",
        )
    return str(value)


def _check_physical_type(path: Path, where: str, physical: str) -> None:
    import sqlglot
    from sqlglot.errors import ParseError

    try:
        sqlglot.exp.DataType.build(physical, dialect="duckdb")
    except (ParseError, ValueError) as exc:
        raise ContractError(path, where, f"{physical!r} is not a DuckDB type ({exc})") from None


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it (ten times faster), else the pure-Python one."""


def parse_contract(path: Path | str, text: str | None = None) -> Contract:
    """Parse and validate one contract file (or ``text`` as if it were that file)."""
    path = Path(path)
    try:
        doc = yaml.load(path.read_text() if text is None else text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(document)"
        raise ContractError(path, where, f"invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(doc, Mapping):
        raise ContractError(path, "(document)", "a contract must be a YAML mapping")

    error = _schema_error(path, doc)
    if error:
        raise error

    from open_data_contract_standard.model import OpenDataContractStandard
    from pydantic import ValidationError

    try:
        OpenDataContractStandard.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ContractError(path, ".".join(map(str, first["loc"])), first["msg"]) from None

    if doc["apiVersion"] not in SUPPORTED_API_VERSIONS:
        raise ContractError(
            path,
            "apiVersion",
            f"{doc['apiVersion']!r} is not supported (use {', '.join(SUPPORTED_API_VERSIONS)})",
        )
    objects = doc.get("schema") or []
    if len(objects) != 1:
        raise ContractError(path, "schema", f"expected exactly one table, found {len(objects)}")
    obj = objects[0]
    ow = f"schema[0]({obj['name']})"
    system, table = path.parent.name, path.name.removesuffix(".odcs.yaml")
    if obj["name"] != table:
        raise ContractError(
            path, f"{ow}.name", f"{obj['name']!r} does not match the file name {table!r}"
        )
    if doc.get("name") != f"{system}.{table}":
        raise ContractError(path, "name", f"{doc.get('name')!r} must be {system}.{table}")
    if doc.get("domain") != system:
        raise ContractError(
            path, "domain", f"{doc.get('domain')!r} must be the system folder {system!r}"
        )

    columns: list[Column] = []
    seen: set[str] = set()
    for i, raw in enumerate(obj.get("properties") or []):
        where = f"{ow}.properties[{i}]({raw['name']})"
        if raw["name"] in seen:
            raise ContractError(path, where, "duplicate column name")
        if raw["name"].startswith("_"):
            raise ContractError(
                path, where, "names starting with '_' are reserved for landing metadata"
            )
        seen.add(raw["name"])
        columns.append(_parse_column(path, where, raw))
    if not columns:
        raise ContractError(path, f"{ow}.properties", "a table needs at least one column")
    if not any(c.primary_key for c in columns):
        raise ContractError(path, f"{ow}.properties", "no column is marked primaryKey")

    cps = _custom_properties(path, ow, obj.get("customProperties"), TABLE_CUSTOM_PROPERTIES)
    event_col = cps.get("eventTimestampColumn")
    if event_col is not None and event_col not in seen:
        raise ContractError(
            path,
            f"{ow}.customProperties.eventTimestampColumn",
            f"{event_col!r} is not a column of {table}",
        )
    freshness = cps.get("freshness") or {}

    return Contract(
        path=path,
        id=doc["id"],
        version=str(doc.get("version", "")),
        system=system,
        table=table,
        description=obj.get("description") or (doc.get("description") or {}).get("purpose", ""),
        grain=obj.get("dataGranularityDescription") or "",
        columns=tuple(columns),
        quality=_quality_rules(path, ow, obj.get("quality")),
        event_timestamp_column=event_col,
        freshness_warn_hours=freshness.get("warnAfterHours"),
        freshness_error_hours=freshness.get("errorAfterHours"),
        version_history=bool(cps.get("versionHistory", False)),
    )


def check_references(contracts: Mapping[str, Contract]) -> None:
    """Every foreign key must point at an existing column of the same type family."""
    for contract in contracts.values():
        for col in contract.columns:
            ref = col.reference
            if ref is None:
                continue
            where = f"schema[0]({contract.table}).properties({col.name}).relationships[0].to"
            target = contracts.get(ref.table_fqn)
            if target is None:
                raise ContractError(contract.path, where, f"no contract for table {ref.table_fqn}")
            try:
                target_col = target.column(ref.column)
            except KeyError:
                raise ContractError(
                    contract.path, where, f"{ref.table_fqn} has no column {ref.column!r}"
                ) from None
            if target_col.logical_type != col.logical_type:
                raise ContractError(
                    contract.path,
                    where,
                    f"{col.logical_type} column cannot reference "
                    f"{target_col.logical_type} {ref.table_fqn}.{ref.column}",
                )


def load_contracts(root: Path | str | None = None) -> dict[str, Contract]:
    """All contracts under ``root`` (default ``schemas/``), keyed ``system.table``, sorted."""
    root = Path(root) if root is not None else SCHEMAS_DIR
    files = sorted(root.glob("*/*.odcs.yaml"))
    if not files:
        raise ContractError(
            root, "(folder)", "no contracts found (expected <system>/<table>.odcs.yaml)"
        )
    contracts = {c.fqn: c for c in map(parse_contract, files)}
    check_references(contracts)
    return contracts


def systems(contracts: Mapping[str, Contract]) -> dict[str, list[Contract]]:
    """Contracts grouped by source system, in name order."""
    grouped: dict[str, list[Contract]] = {}
    for contract in contracts.values():
        grouped.setdefault(contract.system, []).append(contract)
    return grouped
