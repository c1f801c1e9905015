"""The rules a dbt manifest's data tests declare, one per column and kind, whatever test holds them.

A model states its per-column rules once, in its YAML. Most sit in the one ``column_rules`` test
of their YAML file (macros/tests/column_rules.sql), which checks every model of the file in one
test node because a build pays dbt's cost per node; a rule that needs its own config (a ``where``
filter, ``warn`` severity) stays a test of its own (``unique``, ``not_null``,
``accepted_values``, ``relationships``, ``unique_combination``). The Python readers of those
promises (the serving file's keys in ``engagement_lake.publish``, the checks' suites in
``engagement_lake.quality.manifest_suites``) read them through :func:`rules_by_model`, so that
both spellings mean the same rule for the same model.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

UNIQUE = "unique"
NOT_NULL = "not_null"
ACCEPTED_VALUES = "accepted_values"
UNIQUE_COMBINATION = "unique_combination"
RELATIONSHIPS = "relationships"

_REF = re.compile(r"""^\s*(?:\{\{\s*)?ref\(\s*['"]([^'"]+)['"]\s*\)\s*(?:\}\})?\s*$""")


@dataclass(frozen=True)
class Rule:
    """One rule of one test node.

    ``kind`` is one of the constants above (or another generic test's name, passed through);
    ``column`` the column it is about (None for a compound key); ``columns`` the compound key's
    columns; ``values`` the accepted values, as the warehouse holds them; ``to`` and ``field``
    the parent model's name and column of a foreign key.
    """

    kind: str
    column: str | None = None
    columns: tuple[str, ...] = ()
    values: tuple[Any, ...] = ()
    to: str | None = None
    field: str | None = None
    test: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @property
    def severity(self) -> str:
        return str(self.test.get("config", {}).get("severity", "error")).lower()

    @property
    def where(self) -> str | None:
        return self.test.get("config", {}).get("where") or None


def ref_name(value: Any) -> str | None:
    """``ref('dim_customer')`` (or a bare ``dim_customer``) -> ``dim_customer``."""
    text = str(value or "")
    found = _REF.match(text)
    if found:
        return found.group(1)
    return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text) else None


def _unescape(value: Any, quote: bool) -> Any:
    """The value dbt's accepted_values means: it pastes each value into SQL, quoted ``'v'`` (so
    YAML writes an apostrophe doubled, ``Can''t``) or, with ``quote: false``, bare."""
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


def _column_rules(kwargs: Mapping[str, Any], test: Mapping[str, Any]) -> list[Rule]:
    """The rules one model's entry of a ``column_rules`` test declares."""
    rules: list[Rule] = []
    for key in kwargs.get("unique") or []:
        if isinstance(key, str):
            rules.append(Rule(UNIQUE, key, test=test))
        else:
            rules.append(Rule(UNIQUE_COMBINATION, columns=tuple(key), test=test))
    rules += [Rule(NOT_NULL, c, test=test) for c in kwargs.get("not_null") or []]
    rules += [
        Rule(ACCEPTED_VALUES, c, values=tuple(values), test=test)
        for c, values in (kwargs.get("accepted_values") or {}).items()
    ]
    rules += [
        Rule(RELATIONSHIPS, r["column"], to=ref_name(r["to"]), field=r["field"], test=test)
        for r in kwargs.get("references") or []
    ]
    return rules


def rules_of(test: Mapping[str, Any]) -> dict[str, list[Rule]]:
    """The rules of one manifest test node, by the name of the model or seed they are about
    (none for a singular test). A ``column_rules`` test speaks of every model under its
    ``models`` argument; any other generic test, of the node it is attached to."""
    meta = test.get("test_metadata") or {}
    name = meta.get("name")
    kwargs = meta.get("kwargs") or {}
    if not name:
        return {}
    if name == "column_rules":
        return {
            model: _column_rules(rules or {}, test)
            for model, rules in (kwargs.get("models") or {}).items()
        }
    attached = str(test.get("attached_node") or "").rsplit(".", 1)[-1]
    column = test.get("column_name") or kwargs.get("column_name")
    if name == ACCEPTED_VALUES:
        quote = kwargs.get("quote", True)
        values = tuple(_unescape(v, quote) for v in kwargs.get("values") or [])
        return {attached: [Rule(name, column, values=values, test=test)]}
    if name == UNIQUE_COMBINATION:
        return {attached: [Rule(name, columns=tuple(kwargs.get("columns") or ()), test=test)]}
    if name == RELATIONSHIPS:
        to = ref_name(kwargs.get("to"))
        return {attached: [Rule(name, column, to=to, field=str(kwargs.get("field")), test=test)]}
    return {attached: [Rule(name, column, test=test)]}


def rules_by_model(manifest: Mapping[str, Any]) -> dict[str, list[Rule]]:
    """Every rule of every enabled data test, by the unique id of the model or seed it is about.

    A ``column_rules`` test names its models; each is one of the test's parents, which gives
    its unique id. Tests are read in the order of their unique ids."""
    found: dict[str, list[Rule]] = {}
    tests = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and node.get("attached_node")
        and (node.get("config") or {}).get("enabled", True)
    ]
    for test in sorted(tests, key=lambda t: t["unique_id"]):
        parents = {
            uid.rsplit(".", 1)[-1]: uid for uid in (test.get("depends_on") or {}).get("nodes") or []
        }
        parents[str(test["attached_node"]).rsplit(".", 1)[-1]] = test["attached_node"]
        for model, rules in rules_of(test).items():
            uid = parents.get(model)
            if uid is None:
                raise ValueError(
                    f"test {test['unique_id']}: its rules name {model!r}, which is not one of "
                    "its parents"
                )
            found.setdefault(uid, []).extend(rules)
    return found
