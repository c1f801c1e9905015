"""Stable golden customer ids (engagement_lake.mdm.ids): keep, merge with a redirect, split with
a new id, never reuse an id, resolve redirect chains, and replay the ledger to the same state."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from engagement_lake.mdm import customer_id_for
from engagement_lake.mdm.ids import (
    LEDGER_SCHEMA,
    IdState,
    assign_customer_ids,
    current_ids,
    mint_customer_id,
    redirect_table,
    replay,
    resolve_redirects,
)

D1, D2, D3, D4, D5 = (date(2026, 7, d) for d in (1, 2, 3, 4, 5))


def clusters(groups: list[list[str]], first: dict[str, date] | None = None) -> pl.DataFrame:
    """Records named "system:id" grouped into clusters (one list per cluster), with the date
    each was first loaded when ``first`` gives it."""
    first = first or {}
    rows = [
        (name.split(":")[0], name.split(":")[1], label, first.get(name))
        for label, group in enumerate(groups)
        for name in group
    ]
    return pl.DataFrame(
        rows,
        schema={
            "source_system": pl.String,
            "source_id": pl.String,
            "cluster": pl.Int64,
            "first_loaded": pl.Date,
        },
        orient="row",
    )


def cid(name: str) -> str:
    system, source_id = name.split(":")
    return customer_id_for(system, source_id)


class Lake:
    """A ledger grown one build at a time, as silver.customer_id_ledger grows."""

    def __init__(self) -> None:
        self.ledger = pl.DataFrame(schema=LEDGER_SCHEMA)
        self.first: dict[str, date] = {}

    def build(self, groups: list[list[str]], on: date) -> tuple[dict[str, str], pl.DataFrame]:
        for name in (n for group in groups for n in group):
            self.first.setdefault(name, on)
        assignment, events = assign_customer_ids(
            clusters(groups, self.first), replay(self.ledger), on
        )
        self.ledger = pl.concat([self.ledger, events])
        ids = {f"{s}:{i}": c for s, i, c in assignment.iter_rows()}
        return ids, events


def test_first_build_gives_the_content_hash_ids() -> None:
    lake = Lake()
    ids, events = lake.build([["shop:C2", "crm:X1"], ["shop:C1"]], D1)
    assert ids == {"crm:X1": cid("crm:X1"), "shop:C2": cid("crm:X1"), "shop:C1": cid("shop:C1")}
    assert events["event"].to_list() == ["assigned"] * 3
    assert set(events["reason"]) == {"new"}
    assert events["build_seq"].unique().to_list() == [1]


def test_unchanged_rebuild_records_nothing() -> None:
    lake = Lake()
    lake.build([["shop:C1", "shop:C2"], ["shop:C3"]], D1)
    ids, events = lake.build([["shop:C1", "shop:C2"], ["shop:C3"]], D2)
    assert events.height == 0
    assert ids["shop:C2"] == cid("shop:C1")


def test_a_smaller_new_member_does_not_change_the_id() -> None:
    lake = Lake()
    lake.build([["shop:C5", "shop:C6"]], D1)
    ids, events = lake.build([["shop:C0", "shop:C5", "shop:C6"]], D2)
    assert set(ids.values()) == {cid("shop:C5")}
    assert events.select("source_id", "reason").rows() == [("C0", "joined")]


def test_merge_keeps_the_customer_of_the_earliest_record_and_redirects_the_other() -> None:
    lake = Lake()
    lake.build([["shop:B1", "shop:B2"]], D1)
    lake.build([["shop:A1"], ["shop:B1", "shop:B2"]], D2)
    # a new record bridges the two customers: B1 was loaded first, so B's id survives although
    # A1 has the smaller key
    ids, events = lake.build([["shop:A1", "shop:B1", "shop:B2", "shop:N1"]], D3)
    survivor, absorbed = cid("shop:B1"), cid("shop:A1")
    assert set(ids.values()) == {survivor}
    redirects = events.filter(pl.col("event") == "redirected")
    assert redirects.select("customer_id", "survivor_customer_id", "event_on").rows() == [
        (absorbed, survivor, D3)
    ]
    assigned = events.filter(pl.col("event") == "assigned")
    reasons = dict(assigned.select("source_id", "reason").rows())
    assert reasons == {"A1": "merged", "N1": "joined"}
    assert redirect_table(lake.ledger).rows() == [(absorbed, survivor, D3, "merge")]


def test_merge_keeps_the_earliest_record_s_customer_even_when_smaller() -> None:
    lake = Lake()
    lake.build([["shop:Z1"]], D1)
    lake.build([["shop:A1", "shop:A2"], ["shop:Z1"]], D2)
    ids, _ = lake.build([["shop:A1", "shop:A2", "shop:Z1"]], D3)
    assert set(ids.values()) == {cid("shop:Z1")}
    # loaded the same day: the smaller key is the earliest record
    lake = Lake()
    lake.build([["shop:Z1"], ["shop:A1"]], D1)
    ids, _ = lake.build([["shop:A1", "shop:Z1"]], D2)
    assert set(ids.values()) == {cid("shop:A1")}


def test_a_from_scratch_build_mints_the_ids_day_by_day_builds_kept() -> None:
    """Growth and merges only: replaying the loads one by one and assigning the final clustering
    to an empty ledger (a from-scratch build of the same bronze) give every record the same id."""
    loads = [
        [["shop:S5"], ["shop:S7"], ["crm:K2"]],
        [["shop:S5", "loyalty:L1"], ["shop:S7"], ["crm:K2"]],  # smaller key joins later
        [["shop:S5", "loyalty:L1", "shop:S7", "email:E9"], ["crm:K2", "crm:K1"]],  # a merge
    ]
    daily = Lake()
    for on, groups in zip((D1, D2, D3), loads, strict=True):
        ids, _ = daily.build(groups, on)
    assignment, _ = assign_customer_ids(clusters(loads[-1], daily.first), IdState(), D3)
    scratch = {f"{s}:{i}": c for s, i, c in assignment.iter_rows()}
    assert scratch == ids
    assert ids["loyalty:L1"] == cid("shop:S5")
    assert ids["crm:K1"] == cid("crm:K2")


def test_without_load_dates_the_smallest_key_is_the_earliest() -> None:
    assignment, _ = assign_customer_ids(
        clusters([["shop:C2", "crm:X1"]]).drop("first_loaded"), IdState(), D1
    )
    assert set(assignment["customer_id"]) == {cid("crm:X1")}


def test_split_keeps_the_id_on_the_larger_part_and_mints_for_the_other() -> None:
    lake = Lake()
    lake.build([["shop:A1", "shop:A2", "shop:A3"]], D1)
    old = cid("shop:A1")
    ids, events = lake.build([["shop:A1"], ["shop:A2", "shop:A3"]], D2)
    assert ids["shop:A2"] == ids["shop:A3"] == old
    assert ids["shop:A1"] == cid("shop:A1|1")  # its own hash is taken: the next candidate
    assert events.select("source_id", "reason").rows() == [("A1", "split")]
    assert events.filter(pl.col("event") == "redirected").height == 0


def test_split_in_two_equal_parts_keeps_the_id_on_the_part_with_the_smaller_key() -> None:
    lake = Lake()
    lake.build([["shop:A1", "shop:A2"]], D1)
    ids, _ = lake.build([["shop:A2"], ["shop:A1"]], D2)
    assert ids == {"shop:A1": cid("shop:A1"), "shop:A2": cid("shop:A2")}


def test_no_reuse_of_a_retired_or_redirected_id() -> None:
    lake = Lake()
    lake.build([["shop:B1", "shop:B2"]], D1)
    lake.build([["shop:A1"], ["shop:B1", "shop:B2"]], D2)
    lake.build([["shop:B1", "shop:B2"]], D3)  # A1 disappears: its id is retired
    ids, _ = lake.build([["shop:A1", "shop:B1", "shop:B2"]], D4)  # ...comes back, merges
    assert set(ids.values()) == {cid("shop:B1")}
    # the merged customer splits off A1 again: its old id was redirected, so a new one is minted
    ids, _ = lake.build([["shop:A1"], ["shop:B1", "shop:B2"]], D5)
    assert ids["shop:A1"] not in {cid("shop:A1"), cid("shop:B1")}
    assert ids["shop:A1"] == cid("shop:A1|1")
    issued = replay(lake.ledger).issued
    assert len(issued) == 3


def test_a_returning_record_gets_its_retired_id_back() -> None:
    lake = Lake()
    lake.build([["shop:A1"], ["shop:B1"]], D1)
    lake.build([["shop:B1"]], D2)
    ids, events = lake.build([["shop:A1"], ["shop:B1"]], D3)
    assert ids["shop:A1"] == cid("shop:A1")
    assert events.height == 0


def test_redirect_chains_resolve_to_the_current_survivor() -> None:
    lake = Lake()
    c = ["shop:C1", "shop:C2", "shop:C3", "shop:C4"]
    lake.build([c], D1)  # loaded first: C, then B, then A
    lake.build([["shop:B1", "shop:B2"], c], D2)
    lake.build([["shop:A1"], ["shop:B1", "shop:B2"], c], D3)
    lake.build([["shop:A1", "shop:B1", "shop:B2"], c], D4)  # A -> B
    ids, _ = lake.build([["shop:A1", "shop:B1", "shop:B2", *c]], D5)  # B -> C, so A -> C
    survivor = cid("shop:C1")
    assert set(ids.values()) == {survivor}
    table = redirect_table(lake.ledger)
    assert dict(table.select("absorbed_customer_id", "survivor_customer_id").rows()) == {
        cid("shop:A1"): survivor,
        cid("shop:B1"): survivor,
    }
    assert dict(table.select("absorbed_customer_id", "redirected_on").rows()) == {
        cid("shop:A1"): D4,
        cid("shop:B1"): D5,
    }
    current = current_ids(lake.ledger)
    assert set(current["customer_id"]) == {survivor}


def test_merge_and_split_in_one_build() -> None:
    lake = Lake()
    lake.build([["shop:A1", "shop:A2", "shop:A3"], ["shop:B1"]], D1)
    # A3 leaves A for B: B is B's home and A's home stays with A1, A2
    ids, events = lake.build([["shop:A1", "shop:A2"], ["shop:A3", "shop:B1"]], D2)
    assert ids["shop:A1"] == ids["shop:A2"] == cid("shop:A1")
    assert ids["shop:A3"] == ids["shop:B1"] == cid("shop:B1")
    assert events.select("source_id", "reason").rows() == [("A3", "moved")]


def test_resolve_redirects_follows_chains_and_refuses_cycles() -> None:
    assert resolve_redirects({"a": "b", "b": "c", "x": "a"}) == {"a": "c", "b": "c", "x": "c"}
    with pytest.raises(ValueError, match="cycle"):
        resolve_redirects({"a": "b", "b": "a"})
    with pytest.raises(ValueError, match="cycle"):
        resolve_redirects({"a": "a"})


def test_mint_skips_used_ids() -> None:
    first = customer_id_for("shop", "C1")
    assert mint_customer_id("shop", "C1", set()) == first
    assert mint_customer_id("shop", "C1", {first}) == customer_id_for("shop", "C1|1")


def test_replay_of_an_empty_ledger_is_the_empty_state() -> None:
    state = replay(pl.DataFrame(schema=LEDGER_SCHEMA))
    assert state == IdState()
    assert redirect_table(None).height == 0


# --- equivalence with the record-by-record implementation the vectorised one replaced ---------
#
# The reference below is the earlier, loop-per-record implementation of replay and
# assign_customer_ids (and of the two readers built on replay), kept verbatim as the executable
# statement of the rules: the vectorised module must give the same rows, order, dtypes and state.


def _reference_replay(ledger: pl.DataFrame) -> IdState:
    frame = ledger.with_columns([pl.col(c).cast(t) for c, t in LEDGER_SCHEMA.items()])
    state = IdState()
    if frame.height == 0:
        return state
    frame = frame.with_row_index("_row").sort("build_seq", "_row")
    raw_redirects: dict[str, str] = {}
    for row in frame.iter_rows(named=True):
        seq, cid = row["build_seq"], row["customer_id"]
        if row["event"] == "assigned":
            state.assignments[(row["source_system"], row["source_id"])] = cid
            state.issued.setdefault(cid, seq)
        elif row["event"] == "redirected":
            raw_redirects[cid] = row["survivor_customer_id"]
            state.issued.setdefault(cid, seq)
        else:
            raise ValueError(f"unknown ledger event {row['event']!r}")
    state.redirects = resolve_redirects(raw_redirects)
    state.last_seq = int(frame["build_seq"].max())  # type: ignore[arg-type]
    return state


def _reference_assign(
    frame: pl.DataFrame, state: IdState, event_on: date | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    frame = frame.with_columns(
        pl.col("source_system").cast(pl.String), pl.col("source_id").cast(pl.String)
    )
    if "first_loaded" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias("first_loaded"))
    frame = frame.sort("first_loaded", "source_system", "source_id", nulls_last=True)
    seq = state.last_seq + 1
    members: dict[Any, list[tuple[str, str]]] = defaultdict(list)
    rank: dict[tuple[str, str], int] = {}
    for system, source_id, label in frame.select(
        "source_system", "source_id", "cluster"
    ).iter_rows():
        rank[(system, source_id)] = len(rank)
        members[label].append((system, source_id))
    order = sorted(members, key=lambda label: rank[members[label][0]])

    previous: dict[tuple[str, str], str] = {}
    counts: dict[Any, dict[str, int]] = {}
    for label in order:
        tally: dict[str, int] = defaultdict(int)
        for record in members[label]:
            held = state.assignments.get(record)
            if held is not None:
                previous[record] = state.resolve(held)
                tally[previous[record]] += 1
        counts[label] = tally

    home: dict[str, Any] = {}
    best: dict[str, int] = {}
    for label in order:
        for cid, n in counts[label].items():
            if n > best.get(cid, 0):
                home[cid], best[cid] = label, n

    used = set(state.issued)
    id_of: dict[Any, str] = {}
    minted: set[str] = set()
    redirects: list[tuple[str, str]] = []
    for label in order:
        claims = [cid for cid in counts[label] if home[cid] == label]
        if not claims:
            first = members[label][0]
            cid = mint_customer_id(first[0], first[1], used)
            used.add(cid)
            minted.add(cid)
            id_of[label] = cid
            continue
        claims.sort(key=lambda c: (-counts[label][c], state.issued.get(c, seq), c))
        earliest = previous.get(members[label][0])
        survivor = earliest if earliest in claims else claims[0]
        id_of[label] = survivor
        redirects += [(absorbed, survivor) for absorbed in claims if absorbed != survivor]
    absorbed_into = dict(redirects)

    rows: list[tuple[Any, ...]] = []
    assignment: list[tuple[str, str, str]] = []
    for label in order:
        cid = id_of[label]
        for record in members[label]:
            assignment.append((record[0], record[1], cid))
            before = previous.get(record)
            if before == cid:
                continue
            if before is None:
                reason = "new" if cid in minted else "joined"
            elif absorbed_into.get(before) == cid:
                reason = "merged"
            elif cid in minted:
                reason = "split"
            else:
                reason = "moved"
            rows.append((seq, event_on, "assigned", record[0], record[1], cid, None, reason))
    for absorbed, survivor in redirects:
        rows.append((seq, event_on, "redirected", None, None, absorbed, survivor, "merge"))

    events = pl.DataFrame(rows, schema=LEDGER_SCHEMA, orient="row")
    result = pl.DataFrame(
        assignment,
        schema={"source_system": pl.String, "source_id": pl.String, "customer_id": pl.String},
        orient="row",
    ).sort("source_system", "source_id")
    return result, events


def _reference_current_ids(ledger: pl.DataFrame) -> pl.DataFrame:
    state = _reference_replay(ledger)
    frame = ledger.with_row_index("_row")
    latest = (
        frame.filter(pl.col("event") == "assigned")
        .sort("build_seq", "_row")
        .group_by("source_system", "source_id")
        .agg(pl.col("event_on").last(), pl.col("reason").last(), pl.col("customer_id").last())
    )
    resolved = pl.Series(
        [state.resolve(cid) for cid in latest["customer_id"].to_list()], dtype=pl.String
    )
    return latest.select(
        "source_system",
        "source_id",
        resolved.alias("customer_id"),
        pl.col("event_on").alias("assigned_on"),
        pl.col("reason").alias("assigned_reason"),
    ).sort("source_system", "source_id")


def _reference_redirect_table(ledger: pl.DataFrame) -> pl.DataFrame:
    state = _reference_replay(ledger)
    rows = (
        ledger.filter(pl.col("event") == "redirected")
        .sort("build_seq")
        .group_by("customer_id")
        .agg(pl.col("event_on").first(), pl.col("reason").first())
    )
    return rows.select(
        pl.col("customer_id").alias("absorbed_customer_id"),
        pl.Series([state.resolve(c) for c in rows["customer_id"].to_list()], dtype=pl.String).alias(
            "survivor_customer_id"
        ),
        pl.col("event_on").alias("redirected_on"),
        "reason",
    ).sort("absorbed_customer_id")


def _assert_same_state(got: IdState, want: IdState) -> None:
    """Same contents, and the same iteration order (a caller may walk the dicts)."""
    assert got == want
    for name in ("assignments", "redirects", "issued"):
        assert list(getattr(got, name).items()) == list(getattr(want, name).items()), name
    assert type(got.last_seq) is type(want.last_seq)


class _RandomMatching:
    """Successive random clusterings of a small pool of records: records appear, disappear and
    come back, clusters merge, split and trade records, labels change on every build; the pool
    holds keys whose hashes are the counter variants of others ("C3" and "C3|1"), load dates
    tie often and some are unknown."""

    def __init__(self, rng: random.Random, *, int_labels: bool) -> None:
        self.rng, self.int_labels = rng, int_labels
        ids = [f"C{n}" for n in range(12)] + ["C3|1", "C3|2", "C5|1", "C1|1"]
        self.pool = [(system, i) for system in ("shop", "crm") for i in ids]
        self.first: dict[tuple[str, str], date | None] = {}
        self.groups: list[list[tuple[str, str]]] = []

    def next(self, on: date) -> pl.DataFrame:
        rng, groups = self.rng, [list(g) for g in self.groups]
        present = {r for g in groups for r in g}
        for record in rng.sample(self.pool, rng.randint(0, 6)):  # arrivals and returns
            if record in present:
                continue
            present.add(record)
            if groups and rng.random() < 0.6:
                rng.choice(groups).append(record)
            else:
                groups.append([record])
        groups = [[r for r in g if rng.random() > 0.1] for g in groups]  # disappearances
        for _ in range(rng.randint(0, 2)):  # merges
            if len(groups) > 1:
                a, b = rng.sample(range(len(groups)), 2)
                groups[a] += groups[b]
                groups[b] = []
        for _ in range(rng.randint(0, 2)):  # splits
            group = rng.choice(groups) if groups else []
            if len(group) > 1:
                rng.shuffle(group)
                cut = rng.randint(1, len(group) - 1)
                groups.append(group[cut:])
                del group[cut:]
        for _ in range(rng.randint(0, 2)):  # a record moves to another cluster
            if len(groups) > 1:
                a, b = rng.sample(range(len(groups)), 2)
                if groups[a]:
                    groups[b].append(groups[a].pop(rng.randrange(len(groups[a]))))
        self.groups = [g for g in groups if g]
        for record in (r for g in self.groups for r in g):
            if record not in self.first:
                self.first[record] = (
                    None if rng.random() < 0.15 else on - timedelta(rng.randint(0, 2))
                )
        labels: list[Any] = rng.sample(range(1000), len(self.groups))
        if not self.int_labels:
            labels = [f"L{label}" for label in labels]
        rows = [
            (system, source_id, label, self.first[(system, source_id)])
            for label, group in zip(labels, self.groups, strict=True)
            for system, source_id in group
        ]
        rng.shuffle(rows)
        frame = pl.DataFrame(
            rows,
            schema={
                "source_system": pl.String,
                "source_id": pl.String,
                "cluster": pl.Int64 if self.int_labels else pl.String,
                "first_loaded": pl.Date,
            },
            orient="row",
        )
        return frame.drop("first_loaded") if rng.random() < 0.1 else frame


def _shuffled_builds(ledger: pl.DataFrame, rng: random.Random) -> pl.DataFrame:
    """The ledger with its builds' blocks in random order (rows of a build kept in order), as a
    reader may hand it over: replay must order it by build itself."""
    blocks = ledger.partition_by("build_seq", maintain_order=True)
    rng.shuffle(blocks)
    return pl.concat(blocks) if blocks else ledger


@pytest.mark.parametrize("seed", range(24))
def test_vectorised_ids_equal_the_record_by_record_reference(seed: int) -> None:
    rng = random.Random(seed)
    matching = _RandomMatching(rng, int_labels=seed % 2 == 0)
    ledger = pl.DataFrame(schema=LEDGER_SCHEMA)
    on = date(2026, 1, 1)
    for _ in range(12):
        on += timedelta(days=rng.choice([0, 1, 1, 3]))
        clusters = matching.next(on)
        event_on = None if rng.random() < 0.1 else on
        given = _shuffled_builds(ledger, rng)
        want_state, got_state = _reference_replay(given), replay(given)
        _assert_same_state(got_state, want_state)

        want, events = _reference_assign(clusters, want_state, event_on)
        got, got_events = assign_customer_ids(clusters, got_state, event_on)
        assert_frame_equal(got, want)
        assert_frame_equal(got_events, events)
        _assert_same_state(got_state, want_state)  # assigning leaves the state alone

        ledger = pl.concat([ledger, events])
        assert_frame_equal(current_ids(ledger), _reference_current_ids(ledger))
        assert_frame_equal(redirect_table(ledger), _reference_redirect_table(ledger))


def _refusal(read: Any, ledger: pl.DataFrame) -> str:
    with pytest.raises(ValueError) as refused:
        read(ledger)
    return str(refused.value)


@pytest.mark.parametrize(
    "rows",
    [
        [
            ("redirected", None, "a", "b"),
            ("redirected", None, "b", "c"),
            ("redirected", None, "c", "a"),
        ],
        [("assigned", "x", "a", None), ("redirected", None, "a", "a")],
        [("assigned", "x", "a", None), ("renamed", None, "a", "b"), ("redirected", None, "b", "b")],
        [("assigned", "x", "a", None), (None, None, "a", "b")],
    ],
    ids=["cycle", "self-redirect", "unknown-event", "null-event"],
)
def test_refusals_equal_the_reference(rows: list[tuple[Any, ...]]) -> None:
    ledger = pl.DataFrame(
        [(1, D1, event, "shop" if key else None, key, c, s, "new") for event, key, c, s in rows],
        schema=LEDGER_SCHEMA,
        orient="row",
    )
    assert _refusal(replay, ledger) == _refusal(_reference_replay, ledger)
    assert _refusal(current_ids, ledger) == _refusal(_reference_current_ids, ledger)
    assert _refusal(redirect_table, ledger) == _refusal(_reference_redirect_table, ledger)


def test_mints_of_one_build_skip_each_other_as_the_reference_does() -> None:
    """C3's hash stays with C4, C5; C3 splits off and takes the next candidate, C3|1's own hash,
    so the cluster of record C3|1 (minted after it) must go one further."""
    lake = Lake()
    lake.build([["shop:C3", "shop:C4", "shop:C5"]], D1)
    groups = [["shop:C4", "shop:C5"], ["shop:C3"], ["shop:C3|1"]]
    lake.first.setdefault("shop:C3|1", D1)
    state = replay(lake.ledger)
    want = _reference_assign(clusters(groups, lake.first), replay(lake.ledger), D2)
    got = assign_customer_ids(clusters(groups, lake.first), state, D2)
    assert_frame_equal(got[0], want[0])
    assert_frame_equal(got[1], want[1])
    ids = {f"{s}:{i}": c for s, i, c in got[0].iter_rows()}
    assert ids["shop:C4"] == cid("shop:C3")
    assert ids["shop:C3"] == cid("shop:C3|1")
    assert ids["shop:C3|1"] == customer_id_for("shop", "C3|1|1")
