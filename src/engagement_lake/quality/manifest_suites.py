"""Suites from the dbt manifest: each data test of a silver or gold model becomes an ``Expect``.

dbt already states what a model promises (``unique``, ``not_null``, ``accepted_values``,
``relationships``, the project's generic tests, and an enforced contract's ``not_null``
constraints); the check reads those promises from ``target/manifest.json`` rather than writing
them a second time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engagement_lake.publish import constrained_not_null
from engagement_lake.quality.suites import (
    COLUMNS_MATCH,
    COMPOUND_UNIQUE,
    ERROR,
    FOREIGN_KEY,
    IN_SET,
    NOT_NULL,
    ROW_COUNT,
    UNIQUE,
    WARNING,
    Expect,
    TableSuite,
)

_REF = re.compile(r"""ref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)""")


def node_relation(node: Mapping[str, Any]) -> str:
    """How to select from a manifest node in the warehouse, independent of the file's name."""
    if node["resource_type"] == "source":
        return str(node["relation_name"])
    return f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'


def _test_severity(test: Mapping[str, Any]) -> str:
    return WARNING if str(test["config"].get("severity", "error")).lower() == "warn" else ERROR


def _parent_node(test: Mapping[str, Any], manifest: Mapping[str, Any]) -> Any:
    """The ``to:`` node of a relationships test."""
    kwargs = test["test_metadata"]["kwargs"]
    match = _REF.search(str(kwargs.get("to", "")))
    nodes = {**manifest["nodes"], **manifest.get("sources", {})}
    deps = [nodes[u] for u in test["depends_on"]["nodes"] if u in nodes]
    if match:
        name = match.group(2) or match.group(1)
        for node in deps:
            if node.get("name") == name:
                return node
    others = [n for n in deps if n["unique_id"] != test.get("attached_node")]
    return others[0] if len(others) == 1 else (deps[0] if len(deps) == 1 else None)


def _sql_literal_value(value: Any, quote: bool) -> Any:
    """The value dbt's accepted_values means: it pastes each value into SQL, quoted ``'v'``
    (so YAML writes an apostrophe doubled, ``Can''t``) or, with ``quote: false``, bare."""
    if not isinstance(value, str):
        return value
    if quote:
        return value.replace("''", "'")
    for parse in (int, float):
        try:
            return parse(value)
        except ValueError:
            continue
    return value.strip("'").replace("''", "'")


def _manifest_test(test: Mapping[str, Any], manifest: Mapping[str, Any]) -> Expect | None:
    meta = test.get("test_metadata") or {}
    name, kwargs = meta.get("name"), meta.get("kwargs") or {}
    col = test.get("column_name") or kwargs.get("column_name")
    sev = _test_severity(test)
    note = f"dbt test {name}"
    if name == "not_null":
        return Expect(NOT_NULL, col, sev, {"column": col}, note=note)
    if name == "accepted_values":
        values = kwargs.get("values") or (kwargs.get("arguments") or {}).get("values") or []
        quote = kwargs.get("quote", (kwargs.get("arguments") or {}).get("quote", True))
        return Expect(
            IN_SET,
            col,
            sev,
            {"column": col, "value_set": [_sql_literal_value(v, quote) for v in values]},
            note=note,
        )
    if name == "unique":
        return Expect(UNIQUE, col, sev, {"column": col}, engine="duckdb", note=note)
    if name == "unique_combination":
        cols = list(kwargs.get("columns") or [])
        return Expect(
            COMPOUND_UNIQUE, ",".join(cols), sev, {"column_list": cols}, engine="duckdb", note=note
        )
    if name == "relationships":
        parent = _parent_node(test, manifest)
        if parent is None:
            return None
        return Expect(
            FOREIGN_KEY,
            col,
            sev,
            {"column": col, "parent": node_relation(parent), "parent_column": kwargs["field"]},
            engine="duckdb",
            note=f"dbt test relationships to {parent['name']}",
        )
    return None


def manifest_suites(manifest: Mapping[str, Any], schema: str, layer: str) -> list[TableSuite]:
    """One suite per model materialised in ``schema``, from its columns and data tests.

    not_null and accepted_values become GX expectations; unique, unique_combination and
    relationships are counted in DuckDB. The documented columns must exist (exactly those,
    when the model's contract is enforced: dbt then guarantees their types, so no type
    expectation is added). A table with no rows is a warning.
    """
    nodes = manifest["nodes"]
    tests: dict[str, list[Any]] = {}
    for node in nodes.values():
        if node["resource_type"] == "test" and node.get("attached_node"):
            tests.setdefault(node["attached_node"], []).append(node)
    suites: list[TableSuite] = []
    for uid, node in sorted(nodes.items()):
        if node["resource_type"] != "model" or node["schema"] != schema:
            continue
        if node["config"].get("materialized") == "ephemeral" or not node["config"].get(
            "enabled", True
        ):
            continue
        exps: list[Expect] = []
        columns = list(node.get("columns") or {})
        enforced = bool((node["config"].get("contract") or {}).get("enforced"))
        if columns:
            exps.append(
                Expect(
                    COLUMNS_MATCH,
                    None,
                    ERROR,
                    {"column_set": columns, "exact_match": enforced},
                    engine="duckdb",
                    note="documented columns" + (" (contract enforced)" if enforced else ""),
                )
            )
        exps.append(
            Expect(
                ROW_COUNT,
                None,
                WARNING,
                {"min_value": 1, "max_value": None},
                engine="duckdb",
                note="a published table is expected to hold rows",
            )
        )
        exps += [
            Expect(NOT_NULL, col, ERROR, {"column": col}, note="contract constraint not_null")
            for col in columns
            if col in constrained_not_null(node)
        ]
        for test in sorted(tests.get(uid, []), key=lambda t: t["unique_id"]):
            if not test["config"].get("enabled", True):
                continue
            expect = _manifest_test(test, manifest)
            if expect is None:
                continue
            if test["config"].get("where"):
                # A filtered test is counted in DuckDB, where the filter is plain SQL.
                expect = Expect(
                    expect.check,
                    expect.column,
                    expect.severity,
                    {**expect.kwargs, "where": test["config"]["where"]},
                    engine="duckdb",
                    note=expect.note,
                )
            exps.append(expect)
        keys = tuple(
            e.column for e in exps if e.check == UNIQUE and e.column and e.column in columns
        )[:1]
        suites.append(
            TableSuite(layer, f"{schema}.{node['name']}", node_relation(node), exps, keys)
        )
    return suites
