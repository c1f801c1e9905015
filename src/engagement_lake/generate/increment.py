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

Same seed + same prior state + same day -> identical output: every random stream is keyed by
(seed, purpose, day) and every read of bronze is ordered by primary key.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from engagement_lake.config import DEFAULT_SEED
from engagement_lake.generate import identity, people, shop, texts, world
from engagement_lake.generate.block import allowed, choose_weighted, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice
from engagement_lake.generate.context import Calendar, Ctx, day_number
from engagement_lake.generate.daily import (
    HOUR,
    MINUTE,
    Bronze,
    Day,
    load_people,
    reference_world,
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
from engagement_lake.generate.systems import crm, finance, loyalty, mlops, social, support
from engagement_lake.generate.systems.marketing import day as marketing_day
from engagement_lake.generate.systems.shop import sessions
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
        w=reference_world(manifest, contracts),
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
    orders(d)
    order_updates(d)
    returns(d)
    customers_updates(d)
    sessions.draft_day(d)
    loyalty.daily(d)
    crm.daily(d)
    support.daily(d)
    reviews_day(d)
    fitmap_day(d)
    marketing_day.daily(d)  # e-mail-driven order sessions, click sessions, journeys
    sessions.daily(d)
    social.daily(d)
    mlops.daily(d)
    finance.daily(d)
    reference_day(d)


def new_people(d: Day) -> None:
    """New sign-ups: a shop account (and maybe a subscription / membership) and a first order."""
    ctx = d.ctx
    rng = d.rng("people")
    n = max(1, int(rng.poisson(30 * ctx.scale)))
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
    prof = identity.profile("shop.customers", d.ctx.identity_noise)
    rec = identity.Records(np.arange(n), np.zeros(n, bool))
    obs = identity.observe(rng, p, rec, prof)
    nums = ctx.take("customer", n)
    ids = make_ids("customer", nums)
    genders = allowed(ctx, "shop.customers", "gender")
    g = p["gender"].to_numpy()
    tiers = allowed(ctx, "shop.customers", "loyalty_tier")
    chans = allowed(ctx, "shop.customers", "preferred_channel")
    pref = p["preferred_channel"].to_numpy()
    d.add(
        "shop.customers",
        {
            "customer_id": ids,
            "first_name": obs.first,
            "last_name": obs.last,
            "email": obs.email,
            "phone": obs.phone,
            "birth_date": obs.birth_day,
            "gender": choice(
                genders,
                np.select(
                    [g == x for x in ("M", "F", "X")],
                    [genders.index(x) for x in ("M", "F", "X")],
                    genders.index("U"),
                ),
            ),
            "address_line1": obs.street,
            "city": obs.city,
            "state": obs.state,
            "postal_code": obs.zip,
            "loyalty_tier": choice(
                tiers, np.full(n, tiers.index("Bronze")), p["in_loyalty"].to_numpy()
            ),
            "preferred_channel": choice(
                chans, np.select([pref == c for c in chans], list(range(len(chans))), 0)
            ),
            "marketing_opt_in": p["marketing_opt_in"].to_numpy(),
            "signup_date": np.full(n, d.day),
            "updated_at": d.start_us + rng.integers(6 * HOUR, 10 * HOUR, n),
        },
    )
    ident = identity.identity_truth("shop.customers", pl.Series(ids), p, rec, obs)
    d.new_identity.append(ident)
    d.ident = pl.concat([d.ident, ident.cast(d.ident.schema)])
    # subscriptions
    sub = np.flatnonzero(p["in_marketing"].to_numpy())
    if len(sub):
        srec = identity.Records(sub, np.zeros(len(sub), bool))
        sobs = identity.observe(
            rng, p, srec, identity.profile("marketing.subscribers", d.ctx.identity_noise)
        )
        snums = ctx.take("subscriber", len(sub))
        sids = make_ids("subscriber", snums)
        statuses = allowed(ctx, "marketing.subscribers", "status")
        sources = allowed(ctx, "marketing.subscribers", "source")
        sus = d.start_us + rng.integers(10 * HOUR, 22 * HOUR, len(sub))
        d.add(
            "marketing.subscribers",
            {
                "subscriber_id": sids,
                "email_address": sobs.email,
                "first_name": sobs.first,
                "last_name": sobs.last,
                "zip": sobs.zip,
                "status": choice(statuses, np.full(len(sub), statuses.index("subscribed"))),
                "source": choice(sources, np.full(len(sub), sources.index("checkout"))),
                "subscribed_at": sus,
                "unsubscribed_at": None,
                "updated_at": sus,
            },
        )
        si = identity.identity_truth("marketing.subscribers", pl.Series(sids), p, srec, sobs)
        d.new_identity.append(si)
        d.ident = pl.concat([d.ident, si.cast(d.ident.schema)])
    d.new_people_ids = p["person_id"].to_numpy()


def orders(d: Day) -> None:
    """Today's purchases of alive customers (and new sign-ups' first orders)."""
    ctx = d.ctx
    rng = d.rng("orders")
    pe = d.people
    shop_map = d.primary("shop.customers")
    alive = pe["alive"].to_numpy() & pe["in_shop"].to_numpy()
    lam_day = pe["lambda_week"].to_numpy() / 7.0 * ctx.cal.intensity[d.day - ctx.cal.grid_lo]
    buy = alive & (rng.random(len(pe)) < 1 - np.exp(-lam_day))
    new_ids = d.new_people_ids
    pid = pe["person_id"].to_numpy()
    buy |= np.isin(pid, new_ids)
    buy &= np.isin(pid, shop_map["person_id"].to_numpy())
    who = np.flatnonzero(buy)
    n = len(who)
    if n == 0:
        return
    us = d.times(rng, n)
    is_new = np.isin(pid[who], new_ids)
    us = np.where(is_new, d.start_us + rng.integers(11 * HOUR, 22 * HOUR, n), us)
    nu = pe["nu"].to_numpy()[who]
    spend = np.clip(rng.gamma(world.GAMMA_GAMMA["p"], 1.0 / nu), 8.0, 6000.0)
    # drop-out after a repeat purchase (BG/NBD); first orders never drop out
    drop = ~is_new & (rng.random(n) < pe["p_dropout"].to_numpy()[who])
    alive_new = pe["alive"].to_numpy().copy()
    alive_new[who[drop]] = False
    n_rep = pe["n_repeat"].to_numpy().copy()
    n_rep[who[~is_new]] += 1
    last = pe["last_purchase_us"].to_numpy().copy()
    last[who] = np.maximum(last[who], us)
    first = pe["first_purchase_us"].to_numpy().copy()
    first[who[is_new]] = us[is_new]
    d.people = pe.with_columns(
        alive=pl.Series(alive_new),
        n_repeat=pl.Series(n_rep),
        last_purchase_us=pl.Series(last),
        first_purchase_us=pl.Series(first),
    )
    # lines, money, status -- same rules as the backfill
    prod = d.w.products
    price = prod["list_price"].to_numpy()
    k = np.clip(1 + rng.poisson(0.15 + spend / 160.0), 1, 8)
    owner = np.repeat(np.arange(n), k)
    e = rng.exponential(1.0, len(owner))
    tot = np.bincount(owner, weights=e, minlength=n)
    target = spend[owner] * e / tot[owner]
    item_prod = shop.choose_products(rng, prod, target, shop.tastes(pe, who[owner]))
    unit = np.round(price[item_prod], 2)
    qty = np.clip(np.rint(target / np.maximum(unit, 1.0)), 1, 4).astype(np.int64)
    line_c = np.rint(unit * 100).astype(np.int64) * qty
    subtotal = np.bincount(owner, weights=line_c, minlength=n).astype(np.int64)
    chans = allowed(ctx, "shop.orders", "channel")
    pref = pe["preferred_channel"].to_numpy()[who]
    ch = np.select([pref == c for c in chans], list(range(len(chans))), 0)
    is_store = ch == chans.index("store")
    n_stores = len(d.w.stores)
    store = pe["home_store"].to_numpy()[who] % n_stores
    ship = np.where(~is_store & (subtotal < 7500), 795, 0)
    tax = np.rint(subtotal * 0.07).astype(np.int64)
    total = subtotal + ship + tax
    statuses = allowed(ctx, "shop.orders", "status")
    st = np.where(is_store, statuses.index("delivered"), statuses.index("placed"))
    nums = ctx.take("order", n)
    order_ids = make_ids("order", nums)
    cust_ids = pl.DataFrame({"person_id": pid[who]}).join(
        shop_map, on="person_id", how="left", maintain_order="left"
    )["source_id"]
    d.add(
        "shop.orders",
        {
            "order_id": order_ids,
            "customer_id": cust_ids,
            "order_ts": us,
            "channel": choice(chans, ch),
            "store_id": choice(d.w.stores["store_id"].to_list(), store, is_store),
            "status": choice(statuses, st),
            "currency": choice(allowed(ctx, "shop.orders", "currency"), np.zeros(n, np.int64)),
            "subtotal_amount": subtotal / 100.0,
            "discount_amount": np.zeros(n),
            "shipping_amount": ship / 100.0,
            "tax_amount": tax / 100.0,
            "total_amount": total / 100.0,
            "promo_code": None,
            "updated_at": us + MINUTE,
        },
    )
    sizes = allowed(ctx, "shop.order_items", "size")
    apparel = prod["apparel"].to_numpy()[item_prod]
    size_idx = np.asarray([sizes.index(s) for s in world.ALL_SIZES])[
        pe["size_idx"].to_numpy()[who][owner]
    ]
    item_nums = ctx.take("order_item", len(owner))
    d.add(
        "shop.order_items",
        {
            "order_item_id": make_ids("order_item", item_nums),
            "order_id": order_ids.take(owner),
            "product_id": prod["product_id"].to_arrow().take(item_prod),
            "size": choice(sizes, size_idx, apparel),
            "quantity": qty,
            "unit_price": unit,
            "line_amount": line_c / 100.0,
            "is_recommended": rng.random(len(owner)) < 0.12,
            "updated_at": us[owner] + MINUTE,
        },
    )
    d.today_orders = {
        "person": who,
        "person_id": pid[who],
        "num": nums,
        "ids": order_ids,
        "us": us,
        "total_c": total,
        "customer_id": cust_ids,
        "is_store": is_store,
        "channel": ch,
        "cogs": np.bincount(
            owner, weights=prod["unit_cost"].to_numpy()[item_prod] * qty, minlength=n
        ),
    }


def order_updates(d: Day) -> None:
    """Status changes of recent orders: placed -> shipped -> delivered (new versions)."""
    rng = d.rng("order_updates")
    since = d.start_us - 10 * US_PER_DAY
    df = d.bronze.latest(
        "shop.orders", f"status IN ('placed', 'shipped') AND epoch_us(order_ts) >= {since}"
    )
    if df.is_empty():
        return
    age = (d.start_us - df["order_ts"].cast(pl.Int64).to_numpy()) / US_PER_DAY
    placed = (df["status"] == "placed").to_numpy()
    move = np.where(placed, age > 0.3, age > 2.5) & (rng.random(len(df)) < 0.9)
    if not move.any():
        move[0] = True
    df = df.filter(pl.Series(move))
    placed = (df["status"] == "placed").to_numpy()
    upd = d.start_us + rng.integers(7 * HOUR, 20 * HOUR, len(df))
    d.add(
        "shop.orders",
        df.with_columns(
            status=pl.Series(np.where(placed, "shipped", "delivered")),
            updated_at=pl.Series(upd).cast(pl.Datetime("us")),
        ),
    )


def returns(d: Day) -> None:
    """A few lines of recently delivered orders come back today (with an order version)."""
    rng = d.rng("returns")
    since = d.start_us - 30 * US_PER_DAY
    items = d.bronze.query(f"""
        SELECT i.order_item_id, i.order_id, o.customer_id, i.quantity, i.unit_price
        FROM {d.bronze.scan("shop.order_items")} i
        JOIN (SELECT DISTINCT order_id, customer_id FROM {d.bronze.scan("shop.orders")}
              WHERE status = 'delivered' AND epoch_us(order_ts) >= {since}) o USING (order_id)
        WHERE i.order_item_id NOT IN (SELECT order_item_id FROM {d.bronze.scan("shop.returns")})
        QUALIFY row_number() OVER (PARTITION BY i.order_item_id ORDER BY i._loaded_at DESC) = 1
        ORDER BY i.order_item_id""")
    if items.is_empty():
        return
    pick = rng.random(len(items)) < 0.01
    if not pick.any():
        pick[int(rng.integers(0, len(items)))] = True
    it = items.filter(pl.Series(pick))
    n = len(it)
    reasons = allowed(d.ctx, "shop.returns", "reason")
    r = choose_weighted(
        rng,
        [
            {
                "too_small": 0.3,
                "too_large": 0.3,
                "poor_fit": 0.1,
                "quality": 0.12,
                "not_as_described": 0.08,
                "changed_mind": 0.08,
                "late_delivery": 0.02,
            }.get(x, 0)
            for x in reasons
        ],
        n,
    )
    us = d.times(rng, n)
    d.add(
        "shop.returns",
        {
            "return_id": make_ids("return", d.ctx.take("return", n)),
            "order_item_id": it["order_item_id"],
            "order_id": it["order_id"],
            "customer_id": it["customer_id"],
            "return_ts": us,
            "reason": choice(reasons, r),
            "quantity": it["quantity"].to_numpy(),
            "refund_amount": it["unit_price"].cast(pl.Float64).to_numpy()
            * it["quantity"].to_numpy(),
            "is_exchange": rng.random(n) < 0.3,
        },
    )
    oids = sorted(set(it["order_id"].to_list()))
    o = d.bronze.latest("shop.orders", "order_id IN (" + ",".join(f"'{x}'" for x in oids) + ")")
    if not o.is_empty():
        d.add(
            "shop.orders",
            o.with_columns(
                status=pl.lit("returned"), updated_at=pl.lit(int(us.max())).cast(pl.Datetime("us"))
            ),
        )


def customers_updates(d: Day) -> None:
    """Some customers move house within their city: a new version of their account.

    The truth follows: the old street becomes the person's previous address (so other systems
    that still show it hold a *stale* value) and the new one the current address.
    """
    rng = d.rng("customers")
    cur = d.bronze.latest("shop.customers", "address_line1 IS NOT NULL")
    if cur.is_empty():
        return
    k = max(1, int(rng.poisson(max(len(cur) * 0.0005, 1))))
    rows = cur[np.sort(rng.choice(len(cur), min(k, len(cur)), replace=False))]
    owners = d.ident.filter(pl.col("source_system") == "shop.customers").select(
        pl.col("source_id").alias("customer_id"), "person_id"
    )
    rows = rows.join(owners, on="customer_id", how="inner", maintain_order="left")
    rows = rows.unique("person_id", keep="first", maintain_order=True)
    n = len(rows)
    if n == 0:
        return
    number = rng.integers(1, 9999, n)
    name = pl.Series(list(world.vocab.STREET_NAMES)).gather(
        rng.integers(0, len(world.vocab.STREET_NAMES), n)
    )
    suffix = rng.integers(0, len(world.vocab.STREET_SUFFIXES), n)
    street = identity.street_line(
        rng, number, name, suffix, pl.Series([None] * n, dtype=pl.String), 0.35
    )
    updated = pl.Series(d.start_us + rng.integers(6 * HOUR, 22 * HOUR, n)).cast(pl.Datetime("us"))
    d.add(
        "shop.customers",
        rows.drop("person_id").with_columns(address_line1=street, updated_at=updated),
    )
    moves = pl.DataFrame(
        {
            "person_id": rows["person_id"],
            "n_number": number,
            "n_name": name,
            "n_suffix": suffix,
        }
    )
    pe = d.people.join(moves, on="person_id", how="left", maintain_order="left")
    hit = pl.col("n_number").is_not_null()
    pe = pe.with_columns(
        [
            pl.when(hit).then(pl.col(c)).otherwise(pl.col(f"prev_{c}")).alias(f"prev_{c}")
            for c in (
                "street_number",
                "street_name",
                "street_suffix",
                "apt",
                "city",
                "state",
                "zip",
            )
        ]
    ).with_columns(
        street_number=pl.when(hit).then(pl.col("n_number")).otherwise(pl.col("street_number")),
        street_name=pl.when(hit).then(pl.col("n_name")).otherwise(pl.col("street_name")),
        street_suffix=pl.when(hit).then(pl.col("n_suffix")).otherwise(pl.col("street_suffix")),
        apt=pl.when(hit).then(None).otherwise(pl.col("apt")),
        moved=pl.col("moved") | hit,
    )
    d.people = pe.drop("n_number", "n_name", "n_suffix").cast(d.people.schema)


def reviews_day(d: Day) -> None:
    """Pending reviews get moderated; a few new reviews of recently delivered lines."""
    ctx = d.ctx
    rng = d.rng("reviews")
    pend = d.bronze.latest("reviews.product_reviews", "moderation_status = 'pending'")
    if len(pend):
        age = (d.start_us - pend["submitted_at"].cast(pl.Int64).to_numpy()) / US_PER_DAY
        mod = pend.filter(pl.Series((age > 1) | (rng.random(len(pend)) < 0.3)))
        if mod.is_empty():
            mod = pend.head(1)
        d.add(
            "reviews.product_reviews",
            mod.with_columns(
                moderation_status=pl.lit("published"),
                updated_at=pl.Series(d.start_us + rng.integers(7 * HOUR, 20 * HOUR, len(mod))).cast(
                    pl.Datetime("us")
                ),
            ),
        )
    since = d.start_us - 20 * US_PER_DAY
    cand = d.bronze.query(f"""
        SELECT i.order_id, any_value(i.product_id) AS product_id,
               any_value(o.customer_id) AS customer_id
        FROM {d.bronze.scan("shop.order_items")} i
        JOIN (SELECT DISTINCT order_id, customer_id FROM {d.bronze.scan("shop.orders")}
              WHERE status = 'delivered' AND epoch_us(order_ts) >= {since}) o USING (order_id)
        GROUP BY 1 ORDER BY 1""")
    if cand.is_empty():
        return
    pick = cand.filter(pl.Series(rng.random(len(cand)) < 0.05))
    if pick.is_empty():
        pick = cand.head(1)
    k = len(pick)
    rating = np.clip(np.rint(rng.normal(4.0, 1.0, k)), 1, 5).astype(np.int64)
    sent = np.where(rating >= 4, 0, np.where(rating == 3, 1, 2))
    topic = rng.integers(0, len(texts.TOPICS), k)
    title, body = texts.review_texts(rng, topic, sent, pl.Series(["order"] * k))
    us = d.times(rng, k)
    ids = make_ids("review", ctx.take("review", k))
    statuses = allowed(ctx, "reviews.product_reviews", "moderation_status")
    d.add(
        "reviews.product_reviews",
        {
            "review_id": ids,
            "customer_id": pick["customer_id"],
            "product_id": pick["product_id"],
            "order_id": pick["order_id"],
            "rating": rating,
            "title": title,
            "review_text": body,
            "fit_feedback": None,
            "verified_purchase": np.ones(k, bool),
            "helpful_votes": np.zeros(k, np.int64),
            "moderation_status": choice(statuses, np.full(k, statuses.index("pending"))),
            "submitted_at": us,
            "updated_at": us,
        },
    )
    d.new_texts.append(texts.truth("review", pl.Series(ids), topic, sent, us))


def fitmap_day(d: Day) -> None:
    ctx = d.ctx
    rng = d.rng("fitmap")
    users = d.people.filter(pl.col("fitmap_user") & pl.col("alive"))
    shop_map = d.primary("shop.customers")
    users = users.join(shop_map, on="person_id", how="inner", maintain_order="left")
    if users.is_empty():
        return
    who = users.filter(pl.Series(rng.random(len(users)) < 0.004))
    if who.is_empty():
        who = users.head(1)
    k = len(who)
    from engagement_lake.generate.world import size_from_measures

    chest = np.round(who["chest_cm"].to_numpy() + rng.normal(0, 1, k), 1)
    height = np.round(who["height_cm"].to_numpy() + rng.normal(0, 1, k), 1)
    sizes = allowed(ctx, "fitmap.scans", "recommended_top_size")
    top = np.asarray([sizes.index(s) for s in world.ALL_SIZES])[size_from_measures(chest, height)]
    locs = allowed(ctx, "fitmap.scans", "scan_location")
    d.add(
        "fitmap.scans",
        {
            "scan_id": make_ids("scan", ctx.take("scan", k)),
            "customer_id": who["source_id"],
            "scan_ts": d.times(rng, k),
            "scan_location": choice(locs, np.full(k, locs.index("app"))),
            "store_id": None,
            "height_cm": np.clip(height, 140, 230),
            "weight_kg": who["weight_kg"].to_numpy(),
            "chest_cm": np.clip(chest, 70, 200),
            "waist_cm": who["waist_cm"].to_numpy(),
            "inseam_cm": who["inseam_cm"].to_numpy(),
            "recommended_top_size": choice(sizes, top),
            "recommended_bottom_size": np.clip(
                np.rint(who["waist_cm"].to_numpy() / 2.54 / 2) * 2, 28, 78
            ).astype(np.int64),
            "scan_quality": np.round(rng.uniform(0.6, 0.98, k), 3),
        },
    )


def reference_day(d: Day) -> None:
    """A few products are repriced (new versions)."""
    rng = d.rng("products")
    prod = d.bronze.latest("shop.products", "is_active")
    if prod.is_empty():
        return
    k = max(1, round(len(prod) * 0.002))
    pick = np.sort(rng.choice(len(prod), min(k, len(prod)), replace=False))
    rows = prod[pick]
    price = rows["list_price"].cast(pl.Float64).to_numpy()
    new = np.maximum(np.floor(price * rng.uniform(0.85, 1.1, len(rows))) + 0.99, 4.99)
    d.add(
        "shop.products",
        rows.with_columns(
            list_price=pl.Series(np.round(new, 2)),
            updated_at=pl.Series(d.start_us + rng.integers(1 * HOUR, 5 * HOUR, len(rows))).cast(
                pl.Datetime("us")
            ),
        ),
    )


__all__ = ["generate_day"]
