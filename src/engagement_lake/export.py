"""Export every gold table to ``DIR/gold/<table>.parquet`` so any engine or BI tool can read gold
without DuckDB.

Personal data is masked unless asked for: a column is personal when its dbt YAML says
``config: meta: classification: personal`` (DESIGN.md, "Personal data"), read from the manifest
of the build that produced the warehouse. Text is replaced by a stable pseudonym (the first 16 hex
digits of its md5), so masked exports still join and count distinct people; other types become
null.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engagement_lake.config import PROJECT_ROOT, RunConfig


@dataclass(frozen=True)
class ExportResult:
    files: dict[str, Path]
    masked: dict[str, list[str]]
    rows: dict[str, int]


def personal_columns(manifest_path: Path) -> dict[str, set[str]]:
    """Gold model name → columns classified as personal, from a dbt manifest."""
    manifest = json.loads(manifest_path.read_text())
    found: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model" or node.get("schema") != "gold":
            continue
        cols = {
            name
            for name, col in node.get("columns", {}).items()
            if (col.get("meta") or {}).get("classification") == "personal"
            or ((col.get("config") or {}).get("meta") or {}).get("classification") == "personal"
        }
        found[node["name"]] = cols
    return found


def export_gold(cfg: RunConfig, *, include_personal: bool = False) -> ExportResult:
    """Write each table of the warehouse's gold schema to ``<data dir>/gold/<table>.parquet``."""
    import duckdb

    target = cfg.target_dir or PROJECT_ROOT / "target"
    manifest = target / "manifest.json"
    if not manifest.exists():
        raise FileNotFoundError(f"{manifest}: no dbt manifest; run `engagement-lake build` first")
    personal = personal_columns(manifest)
    out_dir = cfg.data_dir / "gold"
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    masked: dict[str, list[str]] = {}
    rows: dict[str, int] = {}
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'gold' and table_type = 'BASE TABLE' order by table_name"
        ).fetchall()
        for (table,) in tables:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'gold' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            hide = set() if include_personal else personal.get(table, set())
            select = []
            for name, data_type in columns:
                quoted = f'"{name}"'
                if name not in hide:
                    select.append(quoted)
                elif data_type.upper().startswith("VARCHAR"):
                    select.append(f"left(md5({quoted}), 16) as {quoted}")
                else:
                    select.append(f"cast(null as {data_type}) as {quoted}")
            path = out_dir / f"{table}.parquet"
            con.execute(
                f'copy (select {", ".join(select)} from gold."{table}") '
                f"to '{path}' (format parquet, compression zstd)"
            )
            files[table] = path
            masked[table] = sorted(hide & {c for c, _ in columns})
            rows[table] = con.execute(f'select count(*) from gold."{table}"').fetchone()[0]
    return ExportResult(files, masked, rows)
