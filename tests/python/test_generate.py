"""Tests of the synthetic data generator (``engagement_lake.generate``).

Every check is driven by the contracts in ``schemas/`` rather than written per table: a
contract change is picked up here without editing the tests. Lakes are generated once per
module at scale 0.01 (about a thousand people), which keeps the whole file to seconds.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
import shutil
import weakref
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engagement_lake.contracts import METADATA_COLUMNS, Contract, load_contracts
from engagement_lake.generate import GenerateResult, generate, generate_day
from engagement_lake.generate.block import Block
from engagement_lake.generate.context import Calendar, Ctx
from engagement_lake.generate.faults import FAULT_KINDS
from engagement_lake.generate.pipeline import (
    block_bounds,
    build_world,
    cached_contracts,
    computed_blocks,
)
from engagement_lake.generate.systems.crm import organisation
from engagement_lake.generate.writer import LakeWriter, contract_schema

SCALE = 0.01
SEED = 7
AS_OF = date(2026, 6, 30)
DAY = date(2026, 7, 1)
IDENTITY_TABLES = {
    "shop.customers": "customer_id",
    "crm.contacts": "contact_id",
    "crm.leads": "lead_id",
    "support.requesters": "requester_id",
    "marketing.subscribers": "subscriber_id",
    "loyalty.members": "member_id",
}
ROW_KINDS = {
    "null_primary_key",
    "unknown_allowed_value",
    "out_of_range",
    "unparsable_date",
    "orphan_foreign_key",
}

Finding = tuple[str, str, str | None, str | None, str, str | None]
"""(system, table, file, source_key, kind, column) -- the shape of _truth/faults.parquet."""


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def contracts() -> dict[str, Contract]:
    return load_contracts()


@pytest.fixture(scope="module")
def backfill(module_dir) -> tuple[Path, GenerateResult]:
    """The small world generated once (no daily load), with its result."""
    path = module_dir("lake_a")
    return path, generate(path, scale=SCALE, seed=SEED, as_of=AS_OF, progress=False)


@pytest.fixture(scope="module")
def faulty_lake(faulty_bronze: Path) -> Path:
    """The session's shared faulty bronze (read-only here: a test that writes copies it)."""
    return faulty_bronze


@pytest.fixture(scope="module")
def blocked_lakes(
    module_dir,
) -> tuple[Path, GenerateResult, Path, GenerateResult]:
    """The small world cut into four blocks of people, generated on one thread and on three."""
    kw: dict[str, Any] = dict(scale=SCALE, seed=SEED, as_of=AS_OF, progress=False)
    one, three = module_dir("lake_blocks_1"), module_dir("lake_blocks_3")
    r1 = generate(one, block_people=300, threads=1, **kw)
    return one, r1, three, generate(three, block_people=300, threads=3, **kw)


@pytest.fixture(scope="module")
def daily_lake(
    backfill: tuple[Path, GenerateResult], module_dir
) -> tuple[Path, dict[str, str], dict[str, str], GenerateResult]:
    """A copy of the backfilled lake with one daily load; file hashes before and after."""
    path = module_dir("lake_daily")
    shutil.copytree(backfill[0], path, dirs_exist_ok=True)
    before = _hashes(path)
    result = generate_day(path, DAY, seed=SEED, progress=False)
    return path, before, _hashes(path), result


# ----------------------------------------------------------------------------- helpers


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / "bronze").rglob("*.parquet"))
    }


def _table_files(root: Path, c: Contract) -> list[Path]:
    """The table's Parquet files in well-formed partitions (what the build reads)."""
    return sorted(
        f
        for f in (root / "bronze" / c.system / c.table).glob("load_date=*/*.parquet")
        if re.fullmatch(r"load_date=\d{4}-\d{2}-\d{2}", f.parent.name)
        and _valid_date(f.parent.name.split("=")[1])
    )


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _misplaced(root: Path, c: Contract) -> list[Finding]:
    """Files the build cannot read as part of the table: not Parquet, or outside a partition."""
    table_dir = root / "bronze" / c.system / c.table
    good = set(_table_files(root, c))
    out: list[Finding] = []
    for f in sorted(p for p in table_dir.rglob("*") if p.is_file()):
        rel = str(f.relative_to(root))
        if f.suffix != ".parquet":
            out.append((c.system, c.table, rel, None, "foreign_file", None))
        elif f not in good:
            out.append((c.system, c.table, rel, None, "bad_partition", None))
    return out


def _q(name: str) -> str:
    return '"' + name + '"'


def _lit(v: Any) -> str:
    return "'" + str(v).replace("'", "''") + "'" if isinstance(v, str) else str(v)


def _strftime(fmt: str) -> str:
    return fmt.replace("yyyy", "%Y").replace("MM", "%m").replace("dd", "%d")


def detect(root: Path, contracts: dict[str, Contract]) -> list[Finding]:
    """Re-detect every contract violation in bronze, independently of the generator.

    File level: unreadable files, extra / missing columns, wrong physical types. Row level:
    null keys, duplicate keys within a batch, required nulls, allowed values, minimum/maximum,
    patterns, max length, unparsable text dates, orphan foreign keys, and the contracts' SQL
    quality rules.
    """
    con = duckdb.connect()
    found: list[Finding] = []
    cols_of: dict[str, set[str]] = {}
    for fqn, c in contracts.items():
        expected = contract_schema(c)
        readable = []
        found += _misplaced(root, c)
        for f in _table_files(root, c):
            rel = str(f.relative_to(root))
            try:
                schema = pq.read_schema(f)
            except Exception:
                found.append((c.system, c.table, rel, None, "truncated_file", None))
                continue
            try:
                pq.read_table(f)
            except Exception:  # the footer opens, the pages do not
                found.append((c.system, c.table, rel, None, "corrupt_pages", None))
                continue
            names = set(schema.names)
            found += [
                (c.system, c.table, rel, None, "extra_column", x)
                for x in sorted(names - set(expected.names))
            ]
            found += [
                (c.system, c.table, rel, None, "missing_column", x)
                for x in sorted(set(expected.names) - names)
            ]
            found += [
                (c.system, c.table, rel, None, "wrong_type", fld.name)
                for fld in expected
                if fld.name in names and schema.field(fld.name).type != fld.type
            ]
            readable.append(str(f))
        assert readable, f"{fqn} has no readable file"
        con.execute(
            f"CREATE VIEW {_q(fqn)} AS SELECT * FROM "
            f"read_parquet({readable!r}, union_by_name = true)"
        )
        cols_of[fqn] = {r[0] for r in con.execute(f"DESCRIBE {_q(fqn)}").fetchall()}

    for fqn, c in contracts.items():
        t, pk = _q(fqn), c.primary_key[0]
        sel = f"SELECT _source_file, {_q(pk)}::VARCHAR FROM {t}"

        def add(sql: str, kind: str, column: str | None, key: bool = True, c: Contract = c) -> None:
            for f, k in con.execute(sql).fetchall():
                found.append((c.system, c.table, f, k if key else None, kind, column))

        add(f"{sel} WHERE {_q(pk)} IS NULL", "null_primary_key", pk, key=False)
        add(
            f"SELECT min(_source_file), {_q(pk)}::VARCHAR FROM {t} WHERE {_q(pk)} IS NOT NULL "
            f"GROUP BY {_q(pk)}, _batch_id HAVING count(*) > 1",
            "duplicate_key",
            pk,
        )
        for col in c.columns:
            if col.name not in cols_of[fqn]:
                continue
            cn = _q(col.name)
            if not col.physical_type.upper().startswith("VARCHAR"):
                add(
                    f"{sel} WHERE {cn} IS NOT NULL "
                    f"AND try_cast({cn} AS {col.physical_type}) IS NULL",
                    "uncastable_value",
                    col.name,
                )
                cn = f"try_cast({cn} AS {col.physical_type})"
            if col.required and not col.primary_key:
                add(f"{sel} WHERE {cn} IS NULL AND {_q(pk)} IS NOT NULL", "required_null", col.name)
            if col.required and col.logical_type == "string":
                add(f"{sel} WHERE trim({cn}) = ''", "missing_required", col.name)
            if col.allowed_values:
                values = ", ".join(_lit(v) for v in col.allowed_values)
                add(
                    f"{sel} WHERE {cn}::VARCHAR NOT IN ({values})",
                    "unknown_allowed_value",
                    col.name,
                )
            if col.arrives_as_text:
                fmt = _strftime(col.date_format or "yyyy-MM-dd")
                add(
                    f"{sel} WHERE {cn} IS NOT NULL AND try_strptime({cn}, '{fmt}') IS NULL",
                    "unparsable_date",
                    col.name,
                )
            if col.logical_type in ("date", "timestamp"):
                fmt = _strftime(col.date_format or "yyyy-MM-dd")
                value = f"try_strptime({cn}, '{fmt}')" if col.arrives_as_text else cn
                landed = "regexp_extract(_source_file, 'load_date=([0-9-]+)', 1)::DATE"
                window = [
                    f"{value} < TIMESTAMP '{col.minimum}'" if col.minimum else None,
                    f"{value} > TIMESTAMP '{col.maximum}'" if col.maximum else None,
                    f"{value}::DATE > {landed}" if col.not_after_load_date else None,
                ]
                window = [w for w in window if w]
                if window:
                    add(f"{sel} WHERE {' OR '.join(window)}", "out_of_range", col.name)
            else:
                if col.minimum is not None:
                    add(f"{sel} WHERE {cn} < {_lit(col.minimum)}", "out_of_range", col.name)
                if col.maximum is not None:
                    add(f"{sel} WHERE {cn} > {_lit(col.maximum)}", "out_of_range", col.name)
            if col.pattern:
                add(
                    f"{sel} WHERE NOT regexp_matches({cn}::VARCHAR, {_lit(col.pattern)})",
                    "pattern",
                    col.name,
                )
            if col.max_length:
                add(f"{sel} WHERE length({cn}) > {col.max_length}", "too_long", col.name)
            if col.reference:
                r = col.reference
                kind = "orphan_foreign_key" if r.required else "orphan_optional_reference"
                add(
                    f"{sel} WHERE {cn} IS NOT NULL AND {cn} NOT IN "
                    f"(SELECT {_q(r.column)} FROM {_q(r.table_fqn)} "
                    f"WHERE {_q(r.column)} IS NOT NULL)",
                    kind,
                    col.name,
                )
        for rule in c.quality:
            if rule.kind == "sql" and rule.query:
                try:
                    n = con.execute(rule.query.replace("${table}", t)).fetchone()[0]
                except duckdb.BinderException:  # a column of the wrong type, reported above
                    continue
                if n:
                    found.append((c.system, c.table, None, str(n), f"rule:{rule.name}", None))
    return found


def _read(root: Path, c: Contract) -> pa.Table:
    return pa.concat_tables(pq.read_table(f) for f in _table_files(root, c))


# ----------------------------------------------------------------------------- layout


def test_layout_and_metadata(
    backfill: tuple[Path, GenerateResult], contracts: dict[str, Contract]
) -> None:
    root, result = backfill
    assert result.batch_id == f"backfill-{AS_OF.isoformat()}"
    assert set(result.rows) == set(contracts)
    assert all(n > 0 for n in result.rows.values()), "every table has rows"
    for fqn, c in contracts.items():
        files = _table_files(root, c)
        assert files, fqn
        assert {f.parent.name for f in files} == {f"load_date={AS_OF.isoformat()}"}
        rows = 0
        for f in files:
            assert f.name.startswith("part-") and len(f.stem) == len("part-0000")
            schema = pq.read_schema(f)
            assert schema.names == [
                *(x.name for x in c.columns),
                *(m.name for m in METADATA_COLUMNS),
            ]
            meta = pq.read_table(f, columns=["_loaded_at", "_source_file", "_batch_id"])
            assert set(meta.column("_source_file").to_pylist()) == {str(f.relative_to(root))}
            assert set(meta.column("_batch_id").to_pylist()) == {result.batch_id}
            assert meta.column("_loaded_at").null_count == 0
            rows += meta.num_rows
        assert rows == result.rows[fqn]


def test_truth_is_apart_from_bronze(backfill: tuple[Path, GenerateResult]) -> None:
    root, _ = backfill
    truth = root / "_truth"
    for name in (
        "identity.parquet",
        "people.parquet",
        "clv_params.json",
        "experiments.parquet",
        "texts.parquet",
        "model_accuracy.parquet",
        "faults.parquet",
        "manifest.json",
    ):
        assert (truth / name).exists(), name
    assert not any("_truth" in p.parts for p in (root / "bronze").rglob("*"))
    assert {p.name for p in root.iterdir()} == {"bronze", "_truth"}


def test_same_seed_same_tables(
    backfill: tuple[Path, GenerateResult], contracts: dict[str, Contract], tmp_path: Path
) -> None:
    root, result = backfill
    again = generate(tmp_path, scale=SCALE, seed=SEED, as_of=AS_OF, progress=False)
    assert again.rows == result.rows
    for c in contracts.values():
        assert [f.relative_to(root) for f in _table_files(root, c)] == [
            f.relative_to(tmp_path) for f in _table_files(tmp_path, c)
        ]
        assert _read(root, c).equals(_read(tmp_path, c)), c.fqn
    for name in ("identity.parquet", "people.parquet", "texts.parquet"):
        assert pl.read_parquet(root / "_truth" / name).equals(
            pl.read_parquet(tmp_path / "_truth" / name)
        )


def test_other_seed_differs(
    backfill: tuple[Path, GenerateResult], contracts: dict[str, Contract], tmp_path: Path
) -> None:
    root, _ = backfill
    generate(tmp_path, scale=SCALE, seed=SEED + 1, as_of=AS_OF, progress=False)
    c = contracts["shop.customers"]
    assert not _read(root, c).equals(_read(tmp_path, c))


def test_id_lanes_of_concurrent_blocks_never_collide() -> None:
    """Blocks take interleaved lanes of each sequence; afterwards the sequence continues
    past every id any block handed out (daily loads rely on that)."""
    ctx = Ctx(
        seed=SEED, scale=SCALE, as_of=AS_OF, contracts={}, cal=Calendar(AS_OF), counters={"o": 10}
    )
    blocks = [ctx.for_block(b, 3) for b in range(3)]
    taken = [blocks[0].take("o", 5), blocks[2].take("o", 2), blocks[0].take("o", 1)]
    taken += [blocks[1].take("o", 0), blocks[2].take("new", 4)]
    olds = np.concatenate(taken[:4])
    assert len(set(olds.tolist())) == len(olds) == 8
    assert olds.min() > 10
    assert taken[0].tolist() == [11, 14, 17, 20, 23] and taken[2].tolist() == [26]
    assert taken[4].tolist() == [3, 6, 9, 12]
    ctx.merge_blocks(blocks)
    assert ctx.counters == {"o": 26, "new": 12}
    assert ctx.take("o", 2).tolist() == [27, 28]
    one = Ctx(seed=SEED, scale=SCALE, as_of=AS_OF, contracts={}, cal=Calendar(AS_OF))
    assert one.for_block(0, 1).take("x", 3).tolist() == [1, 2, 3], "one block: serial ids"


def test_blocks_on_several_threads_give_the_same_lake(
    blocked_lakes: tuple[Path, GenerateResult, Path, GenerateResult],
    contracts: dict[str, Contract],
) -> None:
    one, r1, three, r3 = blocked_lakes
    assert r1.rows == r3.rows
    for c in contracts.values():
        assert [f.relative_to(one) for f in _table_files(one, c)] == [
            f.relative_to(three) for f in _table_files(three, c)
        ]
        assert _read(one, c).equals(_read(three, c)), c.fqn
    for name in ("identity.parquet", "people.parquet", "texts.parquet", "faults.parquet"):
        assert pl.read_parquet(one / "_truth" / name).equals(
            pl.read_parquet(three / "_truth" / name)
        ), name
    state = json.loads((one / "_truth" / "state.json").read_text())
    assert state == json.loads((three / "_truth" / "state.json").read_text())
    orders = _read(one, contracts["shop.orders"]).column("order_id").to_pylist()
    assert max(int(x[1:]) for x in orders) == state["counters"]["order"]


def test_a_written_block_is_released(tmp_path: Path) -> None:
    """Memory stays bounded as the scale grows: once the consumer asks for the next block,
    nothing keeps the previous one (its tables and state) alive."""
    ctx = Ctx(
        seed=SEED, scale=SCALE, as_of=AS_OF, contracts=cached_contracts(), cal=Calendar(AS_OF)
    )
    w = build_world(ctx)
    writer = LakeWriter(tmp_path, ctx.contracts, AS_OF, "b", ctx.loaded_at_us, background=False)
    refs: list[weakref.ref[Block]] = []
    for blk in computed_blocks(ctx, w, block_bounds(len(w.people), 250), writer, threads=2):
        gc.collect()
        assert [r() is None for r in refs] == [True] * len(refs), f"block {blk.index}"
        assert blk.arrow["shop.orders"][0].num_rows > 0
        refs.append(weakref.ref(blk))
    assert len(refs) == 4


def test_blocked_backfill_conforms_to_contracts(
    blocked_lakes: tuple[Path, GenerateResult, Path, GenerateResult],
    contracts: dict[str, Contract],
) -> None:
    """Four blocks, ids from four lanes: still unique keys and no orphan references."""
    root = blocked_lakes[2]
    assert len(_table_files(root, contracts["shop.orders"])) == 4
    findings = detect(root, contracts)
    assert not findings, Counter((f[4], f"{f[0]}.{f[1]}", f[5]) for f in findings)
    truth = pl.read_parquet(root / "_truth" / "identity.parquet")
    for fqn, key in IDENTITY_TABLES.items():
        ids = set(_read(root, contracts[fqn]).column(key).cast(pa.string()).to_pylist())
        assert ids == set(truth.filter(pl.col("source_system") == fqn)["source_id"].to_list()), fqn


# ----------------------------------------------------------------------------- contracts


def test_backfill_conforms_to_contracts(
    backfill: tuple[Path, GenerateResult], contracts: dict[str, Contract]
) -> None:
    root, _ = backfill
    findings = detect(root, contracts)
    assert not findings, Counter((f[4], f"{f[0]}.{f[1]}", f[5]) for f in findings)


def test_history_window_and_event_times(
    backfill: tuple[Path, GenerateResult], contracts: dict[str, Contract]
) -> None:
    """About three years of history, never after the as-of date (not the wall clock)."""
    root, _ = backfill
    con = duckdb.connect()
    for c in contracts.values():
        col = c.event_timestamp_column
        if col is None or c.column(col).physical_type != "TIMESTAMP":
            continue
        files = [str(f) for f in _table_files(root, c)]
        hi, lo = con.execute(
            f"SELECT max({_q(col)}), min({_q(col)}) FROM read_parquet({files!r})"
        ).fetchone()
        assert hi.date() <= AS_OF, c.fqn
    orders = [str(f) for f in _table_files(root, contracts["shop.orders"])]
    lo, hi = con.execute(
        f"SELECT min(order_ts), max(order_ts) FROM read_parquet({orders!r})"
    ).fetchone()
    assert lo.date() >= date(AS_OF.year - 3, AS_OF.month, AS_OF.day)
    assert (hi.date() - lo.date()).days > 3 * 365 - 30


# ----------------------------------------------------------------------------- identity


def test_identity_truth_covers_every_source_record(
    backfill: tuple[Path, GenerateResult], contracts: dict[str, Contract]
) -> None:
    root, _ = backfill
    truth = pl.read_parquet(root / "_truth" / "identity.parquet")
    people = pl.read_parquet(root / "_truth" / "people.parquet")
    assert truth.select("source_system", "source_id").is_duplicated().sum() == 0
    assert np.isin(truth["person_id"].to_numpy(), people["person_id"].to_numpy()).all()
    assert set(truth["source_system"].unique()) == set(IDENTITY_TABLES)
    for fqn, key in IDENTITY_TABLES.items():
        ids = set(_read(root, contracts[fqn]).column(key).cast(pa.string()).to_pylist())
        assert ids == set(truth.filter(pl.col("source_system") == fqn)["source_id"].to_list()), fqn
    per_person = truth.group_by("person_id").agg(pl.col("source_system").n_unique().alias("n"))
    assert per_person["n"].min() >= 1 and per_person["n"].max() <= len(IDENTITY_TABLES)
    assert per_person.height == people.height, "every person appears in at least one system"
    assert truth["is_duplicate"].mean() > 0, "some people have duplicate records within a system"


def test_identity_noise_is_present_but_matchable(backfill: tuple[Path, GenerateResult]) -> None:
    """Noise exists (records of one person differ), yet simple deterministic rules on
    normalised e-mail, phone and (first initial, last name, birth date, ZIP) already link most
    of them. The first initial is needed: twins share surname, birth date and address."""
    root, _ = backfill
    con = duckdb.connect()

    def scan(t: str) -> str:
        return f"read_parquet('{root}/bronze/{t}/*/*.parquet')"

    records = con.execute(f"""
        SELECT 'shop.customers' s, customer_id id, first_name fn, last_name ln, email, phone,
               birth_date dob, postal_code zip FROM {scan("shop/customers")}
        UNION ALL SELECT 'crm.contacts', contact_id, first_name, last_name, email, phone,
               birthdate::VARCHAR, mailing_postal_code FROM {scan("crm/contacts")}
        UNION ALL SELECT 'crm.leads', lead_id, first_name, last_name, email, phone, NULL, NULL
               FROM {scan("crm/leads")}
        UNION ALL SELECT 'support.requesters', requester_id::VARCHAR, NULL, NULL, email, phone,
               NULL, NULL FROM {scan("support/requesters")}
        UNION ALL SELECT 'marketing.subscribers', subscriber_id, first_name, last_name,
               email_address, NULL, NULL, zip
               FROM {scan("marketing/subscribers")}
        UNION ALL SELECT 'loyalty.members', member_id, split_part(trim(full_name), ' ', 1),
               split_part(trim(full_name), ' ', -1), email,
               phone, date_of_birth::VARCHAR, zip_code FROM {scan("loyalty/members")}
    """).pl()
    truth = pl.read_parquet(root / "_truth" / "identity.parquet").rename(
        {"source_system": "s", "source_id": "id"}
    )
    df = records.join(truth, on=["s", "id"]).with_columns(
        em=pl.col("email").str.strip_chars().str.to_lowercase().str.replace(r"\+[^@]*@", "@"),
        ph=pl.col("phone").str.replace_all(r"[^0-9]", "").str.slice(-10),
        nm=pl.concat_str(
            [
                pl.col("fn").str.strip_chars().str.slice(0, 1).str.to_lowercase(),
                pl.col("ln").str.strip_chars().str.to_lowercase(),
                pl.col("dob"),
                pl.col("zip").str.slice(0, 5),
            ]
        ),
    )
    # raw values differ between records of the same person (noise is present)
    raw = (
        df.filter(pl.col("email").is_not_null())
        .group_by("person_id")
        .agg(pl.col("email").n_unique().alias("raw"), pl.col("em").n_unique().alias("norm"))
    )
    assert (raw["raw"] > raw["norm"]).sum() > 0
    # union-find over the three deterministic keys
    n = df.height
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for key in ("em", "ph", "nm"):
        groups = df.with_row_index("i").filter(pl.col(key).is_not_null()).group_by(key).agg("i")
        for members in groups["i"].to_list():
            root_ = find(members[0])
            for j in members[1:]:
                parent[find(j)] = root_
    df = df.with_columns(cluster=pl.Series([find(i) for i in range(n)]))

    def pairs(cols: list[str]) -> int:
        sizes = df.group_by(cols).len()["len"].to_numpy().astype(np.int64)
        return int((sizes * (sizes - 1) // 2).sum())

    tp, predicted, actual = (
        pairs(["cluster", "person_id"]),
        pairs(["cluster"]),
        pairs(["person_id"]),
    )
    precision, recall = tp / predicted, tp / actual
    f1 = 2 * precision * recall / (precision + recall)
    assert precision > 0.99 and f1 > 0.95, (precision, recall, f1)


# ----------------------------------------------------------------------------- behaviour


def test_a_member_never_redeems_points_that_expired(tmp_path: Path) -> None:
    """Redemptions are a share of the points a member gained; after an expiry empties the
    balance, only the points gained since count, so a daily load never drives a balance below
    zero (the member below held 0 points and earned 241: the points gained before the expiry
    once made them redeem 500)."""
    from types import SimpleNamespace

    from engagement_lake.generate.systems import loyalty

    ledger = tmp_path / "ledger.parquet"
    con = duckdb.connect()
    con.execute(f"""copy (select * from (values
        ('PL1', 'L1', 'bonus', 100, timestamp '2025-01-02 10:00'),
        ('PL2', 'L1', 'earn', 350, timestamp '2025-03-02 10:00'),
        ('PL3', 'L1', 'earn', 219, timestamp '2025-05-02 10:00'),
        ('PL4', 'L1', 'bonus', 250, timestamp '2025-05-02 11:00'),
        ('PL5', 'L1', 'expire', -919, timestamp '2026-05-02 11:00'))
        as t(ledger_id, member_id, entry_type, points, entry_ts)) to '{ledger}'""")
    bronze = SimpleNamespace(
        query=lambda sql: con.execute(sql).pl(), scan=lambda fqn: f"read_parquet('{ledger}')"
    )
    state = loyalty._state(SimpleNamespace(bronze=bronze), ["L1"]).row(0, named=True)
    assert (state["earned"], state["gained"], state["balance"]) == (569, 0, 0)
    habit = max(rho for rho, _ in loyalty.REDEEM_PROPENSITY)
    steps = loyalty.earn_steps(
        np.array([0]),
        np.array([241]),
        np.array([float(state["earned"])]),
        np.array([float(state["gained"])]),
        np.array([habit]),
    )["steps"]
    assert state["balance"] + 241 - loyalty.REDEEM_POINTS * int(steps.sum()) >= 0


def test_business_rules_hold(backfill: tuple[Path, GenerateResult]) -> None:
    root, _ = backfill
    con = duckdb.connect()

    def v(t: str) -> str:
        return f"read_parquet('{root}/bronze/{t}/*/*.parquet')"

    bad_earn = con.execute(f"""SELECT count(*) FROM {v("loyalty/points_ledger")} l
        JOIN {v("shop/orders")} o USING (order_id)
        WHERE l.entry_type = 'earn' AND l.points <> floor(o.total_amount)""").fetchone()[0]
    assert bad_earn == 0
    bad_balance = con.execute(f"""SELECT count(*) FROM {v("loyalty/members")} m
        JOIN (SELECT member_id, sum(points) s FROM {v("loyalty/points_ledger")} GROUP BY 1)
          USING (member_id)
        WHERE m.points_balance <> s""").fetchone()[0]
    assert bad_balance == 0
    bad_commission = con.execute(f"""SELECT count(*) FROM {v("crm/commissions")} c
        JOIN {v("crm/opportunities")} o USING (opportunity_id)
        WHERE NOT o.is_won
           OR abs(c.commission_amount - round(c.commission_rate * o.amount, 2)) > 0.005
    """).fetchone()[0]
    assert bad_commission == 0
    stages = con.execute(f"""SELECT count(*) FROM {v("crm/opportunities")} o
        WHERE o.stage_name <> (SELECT arg_max(h.stage_name, h.created_date)
                               FROM {v("crm/opportunity_stage_history")} h
                               WHERE h.opportunity_id = o.opportunity_id)""").fetchone()[0]
    assert stages == 0, "an opportunity's stage is the last stage in its history"
    fit = con.execute(f"""
        SELECT p.fitmap_user, avg((r.return_id IS NOT NULL)::INT) AS rate
        FROM {v("shop/order_items")} i JOIN {v("shop/orders")} o USING (order_id)
        JOIN read_parquet('{root}/_truth/identity.parquet') x
          ON x.source_system = 'shop.customers' AND x.source_id = o.customer_id
        JOIN read_parquet('{root}/_truth/people.parquet') p USING (person_id)
        LEFT JOIN {v("shop/returns")} r ON r.order_item_id = i.order_item_id
        GROUP BY 1""").fetchall()
    rates = dict(fit)
    assert rates[True] < rates[False], "FitMap users return less"
    months = dict(
        con.execute(
            f"SELECT month(order_ts), count(*) FROM {v('shop/orders')} GROUP BY 1"
        ).fetchall()
    )
    assert months[12] > np.mean(list(months.values())), "December peak"
    exp = pl.read_parquet(root / "_truth" / "experiments.parquet")
    assert exp.filter(pl.col("is_srm"))["experiment_id"].n_unique() == 1
    assert (exp["true_effect"] == 0).any() and (exp["true_effect"] > 0).any()


def test_purchases_follow_tastes(backfill: tuple[Path, GenerateResult]) -> None:
    """Order lines come mostly from the buyer's favourite categories and brands (the structure
    item-item recommenders learn), far above what the catalogue mix alone would give."""
    root, _ = backfill
    con = duckdb.connect()
    share = con.execute(f"""
        SELECT avg((pr.category IN (p.taste_category_1, p.taste_category_2,
                                    p.taste_category_3))::INT) AS in_cat,
               avg((pr.brand IN (p.taste_brand_1, coalesce(p.taste_brand_2, '')))::INT) AS in_brand
        FROM read_parquet('{root}/bronze/shop/order_items/*/*.parquet') i
        JOIN read_parquet('{root}/bronze/shop/orders/*/*.parquet') o USING (order_id)
        JOIN read_parquet('{root}/bronze/shop/products/*/*.parquet') pr USING (product_id)
        JOIN read_parquet('{root}/_truth/identity.parquet') x
          ON x.source_system = 'shop.customers' AND x.source_id = o.customer_id
        JOIN read_parquet('{root}/_truth/people.parquet') p USING (person_id)""").fetchone()
    assert share[0] > 0.6, share
    assert share[1] > 0.14, share  # 1-2 of 14 brands: about 0.11 without preferences


def test_recommended_purchases_name_orders_with_the_product(
    backfill: tuple[Path, GenerateResult],
) -> None:
    root, _ = backfill
    query = f"""
        SELECT count(*), count(*) FILTER (WHERE has_line), count(*) FILTER (WHERE flagged)
        FROM (
            SELECT f.feedback_id, bool_or(i.order_item_id IS NOT NULL) AS has_line,
                   coalesce(bool_or(i.is_recommended), false) AS flagged
            FROM read_parquet('{root}/bronze/mlops/recommendation_feedback/*/*.parquet') f
            JOIN read_parquet('{root}/bronze/mlops/recommendations_served/*/*.parquet') r
              USING (recommendation_id)
            LEFT JOIN read_parquet('{root}/bronze/shop/order_items/*/*.parquet') i
              ON i.order_id = f.order_id AND i.product_id = r.product_id
            WHERE f.feedback_type = 'purchase'
            GROUP BY 1
        )"""
    n, hits, flagged = duckdb.connect().execute(query).fetchone()
    assert n > 0 and hits == n and flagged == n, (n, hits, flagged)


def test_quotas_scale_with_the_expected_won_amount() -> None:
    """Twice the CRM people gives every rep twice the expected won amount (and quota)."""
    from engagement_lake.generate.context import Calendar, Ctx
    from engagement_lake.generate.systems import crm
    from engagement_lake.generate.vocab import TERRITORIES

    ctx = Ctx(seed=SEED, scale=0.1, as_of=AS_OF, contracts={}, cal=Calendar(AS_OF))
    reps = organisation.make_reps(ctx)
    states = [st for _, _, sts in TERRITORIES for st in sts]
    people = pl.DataFrame({"in_crm": True, "state": states * 100})
    once = crm.expected_monthly_won(ctx, reps, people)
    twice = crm.expected_monthly_won(ctx, reps, pl.concat([people, people]))
    assert np.allclose(twice, 2 * once) and (once > 0).all()
    q = crm.quotas(ctx, reps, people)
    assert np.asarray(q["quota_amount"]).min() >= 100


def test_feature_values_cover_a_year_with_recorded_drift(
    backfill: tuple[Path, GenerateResult],
) -> None:
    root, _ = backfill
    months = (
        duckdb.connect()
        .execute(f"""
        SELECT count(DISTINCT date_trunc('month', computed_at))
        FROM read_parquet('{root}/bronze/mlops/feature_values/*/*.parquet')
        WHERE feature_type = 'batch'""")
        .fetchone()[0]
    )
    assert months == 12
    drift = json.loads((root / "_truth" / "feature_drift.json").read_text())
    assert set(drift["drifting_features"]) == {"email_open_rate_30d", "sessions_30d"}
    assert not set(drift["stable_features"]) & set(drift["drifting_features"])


def test_texts_truth_matches_texts(backfill: tuple[Path, GenerateResult]) -> None:
    root, _ = backfill
    tx = pl.read_parquet(root / "_truth" / "texts.parquet")
    assert set(tx["source_type"].unique()) == {
        "review",
        "ticket_message",
        "call_transcript",
        "survey",
        "social",
    }
    assert set(tx["sentiment"].unique()) == {"positive", "neutral", "negative"}
    nlp = pl.read_parquet(root / "bronze" / "mlops" / "nlp_sentiment")
    joined = nlp.join(tx, on=["source_type", "source_id"], how="left")
    assert joined["sentiment"].null_count() == 0, "the vendor scores only real texts"
    assert 0 < len(nlp) < len(tx), "the vendor scores part of the texts"


# ----------------------------------------------------------------------------- faults


def test_fault_manifest_lists_exactly_what_was_injected(
    faulty_lake: Path, contracts: dict[str, Contract]
) -> None:
    findings = detect(faulty_lake, contracts)
    found = [f for f in findings if f[4] in FAULT_KINDS]
    manifest = pl.read_parquet(faulty_lake / "_truth" / "faults.parquet")
    # the file whose decimal column arrives as text is of the wrong type by design
    as_text = {
        (r["file"], r["column"])
        for r in manifest.filter(pl.col("fault_kind") == "uncastable_value").iter_rows(named=True)
    }
    others = [
        f
        for f in findings
        if f[4] not in FAULT_KINDS and not (f[4] == "wrong_type" and (f[2], f[5]) in as_text)
    ]
    assert not others, others
    listed = sorted(
        manifest.select(
            "system", "table", "file", "source_key", "fault_kind", "column"
        ).iter_rows(),
        key=str,
    )
    assert sorted(found, key=str) == listed
    kinds = Counter(manifest["fault_kind"].to_list())
    assert set(kinds) == set(FAULT_KINDS)
    assert all(3 <= kinds[k] <= 5 for k in ROW_KINDS - {"out_of_range"})
    assert kinds["out_of_range"] == 10  # four values, six dates outside their window
    assert kinds["uncastable_value"] == 1 and kinds["missing_required"] == 2
    assert (
        manifest.filter(pl.col("fault_kind") == "null_primary_key")["source_key"].null_count()
        == kinds["null_primary_key"]
    )


def test_daily_faults_are_listed_too(
    faulty_lake: Path, contracts: dict[str, Contract], tmp_path: Path
) -> None:
    """A daily load with faults appends its own faults, skips unreadable earlier files, and the
    manifest still matches what the files show."""
    shutil.copytree(faulty_lake, tmp_path, dirs_exist_ok=True)
    generate_day(tmp_path, DAY, seed=SEED, faults=True, progress=False)
    found = [f for f in detect(tmp_path, contracts) if f[4] in FAULT_KINDS]
    manifest = pl.read_parquet(tmp_path / "_truth" / "faults.parquet")
    listed = manifest.select("system", "table", "file", "source_key", "fault_kind", "column")
    assert sorted(found, key=str) == sorted(listed.iter_rows(), key=str)
    assert any(f"load_date={DAY.isoformat()}" in f for f in manifest["file"].to_list())


def test_no_faults_without_opt_in(backfill: tuple[Path, GenerateResult]) -> None:
    root, _ = backfill
    assert pl.read_parquet(root / "_truth" / "faults.parquet").is_empty()


# ----------------------------------------------------------------------------- increments


def test_increment_appends_without_touching_earlier_files(daily_lake: Any) -> None:
    _, before, after, result = daily_lake
    assert result.batch_id == f"daily-{DAY.isoformat()}"
    assert all(after[k] == v for k, v in before.items()), "earlier partitions are unchanged"
    new = set(after) - set(before)
    assert new and all(f"load_date={DAY.isoformat()}" in k for k in new)
    tables = {tuple(Path(k).parts[1:3]) for k in new}
    assert len(tables) == len(load_contracts()), "one partition per table"


def test_increment_conforms_to_contracts(daily_lake: Any, contracts: dict[str, Contract]) -> None:
    root = daily_lake[0]
    findings = detect(root, contracts)
    assert not findings, Counter((f[4], f"{f[0]}.{f[1]}", f[5]) for f in findings)


def test_increment_after_a_blocked_backfill_continues_every_sequence(
    blocked_lakes: tuple[Path, GenerateResult, Path, GenerateResult],
    contracts: dict[str, Contract],
    tmp_path: Path,
) -> None:
    """Ids of a daily load come after every lane of the backfill: no new record reuses one."""
    shutil.copytree(blocked_lakes[2], tmp_path, dirs_exist_ok=True)
    before = json.loads((tmp_path / "_truth" / "state.json").read_text())["counters"]
    generate_day(tmp_path, DAY, seed=SEED, progress=False)
    findings = detect(tmp_path, contracts)
    assert not findings, Counter((f[4], f"{f[0]}.{f[1]}", f[5]) for f in findings)
    truth = pl.read_parquet(tmp_path / "_truth" / "identity.parquet")
    assert truth.select("source_system", "source_id").is_duplicated().sum() == 0
    day = pl.read_parquet(
        tmp_path / f"bronze/shop/orders/load_date={DAY.isoformat()}/*.parquet"
    ).filter(pl.col("order_ts").dt.date() == DAY)
    assert day.height > 0
    assert day["order_id"].str.slice(1).cast(pl.Int64).min() > before["order"]


def test_increment_has_replays_updates_and_late_rows(
    daily_lake: Any, contracts: dict[str, Contract]
) -> None:
    root = daily_lake[0]
    con = duckdb.connect()
    replays = updates = late = 0
    for c in contracts.values():
        files = [str(f) for f in _table_files(root, c)]
        cols = ", ".join(_q(x.name) for x in c.columns)
        pk = _q(c.primary_key[0])
        src = f"read_parquet({files!r})"
        day = f"_batch_id = 'daily-{DAY.isoformat()}'"
        old = f"_batch_id <> 'daily-{DAY.isoformat()}'"
        replays += con.execute(
            f"SELECT count(*) FROM (SELECT {cols} FROM {src} WHERE {day} "
            f"INTERSECT SELECT {cols} FROM {src} WHERE {old})"
        ).fetchone()[0]
        updates += con.execute(f"""SELECT count(*) FROM (SELECT {pk} FROM {src} WHERE {day}
            EXCEPT SELECT {pk} FROM (SELECT {cols} FROM {src} WHERE {day}
                                     INTERSECT SELECT {cols} FROM {src} WHERE {old}))
            WHERE {pk} IN (SELECT {pk} FROM {src} WHERE {old})""").fetchone()[0]
        ev = c.event_timestamp_column
        if ev and c.column(ev).physical_type in ("TIMESTAMP", "DATE"):
            late += con.execute(
                f"SELECT count(*) FROM {src} WHERE {day} AND {_q(ev)} < DATE '{DAY.isoformat()}'"
            ).fetchone()[0]
    assert replays > 0, "rows re-delivered unchanged"
    assert updates > 0, "existing keys re-sent with changed values"
    assert late > 0, "events dated before the load date"
    opp = [str(f) for f in _table_files(root, contracts["crm.opportunities"])]
    hist = [str(f) for f in _table_files(root, contracts["crm.opportunity_stage_history"])]
    moved = con.execute(f"""SELECT count(*) FROM read_parquet({opp!r}) o
        JOIN read_parquet({hist!r}) h USING (opportunity_id, stage_name)
        WHERE o._batch_id = 'daily-{DAY.isoformat()}' AND h._batch_id = o._batch_id""").fetchone()[
        0
    ]
    assert moved > 0, "an opportunity that moved stage has a new stage-history row"


def test_increment_is_deterministic(
    daily_lake: Any,
    backfill: tuple[Path, GenerateResult],
    contracts: dict[str, Contract],
    tmp_path: Path,
) -> None:
    root = daily_lake[0]
    shutil.copytree(backfill[0], tmp_path, dirs_exist_ok=True)
    generate_day(tmp_path, DAY, seed=SEED, progress=False)
    for c in contracts.values():
        part = f"load_date={DAY.isoformat()}"
        a = [f for f in _table_files(root, c) if f.parent.name == part]
        b = [f for f in _table_files(tmp_path, c) if f.parent.name == part]
        assert [f.name for f in a] == [f.name for f in b]
        assert pa.concat_tables(map(pq.read_table, a)).equals(
            pa.concat_tables(map(pq.read_table, b))
        )
    truth_a = pl.read_parquet(root / "_truth" / "identity.parquet")
    assert truth_a.equals(pl.read_parquet(tmp_path / "_truth" / "identity.parquet"))


def test_increment_identity_truth_stays_complete(
    daily_lake: Any, contracts: dict[str, Contract]
) -> None:
    root = daily_lake[0]
    truth = pl.read_parquet(root / "_truth" / "identity.parquet")
    assert truth.select("source_system", "source_id").is_duplicated().sum() == 0
    for fqn, key in IDENTITY_TABLES.items():
        ids = set(_read(root, contracts[fqn]).column(key).cast(pa.string()).to_pylist())
        assert ids == set(truth.filter(pl.col("source_system") == fqn)["source_id"].to_list()), fqn


def test_increment_refuses_to_rewrite_a_loaded_day(daily_lake: Any) -> None:
    with pytest.raises(ValueError, match="not after the last load"):
        generate_day(daily_lake[0], DAY, seed=SEED, progress=False)
