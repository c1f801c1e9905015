"""Daily loads: one more ``load_date=<day>`` partition per table, appended, never rewriting.

A daily load continues the backfilled world from its persisted state (``_truth/people.parquet``,
``_truth/identity.parquet``, ``_truth/state.json`` with the id sequences) and from what bronze
already holds (latest versions of orders, opportunities, tickets, ...). Each table's partition
mixes what a real feed delivers:

- new records: the day's orders (buy-till-you-die purchasing of the customers still alive, with
  drop-out after each purchase), sessions, e-mail events, tickets, reviews, scans, ledger
  entries, predictions, and new people signing up;
- new versions of existing records: orders moving placed -> shipped -> delivered, opportunities
  moving a stage (with a new stage-history row; won deals pay commission), tickets resolved,
  reviews moderated, contacts and customers with a changed e-mail or address, members whose
  points balance changed, products repriced, the current year's profitability row;
- replays: exact copies (all source columns) of rows from an earlier load, as at-least-once
  delivery produces; only the landing metadata differs;
- late rows: some events dated one to three days before the load date.

Each source system's daily rows come from its own module in ``generate/systems`` (the same row
builders and parameters as its backfill); this module only orders the systems and handles what
is common to all of them: state, new people, replays, faults and truth.

Same seed + same prior state + same day -> identical output: every random stream is keyed by
(seed, purpose, day) and every read of bronze is ordered by primary key.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from engagement_lake.config import DEFAULT_SEED
from engagement_lake.contracts import Contract
from engagement_lake.generate import identity, people, world
from engagement_lake.generate.context import Calendar, Ctx, day_number
from engagement_lake.generate.daily import (
    Bronze,
    Day,
    load_people,
)
from engagement_lake.generate.faults import FaultInjector, manifest_frame, read_manifest
from engagement_lake.generate.pipeline import (
    TRUTH_DIR,
    GenerateResult,
    _Progress,
    add_outcome,
    cached_contracts,
    people_truth,
    print_summary,
    write_json,
)
from engagement_lake.generate.reference import reference_data
from engagement_lake.generate.systems import (
    crm,
    finance,
    fitmap,
    loyalty,
    mlops,
    reviews,
    social,
    support,
)
from engagement_lake.generate.systems.marketing import day as marketing_day
from engagement_lake.generate.systems.shop import accounts, products, sessions
from engagement_lake.generate.systems.shop import orders as shop_orders
from engagement_lake.generate.systems.shop import returns as shop_returns
from engagement_lake.generate.writer import LakeWriter, plain, source_schema

# ----------------------------------------------------------------------------- entry point


def generate_day(
    data_dir: Path, day: date, seed: int = DEFAULT_SEED, faults: bool = False, progress: bool = True
) -> GenerateResult:
    """Append one daily load (``load_date=<day>``) to every table of an existing lake.

    The world (scale, reference data, people) is the one recorded in ``_truth/`` by
    ``generate``; ``seed`` keys the day's random streams. ``day`` must come after the last load:
    earlier partitions are never rewritten.
    """
    t0 = time.perf_counter()
    data_dir = Path(data_dir)
    truth = data_dir / TRUTH_DIR
    if not (truth / "manifest.json").exists():
        raise FileNotFoundError(f"{truth / 'manifest.json'} not found: run generate() first")
    manifest = json.loads((truth / "manifest.json").read_text())
    state = json.loads((truth / "state.json").read_text())
    last = date.fromisoformat(state["last_load_date"])
    if day <= last:
        raise ValueError(f"{day} is not after the last load ({last}); daily loads only append")
    contracts = cached_contracts()
    as_of = date.fromisoformat(manifest["as_of"])
    ctx = Ctx(
        seed=seed,
        scale=float(manifest["scale"]),
        as_of=as_of,
        contracts=contracts,
        cal=Calendar(as_of),
        counters=dict(state["counters"]),
        faults=faults,
        day=day_number(day),
        identity_noise=manifest.get("identity_noise", identity.DEFAULT_NOISE_LEVEL),
    )
    fault_manifest = read_manifest(truth / "faults.parquet")
    d = Day(
        data_dir=data_dir,
        ctx=ctx,
        w=_reference_world(manifest, contracts),
        bronze=Bronze(data_dir, contracts, fault_manifest),
        people=load_people(truth / "people.parquet"),
        ident=pl.read_parquet(truth / "identity.parquet"),
    )
    batch_id = f"daily-{day.isoformat()}"
    load_index = len(manifest["loads"])
    with _Progress(progress, len(contracts), f"daily {day.isoformat()}") as prog:
        _run_day(d)
        writer = LakeWriter(
            data_dir, contracts, day, batch_id, ctx.loaded_at_us, on_write=prog.wrote
        )
        injector = FaultInjector(contracts, load_index, ctx.rng("faults")) if faults else None
        samples: dict[str, pa.Table] = {}
        replay_rng = ctx.rng("day.replays")
        person_of = dict(
            zip(d.ident["source_id"].to_list(), d.ident["person_id"].to_list(), strict=True)
        )
        for fqn in contracts:
            parts = [
                plain(writer.arrow(fqn, fr, _len(fr)), contracts[fqn])
                for fr in d.tables.get(fqn, [])
            ]
            replay = d.bronze.replay_rows(fqn, replay_rng)
            if replay is not None:
                # a key re-sent with new values today is not also replayed in its old version
                pk = contracts[fqn].primary_key[0]
                fresh = (
                    pa.concat_arrays([p.column(pk).combine_chunks() for p in parts])
                    if parts
                    else pa.array([], type=replay.schema.field(pk).type)
                )
                keep = pc.invert(pc.is_in(replay.column(pk), value_set=fresh))
                replay = replay.filter(keep)
                if replay.num_rows:
                    parts.append(replay.cast(source_schema(contracts[fqn])))
            table = pa.concat_tables(parts) if parts else writer.arrow(fqn, {}, 0)
            if injector is not None:
                samples[fqn] = table.slice(0, min(table.num_rows, 50))
                faulty = injector.row_faults(fqn, table, person_of)
                written = writer.write_arrow(fqn, faulty)
                if faulty.num_rows != table.num_rows:
                    injector.record_rows(written)
            else:
                writer.write_arrow(fqn, table)
        if injector is not None:
            injector.file_faults(writer, samples)
            if injector.identity:
                d.new_identity.append(
                    pl.DataFrame(injector.identity, schema=d.ident.schema).with_columns(
                        noise=pl.lit([], dtype=pl.List(pl.String))
                    )
                )
        writer.close()
    _save_truth(d, truth, manifest, state, batch_id, day, faults, injector)
    seconds = time.perf_counter() - t0
    if progress:
        print_summary(writer.rows, seconds, f"bronze daily load {batch_id}")
    return GenerateResult(
        rows=dict(writer.rows), files=list(writer.files), seconds=seconds, batch_id=batch_id
    )


def _reference_world(manifest: dict[str, Any], contracts: dict[str, Contract]) -> world.World:
    """The backfill's reference data, rebuilt from the manifest's seed (cheap, deterministic);
    people come from the truth files, not from here."""
    as_of = date.fromisoformat(manifest["as_of"])
    wctx = Ctx(
        seed=int(manifest["seed"]),
        scale=float(manifest["scale"]),
        as_of=as_of,
        contracts=contracts,
        cal=Calendar(as_of),
    )
    ref = reference_data(wctx)
    return world.World(people=pl.DataFrame(), orders=pl.DataFrame(), **asdict(ref))


def _len(frame: dict[str, Any]) -> int:
    for v in frame.values():
        if v is not None and not isinstance(v, str | int | float):
            return len(v)
    return 0


def _save_truth(
    d: Day,
    truth: Path,
    manifest: dict[str, Any],
    state: dict[str, Any],
    batch_id: str,
    day: date,
    faults: bool,
    injector: FaultInjector | None,
) -> None:
    pt = d.people.with_columns(
        birth_day=pl.col("birth_day"),
        first_purchase_day=pl.col("first_purchase_day"),
        signup_day=pl.col("signup_day"),
    )
    tier = pt["loyalty_tier"]
    people_truth(pt.drop("loyalty_tier"), {"loyalty_tier": tier}).write_parquet(
        truth / "people.parquet"
    )
    if d.new_identity:
        # d.ident already holds the records that later emitters of the day had to look up;
        # drop those exact repeats (a real id collision, another person, would still show)
        pl.concat(
            [d.ident, *[x.select(d.ident.columns).cast(d.ident.schema) for x in d.new_identity]]
        ).unique(maintain_order=True).write_parquet(truth / "identity.parquet")
    if d.new_texts:
        old = pl.read_parquet(truth / "texts.parquet")
        new = pl.concat([x.drop("ts_us") for x in d.new_texts])
        pl.concat([old, new.cast(old.schema)]).write_parquet(truth / "texts.parquet")
    if injector is not None and injector.manifest:
        old = read_manifest(truth / "faults.parquet")
        pl.concat([old, manifest_frame(injector.manifest)]).write_parquet(truth / "faults.parquet")
    state = {"counters": d.ctx.counters, "last_load_date": day.isoformat()}
    write_json(truth / "state.json", state)
    manifest["loads"].append({"batch_id": batch_id, "load_date": day.isoformat(), "faults": faults})
    write_json(truth / "manifest.json", manifest)


# ----------------------------------------------------------------------------- the day


def _run_day(d: Day) -> None:
    new_people(d)
    shop_orders.daily(d)
    shop_orders.order_updates(d)
    shop_returns.daily(d)
    accounts.daily(d)
    sessions.draft_day(d)
    loyalty.daily(d)
    crm.daily(d)
    reviews.daily(d)
    support.daily(d)  # after reviews: a low review comes with a complaint ticket
    fitmap.daily(d)
    fitmap.invited_daily(d)
    marketing_day.daily(d)  # e-mail-driven order sessions, click sessions, journeys
    sessions.daily(d)
    social.daily(d)
    mlops.daily(d)
    finance.daily(d)
    products.daily(d)


def new_people(d: Day) -> None:
    """New sign-ups: a shop account (and maybe a subscription / membership) and a first order."""
    ctx = d.ctx
    rng = d.rng("people")
    # as many first purchases a day as the backfill had: its shop customers over its history
    first = d.people["first_purchase_day"].to_numpy()
    before = d.people["in_shop"].to_numpy() & (first < ctx.cal.end_day)
    n = max(1, int(rng.poisson(before.sum() / max(ctx.cal.end_day - ctx.cal.start_day, 1))))
    first_pid = ctx.counters.get("person", int(d.people["person_id"].max() or 0)) + 1
    p = people.make_people(
        ctx, n=n, first_pid=first_pid, stream="day.new_people", first_day=d.day, last_day=d.day
    )
    ctx.counters["person"] = first_pid + n - 1
    p = p.with_columns(
        in_shop=pl.lit(True),
        in_crm=pl.lit(False),
        in_lead=pl.lit(False),
        in_support=pl.lit(False),
        signup_day=pl.lit(d.day, dtype=pl.Int64),
    )
    outcome = pl.DataFrame(
        {
            "person_id": p["person_id"],
            "n_repeat": np.zeros(n, np.int64),
            "alive": np.ones(n, bool),
            "first_purchase_us": np.zeros(n, np.int64),
            "last_purchase_us": np.zeros(n, np.int64),
            "exposure_days": np.zeros(n),
        }
    )
    p = add_outcome(p, outcome).with_columns(
        loyalty_tier=pl.when(pl.col("in_loyalty")).then(pl.lit("Bronze"))
    )
    d.people = pl.concat([d.people, p.select(d.people.columns).cast(d.people.schema)])
    # shop accounts
    ident = accounts.new_accounts(d, rng, p)
    d.new_identity.append(ident)
    d.ident = pl.concat([d.ident, ident.cast(d.ident.schema)])
    marketing_day.new_subscribers(d, rng, p)
    d.new_people_ids = p["person_id"].to_numpy()


__all__ = ["generate_day"]
