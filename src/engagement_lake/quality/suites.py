"""Translate the contracts and the dbt manifest into expectation suites.

One planned check is an ``Expect``: what to check (a Great Expectations expectation type, or one
of the few checks GX cannot express), on which column, with which severity, and which engine
evaluates it. The translation is pure Python and cheap, so the tests and the report can list the
suites without importing great_expectations; ``TableSuite.gx_suite()`` builds the real GX 1.x
``ExpectationSuite`` when one is needed.

Engines, and why GX is not the only one:

* ``gx``: column-map expectations (not null, in set, between, regex, lengths, strftime). Each
  row is judged on its own, so GX can validate a table chunk by chunk and the per-chunk
  unexpected counts add up exactly.
* ``files`` (bronze): file footers and per-file schemas, read with pyarrow before any row.
* ``layer``: freshness, which compares each table with the newest load of all tables.
* ``duckdb``: checks whose truth depends on the whole table (uniqueness, row count, foreign-key
  presence, the columns of a relation) and the contract's SQL rules. A chunk cannot see its
  neighbours, and a GROUP BY or anti-join in DuckDB is orders of magnitude faster than the same
  in pandas, so these are counted there and reported under the same expectation names.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engagement_lake.contracts import Column, Contract, QualityRule

ERROR = "error"
WARNING = "warning"

# Expectation types evaluated chunk by chunk by GX.
NOT_NULL = "expect_column_values_to_not_be_null"
IN_SET = "expect_column_values_to_be_in_set"
BETWEEN = "expect_column_values_to_be_between"
REGEX = "expect_column_values_to_match_regex"
LENGTHS = "expect_column_value_lengths_to_be_between"
STRFTIME = "expect_column_values_to_match_strftime_format"
GX_MAP_TYPES = (NOT_NULL, IN_SET, BETWEEN, REGEX, LENGTHS, STRFTIME)

# Expectation types evaluated over the whole table in DuckDB.
UNIQUE = "expect_column_values_to_be_unique"
COMPOUND_UNIQUE = "expect_compound_columns_to_be_unique"
ROW_COUNT = "expect_table_row_count_to_be_between"
COLUMN_EXISTS = "expect_column_to_exist"
COLUMNS_MATCH = "expect_table_columns_to_match_set"
GX_TABLE_TYPES = (UNIQUE, COMPOUND_UNIQUE, ROW_COUNT, COLUMN_EXISTS, COLUMNS_MATCH)

# Checks GX has no expectation for.
FOREIGN_KEY = "foreign_key_presence"
FILE_READABLE = "parquet_file_readable"
FRESHNESS = "source_freshness"
RECONCILIATION = "row_count_reconciliation"
RELATION_EXISTS = "relation_exists"
UNSUPPORTED = "unsupported_rule"
SQL_PREFIX = "sql:"
# Row rules the build quarantines on that GX has no expectation for, run as counting queries.
CASTABLE = SQL_PREFIX + "value_castable"
NOT_BLANK = SQL_PREFIX + "required_not_blank"
DATE_WINDOW = SQL_PREFIX + "date_within_window"

_NON_GX_KWARGS = ("operator", "threshold", "where")
"""Kwargs the runner uses but GX does not know (the rule's own comparison, a dbt filter)."""

_OPERATOR_TEXT = {
    "mustBe": "==",
    "mustNotBe": "!=",
    "mustBeGreaterThan": ">",
    "mustBeGreaterOrEqualTo": ">=",
    "mustBeLessThan": "<",
    "mustBeLessOrEqualTo": "<=",
    "mustBeBetween": "between",
    "mustNotBeBetween": "not between",
}


@dataclass(frozen=True)
class Expect:
    """One planned check on one table."""

    check: str
    """GX expectation type (``expect_…``) or one of the custom check names above."""
    column: str | None
    severity: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    engine: str = "gx"
    note: str = ""
    """Where the check comes from (contract rule, dbt test), shown in the report."""
    row_condition: str | None = None
    """For a rule that counts the rows breaking it, each judged on its own values alone: the
    condition such a row meets. Set on the bronze rules generated from the contracts'
    columns (``_count_rule``), whose counts can be taken per file (``quality.per_file``)."""
    proved_by: str | None = None
    """The dbt test (node id) that counts the same key rule in the build: when the build that
    wrote the warehouse passed it, the check takes that verdict (``build_verdicts``)."""


@dataclass
class TableSuite:
    """Every planned check of one table (or view) of one layer."""

    layer: str
    table: str
    """Display name: ``shop.orders`` (bronze), ``staging.stg_shop__orders``, ``gold.fct_orders``."""
    relation: str
    """SQL relation the runner reads (a temp view for bronze, ``schema."table"`` otherwise)."""
    expectations: list[Expect]
    index_columns: tuple[str, ...] = ()
    """Columns that locate a failing row in samples (primary key, source file)."""
    contract: Contract | None = None

    @property
    def name(self) -> str:
        return f"{self.layer}.{self.table}"

    def position(self, expect: Expect) -> int:
        """Index of this very check in the plan (by identity: two checks may be equal)."""
        return next(i for i, e in enumerate(self.expectations) if e is expect)

    def by_engine(self, engine: str) -> list[Expect]:
        return [e for e in self.expectations if e.engine == engine]

    def gx_suite(self, expectations: Iterable[Expect] | None = None) -> Any:
        """The GX 1.x ``ExpectationSuite`` of this table (or of the given expectations).

        Every expectation carries its position in ``meta.id`` so that results, which GX does
        not return in suite order, map back to the planned check. Checks GX has no expectation
        for are listed in the suite's meta so that the exported suite is the whole plan.
        """
        import great_expectations as gx
        from great_expectations.expectations.expectation_configuration import (
            ExpectationConfiguration,
        )

        chosen = list(self.expectations if expectations is None else expectations)
        configs = []
        custom = []
        for e in chosen:
            meta = {"id": self.position(e), "severity": e.severity, "engine": e.engine}
            if e.note:
                meta["note"] = e.note
            if e.check in GX_MAP_TYPES or e.check in GX_TABLE_TYPES:
                kwargs = {k: v for k, v in e.kwargs.items() if k not in _NON_GX_KWARGS}
                configs.append(ExpectationConfiguration(type=e.check, kwargs=kwargs, meta=meta))
            else:
                custom.append({"check": e.check, "column": e.column, **meta})
        return gx.ExpectationSuite(
            name=self.name, expectations=configs, meta={"custom_checks": custom}
        )


# ----------------------------------------------------------------------------- helpers


def java_to_strftime(fmt: str) -> str:
    """The contract's date format (Java style, as ODCS writes it) in strftime notation."""
    for java, c in (("yyyy", "%Y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M")):
        fmt = fmt.replace(java, c)
    return fmt.replace("ss", "%S")


def _bound(value: Any) -> Any:
    """A contract bound as GX accepts it: dates as ISO timestamp strings, numbers unchanged.

    A day alone (``2000-01-01``) would reach GX as a ``date``, which pandas refuses to compare
    with the timestamps DuckDB hands over for DATE and TIMESTAMP columns alike; midnight of that
    day compares with both."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        value = dt.date.fromisoformat(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def compare(value: Any, operator: str | None, threshold: Any) -> bool:
    """Apply an ODCS comparison operator (``mustBe``, ``mustBeGreaterThan``, …)."""
    if operator is None:
        return True
    if value is None:
        return False
    if operator == "mustBe":
        return value == threshold
    if operator == "mustNotBe":
        return value != threshold
    if operator == "mustBeGreaterThan":
        return value > threshold
    if operator == "mustBeGreaterOrEqualTo":
        return value >= threshold
    if operator == "mustBeLessThan":
        return value < threshold
    if operator == "mustBeLessOrEqualTo":
        return value <= threshold
    low, high = threshold
    inside = low <= value <= high
    if operator == "mustBeBetween":
        return inside
    if operator == "mustNotBeBetween":
        return not inside
    raise ValueError(f"unknown operator {operator!r}")


def rule_text(rule: QualityRule) -> str:
    """``rowCount > 0`` style description of a rule's bound, for the report."""
    metric = rule.metric or "query"
    op = _OPERATOR_TEXT.get(rule.operator or "", rule.operator or "")
    return f"{rule.name}: {metric} {op} {rule.threshold}".strip()


def _row_count_kwargs(rule: QualityRule) -> dict[str, Any]:
    """GX bounds equivalent to the rule (row counts are integers, so > n is >= n + 1)."""
    op, t = rule.operator, rule.threshold
    bounds: dict[str, Any] = {"min_value": None, "max_value": None}
    if op == "mustBe":
        bounds = {"min_value": t, "max_value": t}
    elif op == "mustBeGreaterThan":
        bounds["min_value"] = int(t) + 1
    elif op == "mustBeGreaterOrEqualTo":
        bounds["min_value"] = t
    elif op == "mustBeLessThan":
        bounds["max_value"] = int(t) - 1
    elif op == "mustBeLessOrEqualTo":
        bounds["max_value"] = t
    elif op == "mustBeBetween":
        bounds = {"min_value": t[0], "max_value": t[1]}
    return {**bounds, "operator": op, "threshold": t}


def _table_rules(rules: Iterable[QualityRule], column: str | None = None) -> list[Expect]:
    """Contract ``quality`` entries other than allowed values (handled per column)."""
    out: list[Expect] = []
    for rule in rules:
        if rule.metric == "invalidValues":
            continue
        note = rule_text(rule)
        if rule.kind == "sql":
            out.append(
                Expect(
                    SQL_PREFIX + rule.name,
                    column,
                    _severity(rule.severity),
                    {"query": rule.query, "operator": rule.operator, "threshold": rule.threshold},
                    engine="duckdb",
                    note=rule.description or note,
                )
            )
        elif rule.metric == "rowCount":
            out.append(
                Expect(
                    ROW_COUNT,
                    None,
                    _severity(rule.severity),
                    _row_count_kwargs(rule),
                    engine="duckdb",
                    note=note,
                )
            )
        elif rule.metric in ("nullValues", "missingValues") and column and rule.threshold == 0:
            out.append(
                Expect(NOT_NULL, column, _severity(rule.severity), {"column": column}, note=note)
            )
        elif rule.metric == "duplicateValues" and column and rule.threshold == 0:
            out.append(
                Expect(
                    UNIQUE,
                    column,
                    _severity(rule.severity),
                    {"column": column},
                    engine="duckdb",
                    note=note,
                )
            )
        else:
            # Visible in the report rather than silently dropped.
            out.append(
                Expect(
                    UNSUPPORTED,
                    column,
                    WARNING,
                    {"rule": rule.name},
                    engine="duckdb",
                    note=f"cannot execute rule {note}",
                )
            )
    return out


def _severity(contract_severity: str) -> str:
    """The report knows errors and warnings; a contract's ``info`` rule is a warning here."""
    return ERROR if contract_severity == ERROR else WARNING


def _allowed_severity(col: Column) -> str:
    rule = next((r for r in col.quality if r.metric == "invalidValues"), None)
    return _severity(rule.severity) if rule else ERROR


def _value_checks(col: Column, name: str, *, raw: bool) -> list[Expect]:
    """Allowed values, range, pattern and lengths of one column (named ``name`` here).

    ``raw`` is bronze: a date that arrives as text has no range there (its format is checked
    instead). After staging, a standardised column no longer holds the raw value, so the rules
    written for the raw value (allowed values, pattern, lengths) are not applied to it.
    """
    text_rules = raw or col.standardize is None
    out: list[Expect] = []
    if col.allowed_values and text_rules:
        out.append(
            Expect(
                IN_SET,
                name,
                _allowed_severity(col),
                {"column": name, "value_set": list(col.allowed_values)},
                note="contract: allowed values",
            )
        )
    dated = col.logical_type in ("date", "timestamp")
    if (col.minimum is not None or col.maximum is not None) and not (raw and dated):
        out.append(
            Expect(
                BETWEEN,
                name,
                ERROR,
                {
                    "column": name,
                    "min_value": _bound(col.minimum),
                    "max_value": _bound(col.maximum),
                },
                note="contract: logicalTypeOptions minimum/maximum",
            )
        )
    if col.pattern and col.logical_type == "string" and text_rules:
        out.append(
            Expect(
                REGEX,
                name,
                WARNING,
                {"column": name, "regex": col.pattern},
                note="contract: logicalTypeOptions pattern (not enforced by the build)",
            )
        )
    if (col.min_length is not None or col.max_length is not None) and text_rules:
        out.append(
            Expect(
                LENGTHS,
                name,
                WARNING,
                {"column": name, "min_value": col.min_length, "max_value": col.max_length},
                note="contract: logicalTypeOptions min/maxLength (not enforced by the build)",
            )
        )
    return out


# ----------------------------------------------------------------------------- bronze


def bronze_view_name(contract: Contract) -> str:
    """The temp view the runner registers over a bronze table's readable files."""
    return f"bronze__{contract.system}__{contract.table}"


def bronze_suite(contract: Contract) -> TableSuite:
    """Every check the contract implies on the raw bronze rows.

    Severities follow the contract: rules the build quarantines on (key, required, allowed
    values, range, parsable dates, required references) are errors; the shape hints that the
    build lets through (pattern, lengths) and optional references are warnings. Uniqueness holds
    per landing batch, because a later batch legitimately resends a key.
    """
    exps: list[Expect] = []
    for col in contract.columns:
        exps.append(
            Expect(
                COLUMN_EXISTS,
                col.name,
                ERROR if col.required else WARNING,
                {"column": col.name},
                engine="files",
                note="schema drift: every file must carry the contract's columns",
            )
        )
    exps.append(
        Expect(
            COLUMNS_MATCH,
            None,
            WARNING,
            {"column_set": [c.name for c in contract.all_columns], "exact_match": True},
            engine="files",
            note="schema drift: columns the contract does not know",
        )
    )
    exps.append(
        Expect(
            FILE_READABLE,
            None,
            ERROR,
            {},
            engine="files",
            note="every bronze file must decode in full",
        )
    )
    for col in contract.all_columns:
        if col.required or col.primary_key:
            exps.append(
                Expect(
                    NOT_NULL,
                    col.name,
                    ERROR,
                    {"column": col.name},
                    note="contract: required" + (", primary key" if col.primary_key else ""),
                )
            )
        if col.arrives_as_text:
            fmt = java_to_strftime(col.date_format or "yyyy-MM-dd")
            exps.append(
                Expect(
                    STRFTIME,
                    col.name,
                    ERROR,
                    {"column": col.name, "strftime_format": fmt},
                    note=f"contract: date sent as text in format {col.date_format}",
                )
            )
        exps.extend(_value_checks(col, col.name, raw=True))
        exps.extend(_quarantine_rules(col))
        if col.unique and not col.primary_key:
            exps.append(
                Expect(
                    COMPOUND_UNIQUE,
                    col.name,
                    ERROR,
                    {"column_list": [col.name, "_batch_id"]},
                    engine="duckdb",
                    note="contract: unique (within a landing batch)",
                )
            )
        if col.reference:
            exps.append(_foreign_key(col.name, col, col.reference.table_fqn, col.reference.column))
        exps.extend(_table_rules(col.quality, col.name))
    pk = list(contract.primary_key)
    exps.append(
        Expect(
            COMPOUND_UNIQUE,
            ",".join(pk),
            ERROR,
            {"column_list": [*pk, "_batch_id"]},
            engine="duckdb",
            note="contract: primary key, unique within a landing batch",
        )
    )
    exps.extend(_table_rules(contract.quality))
    if contract.freshness_warn_hours or contract.freshness_error_hours:
        exps.append(
            Expect(
                FRESHNESS,
                "_loaded_at",
                WARNING,
                {
                    "warn_after_hours": contract.freshness_warn_hours,
                    "error_after_hours": contract.freshness_error_hours,
                },
                engine="layer",
                note="newest _loaded_at of the table vs the newest load of any table",
            )
        )
    return TableSuite(
        "bronze",
        contract.fqn,
        f'"{bronze_view_name(contract)}"',
        exps,
        (*pk, "_source_file"),
        contract,
    )


def _count_rule(check: str, col: Column, where: str, note: str) -> Expect:
    return Expect(
        check,
        col.name,
        ERROR,
        {
            "query": f"select count(*) from ${{table}} where {where}",
            "operator": "mustBe",
            "threshold": 0,
        },
        engine="duckdb",
        note=note,
        row_condition=where,
    )


def _quarantine_rules(col: Column) -> list[Expect]:
    """The bronze side of the staging rules on casting, blank values and date windows, so that
    ``check`` reports every row the build quarantines."""
    q = f'"{col.name}"'
    out: list[Expect] = []
    if not col.physical_type.upper().startswith("VARCHAR"):
        out.append(
            _count_rule(
                CASTABLE,
                col,
                f"{q} is not null and try_cast({q} as {col.physical_type}) is null",
                f"contract: values cast to {col.physical_type}",
            )
        )
    if col.required and col.logical_type == "string":
        out.append(
            _count_rule(
                NOT_BLANK,
                col,
                f"{q} is not null and trim(cast({q} as varchar)) = ''",
                "contract: required (whitespace is not a value)",
            )
        )
    if col.logical_type in ("date", "timestamp"):
        if col.arrives_as_text:
            fmt = java_to_strftime(col.date_format or "yyyy-MM-dd")
            value = f"try_strptime(trim({q}), '{fmt}')"
        else:
            value = f"try_cast({q} as timestamp)"
        bounds = []
        if col.minimum is not None:
            bounds.append(f"{value} < timestamp '{str(col.minimum)[:10]}'")
        if col.maximum is not None:
            bounds.append(f"{value} > timestamp '{str(col.maximum)[:10]}'")
        if col.not_after_load_date:
            bounds.append(f"cast({value} as date) > cast(_loaded_at as date)")
        if bounds:
            out.append(
                _count_rule(
                    DATE_WINDOW,
                    col,
                    f"{value} is not null and ({' or '.join(bounds)})",
                    "contract: the date's plausible window (minimum, maximum, "
                    "not after the day the row landed)",
                )
            )
    return out


def _foreign_key(name: str, col: Column, parent: str, parent_column: str) -> Expect:
    assert col.reference is not None
    required = col.reference.required
    return Expect(
        FOREIGN_KEY,
        name,
        ERROR if required else WARNING,
        {"column": name, "parent": parent, "parent_column": parent_column},
        engine="duckdb",
        note=f"contract: references {col.reference.table_fqn}.{col.reference.column}"
        + (" (referenceRequired)" if required else " (reported only)"),
    )


def bronze_suites(contracts: Mapping[str, Contract]) -> list[TableSuite]:
    return [bronze_suite(c) for c in contracts.values()]


# ----------------------------------------------------------------------------- staging (silver)


def staging_relation(contract: Contract) -> str:
    return f'"staging"."stg_{contract.system}__{contract.table}"'


def staging_suite(contract: Contract, contracts: Mapping[str, Contract]) -> TableSuite:
    """What staging promises about a contract table: exactly the rules it quarantines on.

    Staging keeps the newest version per key, so the key is unique over the whole table.
    Standardised columns (e-mail, phone, name, …) are rewritten by staging, so the raw
    allowed-values, pattern and length rules are not re-applied to them; text dates are parsed,
    so their range applies and their format does not.
    """
    exps: list[Expect] = []
    targets = [c.target_name for c in contract.all_columns]
    exps.append(
        Expect(
            COLUMNS_MATCH,
            None,
            ERROR,
            {"column_set": targets, "exact_match": False},
            engine="duckdb",
            note="staging carries every contract column (staged names)",
        )
    )
    for col in contract.all_columns:
        name = col.target_name
        if col.required or col.primary_key:
            exps.append(
                Expect(
                    NOT_NULL,
                    name,
                    ERROR,
                    {"column": name},
                    note="contract: required (rows without it are quarantined)",
                )
            )
        exps.extend(_value_checks(col, name, raw=False))
        if col.unique and not col.primary_key:
            exps.append(
                Expect(
                    UNIQUE, name, ERROR, {"column": name}, engine="duckdb", note="contract: unique"
                )
            )
        if col.reference:
            parent = contracts[col.reference.table_fqn]
            exps.append(
                _foreign_key(
                    name,
                    col,
                    staging_relation(parent),
                    parent.column(col.reference.column).target_name,
                )
            )
    pk = [contract.column(c).target_name for c in contract.primary_key]
    if len(pk) == 1:
        exps.append(
            Expect(
                UNIQUE,
                pk[0],
                ERROR,
                {"column": pk[0]},
                engine="duckdb",
                note="staging keeps the newest version of each key",
            )
        )
    else:
        exps.append(
            Expect(
                COMPOUND_UNIQUE,
                ",".join(pk),
                ERROR,
                {"column_list": pk},
                engine="duckdb",
                note="staging keeps the newest version of each key",
            )
        )
    exps.extend(e for e in _table_rules(contract.quality) if e.check == ROW_COUNT)
    return TableSuite(
        "silver",
        f"staging.stg_{contract.system}__{contract.table}",
        staging_relation(contract),
        exps,
        tuple(pk),
        contract,
    )


def staging_suites(contracts: Mapping[str, Contract]) -> list[TableSuite]:
    return [staging_suite(c, contracts) for c in contracts.values()]
