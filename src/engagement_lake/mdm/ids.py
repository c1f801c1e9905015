"""Stable golden customer ids: carried across rebuilds and daily loads by an append-only ledger.

The matcher (:func:`engagement_lake.mdm.match.match_identities`) clusters source records afresh
on every build; left alone, a cluster's id would be the hash of its smallest member and would
change whenever a smaller record joined it or the cluster split. This module keeps ids stable by
comparing each new clustering with what earlier builds issued, and records every change in a
ledger (``silver.customer_id_ledger``, :data:`LEDGER_SCHEMA`): one row per record whose id
changed (``assigned``) and one per id absorbed by a merge (``redirected``). Nothing in the ledger
is ever updated or deleted, so the state of any build is the replay of the rows before it
(:func:`replay`), and the ledger alone answers "which id did this record carry on day d" and
"where did this old id go".

Rules, each applied in :func:`assign_customer_ids` and nowhere else:

* **Previous id of a record**: the id its latest ``assigned`` row names, followed through the
  redirects. A record seen before keeps counting for its id even if it was absent from some
  builds in between.
* **Earliest record of a cluster**: its record first loaded earliest (``first_loaded``, the
  load date of the record's first version in bronze), ties by ``source_system|source_id``. This
  order is what a day-by-day ledger and a from-scratch build of the same bronze both know: a
  record loaded later can never be the earliest of a cluster that existed before it arrived.
* **Home of a previous id**: the new cluster holding most of its present records (ties: the
  cluster whose earliest record comes first). Only the home can keep the id; the other parts are
  a **split** and mint new ids.
* **Survivor of a merge**: when a cluster is home to several previous ids, the id its earliest
  record held survives (the customer known longest); if that record held none of them, the one
  covering most of its records (ties: the id issued first, then the smallest id). The others
  are **redirected** to it, reason ``merge``.
* **Minting**: a cluster that keeps no previous id gets ``customer_id_for`` of its earliest
  record. A from-scratch build of the same bronze therefore mints the id the day-by-day ledger
  kept for a customer that only grew, or merged, since: the earliest record then is the one the
  first id was minted from. A candidate that was ever issued before (kept, redirected or
  retired) is never reused: the next candidate hashes the key with a counter (``|1``, ``|2`` …)
  until one is unused.
* **Redirect chains** resolve to their end (a->b then b->c gives a->c). An absorbed id never
  carries records again (minting skips it, and a record's previous id is already resolved past
  it), so chains cannot form cycles; :func:`resolve_redirects` still refuses one.

An id whose records all disappeared from the sources is retired: it stays in the ledger (never
reminted) and comes back if one of its records does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from engagement_lake.mdm.match import customer_id_for

Record = tuple[str, str]

#: One row per change of a record's id (``assigned``) or per id absorbed by a merge
#: (``redirected``), in the order of the builds that recorded them.
LEDGER_SCHEMA: dict[str, Any] = {
    "build_seq": pl.Int64,
    "event_on": pl.Date,
    "event": pl.String,
    "source_system": pl.String,
    "source_id": pl.String,
    "customer_id": pl.String,
    "survivor_customer_id": pl.String,
    "reason": pl.String,
}

#: ``event`` values of the ledger.
LEDGER_EVENTS: tuple[str, ...] = ("assigned", "redirected")

#: ``reason`` values: for ``assigned``, how the record came by its id: ``new`` (a new customer was
#: minted), ``joined`` (a record seen for the first time joined an existing customer),
#: ``merged`` (its customer was absorbed by another), ``split`` (it left its customer and a new
#: one was minted for its part), ``moved`` (it left its customer for another existing one); for
#: ``redirected`` always ``merge``.
LEDGER_REASONS: tuple[str, ...] = ("new", "joined", "merged", "split", "moved", "merge")

REDIRECT_SCHEMA: dict[str, Any] = {
    "absorbed_customer_id": pl.String,
    "survivor_customer_id": pl.String,
    "redirected_on": pl.Date,
    "reason": pl.String,
}


@dataclass
class IdState:
    """What earlier builds issued, as :func:`replay` reads it from the ledger.

    Attributes:
        assignments: record -> the id its latest ``assigned`` row names (not yet resolved).
        redirects: absorbed id -> survivor, chains resolved.
        issued: id -> build_seq that first issued it (every id ever issued, in any state).
        last_seq: build_seq of the newest ledger row (0 for an empty ledger).
    """

    assignments: dict[Record, str] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    issued: dict[str, int] = field(default_factory=dict)
    last_seq: int = 0

    def resolve(self, customer_id: str) -> str:
        """The id a holder of ``customer_id`` should use now (itself unless redirected)."""
        return self.redirects.get(customer_id, customer_id)


def resolve_redirects(pairs: Mapping[str, str]) -> dict[str, str]:
    """Follow every redirect to the end of its chain: a->b, b->c gives a->c and b->c.

    Raises:
        ValueError: the redirects form a cycle (an id redirected, directly or not, to itself).
    """
    resolved: dict[str, str] = {}
    for start in pairs:
        path = [start]
        current = pairs[start]
        while current in pairs and current not in resolved:
            if current in path:
                raise ValueError(f"customer id redirects form a cycle through {current}")
            path.append(current)
            current = pairs[current]
        end = resolved.get(current, current)
        if end in path:
            raise ValueError(f"customer id redirects form a cycle through {end}")
        for node in path:
            resolved[node] = end
    return resolved


def replay(ledger: Any) -> IdState:
    """The state after the last build recorded in ``ledger`` (rows of :data:`LEDGER_SCHEMA`).

    Vectorised: the ledger is put in build order once and each attribute is read from it with
    bulk constructors (the latest ``assigned`` row per record wins, the first row naming an id
    dates it); only the redirects, one per merge and few, are followed in Python.
    """
    return _replay(_frame(ledger, LEDGER_SCHEMA), records=True)


def _replay(frame: pl.DataFrame, *, records: bool) -> IdState:
    """:func:`replay` of a ledger frame; without ``records`` only the redirects and
    ``last_seq``, all that :func:`current_ids` and :func:`redirect_table` need (the per-record
    dicts are most of the cost), with the same refusals (unknown events, cycles)."""
    state = IdState()
    if frame.height == 0:
        return state
    # a stable sort: rows of one build stay in the order the build wrote them
    frame = frame.sort("build_seq", maintain_order=True)
    _check_events(frame)
    if records:
        state.assignments = _latest_assignments(frame)
        state.issued = _first_issued(frame)
    state.redirects = resolve_redirects(_latest_redirects(frame))
    state.last_seq = int(frame["build_seq"].max())  # type: ignore[arg-type]
    return state


def _check_events(frame: pl.DataFrame) -> None:
    """Refuse a ledger row whose event is not one of :data:`LEDGER_EVENTS` (the first one in
    build order is named): replaying past it would silently drop a change."""
    known = pl.col("event").is_in(LEDGER_EVENTS).fill_null(False)
    unknown = frame.filter(~known)
    if unknown.height:
        raise ValueError(f"unknown ledger event {unknown['event'][0]!r}")


def _latest_assignments(frame: pl.DataFrame) -> dict[Record, str]:
    """Record -> id of its latest ``assigned`` row (``frame`` in build order). A dict built
    from the rows in order keeps the last value of each key, as replaying them one by one."""
    assigned = frame.filter(pl.col("event") == "assigned")
    keys = zip(assigned["source_system"].to_list(), assigned["source_id"].to_list(), strict=True)
    return dict(zip(keys, assigned["customer_id"].to_list(), strict=True))


def _latest_redirects(frame: pl.DataFrame) -> dict[str, str]:
    """Absorbed id -> survivor as the ``redirected`` rows name them (``frame`` in build order),
    chains not yet followed."""
    redirected = frame.filter(pl.col("event") == "redirected")
    absorbed = redirected["customer_id"].to_list()
    return dict(zip(absorbed, redirected["survivor_customer_id"].to_list(), strict=True))


def _first_issued(frame: pl.DataFrame) -> dict[str, int]:
    """Id -> build_seq of the first row naming it, assigned or redirected (``frame`` in build
    order), in the order the ids were first issued: minting skips all of them, and a merge
    prefers the id issued first."""
    first = frame.unique("customer_id", keep="first", maintain_order=True)
    return dict(zip(first["customer_id"].to_list(), first["build_seq"].to_list(), strict=True))


def mint_customer_id(source_system: str, source_id: str, used: Iterable[str] | set[str]) -> str:
    """``customer_id_for`` the key, or the first of its counter variants that was never used."""
    used_set = used if isinstance(used, set) else set(used)
    candidate = customer_id_for(source_system, source_id)
    n = 0
    while candidate in used_set:
        n += 1
        candidate = customer_id_for(source_system, f"{source_id}|{n}")
    return candidate


def assign_customer_ids(
    clusters: Any, state: IdState, event_on: date | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Give every cluster of the new matching a customer id, carrying earlier ids forward.

    Vectorised: records and clusters are frames numbered in earliest-first order (a cluster is
    known by the position of its earliest record), the counts, homes and changes are group-bys
    and joins; Python only loops over the clusters that need a decision one at a time: those
    home to several previous ids (a merge) and those that must mint an id (each mint may take
    a candidate the next one then has to skip).

    Args:
        clusters: one row per present source record: ``source_system``, ``source_id``,
            ``cluster`` (any label; records with the same label are one customer) and optionally
            ``first_loaded`` (the date the record first reached bronze; without it, key order).
        state: what earlier builds issued (:func:`replay`; an empty ``IdState()`` for the first).
        event_on: the data's load date, written on the ledger rows.

    Returns:
        ``(assignment, events)``: one row per input record with its ``customer_id`` (sorted by
        source_system, source_id), and the new ledger rows (:data:`LEDGER_SCHEMA`, build_seq
        ``state.last_seq + 1``; empty when nothing changed).
    """
    seq = state.last_seq + 1
    records = _records_in_order(clusters)
    records = records.with_columns(_previous_ids(records, state))
    claims = _claims(records)
    earliest = records.filter(pl.col("_pos") == pl.col("_cluster"))
    kept, redirects = _survivors(claims, earliest, state, seq)
    minted = _mint_ids(earliest.join(kept, on="_cluster", how="anti"), state)
    # "minted" is a property of the id, as the reasons are stated, not of the cluster
    ids = pl.concat([kept, minted]).with_columns(
        pl.col("customer_id").is_in(minted["customer_id"].implode()).alias("_minted")
    )
    records = records.join(ids, on="_cluster", how="left")

    assignment = records.select("source_system", "source_id", "customer_id").sort(
        "source_system", "source_id"
    )
    events = (
        pl.concat([_assigned_events(records, redirects), _redirected_events(redirects)])
        .with_columns(
            pl.lit(seq, dtype=pl.Int64).alias("build_seq"),
            pl.lit(event_on, dtype=pl.Date).alias("event_on"),
        )
        .select(list(LEDGER_SCHEMA))
    )
    return assignment, events


def _records_in_order(clusters: Any) -> pl.DataFrame:
    """The input records earliest first (first load date, unknown last, then the key), each
    with its position ``_pos`` and its cluster's ``_cluster``: the position of the cluster's
    earliest record, so ordering clusters by it orders them by their earliest records."""
    frame = _frame(clusters, {"source_system": pl.String, "source_id": pl.String})
    if "first_loaded" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias("first_loaded"))
    frame = frame.sort("first_loaded", "source_system", "source_id", nulls_last=True)
    return frame.with_row_index("_pos").select(
        "source_system",
        "source_id",
        "_pos",
        pl.col("_pos").min().over("cluster").alias("_cluster"),
    )


def _previous_ids(records: pl.DataFrame, state: IdState) -> pl.Series:
    """Each record's previous id: the id its latest ``assigned`` row names, resolved through
    the redirects (null for a record never seen)."""
    keys = zip(records["source_system"].to_list(), records["source_id"].to_list(), strict=True)
    held = pl.Series("_previous", list(map(state.assignments.get, keys)), dtype=pl.String)
    return _resolved(held, state.redirects)


def _claims(records: pl.DataFrame) -> pl.DataFrame:
    """The previous ids each cluster may keep: those it is the home of (holds most of their
    present records; ties to the cluster whose earliest record comes first), with ``_n`` the
    number of its records holding each."""
    counts = (
        records.filter(pl.col("_previous").is_not_null())
        .group_by("_cluster", "_previous")
        .agg(pl.len().alias("_n"))
    )
    return counts.sort(["_previous", "_n", "_cluster"], descending=[False, True, False]).unique(
        "_previous", keep="first", maintain_order=True
    )


def _survivors(
    claims: pl.DataFrame, earliest: pl.DataFrame, state: IdState, seq: int
) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """The id each cluster with claims keeps, and the ``(absorbed, survivor)`` redirects of the
    merges, in cluster order. A cluster home to one previous id simply keeps it; the few
    that are home to several follow the survivor rule in Python."""
    per_cluster = claims.group_by("_cluster").agg(pl.col("_previous"), pl.col("_n"))
    single = per_cluster.filter(pl.col("_previous").list.len() == 1).select(
        "_cluster", pl.col("_previous").list.first().alias("customer_id")
    )
    merges = (
        per_cluster.filter(pl.col("_previous").list.len() > 1)
        .join(earliest.select("_cluster", pl.col("_previous").alias("_head")), on="_cluster")
        .sort("_cluster")
    )
    merged: list[tuple[int, str]] = []
    redirects: list[tuple[str, str]] = []
    for cluster, claimed, counts, head in merges.iter_rows():
        survivor, absorbed = _merge(dict(zip(claimed, counts, strict=True)), head, state, seq)
        merged.append((cluster, survivor))
        redirects += [(cid, survivor) for cid in absorbed]
    kept = pl.concat(
        [
            single,
            pl.DataFrame(
                merged,
                schema={"_cluster": single["_cluster"].dtype, "customer_id": pl.String},
                orient="row",
            ),
        ]
    )
    return kept, redirects


def _merge(
    counts: dict[str, int], head: str | None, state: IdState, seq: int
) -> tuple[str, list[str]]:
    """Survivor of a cluster home to several previous ids (``counts``: id -> its records in
    the cluster; ``head``: the previous id of its earliest record), and the absorbed ids."""
    claims = sorted(counts, key=lambda c: (-counts[c], state.issued.get(c, seq), c))
    survivor = head if head in counts else claims[0]
    return survivor, [cid for cid in claims if cid != survivor]


def _mint_ids(heads: pl.DataFrame, state: IdState) -> pl.DataFrame:
    """New ids for the clusters that keep none, minted from their earliest records (``heads``)
    in cluster order: each skips what was ever issued and what this build minted before."""
    heads = heads.sort("_cluster")
    used = set(state.issued)
    minted: list[str] = []
    for system, source_id in zip(
        heads["source_system"].to_list(), heads["source_id"].to_list(), strict=True
    ):
        cid = mint_customer_id(system, source_id, used)
        used.add(cid)
        minted.append(cid)
    return heads.select("_cluster", pl.Series("customer_id", minted, dtype=pl.String))


def _assigned_events(records: pl.DataFrame, redirects: list[tuple[str, str]]) -> pl.DataFrame:
    """One ``assigned`` row per record whose id changed, in cluster order then earliest first,
    with the reason (see :data:`LEDGER_REASONS`)."""
    absorbed_into = pl.DataFrame(
        redirects, schema={"_previous": pl.String, "_absorbed_into": pl.String}, orient="row"
    )
    previous, cid, minted = pl.col("_previous"), pl.col("customer_id"), pl.col("_minted")
    reason = (
        pl.when(previous.is_null())
        .then(pl.when(minted).then(pl.lit("new")).otherwise(pl.lit("joined")))
        .when(pl.col("_absorbed_into") == cid)
        .then(pl.lit("merged"))
        .when(minted)
        .then(pl.lit("split"))
        .otherwise(pl.lit("moved"))
    )
    return (
        records.filter(previous.is_null() | (previous != cid))
        .join(absorbed_into, on="_previous", how="left")
        .sort("_cluster", "_pos")
        .select(
            pl.lit("assigned").alias("event"),
            "source_system",
            "source_id",
            "customer_id",
            pl.lit(None, dtype=pl.String).alias("survivor_customer_id"),
            reason.alias("reason"),
        )
    )


def _redirected_events(redirects: list[tuple[str, str]]) -> pl.DataFrame:
    """One ``redirected`` row per id absorbed by a merge, in the order the merges were made."""
    return pl.DataFrame(
        redirects,
        schema={"customer_id": pl.String, "survivor_customer_id": pl.String},
        orient="row",
    ).select(
        pl.lit("redirected").alias("event"),
        pl.lit(None, dtype=pl.String).alias("source_system"),
        pl.lit(None, dtype=pl.String).alias("source_id"),
        "customer_id",
        "survivor_customer_id",
        pl.lit("merge").alias("reason"),
    )


def _resolved(ids: pl.Series, redirects: Mapping[str, str]) -> pl.Series:
    """``ids`` with every absorbed id replaced by its survivor (chains already resolved)."""
    if not redirects:
        return ids
    return ids.replace(list(redirects), list(redirects.values()))


def current_ids(ledger: Any) -> pl.DataFrame:
    """Record -> customer id after the last build: ``source_system``, ``source_id``,
    ``customer_id``, ``assigned_on`` (load date of the record's latest ``assigned`` row) and
    ``assigned_reason``. Records gone from the sources keep their last id here."""
    frame = _frame(ledger, LEDGER_SCHEMA)
    state = _replay(frame, records=False)
    frame = frame.with_row_index("_row")
    latest = (
        frame.filter(pl.col("event") == "assigned")
        .sort("build_seq", "_row")
        .group_by("source_system", "source_id")
        .agg(pl.col("event_on").last(), pl.col("reason").last(), pl.col("customer_id").last())
    )
    return latest.select(
        "source_system",
        "source_id",
        _resolved(latest["customer_id"], state.redirects).alias("customer_id"),
        pl.col("event_on").alias("assigned_on"),
        pl.col("reason").alias("assigned_reason"),
    ).sort("source_system", "source_id")


def redirect_table(ledger: Any) -> pl.DataFrame:
    """One row per absorbed id (:data:`REDIRECT_SCHEMA`): its survivor with chains resolved,
    the load date of the merge that absorbed it and the reason."""
    frame = _frame(ledger, LEDGER_SCHEMA)
    state = _replay(frame, records=False)
    rows = (
        frame.filter(pl.col("event") == "redirected")
        .sort("build_seq")
        .group_by("customer_id")
        .agg(pl.col("event_on").first(), pl.col("reason").first())
    )
    return (
        rows.select(
            pl.col("customer_id").alias("absorbed_customer_id"),
            _resolved(rows["customer_id"], state.redirects).alias("survivor_customer_id"),
            pl.col("event_on").alias("redirected_on"),
            "reason",
        )
        .cast(REDIRECT_SCHEMA)  # type: ignore[arg-type]
        .sort("absorbed_customer_id")
    )


def _frame(data: Any, schema: Mapping[str, Any]) -> pl.DataFrame:
    from engagement_lake.mdm.match import _to_polars

    if data is None:
        return pl.DataFrame(schema=dict(schema))
    frame = _to_polars(data)
    if frame.height == 0 and not frame.columns:
        return pl.DataFrame(schema=dict(schema))
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}")
    return frame.with_columns([pl.col(c).cast(t) for c, t in schema.items()])
