"""The backfill: build the world, run every emitter block by block, land bronze, keep the truth.

Order matters only where one source observes what another produced (orders before returns,
returns before tickets, texts before the vendor's sentiment scores); it is fixed here. Blocks of
people are independent of each other (own random streams, own lanes of every id sequence), so
they run on several threads and are written in block order: a run is reproducible from its
scale and seed whatever the thread count.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from engagement_lake.config import DEFAULT_AS_OF, DEFAULT_SCALE, DEFAULT_SEED, SCHEMAS_DIR
from engagement_lake.contracts import Contract, load_contracts
from engagement_lake.generate import (
    world,
)
from engagement_lake.generate.block import BLOCK_PEOPLE, Block
from engagement_lake.generate.context import Calendar, Ctx
from engagement_lake.generate.faults import FaultInjector, manifest_frame
from engagement_lake.generate.identity import DEFAULT_NOISE_LEVEL, TRUTH_SCHEMA, profile
from engagement_lake.generate.limits import check_request
from engagement_lake.generate.people import TASTE, make_people
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
from engagement_lake.generate.systems.marketing import email, journeys
from engagement_lake.generate.systems.shop import accounts, products, sessions
from engagement_lake.generate.systems.shop import orders as shop_orders
from engagement_lake.generate.systems.shop import params as shop_params
from engagement_lake.generate.writer import LakeWriter, plain

GENERATOR_VERSION = "1.0"
TRUTH_DIR = "_truth"


@dataclass
class GenerateResult:
    """What a generate / generate_day run wrote."""

    rows: dict[str, int]
    """Rows written per table ("system.table")."""
    files: list[Path]
    seconds: float
    batch_id: str

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# ----------------------------------------------------------------------------- contracts


@lru_cache(maxsize=4)
def _contracts_for(key: tuple[tuple[str, int], ...]) -> dict[str, Contract]:
    return load_contracts()


def cached_contracts() -> dict[str, Contract]:
    """``load_contracts()``, validated once per process while the files stay unchanged.

    Validation (JSON Schema, pydantic, project rules) costs about a second; tests and the
    benchmark call the generator repeatedly, and a small lake takes about as long to generate.
    """
    files = sorted(SCHEMAS_DIR.glob("*/*.odcs.yaml"))
    return _contracts_for(tuple((str(f), f.stat().st_mtime_ns) for f in files))


# ----------------------------------------------------------------------------- world


def build_world(ctx: Ctx) -> world.World:
    """Reference data, people, and the buy-till-you-die purchase skeleton (with true CLV)."""
    ref = reference_data(ctx)
    people = make_people(ctx)
    ctx.counters["person"] = int(people["person_id"].max() or 0)
    orders, outcome = world.simulate_purchases(ctx, people)
    people = add_outcome(people, outcome)
    return world.World(people=people, orders=orders, **asdict(ref))


def add_outcome(people: pl.DataFrame, outcome: pl.DataFrame) -> pl.DataFrame:
    """Join the simulated purchase outcome and the true 12-month value onto people."""
    p_gg = world.GAMMA_GAMMA["p"]
    df = people.join(outcome, on="person_id", how="left", maintain_order="left").with_columns(
        alive=pl.col("alive").fill_null(False),
        n_repeat=pl.col("n_repeat").fill_null(0),
        last_purchase_us=pl.col("last_purchase_us").fill_null(0),
        first_purchase_us=pl.col("first_purchase_us").fill_null(0),
    )
    lam, p = df["lambda_week"].to_numpy(), df["p_dropout"].to_numpy()
    exp52 = np.where(df["alive"].to_numpy(), (1 - np.exp(-lam * p * 52.0)) / p, 0.0)
    mean_spend = p_gg / df["nu"].to_numpy()
    return df.with_columns(
        true_exp_purchases_52w=pl.Series(exp52),
        true_mean_spend=pl.Series(mean_spend),
        true_clv_12mo=pl.Series(np.round(exp52 * mean_spend, 2)),
    )


def reference_frames(ctx: Ctx, w: world.World) -> dict[str, dict[str, Any]]:
    """Small tables written once per backfill: catalogue, organisation, campaigns, models."""
    p = w.products
    t = w.territories
    r = w.reps
    c = w.campaigns
    e = w.experiments
    m = w.models
    return {
        "shop.products": products.frame(p),
        "crm.territories": {
            "territory_id": t["territory_id"],
            "territory_name": t["territory_name"],
            "region": t["region"],
            "states": t["states"],
            "updated_at": t["updated_us"].to_numpy(),
        },
        "crm.sales_reps": {
            "sales_rep_id": r["sales_rep_id"],
            "employee_id": r["employee_id"],
            "full_name": r["full_name"],
            "email": r["email"],
            "territory_id": r["territory_id"],
            "sales_team": r["sales_team"],
            "manager_id": r["manager_id"],
            "commission_rate": r["commission_rate"].to_numpy(),
            "hire_date": r["hire_day"].to_numpy(),
            "is_active": r["is_active"].to_numpy(),
            "updated_at": r["updated_us"].to_numpy(),
        },
        "crm.quotas": crm.quotas(ctx, r, w.people),
        "marketing.campaigns": campaign_frame(c),
        "mlops.experiments": {
            "experiment_id": e["experiment_id"],
            "experiment_name": e["experiment_name"],
            "hypothesis": e["hypothesis"],
            "primary_metric": e["primary_metric"],
            "surface": e["surface"],
            "variants": e["variants"],
            "traffic_split": e["traffic_split"],
            "status": e["status"],
            "start_date": e["start_day"].to_numpy(),
            "end_date": np.ma.MaskedArray(
                e["end_day"].fill_null(0).to_numpy(), mask=e["end_day"].is_null().to_numpy()
            ),
        },
        "mlops.model_registry": {
            "model_id": m["model_id"],
            "model_name": m["model_name"],
            "model_version": m["model_version"],
            "model_type": m["model_type"],
            "algorithm": m["algorithm"],
            "training_auc": m["training_auc"].fill_null(np.nan).to_numpy(),
            "deployed_at": m["deployed_us"].to_numpy(),
            "deprecated_at": np.ma.MaskedArray(
                m["deprecated_us"].fill_null(0).to_numpy(),
                mask=m["deprecated_us"].is_null().to_numpy(),
            ),
            "is_active": m["is_active"].to_numpy(),
        },
    }


def campaign_frame(c: pl.DataFrame) -> dict[str, Any]:
    return {
        "campaign_id": c["campaign_id"],
        "campaign_name": c["campaign_name"],
        "campaign_type": c["campaign_type"],
        "channel": c["channel"],
        "subject_line": c["subject_line"],
        "audience_segment": c["audience_segment"],
        "send_date": c["send_day"].to_numpy(),
        "budget": c["budget"].to_numpy(),
        "updated_at": c["updated_us"].to_numpy(),
    }


# ----------------------------------------------------------------------------- blocks


def run_block(blk: Block) -> None:
    """Every emitter, in dependency order, for one block of people."""
    accounts.active_until(blk)
    accounts.accounts(blk)
    shop_orders.orders(blk)
    fitmap.scans(blk)
    loyalty.members(blk)
    accounts.customers(blk)
    sessions.store_visits(blk)
    sessions.draft_sessions(blk)
    reviews.emit(blk)
    support.emit(blk)  # after reviews: a low review comes with a complaint ticket
    crm.emit(blk)
    email.emit(blk)  # turns e-mail-driven order sessions into e-mail ones, adds click sessions
    sessions.web_sessions(blk)
    social.emit(blk)
    mlops.emit(blk)
    fitmap.invited_scans(blk)  # the scans that follow the platform's FitMap invitations
    journeys.emit(blk)  # after every scan: FitMap onboarding follows a first scan
    finance.emit(blk)


def block_bounds(n_people: int, size: int = BLOCK_PEOPLE) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, n_people)) for lo in range(0, n_people, size)]


def generator_threads() -> int:
    """Blocks computed side by side: one per core, at most four (memory: a block each)."""
    env = os.environ.get("ENGAGEMENT_LAKE_GENERATOR_THREADS")
    if env:
        if not env.isdigit() or int(env) < 1:
            raise ValueError(
                f"ENGAGEMENT_LAKE_GENERATOR_THREADS={env!r}: expected a whole number >= 1"
            )
        return int(env)
    return max(1, min(4, len(os.sched_getaffinity(0))))


def compute_block(blk: Block, writer: LakeWriter) -> Block:
    """Run every emitter of a block and convert its frames to contract-typed Arrow tables.

    Runs on a worker thread: numpy, Polars and Arrow release the GIL in their kernels, so two
    blocks on two cores take about half the time of one after the other.
    """
    run_block(blk)
    for fqn, frames in blk.tables.items():
        blk.arrow[fqn] = [writer.arrow(fqn, fr.columns, fr.n) for fr in frames]
    blk.tables.clear()
    return blk


def computed_blocks(
    ctx: Ctx,
    w: world.World,
    bounds: list[tuple[int, int]],
    writer: LakeWriter,
    threads: int | None = None,
) -> Iterator[Block]:
    """The blocks, computed ``threads`` at a time, handed over in block order.

    Every block has its own id lanes (``Ctx.for_block``) and random streams, so its contents
    do not depend on the thread count or on timing; handing them over in order keeps the part
    files' numbering fixed too. A worker starts the next block as soon as it is free, but only
    ``threads + 1`` blocks may be held at once (computing, waiting or being written), which
    bounds memory whatever the scale.
    """
    threads = threads or generator_threads()
    block_ctx = [ctx.for_block(b, len(bounds)) for b in range(len(bounds))]
    slots = threading.Semaphore(threads + 1)
    stop = threading.Event()

    def run(b: int) -> Block | None:
        slots.acquire()
        if stop.is_set():  # the consumer gave up (an error): do not start more work
            return None
        lo, hi = bounds[b]
        people = w.people.slice(lo, hi - lo)
        blk = Block(ctx=block_ctx[b], world=w, index=b, lo=lo, hi=hi, people=people)
        return compute_block(blk, writer)

    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="block")
    try:
        futures = deque(pool.submit(run, b) for b in range(len(bounds)))
        while futures:
            blk = futures.popleft().result()  # a finished future would keep its block alive
            assert blk is not None
            yield blk
            del blk
            slots.release()  # the consumer is done with this block
    finally:
        stop.set()
        for _ in range(threads):
            slots.release()  # wake workers waiting for a slot so that they see the stop
        pool.shutdown(wait=True, cancel_futures=True)
    ctx.merge_blocks(block_ctx)


# ----------------------------------------------------------------------------- truth


class TruthSink:
    """Streams the per-block truth (identity, texts) to ``_truth/`` with bounded memory."""

    def __init__(self, truth_dir: Path) -> None:
        self.dir = truth_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, pq.ParquetWriter] = {}

    def append(self, name: str, frame: pl.DataFrame) -> None:
        if frame.is_empty():
            return
        table = frame.to_arrow()
        table = table.cast(
            pa.schema(
                [
                    pa.field(
                        f.name,
                        pa.string()
                        if pa.types.is_large_string(f.type) or pa.types.is_string_view(f.type)
                        else f.type,
                    )
                    for f in table.schema
                ]
            )
        )
        w = self._writers.get(name)
        if w is None:
            w = pq.ParquetWriter(self.dir / f"{name}.parquet", table.schema, compression="zstd")
            self._writers[name] = w
        w.write_table(table)

    def close(self) -> None:
        for w in self._writers.values():
            w.close()
        self._writers.clear()


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def people_truth(people: pl.DataFrame, extra: dict[str, np.ndarray]) -> pl.DataFrame:
    df = people.with_columns(
        birth_date=pl.col("birth_day").cast(pl.Int32).cast(pl.Date),
        first_purchase_date=pl.col("first_purchase_day").cast(pl.Int32).cast(pl.Date),
        signup_date=pl.col("signup_day").cast(pl.Int32).cast(pl.Date),
        last_purchase_at=pl.when(pl.col("last_purchase_us") > 0)
        .then(pl.col("last_purchase_us").cast(pl.Datetime("us")))
        .otherwise(None),
        is_customer=pl.col("in_shop"),
    ).drop("birth_day", "first_purchase_day", "signup_day")
    for k, v in extra.items():
        df = df.with_columns(pl.Series(k, v))
    return df


def clv_params(ctx: Ctx) -> dict[str, Any]:
    from engagement_lake.generate.context import MONTH_SEASONALITY, WEEKDAY_SEASONALITY

    return {
        **world.BGNBD,
        **world.GAMMA_GAMMA,
        "time_unit": "week",
        "history_start": ctx.cal.start.isoformat(),
        "history_end": ctx.as_of.isoformat(),
        "model": "BG/NBD: lambda ~ Gamma(r, alpha) [rate alpha], p ~ Beta(a, b); Poisson "
        "purchasing "
        "(x seasonality) while alive; drop-out with probability p after each repeat "
        "purchase. Gamma-Gamma: nu ~ Gamma(q, v) [rate v], order spend ~ Gamma(p, nu).",
        "monetary_value": "order subtotal_amount targets the drawn spend (lines priced from the "
        "catalogue, so per order it is close, not equal)",
        "month_seasonality": list(MONTH_SEASONALITY),
        "weekday_seasonality": list(WEEKDAY_SEASONALITY),
        "per_person": "people.parquet: lambda_week, p_dropout, nu, alive, n_repeat, "
        "true_exp_purchases_52w, true_mean_spend, true_clv_12mo",
    }


# ----------------------------------------------------------------------------- progress


class _Progress:
    def __init__(self, enabled: bool, total: int, title: str) -> None:
        self.enabled = enabled
        self.total = total
        self.title = title
        self._progress: Any = None
        self._task: Any = None
        self._seen: set[str] = set()

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description:<40}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(self.title, total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=self.total)
            self._progress.__exit__(*exc)

    def wrote(self, fqn: str, rows: int) -> None:
        if self._progress is None:
            return
        self._seen.add(fqn)
        self._progress.update(self._task, advance=1, description=f"{self.title}: {fqn}")


def print_summary(rows: dict[str, int], seconds: float, title: str) -> None:
    """Rows per source system (one line each, a screen's worth whatever the table count), then
    the total; ``engagement-lake summary`` lists every table."""
    from rich.console import Console
    from rich.table import Table

    systems: dict[str, list[int]] = {}
    for fqn, n in rows.items():
        systems.setdefault(fqn.split(".", 1)[0], []).append(n)
    table = Table()
    table.add_column("system")
    table.add_column("tables", justify="right")
    table.add_column("rows", justify="right")
    for system in sorted(systems):
        table.add_row(system, str(len(systems[system])), f"{sum(systems[system]):,}")
    total = sum(rows.values())
    table.add_row("[bold]total", f"[bold]{len(rows)}", f"[bold]{total:,}")
    console = Console(highlight=False)
    rate = total / max(seconds, 1e-9)
    console.print(f"{title}: {total:,} rows, {seconds:.1f}s, {rate:,.0f} rows/s")
    console.print(table)


# ----------------------------------------------------------------------------- generate


def generate(
    data_dir: Path,
    scale: float = DEFAULT_SCALE,
    seed: int = DEFAULT_SEED,
    as_of: date = DEFAULT_AS_OF,
    faults: bool = False,
    progress: bool = True,
    block_people: int = BLOCK_PEOPLE,
    threads: int | None = None,
    identity_noise: str = DEFAULT_NOISE_LEVEL,
) -> GenerateResult:
    """Wipe ``data_dir/bronze`` and ``data_dir/_truth`` and land a fresh backfill.

    ``identity_noise`` (:data:`~engagement_lake.generate.identity.NOISE_LEVELS`) sets how much
    the identity systems garble people; daily loads keep the level the backfill recorded.

    About three years of history ending at ``as_of`` land as one batch (``backfill-<as_of>``,
    ``load_date=<as_of>``). The same scale, seed and block size give the same table contents,
    whatever the number of ``threads`` (default: one per core, at most four).
    """
    t0 = time.perf_counter()
    data_dir = Path(data_dir)
    check_request(data_dir, scale, seed)
    profile("shop.customers", identity_noise)  # refuses an unknown level before any work
    # The world (people, catalogue, purchase skeleton) is drawn from the seed alone, so it is
    # built while another thread validates the contracts; nothing is deleted or written until
    # they are known to be valid.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="contracts") as pool:
        loading = pool.submit(cached_contracts)
        ctx = Ctx(
            seed=seed,
            scale=scale,
            as_of=as_of,
            contracts={},
            cal=Calendar(as_of),
            faults=faults,
            identity_noise=identity_noise,
        )
        w = build_world(ctx)
        ctx.contracts = loading.result()
    contracts = ctx.contracts
    for sub in ("bronze", TRUTH_DIR):
        shutil.rmtree(data_dir / sub, ignore_errors=True)
    truth_dir = data_dir / TRUTH_DIR
    truth_dir.mkdir(parents=True, exist_ok=True)
    n_people = len(w.people)
    bounds = block_bounds(n_people, block_people)
    ref = reference_frames(ctx, w)
    block_tables = [f for f in contracts if f not in ref]
    total_steps = len(ref) + len(bounds) * len(block_tables)
    batch_id = f"backfill-{as_of.isoformat()}"
    with _Progress(progress, total_steps, "backfill") as prog:
        writer = LakeWriter(
            data_dir, contracts, as_of, batch_id, ctx.loaded_at_us, on_write=prog.wrote
        )
        sink = TruthSink(truth_dir)
        injector = FaultInjector(contracts, 0, ctx.rng("faults")) if faults else None
        for fqn, cols in ref.items():
            writer.write(fqn, cols, _n(cols))
        evals: list[dict[str, Any]] = []
        tier = np.zeros(n_people, dtype=np.int64)
        samples: dict[str, pa.Table] = {}
        for blk in computed_blocks(ctx, w, bounds, writer, threads):
            last_block = blk.index == len(bounds) - 1
            person_of = _person_lookup(blk) if (injector and last_block) else None
            for fqn in block_tables:
                write_tables(
                    writer,
                    fqn,
                    blk.arrow.get(fqn, []),
                    injector if last_block else None,
                    person_of,
                    samples,
                )
            for frame in blk.identity:
                sink.append("identity", frame)
            for frame in blk.texts:
                sink.append("texts", frame.drop("ts_us"))
            evals.extend(blk.state.get("model_eval", []))
            tier[blk.lo : blk.hi] = blk.state["person_tier"]
        if injector is not None:
            injector.file_faults(writer, samples)
            if injector.identity:
                sink.append(
                    "identity",
                    pl.DataFrame(injector.identity, schema=TRUTH_SCHEMA).with_columns(
                        noise=pl.lit([], dtype=pl.List(pl.String))
                    ),
                )
        writer.close()
        sink.close()
    write_truth(ctx, w, truth_dir, tier, evals, injector)
    state = {"counters": ctx.counters, "last_load_date": as_of.isoformat()}
    write_json(truth_dir / "state.json", state)
    write_json(
        truth_dir / "manifest.json",
        {
            "generator_version": GENERATOR_VERSION,
            "scale": scale,
            "seed": seed,
            "as_of": as_of.isoformat(),
            "faults": faults,
            "identity_noise": identity_noise,
            "loads": [{"batch_id": batch_id, "load_date": as_of.isoformat(), "faults": faults}],
        },
    )
    seconds = time.perf_counter() - t0
    if progress:
        print_summary(writer.rows, seconds, f"{batch_id} (scale {scale})")
    return GenerateResult(
        rows=dict(writer.rows), files=list(writer.files), seconds=seconds, batch_id=batch_id
    )


def _n(cols: dict[str, Any]) -> int:
    for v in cols.values():
        if v is not None:
            return len(v)
    return 0


def _person_lookup(blk: Block) -> dict[str, int]:
    if not blk.identity:
        return {}
    ids = pl.concat(blk.identity)
    return dict(zip(ids["source_id"].to_list(), ids["person_id"].to_list(), strict=True))


def write_tables(
    writer: LakeWriter,
    fqn: str,
    tables: list[pa.Table],
    injector: FaultInjector | None,
    person_of: dict[str, int] | None,
    samples: dict[str, pa.Table],
) -> None:
    """Write a table's pieces from one block; faulty copies go into the last one."""
    if not tables:
        tables = [writer.arrow(fqn, {}, 0)]
    for i, table in enumerate(tables):
        last = i == len(tables) - 1
        if injector is not None and last:
            table = plain(table, writer.contracts[fqn])
            samples[fqn] = table.slice(0, min(table.num_rows, 50))
            table2 = injector.row_faults(fqn, table, person_of)
            written = writer.write_arrow(fqn, table2)
            if table2.num_rows != table.num_rows:
                injector.record_rows(written)
        else:
            writer.write_arrow(fqn, table)


def write_truth(
    ctx: Ctx,
    w: world.World,
    truth_dir: Path,
    tier: np.ndarray,
    evals: list[dict[str, Any]],
    injector: FaultInjector | None,
) -> None:
    tiers = np.asarray(loyalty.TIER_NAMES)
    member = w.people["in_loyalty"].to_numpy()
    tier_of_member = pl.Series(np.where(member, tiers[tier], None).tolist(), dtype=pl.String)
    pt = people_truth(w.people, {"loyalty_tier": tier_of_member})  # null for non-members
    pt.write_parquet(truth_dir / "people.parquet")
    write_json(truth_dir / "clv_params.json", clv_params(ctx))
    w.variants.select(
        "experiment_id",
        "variant_id",
        "true_conversion_rate",
        "true_effect",
        "true_relative_effect",
        "intended_share",
        "actual_share",
        "is_srm",
        "true_click_rate",
    ).write_parquet(truth_dir / "experiments.parquet")
    w.products.select(
        "product_id", "category", "quality", "sizing_bias", "list_price", "popularity"
    ).write_parquet(truth_dir / "products.parquet")
    write_json(
        truth_dir / "taste_params.json",
        {
            **TASTE,
            "candidates_per_line": shop_params.CANDIDATES,
            "price_closeness": shop_params.PRICE_CLOSENESS,
            "size_mismatch_penalty": shop_params.SIZE_MISMATCH_PENALTY,
            "model": "per person: 1-3 favourite categories (catalogue-weighted, Dirichlet(1) "
            "weights) and 1-2 preferred brands (people.parquet taste_* columns); per product: a "
            "log-normal popularity (products.parquet). An order line follows the person's "
            "tastes with probability taste_share (if a favourite category sells near the "
            "line's target price), else the whole catalogue near that price; candidates "
            "compete on log popularity + brand bonus (taste lines) - price closeness x "
            "|log(line amount / target)| - size mismatch + Gumbel noise.",
        },
    )
    write_json(truth_dir / "feature_drift.json", mlops.feature_drift_truth(ctx))
    w.reps.select("sales_rep_id", "sales_team", "skill", "speed").rename(
        {"skill": "true_win_multiplier", "speed": "true_cycle_multiplier"}
    ).write_parquet(truth_dir / "sales_reps.parquet")
    write_json(truth_dir / "sales_params.json", crm.sales_params())
    write_json(
        truth_dir / "behaviour_params.json",
        {
            "email": email.engagement_truth(),
            **mlops.behaviour_params(),
        },
    )
    mlops.model_accuracy(evals).write_parquet(truth_dir / "model_accuracy.parquet")
    manifest_frame(injector.manifest if injector else []).write_parquet(
        truth_dir / "faults.parquet"
    )


__all__ = ["GenerateResult", "cached_contracts", "generate"]
