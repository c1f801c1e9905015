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

from collections import defaultdict
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
    """The state after the last build recorded in ``ledger`` (rows of :data:`LEDGER_SCHEMA`)."""
    frame = _frame(ledger, LEDGER_SCHEMA)
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
    frame = _frame(clusters, {"source_system": pl.String, "source_id": pl.String})
    if "first_loaded" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias("first_loaded"))
    # earliest first: first load date (unknown last), then the key
    frame = frame.sort("first_loaded", "source_system", "source_id", nulls_last=True)
    seq = state.last_seq + 1
    members: dict[Any, list[Record]] = defaultdict(list)
    rank: dict[Record, int] = {}
    for system, source_id, label in frame.select(
        "source_system", "source_id", "cluster"
    ).iter_rows():
        rank[(system, source_id)] = len(rank)
        members[label].append((system, source_id))
    # each member list is in earliest-first order: its first record is the cluster's earliest
    order = sorted(members, key=lambda label: rank[members[label][0]])

    previous: dict[Record, str] = {}
    counts: dict[Any, dict[str, int]] = {}
    for label in order:
        tally: dict[str, int] = defaultdict(int)
        for record in members[label]:
            held = state.assignments.get(record)
            if held is not None:
                previous[record] = state.resolve(held)
                tally[previous[record]] += 1
        counts[label] = tally

    # home of each previous id: most of its present records; ties to the earlier cluster
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

    rows: list[dict[str, Any]] = []
    assignment: list[tuple[str, str, str]] = []
    for label in order:
        cid = id_of[label]
        for record in members[label]:
            assignment.append((record[0], record[1], cid))
            before = previous.get(record)
            if before == cid:
                continue  # unchanged (an older id it holds resolves to cid through redirects)
            if before is None:
                reason = "new" if cid in minted else "joined"
            elif absorbed_into.get(before) == cid:
                reason = "merged"
            elif cid in minted:
                reason = "split"
            else:
                reason = "moved"
            rows.append(_event(seq, event_on, "assigned", record, cid, None, reason))
    for absorbed, survivor in redirects:
        rows.append(_event(seq, event_on, "redirected", (None, None), absorbed, survivor, "merge"))

    events = pl.DataFrame(rows, schema=LEDGER_SCHEMA, orient="row")
    result = pl.DataFrame(
        assignment,
        schema={"source_system": pl.String, "source_id": pl.String, "customer_id": pl.String},
        orient="row",
    ).sort("source_system", "source_id")
    return result, events


def current_ids(ledger: Any) -> pl.DataFrame:
    """Record -> customer id after the last build: ``source_system``, ``source_id``,
    ``customer_id``, ``assigned_on`` (load date of the record's latest ``assigned`` row) and
    ``assigned_reason``. Records gone from the sources keep their last id here."""
    frame = _frame(ledger, LEDGER_SCHEMA)
    state = replay(frame)
    frame = frame.with_row_index("_row")
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


def redirect_table(ledger: Any) -> pl.DataFrame:
    """One row per absorbed id (:data:`REDIRECT_SCHEMA`): its survivor with chains resolved,
    the load date of the merge that absorbed it and the reason."""
    frame = _frame(ledger, LEDGER_SCHEMA)
    state = replay(frame)
    rows = (
        frame.filter(pl.col("event") == "redirected")
        .sort("build_seq")
        .group_by("customer_id")
        .agg(pl.col("event_on").first(), pl.col("reason").first())
    )
    return (
        rows.select(
            pl.col("customer_id").alias("absorbed_customer_id"),
            pl.col("customer_id")
            .map_elements(state.resolve, return_dtype=pl.String)
            .alias("survivor_customer_id"),
            pl.col("event_on").alias("redirected_on"),
            "reason",
        )
        .cast(REDIRECT_SCHEMA)  # type: ignore[arg-type]
        .sort("absorbed_customer_id")
    )


def _event(
    seq: int,
    on: date | None,
    event: str,
    record: tuple[str | None, str | None],
    customer_id: str,
    survivor: str | None,
    reason: str,
) -> dict[str, Any]:
    return {
        "build_seq": seq,
        "event_on": on,
        "event": event,
        "source_system": record[0],
        "source_id": record[1],
        "customer_id": customer_id,
        "survivor_customer_id": survivor,
        "reason": reason,
    }


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
