"""Suites from the dbt manifest: each rule of a silver or gold model's data tests becomes an
``Expect``.

dbt already states what a model promises (its rules in the ``column_rules`` test of its YAML file
and its separate ``unique``, ``not_null``, ``accepted_values``, ``relationships`` and
``unique_combination`` tests, read alike by ``engagement_lake.manifest_tests``, and an enforced
contract's ``not_null`` constraints); the check reads those promises from
``target/manifest.json`` rather than writing them a second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from engagement_lake.manifest_tests import (
    ACCEPTED_VALUES,
    NOT_NULL,
    RELATIONSHIPS,
    UNIQUE,
    UNIQUE_COMBINATION,
    Rule,
    rules_by_model,
)
from engagement_lake.publish import constrained_not_null
from engagement_lake.quality.suites import (
    COLUMNS_MATCH,
    COMPOUND_UNIQUE,
    ERROR,
    FOREIGN_KEY,
    IN_SET,
    ROW_COUNT,
    WARNING,
    Expect,
    TableSuite,
)
from engagement_lake.quality.suites import NOT_NULL as NOT_NULL_CHECK
from engagement_lake.quality.suites import UNIQUE as UNIQUE_CHECK


def node_relation(node: Mapping[str, Any]) -> str:
    """How to select from a manifest node in the warehouse, independent of the file's name."""
    if node["resource_type"] == "source":
        return str(node["relation_name"])
    return f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'


def _parent_node(rule: Rule, manifest: Mapping[str, Any]) -> Any:
    """The parent node (``to:``) of a relationships rule, among its test's dependencies."""
    nodes = {**manifest["nodes"], **manifest.get("sources", {})}
    deps = [nodes[u] for u in rule.test["depends_on"]["nodes"] if u in nodes]
    if rule.to:
        for node in deps:
            if node.get("name") == rule.to:
                return node
    others = [n for n in deps if n["unique_id"] != rule.test.get("attached_node")]
    return others[0] if len(others) == 1 else (deps[0] if len(deps) == 1 else None)


def _manifest_rule(rule: Rule, manifest: Mapping[str, Any]) -> Expect | None:
    col = rule.column
    sev = WARNING if rule.severity == "warn" else ERROR
    note = f"dbt test {rule.test['test_metadata']['name']}: {rule.kind}"
    proved = rule.test.get("unique_id")
    if rule.kind == NOT_NULL:
        return Expect(NOT_NULL_CHECK, col, sev, {"column": col}, note=note)
    if rule.kind == ACCEPTED_VALUES:
        return Expect(IN_SET, col, sev, {"column": col, "value_set": list(rule.values)}, note=note)
    if rule.kind == UNIQUE:
        return Expect(
            UNIQUE_CHECK, col, sev, {"column": col}, engine="duckdb", note=note, proved_by=proved
        )
    if rule.kind == UNIQUE_COMBINATION:
        cols = list(rule.columns)
        return Expect(
            COMPOUND_UNIQUE,
            ",".join(cols),
            sev,
            {"column_list": cols},
            engine="duckdb",
            note=note,
            proved_by=proved,
        )
    if rule.kind == RELATIONSHIPS:
        parent = _parent_node(rule, manifest)
        if parent is None:
            return None
        return Expect(
            FOREIGN_KEY,
            col,
            sev,
            {"column": col, "parent": node_relation(parent), "parent_column": rule.field},
            engine="duckdb",
            note=f"{note} to {parent['name']}",
            proved_by=proved,
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
    rules = rules_by_model(manifest)
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
            Expect(NOT_NULL_CHECK, col, ERROR, {"column": col}, note="contract constraint not_null")
            for col in columns
            if col in constrained_not_null(node)
        ]
        for rule in rules.get(uid, []):
            expect = _manifest_rule(rule, manifest)
            if expect is None:
                continue
            if rule.where:
                # A filtered test is counted in DuckDB, where the filter is plain SQL.
                expect = replace(
                    expect, kwargs={**expect.kwargs, "where": rule.where}, engine="duckdb"
                )
            exps.append(expect)
        keys = tuple(
            e.column for e in exps if e.check == UNIQUE_CHECK and e.column and e.column in columns
        )[:1]
        suites.append(
            TableSuite(layer, f"{schema}.{node['name']}", node_relation(node), exps, keys)
        )
    return suites
