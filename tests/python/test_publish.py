"""Publishing gold (engagement_lake.publish): the serving file holds every gold table with the
keys its tests guarantee, personal columns masked; a reader keeps the publication it opened; a
publish killed at any point leaves the previous publication whole, and the next one repairs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from engagement_lake.config import SERVING_REWRITE_EVERY, RunConfig
from engagement_lake.lineage import load_manifest
from engagement_lake.publish import (
    PREVIOUS_SUFFIX,
    SERVING_ENV,
    SERVING_SCHEMA,
    VERSIONS_DIR,
    PublishError,
    creation_order,
    gold_keys,
    previous_path,
    publish,
)


@pytest.fixture(scope="module")
def serving(lake) -> duckdb.DuckDBPyConnection:
    assert lake.published.serving is not None
    with duckdb.connect(str(lake.published.serving), read_only=True) as con:
        yield con


def _counts(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, int]:
    catalog = con.execute("select current_database()").fetchone()[0]
    tables = con.execute(
        "select table_name from information_schema.tables where table_catalog = ? and "
        "table_schema = ? and table_type = 'BASE TABLE'",
        [catalog, schema],
    ).fetchall()
    return {
        t: con.execute(f'select count(*) from "{catalog}"."{schema}"."{t}"').fetchone()[0]
        for (t,) in tables
    }


def test_the_serving_file_holds_every_gold_table_and_row(lake, serving) -> None:
    with lake.connect() as work:
        expected = _counts(work, "gold")
    assert len(expected) > 40
    assert _counts(serving, SERVING_SCHEMA) == expected
    # opened as gold.duckdb, a table reads as gold.<table>, as in the working warehouse
    assert lake.published.serving.name == "gold.duckdb"
    assert serving.execute("select count(*) from gold.fct_orders").fetchone()[0] > 100


@pytest.fixture(scope="module")
def all_keys(lake, module_dir) -> Path:
    """A second publication of the test lake with every key declared (``keys="all"``)."""
    folder = module_dir("all_keys")
    cfg = RunConfig(folder / "data", lake.cfg.warehouse, target_dir=lake.cfg.target_dir)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(SERVING_ENV, str(folder / "gold.duckdb"))
        published = publish(cfg, keys="all")
    assert published.serving == folder / "gold.duckdb"
    return published.serving


def _constraints(con: duckdb.DuckDBPyConnection, kind: str) -> set[tuple[str, str, str | None]]:
    return {
        (table, columns[0], referenced)
        for table, columns, referenced in con.execute(
            "select table_name, constraint_column_names, referenced_table "
            "from duckdb_constraints() where constraint_type = ?",
            [kind],
        ).fetchall()
    }


def test_the_referenced_tables_have_their_primary_key_and_nothing_else(lake, serving) -> None:
    """By default the serving file declares the primary keys of the tables a foreign key points
    to (the dimensions), and no foreign key: the build's tests proved them all."""
    keys = gold_keys(load_manifest(lake.cfg.target_dir / "manifest.json"))
    referenced = {fk.table for k in keys.values() for fk in k.foreign}
    declared = {t for t, _, _ in _constraints(serving, "PRIMARY KEY")}
    assert {"dim_customer", "dim_product", "fct_orders"} <= referenced
    assert declared == {t for t in referenced if keys[t].primary}
    assert "fct_customer_journey" not in declared and keys["fct_customer_journey"].primary
    assert _constraints(serving, "FOREIGN KEY") == set()
    assert lake.published.keys["dim_customer"].primary == ("customer_key",)
    assert lake.published.references["fct_orders"].foreign


def test_each_reference_is_written_in_its_columns_comment(lake, serving) -> None:
    manifest = load_manifest(lake.cfg.target_dir / "manifest.json")
    node = next(
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["name"] == "fct_orders"
    )
    (table_comment,) = serving.execute(
        "select comment from duckdb_tables() where table_name = 'fct_orders'"
    ).fetchone()
    assert table_comment == " ".join(node["description"].split())
    comments = dict(
        serving.execute(
            "select column_name, comment from duckdb_columns() where table_name = 'fct_orders'"
        ).fetchall()
    )
    assert comments["customer_key"].endswith("References dim_customer.customer_key.")
    assert comments["customer_key"].startswith(
        " ".join(node["columns"]["customer_key"]["description"].split())
    )
    assert "References" not in comments["order_id"]


def test_with_every_key_each_gold_table_has_its_primary_key(all_keys) -> None:
    with duckdb.connect(str(all_keys), read_only=True) as con:
        tables = {t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()}
        keyed = {t for t, _, _ in _constraints(con, "PRIMARY KEY")}
    assert len(tables) > 40
    assert sorted(tables - keyed) == []


def test_with_every_key_each_dimension_reference_is_a_foreign_key(lake, all_keys) -> None:
    """Every *_key column with an error relationships test to a dimension is declared, and
    DuckDB enforced it while the rows went in."""
    manifest = load_manifest(lake.cfg.target_dir / "manifest.json")
    expected = {
        (table, fk.column, fk.table)
        for table, keys in gold_keys(manifest).items()
        for fk in keys.foreign
        if fk.column.endswith("_key") and fk.table.startswith("dim_")
    }
    with duckdb.connect(str(all_keys), read_only=True) as con:
        declared = _constraints(con, "FOREIGN KEY")
    assert len(expected) > 50
    assert expected <= declared
    assert ("fct_orders", "customer_key", "dim_customer") in declared


def test_duckdb_refuses_a_row_that_breaks_a_key(all_keys, tmp_path: Path) -> None:
    writable = tmp_path / "gold.duckdb"
    shutil.copy(all_keys, writable)
    with duckdb.connect(str(writable)) as con:
        (pk,) = con.execute(
            "select constraint_column_names[1] from duckdb_constraints() "
            "where table_name = 'fct_orders' and constraint_type = 'PRIMARY KEY'"
        ).fetchone()
        nobody = (
            f"select * replace ('new-order' as {pk}, 'nobody' as customer_key) "
            "from gold.fct_orders limit 1"
        )
        with pytest.raises(duckdb.ConstraintException, match="foreign key"):
            con.execute(f"insert into gold.fct_orders {nobody}")
        with pytest.raises(duckdb.ConstraintException, match=r"(?i)duplicate key"):
            con.execute("insert into gold.fct_orders select * from gold.fct_orders limit 1")
        assert pk.endswith("_key")


def test_both_publications_hold_the_same_rows(lake, serving, all_keys) -> None:
    """The serving file is filled from the export's files: the same masked rows."""
    with duckdb.connect(str(all_keys), read_only=True) as con:
        keyed = con.execute("select count(*), count(distinct email) from dim_customer").fetchone()
    assert (
        serving.execute("select count(*), count(distinct email) from dim_customer").fetchone()
        == keyed
    )
    exported = lake.cfg.data_dir / "gold" / "dim_customer.parquet"
    assert (
        serving.execute(
            "select count(*) from (select * from dim_customer except all "
            f"select * from read_parquet('{exported}'))"
        ).fetchone()[0]
        == 0
    )


def test_unknown_serving_keys_are_refused(lake, tmp_path: Path) -> None:
    cfg = RunConfig(tmp_path / "data", lake.cfg.warehouse, target_dir=lake.cfg.target_dir)
    with pytest.raises(PublishError, match="unknown serving keys 'some'"):
        publish(cfg, keys="some")


def test_personal_columns_are_masked_in_the_serving_file(lake, serving) -> None:
    with lake.connect() as work:
        raw = {e for (e,) in work.execute("select email from gold.dim_customer").fetchall() if e}
    served = {e for (e,) in serving.execute("select email from gold.dim_customer").fetchall() if e}
    assert len(raw) > 100 and len(served) > 100
    assert raw.isdisjoint(served)
    assert "email" in lake.export.masked["dim_customer"]


def test_tables_are_created_after_the_tables_they_reference(lake) -> None:
    keys = gold_keys(load_manifest(lake.cfg.target_dir / "manifest.json"))
    order = creation_order(keys)
    position = {t: i for i, t in enumerate(order)}
    assert sorted(order) == sorted(keys)
    for table, table_keys in keys.items():
        for fk in table_keys.foreign:
            assert position[fk.table] < position[table], (table, fk.table)


def test_the_serving_file_is_never_raw(lake, tmp_path: Path) -> None:
    cfg = RunConfig(tmp_path / "data", lake.cfg.warehouse, target_dir=lake.cfg.target_dir)
    with pytest.raises(PublishError, match="never holds personal data raw"):
        publish(cfg, include_personal=True, serve=True)


# --- readers and crashes ------------------------------------------------------------------------

CHANGED = "mart_daily_engagement_summary"  # a table no foreign key points at


@pytest.fixture(scope="module")
def published_copy(lake, module_dir) -> Path:
    """A folder holding a copy of the test lake's warehouse and its publication (export and
    serving file), published once for the module's tests that copy it."""
    root = module_dir("published_copy")
    shutil.copy(lake.cfg.warehouse, root / "warehouse.duckdb")
    publish(RunConfig(root / "data", root / "warehouse.duckdb", target_dir=lake.cfg.target_dir))
    return root


@pytest.fixture
def copy(lake, published_copy: Path, tmp_path: Path) -> RunConfig:
    """A published copy of the test lake's warehouse, in its own folder (a copy of
    ``published_copy``: the export's link to its version folder is relative)."""
    shutil.copytree(published_copy, tmp_path, symlinks=True, dirs_exist_ok=True)
    cfg = RunConfig(
        tmp_path / "data", tmp_path / "warehouse.duckdb", target_dir=lake.cfg.target_dir
    )
    assert (cfg.data_dir / "gold").resolve().parent.parent == cfg.data_dir.resolve()
    return cfg


def _shrink(cfg: RunConfig) -> tuple[int, int]:
    """Delete half of CHANGED in the working warehouse: the next publication differs."""
    with duckdb.connect(str(cfg.warehouse)) as con:
        before = con.execute(f"select count(*) from gold.{CHANGED}").fetchone()[0]
        con.execute(f"delete from gold.{CHANGED} where hash(summary_date) % 2 = 0")
        after = con.execute(f"select count(*) from gold.{CHANGED}").fetchone()[0]
    assert 0 < after < before
    return before, after


def _published(cfg: RunConfig) -> tuple[int, int]:
    """Rows of CHANGED in the serving file and in the export, each opened fresh."""
    serving = cfg.warehouse.parent / "gold.duckdb"
    with duckdb.connect(str(serving), read_only=True) as con:
        served = con.execute(f"select count(*) from gold.{CHANGED}").fetchone()[0]
        tables = con.execute("select count(*) from duckdb_tables()").fetchone()[0]
    files = sorted((cfg.data_dir / "gold").glob("*.parquet"))
    assert len(files) == tables  # the export is whole: one file per served table
    exported = duckdb.sql(
        f"select count(*) from read_parquet('{cfg.data_dir / 'gold' / CHANGED}.parquet')"
    ).fetchone()[0]
    return served, exported


def test_a_reader_keeps_the_file_it_opened(copy: RunConfig) -> None:
    serving = copy.warehouse.parent / "gold.duckdb"
    reader = duckdb.connect(str(serving), read_only=True)
    before, after = _shrink(copy)
    publish(copy)
    assert reader.execute(f"select count(*) from gold.{CHANGED}").fetchone()[0] == before
    reader.close()
    assert _published(copy) == (after, after)
    with duckdb.connect(str(previous_path(serving)), read_only=True) as old:
        assert old.execute(f"select count(*) from gold.{CHANGED}").fetchone()[0] == before
    assert previous_path(serving).name == f"gold{PREVIOUS_SUFFIX}.duckdb"


def _serving_content(path: Path) -> dict[str, object]:
    """Everything a reader of a serving file sees but row order: tables, columns with types
    and comments, declared keys, and each table's rows as a sorted list."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute("select table_name from duckdb_tables() order by 1").fetchall()
        ]
        return {
            "columns": con.execute(
                "select table_name, column_name, data_type, comment from duckdb_columns() "
                "order by table_name, column_index"
            ).fetchall(),
            "tables": con.execute(
                "select table_name, comment from duckdb_tables() order by 1"
            ).fetchall(),
            "keys": sorted(
                con.execute(
                    "select table_name, constraint_type, constraint_column_names "
                    "from duckdb_constraints()"
                ).fetchall()
            ),
            "rows": {
                t: sorted(con.execute(f'select * from "{t}"').fetchall(), key=repr) for t in tables
            },
        }


def test_a_publish_writes_only_the_changed_rows_and_serves_what_a_rewrite_serves(
    copy: RunConfig, tmp_path: Path
) -> None:
    """The next serving file starts as a copy of the published one: rows deleted, changed or
    added in gold are deleted and inserted there, a table whose columns changed is written
    whole, and the result reads exactly as a serving file written from scratch."""
    before, after = _shrink(copy)
    reshaped = "fct_sentiment_daily"
    with duckdb.connect(str(copy.warehouse)) as con:
        con.execute(
            "update gold.fct_orders set status = 'relabelled' where order_id in "
            "(select order_id from gold.fct_orders order by order_id limit 3)"
        )
        con.execute(f"alter table gold.{reshaped} add column note varchar default 'new'")
    published = publish(copy)
    changes = published.serving_changes
    assert changes[CHANGED] == (before - after, 0)
    assert changes["fct_orders"] == (3, 3)
    assert reshaped not in changes
    others = {c for t, c in changes.items() if t not in (CHANGED, "fct_orders")}
    assert others == {(0, 0)}
    assert len(changes) > 40
    with pytest.MonkeyPatch.context() as env:
        env.setenv(SERVING_ENV, str(tmp_path / "rewritten.duckdb"))
        rewritten = publish(copy, rewrite=True)
    assert rewritten.serving_changes == {}
    updated = _serving_content(copy.warehouse.parent / "gold.duckdb")
    assert updated == _serving_content(tmp_path / "rewritten.duckdb")
    assert ("fct_sentiment_daily", "note", "VARCHAR") in [c[:3] for c in updated["columns"]]


def test_every_seventh_publication_writes_the_serving_file_whole(copy: RunConfig) -> None:
    """Updates leave the space of deleted rows behind, so a publication whose version number is
    a multiple of SERVING_REWRITE_EVERY writes the serving file whole, with the same content
    an update would have given."""
    _shrink(copy)
    versions = copy.data_dir / VERSIONS_DIR
    numbers = [int(p.name.split("-", 1)[1]) for p in versions.glob("gold-*")]
    assert max(numbers) % SERVING_REWRITE_EVERY not in (0, SERVING_REWRITE_EVERY - 1)
    updated = publish(copy)
    assert updated.serving_changes[CHANGED][0] > 0  # an update: the previous file was copied
    served = _serving_content(copy.warehouse.parent / "gold.duckdb")
    # the version before a multiple of the period, so that the next publication is one
    (versions / f"gold-{2 * SERVING_REWRITE_EVERY - 1}").mkdir()
    whole = publish(copy)
    assert whole.export_dir.name == f"gold-{2 * SERVING_REWRITE_EVERY}"
    assert whole.serving_changes == {}
    assert _serving_content(copy.warehouse.parent / "gold.duckdb") == served
    after = publish(copy)
    assert after.serving_changes and set(after.serving_changes.values()) == {(0, 0)}


KILL_SCRIPT = """
import os, signal, sys
from pathlib import Path
import engagement_lake.publish as pub
from engagement_lake.config import RunConfig

point, data, warehouse, target = sys.argv[1:5]

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if point == "mid-serving":
    write, quote, calls = pub.write_serving, pub.identifier, [0]
    def counting(name):
        calls[0] += 1
        if calls[0] == 60:  # some tables created and filled, most not
            die()
        return quote(name)
    def writing(*args, **kwargs):
        pub.identifier = counting
        return write(*args, **kwargs)
    pub.write_serving = writing
else:
    setattr(pub, point, die)
pub.publish(RunConfig(Path(data), Path(warehouse), target_dir=Path(target)))
"""


@pytest.mark.parametrize(
    ("point", "export_new", "serving_new"),
    [
        ("write_serving", False, False),  # export files staged, serving file not begun
        ("mid-serving", False, False),  # serving file half written
        ("_swap_link", False, False),  # both written, nothing swapped
        ("_swap_file", True, False),  # export swapped, serving file not yet
        ("_prune", True, True),  # both swapped, old versions not yet pruned
    ],
)
def test_a_publish_killed_midway_leaves_a_whole_publication(
    copy: RunConfig, point: str, export_new: bool, serving_new: bool
) -> None:
    before, after = _shrink(copy)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(KILL_SCRIPT),
            point,
            str(copy.data_dir),
            str(copy.warehouse),
            str(copy.target_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    served, exported = _published(copy)
    assert served == (after if serving_new else before)
    assert exported == (after if export_new else before)
    # the next publish repairs: both new, no partial file left behind
    publish(copy)
    assert _published(copy) == (after, after)
    leftovers = [p.name for p in copy.warehouse.parent.glob(".*partial*")]
    leftovers += [p.name for p in (copy.data_dir / VERSIONS_DIR).glob(".*partial")]
    assert leftovers == []


class _Recording:
    """A connection that keeps the statements it ran."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.statements = con, []

    def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
        self.statements.append(sql)
        return self.con.execute(sql, *args)


def test_an_updated_table_gets_only_the_comments_that_changed() -> None:
    """A table updated in a copy of the previous file keeps its comments: the next publication
    writes the changed ones (a new, edited or removed description) and no other."""
    from engagement_lake.publish import _comment, _comments

    con = duckdb.connect()
    con.execute("attach ':memory:' as serving")
    con.execute(f"use serving.{SERVING_SCHEMA}")
    con.execute("create table t (a integer, b integer, c integer)")
    types = [("a", "INTEGER"), ("b", "INTEGER"), ("c", "INTEGER")]
    notes = ("The table.", {"a": "Column a.", "b": "Column b."})
    _comment(con, "t", types, notes)
    recording = _Recording(con)
    _comment(recording, "t", types, notes, _comments(con)["t"])
    assert recording.statements == []
    _comment(
        recording, "t", types, ("", {"a": "Column a, edited.", "c": "New."}), _comments(con)["t"]
    )
    assert len(recording.statements) == 4  # the table's removed, a edited, b removed, c new
    assert _comments(con)["t"] == ("", {"a": "Column a, edited.", "c": "New."})
