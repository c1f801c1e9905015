"""Column-level lineage of personal data, computed from the dbt manifest, not kept by hand.

The contracts in ``schemas/`` classify source columns; ``engagement-lake schemas sync`` writes
that classification into each staging column's ``meta``. From there this module follows every
column of every silver, history and gold SQL model back to the staging columns it is computed
from, by parsing the model's compiled SQL with sqlglot (qualified against the warehouse's own
column list). A column computed from a personal column is personal too, unless its YAML declares
what it has become (``derived-aggregate`` for a count, flag or score that names nobody).

The test suite fails when a gold column whose lineage reaches personal data carries no
classification, so a new gold column cannot leak by being forgotten: the export masks what the
declarations say, and this module proves the declarations complete.

What lineage cannot see: Python models (``customer_xref``, ``sentiment_unified`` …) are opaque,
so a Python model's column takes its YAML declaration, else the classification of a parent
column of the same name (they pass columns through by name), else none. Filters and joins are
not lineage: a column selected *because of* an e-mail match is not derived from the e-mail.
The quality schema (quarantined raw rows) is working-warehouse only and never exported, so it is
not followed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

PERSONAL = "personal"
PERSONAL_TEXT = "personal-text"
DERIVED_AGGREGATE = "derived-aggregate"
INTERNAL = "internal"

CLASSIFICATIONS = {
    PERSONAL: "identifies a person (name, e-mail, phone, address, birth date, handle): "
    "pseudonymised by the export (keyed hash; dates cut to the year; other types null)",
    PERSONAL_TEXT: "free text that may embed names and e-mail addresses (subjects, messages, "
    "reviews, opportunity names): the export redacts the names and e-mails in it",
    DERIVED_AGGREGATE: "computed from personal data but names nobody (a count, flag, score, "
    "band or share): exported as it is",
    INTERNAL: "not personal (the contracts' default): exported as it is",
}
"""The closed vocabulary of ``meta.classification``, with what each value means for the export."""

SENSITIVE = frozenset({PERSONAL, PERSONAL_TEXT})
"""Classifications that are personal data and must not leave the working warehouse as they are."""

NOT_FOLLOWED_SCHEMAS = ("staging", "quality")
"""Staging columns are classified by their contract (the roots); quality is never exported."""


class LineageError(RuntimeError):
    """A model's SQL cannot be parsed or qualified, or a classification is not in the vocabulary."""


def declared_classification(column: Mapping[str, Any]) -> str | None:
    """The ``classification`` a manifest column declares in ``meta`` (or ``config.meta``)."""
    meta = {**(column.get("meta") or {}), **((column.get("config") or {}).get("meta") or {})}
    value = meta.get("classification")
    return str(value) if value is not None else None


@dataclass(frozen=True)
class ColumnLineage:
    """One column of a model: what it is declared, what it is computed from, what it inherits."""

    model: str
    column: str
    declared: str | None
    parents: frozenset[tuple[str, str]]
    """(model, column) pairs the column is computed from."""
    inherited: str | None
    """The most sensitive classification among the parents (None when no parent is sensitive)."""

    @property
    def effective(self) -> str | None:
        """What the column passes on: its declaration, else what it inherits."""
        return self.declared or self.inherited

    @property
    def derived_from_personal(self) -> bool:
        return self.inherited in SENSITIVE


@dataclass
class Lineage:
    """Column lineage of every model of a manifest, keyed (model, column)."""

    columns: dict[tuple[str, str], ColumnLineage] = field(default_factory=dict)
    schemas: dict[str, str] = field(default_factory=dict)
    """Model name → its schema (staging, silver, gold …)."""

    def model(self, name: str) -> list[ColumnLineage]:
        return [c for (m, _), c in self.columns.items() if m == name]

    def undeclared_in(self, schema: str) -> list[ColumnLineage]:
        """Columns of ``schema`` derived from personal data that declare no classification."""
        return [
            c
            for c in self.columns.values()
            if self.schemas.get(c.model) == schema and c.derived_from_personal and not c.declared
        ]

    def personal_roots(self, model: str, column: str) -> set[tuple[str, str]]:
        """The sensitive staging columns a column is ultimately computed from."""
        roots: set[tuple[str, str]] = set()
        todo, seen = [(model, column)], set()
        while todo:
            key = todo.pop()
            if key in seen:
                continue
            seen.add(key)
            found = self.columns.get(key)
            if found is None:
                continue
            if self.schemas.get(key[0]) == "staging" and found.effective in SENSITIVE:
                roots.add(key)
            todo.extend(found.parents)
        return roots


def _rank(classification: str | None) -> int:
    return {PERSONAL_TEXT: 2, PERSONAL: 3}.get(classification or "", 0)


def _most_sensitive(values: Iterable[str | None]) -> str | None:
    best = max(values, key=_rank, default=None)
    return best if _rank(best) else None


def _relation_key(table: Any) -> tuple[str, str]:
    return (table.db.lower(), table.name.lower())


def load_manifest(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no dbt manifest; run `engagement-lake build` first")
    return json.loads(path.read_text())


_PARSED: dict[tuple[str, str], dict[str, frozenset[tuple[str, str]]]] = {}
"""Leaves already found in this process, by (compiled SQL, catalog) digests: following a
model's SQL costs a fraction of a second, and a process that checks several variants of one
manifest (the lineage tests mutate one model at a time) would otherwise follow every model
again. The leaves depend on nothing else."""
_PARSED_MAX = 4096


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _sql_lineage_cached(
    node: Mapping[str, Any], schema: Mapping[str, Any], schema_digest: str
) -> dict[str, frozenset[tuple[str, str]]]:
    """``_sql_lineage``, remembered by the digests of the node's compiled SQL and the catalog."""
    key = (_digest(node["compiled_code"]), schema_digest)
    if key not in _PARSED:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[key] = {c: frozenset(v) for c, v in _sql_lineage(node, schema).items()}
    return _PARSED[key]


def _sql_lineage(
    node: Mapping[str, Any], schema: Mapping[str, Any]
) -> dict[str, set[tuple[str, str]]]:
    """Output column → (schema, table, column) leaves it reads, from the compiled SQL."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ErrorLevel, SqlglotError
    from sqlglot.lineage import lineage

    try:
        tree = sqlglot.parse_one(node["compiled_code"], read="duckdb", error_level=ErrorLevel.RAISE)
        nodes = lineage(
            None, tree, schema=dict(schema), dialect="duckdb", copy=False, trim_selects=True
        )
    except (SqlglotError, KeyError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LineageError(f"cannot follow the lineage of {node['name']}: {first}") from None
    out: dict[str, set[tuple[str, str]]] = {}
    assert isinstance(nodes, dict)
    for name, root in nodes.items():
        leaves: set[tuple[str, str]] = set()
        for item in root.walk():
            if isinstance(item.source, exp.Table) and not item.downstream:
                db, table = _relation_key(item.source)
                leaves.add((f"{db}.{table}", item.name.split(".")[-1].lower()))
        out[name.lower()] = leaves
    return out


def compute_lineage(
    manifest: Mapping[str, Any], warehouse_columns: Mapping[tuple[str, str], list[str]]
) -> Lineage:
    """Follow every column of every model back to the classified staging columns.

    ``warehouse_columns`` maps (schema, table) → column names as built (the catalog): sqlglot
    needs it to expand ``select *`` and to know which table a bare column comes from.
    """
    nodes = {
        key: node
        for key, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "snapshot", "seed")
    }
    result = Lineage()
    by_relation: dict[str, str] = {}
    catalog: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    for node in nodes.values():
        result.schemas[node["name"]] = node["schema"]
        alias = (node.get("alias") or node["name"]).lower()
        by_relation[f"{node['schema'].lower()}.{alias}"] = node["name"]
        cols = warehouse_columns.get((node["schema"], alias), [])
        if cols:
            catalog.setdefault(node["database"], {}).setdefault(node["schema"], {})[alias] = {
                c: "varchar" for c in cols
            }
    for node in nodes.values():
        for name, col in (node.get("columns") or {}).items():
            value = declared_classification(col)
            if value is not None and value not in CLASSIFICATIONS:
                raise LineageError(
                    f"{node['name']}.{name}: classification {value!r} is not one of "
                    f"{', '.join(CLASSIFICATIONS)}"
                )

    catalog_digest = _digest(json.dumps(catalog, sort_keys=True))
    order = TopologicalSorter(
        {
            key: [d for d in node.get("depends_on", {}).get("nodes", []) if d in nodes]
            for key, node in nodes.items()
        }
    ).static_order()
    for key in order:
        node = nodes[key]
        name, schema = node["name"], node["schema"]
        declared = {
            c.lower(): declared_classification(col)
            for c, col in (node.get("columns") or {}).items()
        }
        alias = (node.get("alias") or name).lower()
        built = [c.lower() for c in warehouse_columns.get((schema, alias), [])]
        if node["config"].get("materialized") == "ephemeral":
            continue  # inlined into its consumers' compiled SQL, followed there
        if node["resource_type"] == "seed" or schema in NOT_FOLLOWED_SCHEMAS:
            parents: dict[str, set[tuple[str, str]]] = {c: set() for c in built or declared}
        elif node.get("language") == "python":
            parents = _python_parents(node, nodes, result, built or list(declared))
        else:
            leaves = _sql_lineage_cached(node, catalog, catalog_digest)
            parents = {
                column: {
                    (by_relation[relation], parent)
                    for relation, parent in found
                    if relation in by_relation
                }
                for column, found in leaves.items()
            }
        for column, upstream in parents.items():
            inherited = _most_sensitive(
                result.columns[p].effective for p in upstream if p in result.columns
            )
            result.columns[(name, column)] = ColumnLineage(
                name, column, declared.get(column), frozenset(upstream), inherited
            )
    return result


def _python_parents(
    node: Mapping[str, Any],
    nodes: Mapping[str, Mapping[str, Any]],
    result: Lineage,
    columns: list[str],
) -> dict[str, set[tuple[str, str]]]:
    """A Python model's columns read their parents' column of the same name (passed through)."""
    parent_models = [nodes[d]["name"] for d in node["depends_on"]["nodes"] if d in nodes]
    return {
        column: {(p, column) for p in parent_models if (p, column) in result.columns}
        for column in columns
    }


def warehouse_columns(warehouse: Path) -> dict[tuple[str, str], list[str]]:
    """(schema, table) → column names, in order, from a built warehouse (read-only)."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall()
    out: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        out.setdefault((schema, table), []).append(column)
    return out


_TEXT_TYPES = ("string", "text")
"""Spellings of DuckDB's ``varchar`` in gold's contracts: the YAML says ``string``, the one text
type name both DuckDB and Spark accept without a length."""


def _declared_type(col: Mapping[str, Any]) -> str:
    """A contract column's declared type, lower case, text types as DuckDB names them."""
    data_type = (col.get("data_type") or "").lower()
    return "varchar" if data_type in _TEXT_TYPES else data_type


def gold_classifications(manifest: Mapping[str, Any]) -> dict[str, dict[str, tuple[str, str]]]:
    """Gold table → column → (declared classification or ``internal``, declared data type, text
    types spelt ``varchar``)."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["schema"] != "gold":
            continue
        if node["config"].get("materialized") == "ephemeral":
            continue
        out[node["name"]] = {
            name: (declared_classification(col) or INTERNAL, _declared_type(col))
            for name, col in (node.get("columns") or {}).items()
        }
    return dict(sorted(out.items()))


# ----------------------------------------------------------------------------- the privacy doc

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"
DOC_BEGIN = (
    "<!-- BEGIN generated by `python -m engagement_lake.lineage --write-doc`: do not edit -->"
)
DOC_END = "<!-- END generated -->"

_EXPORTED_AS = {
    PERSONAL: {
        "varchar": "keyed pseudonym (HMAC-SHA256, 32 hex digits)",
        "date": "1 January of the year",
    },
    PERSONAL_TEXT: {"varchar": "text with names, e-mails, handles and phones redacted"},
}


def _exported_as(classification: str, data_type: str) -> str:
    base = data_type.split("(")[0]
    return _EXPORTED_AS.get(classification, {}).get(base, "null")


def doc_section(manifest: Mapping[str, Any]) -> str:
    """The generated part of docs/privacy.md: gold's personal columns and the scanned columns."""
    classes = gold_classifications(manifest)
    lines = [
        DOC_BEGIN,
        "",
        "### Gold columns classified personal (masked in the export)",
        "",
        "| table | column | classification | exported as |",
        "|---|---|---|---|",
    ]
    for table, cols in classes.items():
        for column, (kind, data_type) in cols.items():
            if kind in SENSITIVE:
                lines.append(f"| {table} | {column} | {kind} | {_exported_as(kind, data_type)} |")
    lines += [
        "",
        "### Columns declared derived-aggregate (computed from personal data, name nobody)",
        "",
        "Declared where the personal data is consumed; every column computed from them inherits",
        "the declaration.",
        "",
        "| schema | model | column |",
        "|---|---|---|",
    ]
    derived = sorted(
        (node["schema"], node["name"], name)
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "snapshot")
        for name, col in (node.get("columns") or {}).items()
        if declared_classification(col) == DERIVED_AGGREGATE
    )
    lines += [f"| {schema} | {model} | {column} |" for schema, model, column in derived]
    lines += [
        "",
        "### Export columns the leak test scans (every text column of every gold table)",
        "",
        "| table | text columns |",
        "|---|---|",
    ]
    for table, cols in classes.items():
        text = [c for c, (_, data_type) in cols.items() if data_type.startswith("varchar")]
        if text:
            lines.append(f"| {table} | {', '.join(text)} |")
    lines += ["", DOC_END]
    return "\n".join(lines)


def render_doc(text: str, manifest: Mapping[str, Any]) -> str:
    """``text`` (docs/privacy.md) with its generated section replaced by the current one."""
    start, end = text.find(DOC_BEGIN), text.find(DOC_END)
    if start < 0 or end < start:
        raise LineageError(f"docs/privacy.md lacks the markers {DOC_BEGIN!r} … {DOC_END!r}")
    return text[:start] + doc_section(manifest) + text[end + len(DOC_END) :]


def main(argv: list[str] | None = None) -> int:
    """``python -m engagement_lake.lineage``: check the gold classifications, refresh the doc."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m engagement_lake.lineage",
        description="Check that every gold column derived from personal data is classified; "
        "regenerate the column lists of docs/privacy.md.",
    )
    parser.add_argument("--target-dir", type=Path, default=DOC_PATH.parents[1] / "target")
    parser.add_argument("--warehouse", type=Path, help="built warehouse: also check lineage")
    parser.add_argument("--write-doc", action="store_true", help="rewrite docs/privacy.md")
    args = parser.parse_args(argv)
    try:
        manifest = load_manifest(args.target_dir / "manifest.json")
        if args.warehouse is not None:
            found = compute_lineage(manifest, warehouse_columns(args.warehouse))
            missing = found.undeclared_in("gold")
            for col in missing:
                print(f"{col.model}.{col.column}: derived from {col.inherited} data, unclassified")
            if missing:
                return 1
            derived = [
                c
                for c in found.columns.values()
                if found.schemas.get(c.model) == "gold" and c.derived_from_personal
            ]
            print(f"{len(derived)} gold columns derived from personal data, all classified")
        if args.write_doc:
            DOC_PATH.write_text(render_doc(DOC_PATH.read_text(), manifest))
            print(f"wrote {DOC_PATH}")
    except (LineageError, FileNotFoundError) as exc:
        print(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
