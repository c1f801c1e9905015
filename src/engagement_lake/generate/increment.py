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
from engagement_lake.generate import crm, identity, loyalty, mlops, people, texts, world
from engagement_lake.generate.block import allowed, choose_weighted, enum_draw, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
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
from engagement_lake.generate.systems import fitmap, reviews
from engagement_lake.generate.systems.shop import accounts, products
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
    tier = pt["loyalty_tier"].to_numpy()
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
    sessions_and_visits(d)
    loyalty_day(d)
    marketing_day(d)
    crm_day(d)
    support_day(d)
    reviews.daily(d)
    fitmap.daily(d)
    social_day(d)
    mlops_day(d)
    finance_day(d)
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
    p = add_outcome(p, outcome).with_columns(loyalty_tier=pl.lit("Bronze"))
    d.people = pl.concat([d.people, p.select(d.people.columns).cast(d.people.schema)])
    # shop accounts
    ident = accounts.new_accounts(d, rng, p)
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


def loyalty_day(d: Day) -> None:
    """Earn points for members' orders; members whose balance changed get a new version."""
    ctx = d.ctx
    rng = d.rng("loyalty")
    to = d.today_orders
    mem_map = d.primary("loyalty.members")
    new_ids = d.new_people_ids
    # new members among today's sign-ups
    pe = d.people
    new_mem = pe.filter(pl.col("person_id").is_in(new_ids.tolist()) & pl.col("in_loyalty"))
    entry_types = allowed(ctx, "loyalty.points_ledger", "entry_type")
    ledger: list[dict[str, Any]] = []
    if len(new_mem):
        n = len(new_mem)
        rec = identity.Records(np.arange(n), np.zeros(n, bool))
        obs = identity.observe(
            rng, new_mem, rec, identity.profile("loyalty.members", d.ctx.identity_noise)
        )
        nums = ctx.take("member", n)
        ids = make_ids("member", nums)
        enrol = d.start_us + rng.integers(7 * HOUR, 10 * HOUR, n)
        mi = identity.identity_truth("loyalty.members", pl.Series(ids), new_mem, rec, obs)
        d.new_identity.append(mi)
        d.ident = pl.concat([d.ident, mi.cast(d.ident.schema)])
        mem_map = d.primary("loyalty.members")
        tiers = allowed(ctx, "loyalty.tier_changes", "to_tier")
        reasons = allowed(ctx, "loyalty.tier_changes", "change_reason")
        d.add(
            "loyalty.tier_changes",
            {
                "tier_change_id": make_ids("tier_change", ctx.take("tier_change", n)),
                "member_id": ids,
                "from_tier": None,
                "to_tier": choice(tiers, np.full(n, tiers.index("Bronze"))),
                "change_reason": choice(reasons, np.full(n, reasons.index("enrolment"))),
                "changed_at": enrol,
            },
        )
        ledger.append(
            {
                "member_id": pl.Series(ids),
                "order_id": None,
                "type": np.full(n, entry_types.index("bonus")),
                "points": np.full(n, loyalty.ENROL_BONUS),
                "us": enrol,
            }
        )
        d.new_members = pl.DataFrame(
            {
                "member_id": pl.Series(ids),
                "full_name": obs.first + " " + obs.last,
                "email": obs.email,
                "phone": obs.phone,
                "dob": obs.birth_day.data,
                "dob_ok": ~np.ma.getmaskarray(obs.birth_day),
                "address": obs.street,
                "zip_code": obs.zip,
                "enrol": enrol,
            }
        )
    if to is not None:
        om = pl.DataFrame(
            {
                "person_id": to["person_id"],
                "order_id": pl.Series(to["ids"]),
                "points": to["total_c"] // 100,
                "us": to["us"] + MINUTE,
            }
        ).join(
            mem_map.rename({"source_id": "member_id"}),
            on="person_id",
            how="inner",
            maintain_order="left",
        )
        if len(om):
            ledger.append(
                {
                    "member_id": om["member_id"],
                    "order_id": om["order_id"],
                    "type": np.full(len(om), entry_types.index("earn")),
                    "points": om["points"].to_numpy(),
                    "us": om["us"].to_numpy(),
                }
            )
    if not ledger:
        return
    lm = pl.concat([pl.Series(x["member_id"]).cast(pl.String) for x in ledger])
    lo = pl.concat(
        [
            pl.Series(x["order_id"]).cast(pl.String)
            if x["order_id"] is not None
            else pl.Series([None] * len(x["points"]), dtype=pl.String)
            for x in ledger
        ]
    )
    lt = np.concatenate([x["type"] for x in ledger])
    lp = np.concatenate([x["points"] for x in ledger]).astype(np.int64)
    lu = np.concatenate([x["us"] for x in ledger])
    # tier upgrades from cumulative earned points (same rule as the backfill)
    members = sorted(set(lm.to_list()))
    in_list = ",".join(f"'{m}'" for m in members)
    prev = (
        d.bronze.query(f"""
        SELECT member_id, sum(CASE WHEN entry_type = 'earn' THEN points ELSE 0 END) AS earned
        FROM {d.bronze.scan("loyalty.points_ledger")} WHERE member_id IN ({in_list})
        GROUP BY member_id ORDER BY member_id""")
        if members
        else pl.DataFrame()
    )
    cur = d.bronze.latest("loyalty.members", f"member_id IN ({in_list})")
    earned_prev = (
        dict(zip(prev["member_id"].to_list(), prev["earned"].to_list(), strict=True))
        if len(prev)
        else {}
    )
    today = (
        pl.DataFrame({"member_id": lm, "points": lp, "type": lt})
        .filter(pl.col("type") == entry_types.index("earn"))
        .group_by("member_id", maintain_order=True)
        .agg(pl.col("points").sum())
    )
    upgrades = []
    tier_names = loyalty.TIER_NAMES
    for m_id, pts in today.iter_rows():  # members with an order today: a handful per day
        before = float(earned_prev.get(m_id, 0) or 0)
        t0 = int(np.searchsorted(loyalty.TIER_THRESHOLDS, before, side="right") - 1)
        t1 = int(np.searchsorted(loyalty.TIER_THRESHOLDS, before + pts, side="right") - 1)
        if t1 > t0:
            upgrades.append((m_id, t0, t1))
    if upgrades:
        tiers = allowed(ctx, "loyalty.tier_changes", "to_tier")
        reasons = allowed(ctx, "loyalty.tier_changes", "change_reason")
        u = len(upgrades)
        uus = d.end_us - 30 * MINUTE - np.arange(u)
        d.add(
            "loyalty.tier_changes",
            {
                "tier_change_id": make_ids("tier_change", ctx.take("tier_change", u)),
                "member_id": pl.Series([x[0] for x in upgrades]),
                "from_tier": choice(tiers, [tiers.index(tier_names[x[1]]) for x in upgrades]),
                "to_tier": choice(tiers, [tiers.index(tier_names[x[2]]) for x in upgrades]),
                "change_reason": choice(reasons, np.full(u, reasons.index("spend_threshold"))),
                "changed_at": uus,
            },
        )
        lm = pl.concat([lm, pl.Series([x[0] for x in upgrades])])
        lo = pl.concat([lo, pl.Series([None] * u, dtype=pl.String)])
        lt = np.r_[lt, np.full(u, entry_types.index("bonus"))]
        lp = np.r_[lp, np.full(u, loyalty.UPGRADE_BONUS)]
        lu = np.r_[lu, uus]
    n = len(lm)
    d.add(
        "loyalty.points_ledger",
        {
            "ledger_id": make_ids("ledger", ctx.take("ledger", n)),
            "member_id": lm,
            "order_id": lo,
            "entry_type": choice(entry_types, lt),
            "points": lp,
            "entry_ts": lu,
        },
    )
    # member versions with the new balance (and tier)
    delta = (
        pl.DataFrame({"member_id": lm, "points": lp, "us": lu})
        .group_by("member_id", maintain_order=True)
        .agg(pl.col("points").sum().alias("delta"), pl.col("us").max().alias("last"))
    )
    up_tier = {m: tier_names[t1] for m, _, t1 in upgrades}
    if len(cur):
        upd = cur.join(delta, on="member_id", how="inner", maintain_order="left")
        d.add(
            "loyalty.members",
            upd.with_columns(
                points_balance=pl.col("points_balance") + pl.col("delta"),
                tier=pl.col("member_id").replace_strict(up_tier, default=pl.col("tier")),
                updated_at=(pl.col("last") + 5 * MINUTE).cast(pl.Datetime("us")),
            ).select(cur.columns),
        )
    nm = d.new_members
    if nm is not None:
        nm = nm.join(delta, on="member_id", how="left", maintain_order="left")
        tiers_m = allowed(ctx, "loyalty.members", "tier")
        d.add(
            "loyalty.members",
            {
                "member_id": nm["member_id"],
                "full_name": nm["full_name"],
                "email": nm["email"],
                "phone": nm["phone"],
                "date_of_birth": masked(nm["dob"].to_numpy(), nm["dob_ok"].to_numpy()),
                "address": nm["address"],
                "zip_code": nm["zip_code"],
                "tier": choice(
                    tiers_m,
                    [tiers_m.index(up_tier.get(m, "Bronze")) for m in nm["member_id"].to_list()],
                ),
                "points_balance": nm["delta"].fill_null(0).to_numpy(),
                "enrolled_date": nm["enrol"].to_numpy() // US_PER_DAY,
                "updated_at": np.maximum(nm["enrol"].to_numpy(), nm["last"].fill_null(0).to_numpy())
                + 5 * MINUTE,
            },
        )
    if up_tier:
        d.people = d.people.with_columns(
            loyalty_tier=pl.when(
                pl.col("person_id").is_in(
                    mem_map.filter(pl.col("source_id").is_in(list(up_tier)))["person_id"].to_list()
                )
            )
            .then(
                pl.col("person_id").replace_strict(
                    dict(
                        zip(
                            mem_map["person_id"].to_list(),
                            [up_tier.get(s, "") for s in mem_map["source_id"].to_list()],
                            strict=True,
                        )
                    ),
                    default=pl.col("loyalty_tier"),
                )
            )
            .otherwise(pl.col("loyalty_tier"))
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


def mlops_day(d: Day) -> None:
    """Daily scoring of a sample of customers, recommendations in today's sessions, vendor NLP."""
    ctx = d.ctx
    rng = d.rng("mlops")
    shop_map = d.primary("shop.customers")
    pe = d.people.join(shop_map, on="person_id", how="inner", maintain_order="left")
    sample = pe.filter(pl.Series(rng.random(len(pe)) < 0.02))
    if sample.is_empty():
        sample = pe.head(1)
    k = len(sample)
    dead = ~sample["alive"].to_numpy()
    s = 1.35 * dead + rng.normal(0, 1, k)
    p = np.round(1 / (1 + np.exp(-1.6 * (s - 0.65))), 4)
    model = d.w.models.filter(
        (pl.col("model_name") == "churn-xgb") & (pl.col("model_version") == "2.0")
    )["model_id"][0]
    ptypes = allowed(ctx, "mlops.model_predictions", "prediction_type")
    d.add(
        "mlops.model_predictions",
        {
            "prediction_id": make_ids("prediction", ctx.take("prediction", k)),
            "model_id": pl.Series([model] * k),
            "customer_ref": sample["source_id"],
            "prediction_type": choice(ptypes, np.full(k, ptypes.index("churn"))),
            "predicted_value": p,
            "predicted_label": p > 0.5,
            "confidence": np.round(np.abs(p - 0.5) * 2, 4),
            "latency_ms": rng.integers(10, 200, k),
            "predicted_at": d.start_us + 2 * HOUR + rng.integers(0, HOUR, k),
        },
    )
    names = allowed(ctx, "mlops.feature_values", "feature_name")
    ftypes = allowed(ctx, "mlops.feature_values", "feature_type")
    last = sample["last_purchase_us"].to_numpy()
    ok = last > 0
    m = int(ok.sum())
    if m:
        d.add(
            "mlops.feature_values",
            {
                "feature_value_id": make_ids("feature_value", ctx.take("feature_value", m)),
                "customer_ref": sample["source_id"].filter(pl.Series(ok)),
                "feature_name": choice(names, np.full(m, names.index("days_since_last_order"))),
                "feature_value": np.round((d.start_us + 2 * HOUR - last[ok]) / US_PER_DAY, 4),
                "feature_type": choice(ftypes, np.full(m, ftypes.index("batch"))),
                "computed_at": np.full(m, d.start_us + 2 * HOUR),
            },
        )
    # recommendations and personalisation in today's known sessions
    ts = d.today_sessions
    if ts is not None:
        known = np.flatnonzero(ts["customer_id"].is_not_null().to_numpy())
        if len(known):
            owner = np.repeat(known, 4)
            rank = np.tile(np.arange(4), len(known))
            n = len(owner)
            algos, alg = enum_draw(
                rng,
                ctx,
                "mlops.recommendations_served",
                "algorithm",
                {a: 1.0 for a in mlops.ALGORITHM_RATES if a != "fitmap_size_match"},
                n,
            )
            contexts = allowed(ctx, "mlops.recommendations_served", "context")
            prod = d.w.products
            rec_ids = make_ids("recommendation", ctx.take("recommendation", n))
            served = ts["start"][owner] + (rank + 1) * 1_000_000
            d.add(
                "mlops.recommendations_served",
                {
                    "recommendation_id": rec_ids,
                    "customer_ref": ts["customer_id"].gather(owner),
                    "session_id": ts["ids"].take(owner),
                    "product_id": prod["product_id"].to_arrow().take(rng.integers(0, len(prod), n)),
                    "algorithm": choice(algos, alg),
                    "context": choice(contexts, np.full(n, contexts.index("Homepage"))),
                    "slot_rank": rank + 1,
                    "score": np.round(rng.uniform(0.3, 0.99, n), 4),
                    "served_at": served,
                },
            )
            rates = np.asarray([mlops.ALGORITHM_RATES[a][0] for a in algos])[alg] / (
                1 + 0.15 * rank
            )
            click = np.flatnonzero(rng.random(n) < rates)
            if len(click):
                fb = allowed(ctx, "mlops.recommendation_feedback", "feedback_type")
                c = len(click)
                d.add(
                    "mlops.recommendation_feedback",
                    {
                        "feedback_id": make_ids("feedback", ctx.take("feedback", c)),
                        "recommendation_id": rec_ids.take(click),
                        "feedback_type": choice(fb, np.full(c, fb.index("click"))),
                        "dwell_seconds": rng.integers(3, 300, c),
                        "order_id": None,
                        "conversion_amount": None,
                        "feedback_at": served[click] + 20 * 1_000_000,
                    },
                )
            strategies, st = enum_draw(
                rng,
                ctx,
                "mlops.personalization_events",
                "strategy",
                {"hero_banner": 0.5, "size_filter": 0.5},
                len(known),
            )
            d.add(
                "mlops.personalization_events",
                {
                    "personalization_event_id": make_ids(
                        "personalization", ctx.take("personalization", len(known))
                    ),
                    "customer_ref": ts["customer_id"].gather(known),
                    "session_id": ts["ids"].take(known),
                    "strategy": choice(strategies, st),
                    "offer_id": None,
                    "was_displayed": np.ones(len(known), bool),
                    "was_clicked": rng.random(len(known)) < 0.08,
                    "was_converted": ts["converted"][known],
                    "conversion_amount": None,
                    "served_at": ts["start"][known] + 2 * 1_000_000,
                },
            )
    # next best actions for the churn-risk customers of today's scoring
    risky = sample.filter(pl.Series(p > 0.7))
    if len(risky):
        r = len(risky)
        acts = allowed(ctx, "mlops.next_best_actions", "action_type")
        chans = allowed(ctx, "mlops.next_best_actions", "channel")
        trig = allowed(ctx, "mlops.next_best_actions", "trigger")
        nba = d.w.models.filter(pl.col("model_name") == "nba-xgb")["model_id"][0]
        off = d.start_us + 3 * HOUR + rng.integers(0, HOUR, r)
        d.add(
            "mlops.next_best_actions",
            {
                "action_id": make_ids("next_best_action", ctx.take("next_best_action", r)),
                "customer_ref": risky["source_id"],
                "model_id": pl.Series([nba] * r),
                "action_type": choice(acts, np.full(r, acts.index("win_back_discount"))),
                "channel": choice(chans, np.full(r, chans.index("email"))),
                "priority": np.full(r, 2),
                "trigger": choice(trig, np.full(r, trig.index("churn_risk"))),
                "offered_at": off,
                "expires_at": off + 14 * US_PER_DAY,
                "outcome": None,
                "outcome_at": None,
            },
        )
    # running experiments: assignments of a few customers, with their events
    running = d.w.experiments.filter(pl.col("status") == "running")
    if len(running) and len(pe):
        rows_e, rows_c, rows_v, rows_u = [], [], [], []
        for i in range(len(running)):  # at most a couple of running experiments
            e_id = running["experiment_id"][i]
            v = d.w.variants.filter(pl.col("experiment_id") == e_id)
            who = pe.filter(pl.Series(rng.random(len(pe)) < 0.003))
            if who.is_empty():
                continue
            var = choose_weighted(rng, list(v["actual_share"].to_numpy()), len(who))
            rows_e.append(pl.Series([e_id] * len(who)))
            rows_c.append(who["source_id"])
            rows_v.append(v["variant_id"].gather(var))
            rows_u.append(d.times(rng, len(who), late=False))
            conv = rng.random(len(who)) < v["true_conversion_rate"].to_numpy()[var]
            et = allowed(ctx, "mlops.experiment_events", "event_type")
            k2 = len(who) + int(conv.sum())
            d.add(
                "mlops.experiment_events",
                {
                    "experiment_event_id": make_ids(
                        "experiment_event", ctx.take("experiment_event", k2)
                    ),
                    "experiment_id": pl.Series([e_id] * k2),
                    "customer_ref": pl.concat(
                        [who["source_id"], who["source_id"].filter(pl.Series(conv))]
                    ),
                    "event_type": choice(
                        et,
                        np.r_[
                            np.full(len(who), et.index("exposure")),
                            np.full(int(conv.sum()), et.index("conversion")),
                        ],
                    ),
                    "revenue": np.r_[
                        np.full(len(who), np.nan), np.round(rng.gamma(4, 24, int(conv.sum())), 2)
                    ],
                    "event_ts": np.r_[rows_u[-1] + 5 * 1_000_000, rows_u[-1][conv] + 20 * MINUTE],
                },
            )
        if rows_e:
            n = sum(len(x) for x in rows_e)
            d.add(
                "mlops.experiment_assignments",
                {
                    "assignment_id": make_ids("assignment", ctx.take("assignment", n)),
                    "experiment_id": pl.concat(rows_e),
                    "customer_ref": pl.concat(rows_c),
                    "variant_id": pl.concat(rows_v),
                    "assigned_at": np.concatenate(rows_u),
                },
            )
    # the vendor scores part of today's texts
    if d.new_texts:
        from engagement_lake.generate.block import Block

        blk = Block(ctx=ctx, world=d.w, index=0, lo=0, hi=0, people=pl.DataFrame())
        mlops.nlp_sentiment(blk, d.new_texts)
        for fr in blk.tables.get("mlops.nlp_sentiment", []):
            d.add("mlops.nlp_sentiment", fr.columns)


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


__all__ = ["generate_day"]
