"""Export every gold table to ``DIR/gold/<table>.parquet`` so any engine or BI tool can read gold
without DuckDB — and so that what is shared carries no personal data.

The warehouse is the working copy and holds personal data raw; the export is what may be handed
on. A gold column is masked when its dbt YAML classifies it (``config: meta: classification``)
as ``personal`` or ``personal-text``, read from the manifest of the build that produced the
warehouse; the lineage test (engagement_lake.lineage) makes sure every gold column computed from
a personal source column carries such a classification. How each is masked is written once, in
``engagement_lake.privacy.masking_expression``: keyed pseudonyms for personal text (joins and
distinct counts still work), the year for dates, redaction of names and e-mails for free text.
``include_personal`` exports everything raw, for a copy that stays as private as the warehouse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engagement_lake.config import RunConfig
from engagement_lake.lineage import (
    INTERNAL,
    PERSONAL,
    PERSONAL_TEXT,
    declared_classification,
    gold_classifications,
    load_manifest,
)

if TYPE_CHECKING:
    import duckdb

    from engagement_lake.privacy import Redactor


@dataclass(frozen=True)
class ExportResult:
    files: dict[str, Path]
    masked: dict[str, list[str]]
    """Table → the columns masked in its file (empty lists with ``include_personal``)."""
    rows: dict[str, int]


def personal_columns(manifest_path: Path) -> dict[str, set[str]]:
    """Gold model name → columns classified ``personal`` or ``personal-text`` in a manifest."""
    classes = gold_classifications(load_manifest(manifest_path))
    return {
        table: {c for c, (kind, _) in cols.items() if kind in (PERSONAL, PERSONAL_TEXT)}
        for table, cols in classes.items()
    }


def redactor_for(con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any]) -> Redactor:
    """A redactor that knows every word of every personal text value staged in the warehouse.

    The staging columns a contract classifies ``personal`` (names, e-mails, streets, cities,
    handles) are what free text may embed; the free text itself (``personal-text``) is not a
    source of words, or every word would go. The staged models are read, not the base models
    under them: those hold every bronze row as landed, broken and superseded ones included.
    """
    from engagement_lake.codegen import BASE_PREFIX
    from engagement_lake.privacy import Redactor, name_words

    staged = {
        (schema, table)
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema = 'staging'"
        ).fetchall()
    }
    columns: list[str] = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["schema"] != "staging":
            continue
        if node["name"].startswith(BASE_PREFIX):
            continue
        relation = ("staging", node.get("alias") or node["name"])
        if relation not in staged:
            continue
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                list(relation),
            ).fetchall()
        )
        for column, meta in (node.get("columns") or {}).items():
            if declared_classification(meta) != PERSONAL or types.get(column) != "VARCHAR":
                continue
            columns.append(f'select "{column}" as v from staging."{relation[1]}"')
    if not columns:
        return Redactor(())
    # E-mails and handles are caught whole (their fragments, like a mail domain, are not
    # names). The words of an all-ASCII value are its runs of two ASCII letters or more, which
    # is exactly what name_words finds in it, so DuckDB splits those (most of them, about a
    # million values at scale 1); the rest go through name_words, whose Unicode letters are
    # Python's.
    ascii_words, others, handles = con.execute(
        f"""
        with personal as (
            select distinct v from ({" union all ".join(columns)}) where v is not null
        ),
        texts as (
            select v, strlen(v) = length(v) as is_ascii from personal where not contains(v, '@')
        )
        select
            (select coalesce(list(distinct lower(w)), []) from (
                select unnest(regexp_extract_all(v, '[A-Za-z]{{2,}}')) as w
                from texts where is_ascii)),
            (select coalesce(list(v), []) from texts where not is_ascii),
            (select coalesce(list(v), []) from personal where starts_with(v, '@'))
        """
    ).fetchone()
    return Redactor(set(ascii_words) | name_words(others), {h.lower() for h in handles})


def masking_connection(
    con: duckdb.DuckDBPyConnection,
    manifest: Mapping[str, Any],
    classes: Mapping[str, Mapping[str, tuple[str, str]]],
    include_personal: bool,
) -> None:
    """Register the masking functions on ``con`` (unless ``include_personal``): the keyed
    pseudonymiser, and the redactor when some gold column holds personal free text."""
    from engagement_lake.privacy import Pseudonymiser, pseudonym_key, register

    if include_personal:
        return
    needs_redaction = any(
        kind == PERSONAL_TEXT for cols in classes.values() for kind, _ in cols.values()
    )
    register(
        con,
        Pseudonymiser(pseudonym_key()),
        redactor_for(con, manifest) if needs_redaction else None,
    )


def masked_select(
    columns: list[tuple[str, str]],
    declared: Mapping[str, tuple[str, str]],
    include_personal: bool,
) -> tuple[list[str], list[str]]:
    """The select list of one gold table as it may be shared, and the columns it masks.

    ``columns`` are (name, DuckDB type) in table order; ``declared`` the table's classifications
    from the manifest. How each class is masked is ``privacy.masking_expression``.
    """
    from engagement_lake.privacy import masking_expression

    select, hidden = [], []
    for name, data_type in columns:
        quoted = f'"{name}"'
        kind = declared.get(name, (INTERNAL, ""))[0]
        expression = None if include_personal else masking_expression(quoted, data_type, kind)
        if expression is None:
            select.append(quoted)
        else:
            select.append(f"{expression} as {quoted}")
            hidden.append(name)
    return select, sorted(hidden)


def export_gold(cfg: RunConfig, *, include_personal: bool = False) -> ExportResult:
    """Publish the Parquet export alone (no serving file): ``<data dir>/gold/<table>.parquet``.

    The files are written to a new version folder and ``<data dir>/gold`` is repointed to it in
    one rename (``engagement_lake.publish``), so a reader never sees half an export.
    """
    from engagement_lake.publish import publish

    return publish(cfg, include_personal=include_personal, serve=False).export
