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
from engagement_lake.generate import crm, identity, people, shop, texts, world
from engagement_lake.generate.block import allowed, choose_weighted, enum_draw, make_ids
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
    campaign_frame,
    people_truth,
    print_summary,
    write_json,
)
from engagement_lake.generate.systems import loyalty, mlops
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
    sessions_and_visits(d)
    loyalty.daily(d)
    marketing_day(d)
    crm_day(d)
    support_day(d)
    reviews_day(d)
    fitmap_day(d)
    social_day(d)
    mlops.daily(d)
    finance_day(d)
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


def sessions_and_visits(d: Day) -> None:
    ctx = d.ctx
    rng = d.rng("sessions")
    pe = d.people
    to = d.today_orders
    shop_map = d.primary("shop.customers")
    alive = np.flatnonzero(
        pe["alive"].to_numpy()
        & np.isin(pe["person_id"].to_numpy(), shop_map["person_id"].to_numpy())
    )
    browse = alive[rng.random(len(alive)) < 0.01 + 0.03 * pe["engagement"].to_numpy()[alive]]
    chans = allowed(ctx, "shop.orders", "channel")
    web = (
        np.zeros(0, np.int64)
        if to is None
        else np.flatnonzero(np.isin(to["channel"], [chans.index("web"), chans.index("app")]))
    )
    n_b, n_w = len(browse), len(web)
    n_anon = max(1, int(0.12 * (n_b + n_w)))
    n = n_b + n_w + n_anon
    start = np.r_[
        d.times(rng, n_b),
        (to["us"][web] - 10 * MINUTE) if to is not None else np.zeros(0, np.int64),
        d.times(rng, n_anon),
    ]
    if n_b + n_w + n_anon and not (start < d.start_us).any():
        start[-1] -= US_PER_DAY  # at least one late session
    person_ids = np.r_[
        pe["person_id"].to_numpy()[browse],
        to["person_id"][web] if to is not None else np.zeros(0, np.int64),
        np.full(n_anon, -1),
    ]
    cust = pl.DataFrame({"person_id": person_ids}).join(
        shop_map, on="person_id", how="left", maintain_order="left"
    )["source_id"]
    converted = np.r_[np.zeros(n_b, bool), np.ones(n_w, bool), np.zeros(n_anon, bool)]
    devices, dev = enum_draw(
        rng,
        ctx,
        "shop.web_sessions",
        "device_type",
        {"desktop": 0.4, "mobile": 0.48, "tablet": 0.07, "app": 0.05},
        n,
    )
    sources, src = enum_draw(
        rng,
        ctx,
        "shop.web_sessions",
        "traffic_source",
        {
            "direct": 0.3,
            "organic_search": 0.3,
            "paid_search": 0.15,
            "email": 0.1,
            "social": 0.1,
            "referral": 0.05,
        },
        n,
    )
    pv = np.clip(1 + rng.geometric(0.18, n) + converted * 4, 1, 500)
    sids = make_ids("session", ctx.take("session", n))
    order_ids = pa.concat_arrays(
        [
            pa.nulls(n_b, pa.string()),
            to["ids"].take(web) if to is not None else pa.nulls(0, pa.string()),
            pa.nulls(n_anon, pa.string()),
        ]
    )
    d.add(
        "shop.web_sessions",
        {
            "session_id": sids,
            "customer_id": cust,
            "session_start": start,
            "session_end": start + rng.integers(MINUTE, 40 * MINUTE, n),
            "device_type": choice(devices, dev),
            "traffic_source": choice(sources, src),
            "utm_campaign": None,
            "page_views": pv,
            "products_viewed": rng.binomial(pv, 0.45),
            "added_to_cart": converted | (rng.random(n) < 0.17),
            "converted": converted,
            "order_id": order_ids,
        },
    )
    d.today_sessions = {
        "ids": sids,
        "person_id": person_ids,
        "start": start,
        "customer_id": cust,
        "converted": converted,
    }
    # store visits: today's store purchases plus some browsing
    if to is not None:
        so = np.flatnonzero(to["is_store"])
        types = allowed(ctx, "shop.store_visits", "visit_type")
        extra = alive[rng.random(len(alive)) < 0.003]
        m = len(so) + len(extra)
        if m:
            vp = np.r_[to["person_id"][so], pe["person_id"].to_numpy()[extra]]
            vus = np.r_[to["us"][so] - 20 * MINUTE, d.times(rng, len(extra))]
            vc = pl.DataFrame({"person_id": vp}).join(
                shop_map, on="person_id", how="left", maintain_order="left"
            )["source_id"]
            home = (
                pl.DataFrame({"person_id": vp})
                .join(
                    pe.select("person_id", "home_store"),
                    on="person_id",
                    how="left",
                    maintain_order="left",
                )["home_store"]
                .to_numpy()
            )
            d.add(
                "shop.store_visits",
                {
                    "visit_id": make_ids("store_visit", ctx.take("store_visit", m)),
                    "customer_id": vc,
                    "store_id": choice(d.w.stores["store_id"].to_list(), home % len(d.w.stores)),
                    "visit_ts": vus,
                    "duration_minutes": rng.integers(5, 90, m),
                    "visit_type": choice(types, np.full(m, types.index("walk_in"))),
                    "made_purchase": np.r_[np.ones(len(so), bool), np.zeros(len(extra), bool)],
                },
            )


def marketing_day(d: Day) -> None:
    """A campaign every seventh day; opens and clicks trickle in; a few unsubscribe."""
    ctx = d.ctx
    rng = d.rng("marketing")
    subs = d.bronze.latest("marketing.subscribers", "status = 'subscribed'")
    ev_types = allowed(ctx, "marketing.email_events", "event_type")
    sub_ids: list[pl.Series] = []
    camp_ids: list[pl.Series] = []
    types: list[np.ndarray] = []
    uss: list[np.ndarray] = []
    if d.day % 7 == 0 and len(subs):
        camp = world.make_campaigns(ctx, n=1, day_lo=d.day, day_hi=d.day, stream="day.campaign")
        d.add("marketing.campaigns", campaign_frame(camp))
        share = float(camp["audience_share"][0])
        chosen = subs.filter(pl.Series(rng.random(len(subs)) < share))
        k = len(chosen)
        send = d.start_us + 9 * HOUR + rng.integers(0, 30 * MINUTE, k)
        opened = rng.random(k) < 0.22
        clicked = opened & (rng.random(k) < 0.2)
        for mask, t, us in (
            (np.ones(k, bool), "sent", send),
            (np.ones(k, bool), "delivered", send + MINUTE),
            (opened, "open", send + rng.integers(MINUTE, 10 * HOUR, k)),
            (clicked, "click", send + rng.integers(11 * HOUR, 13 * HOUR, k)),
        ):
            sub_ids.append(chosen["subscriber_id"].filter(pl.Series(mask)))
            camp_ids.append(pl.Series([str(camp["campaign_id"][0])] * int(mask.sum())))
            types.append(np.full(int(mask.sum()), ev_types.index(t)))
            uss.append(us[mask])
    else:
        # late opens of the most recent campaign
        prev_sent = d.bronze.query(f"""
            SELECT DISTINCT subscriber_id, campaign_id
            FROM {d.bronze.scan("marketing.email_events")}
            WHERE event_type = 'sent' AND campaign_id = (
                SELECT max(campaign_id) FROM {d.bronze.scan("marketing.email_events")}
                WHERE event_type = 'sent' AND subscriber_id IS NOT NULL)
            ORDER BY subscriber_id""")
        if len(prev_sent):
            late = prev_sent.filter(pl.Series(rng.random(len(prev_sent)) < 0.02))
            if late.is_empty():
                late = prev_sent.head(1)
            k = len(late)
            sub_ids.append(late["subscriber_id"])
            camp_ids.append(late["campaign_id"])
            types.append(np.full(k, ev_types.index("open")))
            uss.append(d.times(rng, k))
    if len(subs):
        unsub = subs.filter(pl.Series(rng.random(len(subs)) < 0.0005))
        if unsub.is_empty():
            unsub = subs[[int(rng.integers(0, len(subs)))]]
        u_us = d.start_us + rng.integers(8 * HOUR, 22 * HOUR, len(unsub))
        d.add(
            "marketing.subscribers",
            unsub.with_columns(
                status=pl.lit("unsubscribed"),
                unsubscribed_at=pl.Series(u_us).cast(pl.Datetime("us")),
                updated_at=pl.Series(u_us + MINUTE).cast(pl.Datetime("us")),
            ),
        )
        last_camp = d.bronze.query(f"""
            SELECT subscriber_id, max(campaign_id) AS campaign_id
            FROM {d.bronze.scan("marketing.email_events")}
            WHERE subscriber_id IN ({",".join(f"'{s}'" for s in unsub["subscriber_id"].to_list())})
            GROUP BY 1 ORDER BY 1""")
        if len(last_camp):
            sub_ids.append(last_camp["subscriber_id"])
            camp_ids.append(last_camp["campaign_id"])
            types.append(np.full(len(last_camp), ev_types.index("unsubscribe")))
            uu = dict(zip(unsub["subscriber_id"].to_list(), u_us.tolist(), strict=True))
            uss.append(np.asarray([uu[s] for s in last_camp["subscriber_id"].to_list()]))
    if not sub_ids:
        return
    n = sum(len(x) for x in sub_ids)
    d.add(
        "marketing.email_events",
        {
            "event_id": make_ids("email_event", ctx.take("email_event", n)),
            "subscriber_id": pl.concat(sub_ids).cast(pl.String),
            "campaign_id": pl.concat(camp_ids).cast(pl.String),
            "event_type": choice(ev_types, np.concatenate(types)),
            "event_ts": np.concatenate(uss),
            "link_url": None,
            "revenue": None,
            "order_id": None,
        },
    )
    # a welcome journey for today's new subscribers
    jn = allowed(ctx, "marketing.journey_events", "journey_name")
    tp = allowed(ctx, "marketing.journey_events", "touchpoint")
    new_subs = d.ident.filter(pl.col("source_system") == "marketing.subscribers").filter(
        pl.col("person_id").is_in(d.new_people_ids.tolist())
    )
    if len(new_subs):
        k = len(new_subs)
        shop_map = d.primary("shop.customers")
        cust = new_subs.select("person_id").join(
            shop_map, on="person_id", how="left", maintain_order="left"
        )["source_id"]
        d.add(
            "marketing.journey_events",
            {
                "journey_event_id": make_ids("journey_event", ctx.take("journey_event", k)),
                "subscriber_id": new_subs["source_id"],
                "customer_ref": cust,
                "journey_name": choice(jn, np.full(k, jn.index("Welcome"))),
                "touchpoint": choice(tp, np.full(k, tp.index("email"))),
                "stage": pl.Series(["entered"] * k),
                "event_ts": d.end_us - rng.integers(MINUTE, HOUR, k),
                "campaign_id": None,
                "is_conversion": np.zeros(k, bool),
                "conversion_value": None,
            },
        )


def crm_day(d: Day) -> None:
    """Opportunities move stages (history rows, commissions), contacts change e-mail, new leads."""
    ctx = d.ctx
    rng = d.rng("crm")
    reps = d.w.reps
    rep_idx = {r: i for i, r in enumerate(reps["sales_rep_id"].to_list())}
    opps = d.bronze.latest("crm.opportunities", "NOT is_closed")
    if len(opps):
        flow = list(crm.STAGE_FLOW)
        cur = opps["stage_name"].to_list()
        k_stage = np.asarray([flow.index(s) if s in flow else 0 for s in cur])
        src = opps["lead_source"].replace_strict(crm.SOURCE_WIN, default=1.0).to_numpy()
        skill = reps["skill"].to_numpy()[[rep_idx.get(r, 0) for r in opps["owner_id"].to_list()]]
        move = rng.random(len(opps)) < 1.0 / np.asarray(crm.STAGE_DAYS)[k_stage]
        if not move.any():
            move[int(rng.integers(0, len(opps)))] = True
        adv = rng.random(len(opps)) < np.clip(
            np.asarray(crm.ADVANCE_BASE)[k_stage] * src * skill**0.25, 0.05, 0.97
        )
        nxt = np.where(
            adv, np.where(k_stage + 1 < len(flow), k_stage + 1, -1), -2
        )  # -1 won, -2 lost
        new_stage = np.where(
            nxt == -1,
            "Closed Won",
            np.where(nxt == -2, "Closed Lost", np.asarray(flow)[np.maximum(nxt, 0)]),
        )
        mv = opps.filter(pl.Series(move))
        ns = new_stage[move]
        n = len(mv)
        us = d.start_us + rng.integers(8 * HOUR, 20 * HOUR, n)
        prob = np.asarray([crm.STAGE_PROBABILITY[s] for s in ns])
        closed = np.isin(ns, ["Closed Won", "Closed Lost"])
        won = ns == "Closed Won"
        reasons = allowed(ctx, "crm.opportunities", "loss_reason")
        updated = mv.with_columns(
            stage_name=pl.Series(ns),
            probability=pl.Series(prob),
            is_closed=pl.Series(closed),
            is_won=pl.Series(won),
            last_modified_date=pl.Series(us).cast(pl.Datetime("us")),
            close_date=pl.when(pl.Series(closed))
            .then(pl.lit(d.day).cast(pl.Int32).cast(pl.Date))
            .otherwise(pl.col("close_date")),
            loss_reason=pl.when(pl.Series(ns == "Closed Lost"))
            .then(pl.Series(np.asarray(reasons)[rng.integers(0, len(reasons), n)]))
            .otherwise(None),
        )
        d.add("crm.opportunities", updated)
        d.add(
            "crm.opportunity_stage_history",
            {
                "history_id": make_ids("stage_history", ctx.take("stage_history", n)),
                "opportunity_id": mv["opportunity_id"],
                "stage_name": pl.Series(ns),
                "amount": mv["amount"],
                "probability": prob,
                "changed_by": mv["owner_id"],
                "created_date": us,
            },
        )
        w = updated.filter(pl.col("is_won"))
        if len(w):
            otypes = allowed(ctx, "crm.opportunities", "opportunity_type")
            sources = allowed(ctx, "crm.opportunities", "lead_source")
            rows = {
                "rep": np.asarray([rep_idx.get(r, 0) for r in w["owner_id"].to_list()]),
                "amount": w["amount"].cast(pl.Float64).to_numpy(),
                "close_us": w["last_modified_date"].cast(pl.Int64).to_numpy(),
                "type": np.asarray([otypes.index(t) for t in w["opportunity_type"].to_list()]),
                "src": np.asarray([sources.index(s) for s in w["lead_source"].to_list()]),
                "num": np.asarray([int(x[3:]) for x in w["opportunity_id"].to_list()]),
            }
            d.add("crm.commissions", crm.commission_rows(ctx, reps, rng, rows))
        # activities on open deals
        act = opps.filter(pl.Series(rng.random(len(opps)) < 0.1))
        if len(act):
            k = len(act)
            types, at = enum_draw(
                rng,
                ctx,
                "crm.activities",
                "activity_type",
                {"Call": 0.5, "Email": 0.4, "Meeting": 0.1},
                k,
            )
            outcomes, oc = enum_draw(
                rng, ctx, "crm.activities", "outcome", {"Completed": 0.7, "No Answer": 0.3}, k
            )
            d.add(
                "crm.activities",
                {
                    "activity_id": make_ids("activity", ctx.take("activity", k)),
                    "opportunity_id": act["opportunity_id"],
                    "lead_id": None,
                    "contact_id": act["contact_id"],
                    "owner_id": act["owner_id"],
                    "activity_type": choice(types, at),
                    "outcome": choice(outcomes, oc),
                    "subject": pl.Series(["Follow-up"] * k),
                    "duration_minutes": rng.integers(5, 60, k),
                    "activity_date": d.times(rng, k),
                },
            )
    # contacts whose e-mail changed (the person's address changes in the truth as well)
    contacts = d.bronze.latest("crm.contacts", "email IS NOT NULL")
    if len(contacts):
        k = max(1, int(rng.poisson(max(len(contacts) * 0.001, 1))))
        pick = np.sort(rng.choice(len(contacts), min(k, len(contacts)), replace=False))
        rows = contacts[pick]
        owners = d.ident.filter(pl.col("source_system") == "crm.contacts").select(
            "source_id", "person_id"
        )
        rows_p = rows.join(
            owners, left_on="contact_id", right_on="source_id", how="left", maintain_order="left"
        )
        people = d.people.join(
            rows_p.select("person_id").unique(maintain_order=True), on="person_id", how="semi"
        )
        domains = [x for x, _ in world.vocab.EMAIL_DOMAINS]
        new_local = (
            people["first_name"].str.to_lowercase()
            + "."
            + people["last_name"].str.to_lowercase().str.replace_all(r"[^a-z]", "")
            + "."
            + people["person_id"].cast(pl.String)
            + pl.Series([str(d.day % 100)] * len(people))
        )
        new_email = (
            new_local + "@" + pl.Series(domains).gather(rng.integers(0, len(domains), len(people)))
        )
        mapping = dict(zip(people["person_id"].to_list(), new_email.to_list(), strict=True))
        emails = [mapping.get(p) for p in rows_p["person_id"].to_list()]
        us = d.start_us + rng.integers(8 * HOUR, 20 * HOUR, len(rows))
        d.add(
            "crm.contacts",
            rows.with_columns(
                email=pl.Series(emails, dtype=pl.String),
                last_modified_date=pl.Series(us).cast(pl.Datetime("us")),
            ),
        )
        d.people = d.people.with_columns(
            prev_email=pl.when(pl.col("person_id").is_in(list(mapping)))
            .then(pl.col("email"))
            .otherwise(pl.col("prev_email")),
            email=pl.col("person_id").replace_strict(
                mapping, default=pl.col("email"), return_dtype=pl.String
            ),
        )
    # new leads (prospects, some of them people already captured before)
    n_new = max(1, int(rng.poisson(10 * ctx.scale)))
    cand = d.people.filter(~pl.col("in_shop") | pl.col("in_lead"))
    if len(cand):
        pick = np.sort(rng.choice(len(cand), min(n_new, len(cand)), replace=False))
        who = cand[pick]
        k = len(who)
        existing = d.ident.filter(pl.col("source_system") == "crm.leads")["person_id"]
        is_dup = np.isin(who["person_id"].to_numpy(), existing.to_numpy())
        rec = identity.Records(np.arange(k), is_dup)
        obs = identity.observe(
            rng, who, rec, identity.profile("crm.leads", d.ctx.identity_noise), need_contact=True
        )
        nums = ctx.take("lead", k)
        ids = make_ids("lead", nums)
        sources, src = enum_draw(rng, ctx, "crm.leads", "lead_source", crm.SOURCE_WEIGHTS, k)
        statuses = allowed(ctx, "crm.leads", "status")
        grades = allowed(ctx, "crm.leads", "lead_grade")
        score = rng.integers(20, 90, k)
        grade = np.select([score >= 80, score >= 60, score >= 40], [0, 1, 2], 3)
        us = d.times(rng, k)
        d.add(
            "crm.leads",
            {
                "lead_id": ids,
                "first_name": obs.first,
                "last_name": obs.last,
                "email": obs.email,
                "phone": obs.phone,
                "company": None,
                "state": obs.state,
                "lead_source": choice(sources, src),
                "campaign_id": None,
                "lead_score": score,
                "lead_grade": choice(grades, [grades.index("ABCD"[g]) for g in grade]),
                "status": choice(statuses, np.full(k, statuses.index("New"))),
                "disqualification_reason": None,
                "owner_id": reps["sales_rep_id"].to_arrow().take(rng.integers(0, len(reps), k)),
                "converted_contact_id": None,
                "converted_opportunity_id": None,
                "created_date": us // US_PER_DAY,
                "converted_date": None,
                "last_modified_date": us + MINUTE,
            },
        )
        li = identity.identity_truth("crm.leads", pl.Series(ids), who, rec, obs)
        d.new_identity.append(li)
        d.ident = pl.concat([d.ident, li.cast(d.ident.schema)])
    # lead status progress
    open_leads = d.bronze.latest("crm.leads", "status IN ('New', 'Working')")
    if len(open_leads):
        prog = open_leads.filter(pl.Series(rng.random(len(open_leads)) < 0.02))
        if prog.is_empty():
            prog = open_leads.head(1)
        nxt = np.where(prog["status"].to_numpy() == "New", "Working", "Nurturing")
        d.add(
            "crm.leads",
            prog.with_columns(
                status=pl.Series(nxt),
                last_modified_date=pl.Series(
                    d.start_us + rng.integers(8 * HOUR, 20 * HOUR, len(prog))
                ).cast(pl.Datetime("us")),
            ),
        )
    # quotas for a new month
    if date.fromordinal(date(1970, 1, 1).toordinal() + d.day).day == 1:
        q = crm.quotas(ctx, reps, d.people)
        month_start = d.day
        keep = np.asarray(q["period_start"]) == month_start
        if not keep.any():
            q2 = _month_quotas(ctx, reps, d.day, d.people)
            d.add("crm.quotas", q2)
        else:
            d.add(
                "crm.quotas",
                {
                    k: (
                        v.filter(pa.array(keep)) if isinstance(v, pa.Array) else np.asarray(v)[keep]
                    )
                    for k, v in q.items()
                },
            )


def _month_quotas(ctx: Ctx, reps: pl.DataFrame, day: int, people: pl.DataFrame) -> dict[str, Any]:
    """Quota rows for the month starting at ``day`` for every active rep (same rule as the
    backfill: the rep's expected won amount x its stretch x the month's seasonality)."""
    mon = np.datetime64(int(day), "D").astype("datetime64[M]")
    active = np.flatnonzero(reps["is_active"].to_numpy())
    ym = int(mon.astype(np.int64))
    qnum = (
        reps["rep_num"].to_numpy()[active] * 10_000 + (ym // 12 + 1970 - 2000) * 100 + ym % 12 + 1
    )
    start = mon.astype("datetime64[D]").astype(np.int64)
    end = (mon + 1).astype("datetime64[D]").astype(np.int64) - 1
    months = np.full(len(active), mon)
    return {
        "quota_id": make_ids("quota", qnum),
        "sales_rep_id": reps["sales_rep_id"].to_arrow().take(active),
        "period_start": np.full(len(active), start),
        "period_end": np.full(len(active), end),
        "quota_amount": crm.quota_amounts(ctx, reps, people, active, months),
    }


def support_day(d: Day) -> None:
    """New tickets (with messages), open tickets resolved, CSAT surveys after resolution."""
    ctx = d.ctx
    rng = d.rng("support")
    req_map = d.primary("support.requesters")
    # new tickets from people known to support
    k = max(1, int(rng.poisson(max(len(req_map) * 0.003, 1))))
    pick = (
        np.sort(rng.choice(len(req_map), min(k, len(req_map)), replace=False))
        if len(req_map)
        else np.zeros(0, np.int64)
    )
    if len(pick):
        who = req_map[pick]
        k = len(who)
        ttypes = allowed(ctx, "support.tickets", "ticket_type")
        tt = choose_weighted(rng, [0.25, 0.2, 0.15, 0.15, 0.1, 0.15], k)
        from engagement_lake.generate.support import SUBJECTS, TICKET_TYPES

        topic = np.asarray([TICKET_TYPES[t][0] for t in ttypes])[tt]
        sw = np.asarray([TICKET_TYPES[t][1] for t in ttypes])[tt]
        u = rng.random(k)
        sent = np.where(u < sw[:, 0], 0, np.where(u < sw[:, 0] + sw[:, 1], 1, 2))
        chans = allowed(ctx, "support.tickets", "channel")
        ch = choose_weighted(rng, [{"Email": 0.5, "Chat": 0.5}.get(c, 0) for c in chans], k)
        us = d.times(rng, k)
        nums = ctx.take("ticket", k)
        statuses = allowed(ctx, "support.tickets", "status")
        prios = allowed(ctx, "support.tickets", "priority")
        d.add(
            "support.tickets",
            {
                "ticket_id": nums,
                "requester_id": who["source_id"].cast(pl.Int64).to_numpy(),
                "order_id": None,
                "ticket_type": choice(ttypes, tt),
                "channel": choice(chans, ch),
                "status": choice(statuses, np.full(k, statuses.index("Open"))),
                "priority": choice(prios, np.full(k, prios.index("Medium"))),
                "subject": np.asarray([SUBJECTS.get(t, t) for t in ttypes], dtype=object)[tt],
                "agent_id": None,
                "satisfaction_score": None,
                "created_at": us,
                "resolved_at": None,
                "updated_at": us + MINUTE,
            },
        )
        msgs = ctx.take("message", k)
        body = texts.customer_message(rng, topic, sent, pl.Series(["order"] * k))
        mch = allowed(ctx, "support.ticket_messages", "channel")
        authors = allowed(ctx, "support.ticket_messages", "author_type")
        d.add(
            "support.ticket_messages",
            {
                "message_id": msgs,
                "ticket_id": nums,
                "author_type": choice(authors, np.full(k, authors.index("customer"))),
                "channel": choice(
                    mch, np.where(ch == chans.index("Chat"), mch.index("Chat"), mch.index("Email"))
                ),
                "body": body,
                "created_at": us + 30 * 1_000_000,
            },
        )
        d.new_texts.append(texts.truth("ticket_message", pl.Series(msgs), topic, sent, us))
    # resolve open tickets; satisfaction agrees with the ticket's true sentiment
    open_t = d.bronze.latest("support.tickets", "status IN ('Open', 'In Progress')")
    if len(open_t):
        res = open_t.filter(pl.Series(rng.random(len(open_t)) < 0.5))
        if res.is_empty():
            res = open_t.head(1)
        ids = ",".join(str(x) for x in res["ticket_id"].to_list())
        sent = d.bronze.query(f"""
            SELECT m.ticket_id,
                   min(CASE t.sentiment WHEN 'negative' THEN 0
                                    WHEN 'neutral' THEN 1 ELSE 2 END) AS s
            FROM {d.bronze.scan("support.ticket_messages")} m
            JOIN read_parquet('{d.data_dir / TRUTH_DIR / "texts.parquet"}') t
              ON t.source_type = 'ticket_message' AND t.source_id = m.message_id::VARCHAR
            WHERE m.ticket_id IN ({ids}) AND m.author_type = 'customer' GROUP BY 1 ORDER BY 1""")
        s_map = (
            dict(zip(sent["ticket_id"].to_list(), sent["s"].to_list(), strict=True))
            if len(sent)
            else {}
        )
        s = np.asarray([s_map.get(t, 1) for t in res["ticket_id"].to_list()])
        csat = np.where(
            s == 2,
            rng.integers(4, 6, len(res)),
            np.where(s == 1, rng.integers(3, 5, len(res)), rng.integers(1, 3, len(res))),
        )
        answered = rng.random(len(res)) < 0.55
        us = d.start_us + rng.integers(8 * HOUR, 22 * HOUR, len(res))
        us = np.maximum(us, res["created_at"].cast(pl.Int64).to_numpy() + MINUTE)
        d.add(
            "support.tickets",
            res.with_columns(
                status=pl.lit("Resolved"),
                resolved_at=pl.Series(us).cast(pl.Datetime("us")),
                updated_at=pl.Series(us).cast(pl.Datetime("us")),
                satisfaction_score=pl.when(pl.Series(answered))
                .then(pl.Series(csat))
                .otherwise(None),
                agent_id=pl.col("agent_id").fill_null(pl.lit(int(rng.integers(1, 10)))),
            ),
        )
        sv = np.flatnonzero(answered)
        if len(sv):
            stypes = allowed(ctx, "support.surveys", "survey_type")
            m = len(sv)
            d.add(
                "support.surveys",
                {
                    "survey_response_id": make_ids("survey", ctx.take("survey", m)),
                    "requester_id": res["requester_id"].to_numpy()[sv],
                    "ticket_id": res["ticket_id"].to_numpy()[sv],
                    "survey_type": choice(stypes, np.full(m, stypes.index("CSAT"))),
                    "score": csat[sv],
                    "verbatim": None,
                    "responded_at": np.minimum(us[sv] + HOUR, d.end_us - 1),
                },
            )


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


def social_day(d: Day) -> None:
    ctx = d.ctx
    rng = d.rng("social")
    k = max(1, int(rng.poisson(20 * ctx.scale)))
    sent = choose_weighted(rng, [0.45, 0.3, 0.25], k)
    topic = rng.integers(0, len(texts.TOPICS) - 1, k)
    body = texts.social_post(rng, topic, sent, pl.Series(["clothes"] * k))
    platforms, plat = enum_draw(
        rng, ctx, "social.mentions", "platform", {"Twitter": 0.4, "Instagram": 0.6}, k
    )
    us = d.times(rng, k)
    ids = make_ids("mention", ctx.take("mention", k))
    d.add(
        "social.mentions",
        {
            "mention_id": ids,
            "platform": choice(platforms, plat),
            "author_handle": pl.Series([f"@fan{x}" for x in rng.integers(100, 99999, k)]),
            "customer_ref": None,
            "mention_text": body,
            "likes": rng.integers(0, 500, k),
            "shares": rng.integers(0, 50, k),
            "comments": rng.integers(0, 30, k),
            "is_brand_tagged": body.str.contains("@DXL", literal=True).to_numpy(),
            "posted_at": us,
        },
    )
    d.new_texts.append(texts.truth("social", pl.Series(ids), topic, sent, us))


def finance_day(d: Day) -> None:
    """Customers who bought today: their current fiscal year's row is resent, updated."""
    ctx = d.ctx
    to = d.today_orders
    if to is None:
        return
    year = date.fromordinal(date(1970, 1, 1).toordinal() + d.day).year
    today = (
        pl.DataFrame(
            {"customer_id": to["customer_id"], "rev": to["total_c"] / 100.0, "cogs": to["cogs"]}
        )
        .group_by("customer_id", maintain_order=True)
        .agg(pl.col("rev").sum(), pl.col("cogs").sum())
    )
    ids = ",".join(f"'{c}'" for c in today["customer_id"].to_list())
    cur = d.bronze.latest(
        "finance.customer_profitability", f"fiscal_year = {year} AND customer_id IN ({ids})"
    )
    upd = today.join(cur, on="customer_id", how="left", maintain_order="left")
    has = upd["profitability_id"].is_not_null().to_numpy()
    n_new = int((~has).sum())
    new_ids = make_ids("profitability", ctx.take("profitability", n_new)).to_pylist()
    it = iter(new_ids)
    pid = [x if x is not None else next(it) for x in upd["profitability_id"].to_list()]
    rev = upd["revenue_amount"].cast(pl.Float64).fill_null(0).to_numpy() + upd["rev"].to_numpy()
    cogs = upd["cogs_amount"].cast(pl.Float64).fill_null(0).to_numpy() + upd["cogs"].to_numpy()
    acq = upd["acquisition_cost"].cast(pl.Float64).fill_null(0).to_numpy()
    serv = upd["servicing_cost"].cast(pl.Float64).fill_null(0).to_numpy()
    d.add(
        "finance.customer_profitability",
        {
            "profitability_id": pl.Series(pid, dtype=pl.String),
            "customer_id": upd["customer_id"],
            "fiscal_year": np.full(len(upd), year),
            "as_of_date": np.full(len(upd), d.day),
            "revenue_amount": np.round(rev, 2),
            "cogs_amount": np.round(cogs, 2),
            "acquisition_cost": acq,
            "servicing_cost": serv,
            "profit_amount": np.round(rev - cogs - acq - serv, 2),
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
