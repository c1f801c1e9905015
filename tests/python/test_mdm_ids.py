"""Stable golden customer ids (engagement_lake.mdm.ids): keep, merge with a redirect, split with
a new id, never reuse an id, resolve redirect chains, and replay the ledger to the same state."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

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
