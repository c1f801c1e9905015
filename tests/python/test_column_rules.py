"""The per-column rules of a YAML file's models, checked by its one ``column_rules`` test.

A build pays dbt's cost per test node, so each YAML file declares one ``column_rules`` test for
the rules of all its models (macros/tests/column_rules.sql). These tests check that the batch
still says which model broke which rule, and that every file keeps to one batch.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import duckdb
import yaml

from engagement_lake.config import PROJECT_ROOT
from engagement_lake.manifest_tests import rules_by_model

MARTS = "column_rules_gold_marts"


def _compiled(lake, name: str) -> str:
    found = list((lake.cfg.target_dir / "compiled").rglob(f"{name}.sql"))
    assert len(found) == 1, found
    return found[0].read_text(encoding="utf-8")


def test_a_files_rules_test_names_the_model_rule_and_column_that_break(lake) -> None:
    """The marts' batch, run on copies of its tables with one repeated key and one value outside
    its list (and so also missing from the dimension it references), reports exactly those
    three broken rules of that one model; on the built tables it reports none."""
    sql = _compiled(lake, MARTS)
    tables = sorted(set(re.findall(r'"(\w+)"\."(\w+)"', sql)))
    assert ("gold", "mart_customer_health") in tables and ("gold", "dim_health_level") in tables
    con = duckdb.connect()
    try:
        con.execute(f"attach '{lake.cfg.warehouse}' as built (read_only)")
        for schema, table in tables:
            con.execute(f"create schema if not exists memory.{schema}")
            con.execute(
                f'create table memory.{schema}."{table}" as select * from built.{schema}."{table}"'
            )
        assert con.execute(sql).fetchall() == []
        health = "memory.gold.mart_customer_health"
        keys = [k for (k,) in con.execute(f"select customer_key from {health} limit 2").fetchall()]
        con.execute(
            f"insert into {health} select * from {health} where customer_key = ?", [keys[0]]
        )
        con.execute(f"update {health} set health_level = 'BOGUS' where customer_key = ?", [keys[1]])
        broken = sorted(con.execute(sql).fetchall())
    finally:
        con.close()
    assert broken == [
        ("mart_customer_health", "accepted_values", "health_level", 1),
        (
            "mart_customer_health",
            "relationships to dim_health_level.health_level",
            "health_level",
            1,
        ),
        ("mart_customer_health", "unique", "customer_key", 1),
    ]


def test_each_yaml_file_checks_its_models_rules_in_one_test(lake) -> None:
    """One ``column_rules`` test per YAML file, hung on the file's first model, naming only
    models of that file; together they hold the rules of over 150 models and seeds."""
    manifest = json.loads((lake.cfg.target_dir / "manifest.json").read_text(encoding="utf-8"))
    nodes = {**manifest["nodes"]}
    batches = [
        n
        for n in nodes.values()
        if n["resource_type"] == "test"
        and (n.get("test_metadata") or {}).get("name") == "column_rules"
    ]
    per_file = Counter(n["original_file_path"] for n in batches)
    assert per_file and set(per_file.values()) == {1}
    by_name = {n["name"]: n for n in nodes.values() if n["resource_type"] in {"model", "seed"}}
    for test in batches:
        path = test["original_file_path"]
        doc = yaml.safe_load((PROJECT_ROOT / path).read_text(encoding="utf-8"))
        entries = [e["name"] for e in doc.get("models", doc.get("seeds", []))]
        named = list(test["test_metadata"]["kwargs"]["models"])
        assert set(named) <= set(entries), (path, set(named) - set(entries))
        assert test["attached_node"].rsplit(".", 1)[-1] == entries[0], path
        for model in named:
            assert Path(by_name[model]["patch_path"].split("://", 1)[1]) == Path(path)
    covered = {uid for uid, rules in rules_by_model(manifest).items() if rules}
    assert len(covered) > 150
