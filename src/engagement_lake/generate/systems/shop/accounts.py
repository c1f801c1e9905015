"""shop customer accounts: who has one (some people two), the account rows, and their changes.

The backfill opens accounts for the block's shop customers (with duplicates, observed with the
shop's identity noise); a daily load opens one for each new sign-up and lands a new version of
the accounts whose holder moved house. Both land rows through ``account_rows``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engagement_lake.generate import identity, world
from engagement_lake.generate.block import Block, allowed, make_ids
from engagement_lake.generate.columns import US_PER_DAY, choice, masked
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.daily import HOUR, Day
from engagement_lake.generate.systems.shop import params as P


def active_until(blk: Block) -> None:
    """When each person stopped being an active customer (dropout), or 'now' if alive."""
    alive = blk.col("alive")
    blk.state["active_until"] = np.where(alive, blk.ctx.now_us, blk.col("last_purchase_us"))


def accounts(blk: Block) -> None:
    """Choose the shop's customer records (with duplicates) and give them ids."""
    rng = blk.rng("shop.accounts")
    rec = identity.select_records(
        rng,
        blk.col("in_shop"),
        identity.profile("shop.customers", blk.ctx.identity_noise).duplicate,
    )
    nums = blk.ctx.take("customer", len(rec))
    primary = np.full(blk.n, -1, dtype=np.int64)
    dup = np.full(blk.n, -1, dtype=np.int64)
    primary[rec.person[~rec.is_duplicate]] = nums[~rec.is_duplicate]
    dup[rec.person[rec.is_duplicate]] = nums[rec.is_duplicate]
    first = blk.col("first_purchase_day")
    span = np.maximum(blk.ctx.cal.end_day - first, 1) * P.DUPLICATE_SIGNUP_SPAN
    dup_signup = first + (rng.random(blk.n) * span).astype(np.int64)
    blk.state.update(
        cust_rec=rec, cust_num=nums, primary_cust=primary, dup_cust=dup, dup_signup_day=dup_signup
    )


def customer_ids(blk: Block, person: np.ndarray) -> object:
    """The primary shop customer id of local persons (null where they have no account)."""
    num = blk.state["primary_cust"][person]
    return make_ids("customer", num, num >= 0)


def account_rows(
    ctx: Ctx,
    rng: np.random.Generator,
    holders: pl.DataFrame,
    obs: identity.Observed,
    ids: object,
    tier: np.ndarray,
    signup: np.ndarray,
    updated: np.ndarray,
) -> dict[str, object]:
    """``shop.customers`` rows of accounts held by ``holders`` (people rows, one per account),
    as observed (``obs``); ``tier`` indexes the contract's loyalty tiers."""
    fqn = "shop.customers"
    n = len(holders)
    genders = allowed(ctx, fqn, "gender")
    gender = holders["gender"].to_numpy()
    g_idx = np.select(
        [gender == g for g in ("M", "F", "X")],
        [genders.index(g) for g in ("M", "F", "X")],
        genders.index("U"),
    )
    g_idx = np.where(rng.random(n) < P.UNKNOWN_GENDER_SHARE, genders.index("U"), g_idx)
    channels = allowed(ctx, fqn, "preferred_channel")
    pref = holders["preferred_channel"].to_numpy()
    ch_idx = np.select([pref == c for c in channels], list(range(len(channels))), 0)
    return {
        "customer_id": ids,
        "first_name": obs.first,
        "last_name": obs.last,
        "email": obs.email,
        "phone": obs.phone,
        "birth_date": obs.birth_day,
        "gender": choice(genders, g_idx),
        "address_line1": obs.street,
        "city": obs.city,
        "state": obs.state,
        "postal_code": obs.zip,
        # a tier belongs to loyalty members only: non-members have none
        "loyalty_tier": choice(
            allowed(ctx, fqn, "loyalty_tier"), tier, holders["in_loyalty"].to_numpy()
        ),
        "preferred_channel": choice(channels, ch_idx, rng.random(n) >= P.MISSING_CHANNEL_SHARE),
        "marketing_opt_in": masked(
            holders["marketing_opt_in"].to_numpy(), rng.random(n) >= P.MISSING_OPT_IN_SHARE
        ),
        "signup_date": signup,
        "updated_at": updated,
    }


def customers(blk: Block) -> None:
    """The customer master of the block: one row per account."""
    ctx = blk.ctx
    rng = blk.rng("shop.customers")
    rec = blk.state["cust_rec"]
    obs = identity.observe(
        rng, blk.people, rec, identity.profile("shop.customers", ctx.identity_noise)
    )
    n = len(rec)
    pp = blk.people[rec.person]
    tiers = allowed(ctx, "shop.customers", "loyalty_tier")
    tier = blk.state.get("person_tier", np.zeros(blk.n, dtype=np.int64))[rec.person]
    tier = np.where(rec.is_duplicate, tiers.index("Bronze"), tier)
    signup = np.where(
        rec.is_duplicate, blk.state["dup_signup_day"][rec.person], pp["signup_day"].to_numpy()
    )
    upd_floor = np.maximum(
        signup * US_PER_DAY, blk.state.get("tier_changed_us", np.zeros(blk.n, np.int64))[rec.person]
    )
    updated = upd_floor + rng.integers(HOUR, P.ACCOUNT_UPDATE_DAYS * US_PER_DAY, n)
    updated = np.minimum(updated, ctx.now_us - 1)
    ids = make_ids("customer", blk.state["cust_num"])
    blk.identity.append(
        identity.identity_truth("shop.customers", pl.Series(ids), blk.people, rec, obs)
    )
    blk.add("shop.customers", account_rows(ctx, rng, pp, obs, ids, tier, signup, updated))


# ----------------------------------------------------------------------------- daily


def new_accounts(d: Day, rng: np.random.Generator, p: pl.DataFrame) -> pl.DataFrame:
    """Open an account for each of today's new people ``p``; returns their identity truth."""
    ctx = d.ctx
    n = len(p)
    rec = identity.Records(np.arange(n), np.zeros(n, bool))
    obs = identity.observe(rng, p, rec, identity.profile("shop.customers", ctx.identity_noise))
    ids = make_ids("customer", ctx.take("customer", n))
    tiers = allowed(ctx, "shop.customers", "loyalty_tier")
    updated = d.start_us + rng.integers(
        P.NEW_ACCOUNT_HOURS[0] * HOUR, P.NEW_ACCOUNT_HOURS[1] * HOUR, n
    )
    d.add(
        "shop.customers",
        account_rows(
            ctx, rng, p, obs, ids, np.full(n, tiers.index("Bronze")), np.full(n, d.day), updated
        ),
    )
    return identity.identity_truth("shop.customers", pl.Series(ids), p, rec, obs)


def daily(d: Day) -> None:
    """Some customers move house within their city: a new version of their account.

    The truth follows: the old street becomes the person's previous address (so other systems
    that still show it hold a *stale* value) and the new one the current address.
    """
    rng = d.rng("customers")
    cur = d.bronze.latest("shop.customers", "address_line1 IS NOT NULL")
    if cur.is_empty():
        return
    k = max(1, int(rng.poisson(max(len(cur) * P.MOVE_SHARE, 1))))
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
    abbreviate = identity.profile("shop.customers", d.ctx.identity_noise).abbreviate
    street = identity.street_line(
        rng, number, name, suffix, pl.Series([None] * n, dtype=pl.String), abbreviate
    )
    hours = rng.integers(P.MOVE_HOURS[0] * HOUR, P.MOVE_HOURS[1] * HOUR, n)
    updated = pl.Series(d.start_us + hours).cast(pl.Datetime("us"))
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
