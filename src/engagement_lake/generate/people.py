"""People: who they are, where they live, who they live with, how they buy.

Each person's true attributes (names, birth date, current and previous address, e-mails, phone),
twins and households (:func:`_families`), body measurements, which identity systems know them,
and their buy-till-you-die and taste parameters. Every source system observes these people
through its own noise (``engagement_lake.generate.identity``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from engagement_lake.generate import vocab
from engagement_lake.generate.context import Ctx
from engagement_lake.generate.world import (
    BGNBD,
    GAMMA_GAMMA,
    PEOPLE_AT_SCALE_1,
    SYSTEM_SHARES,
    day_number_2015,
    pick,
    size_from_measures,
    weighted,
)

# ----------------------------------------------------------------------------- people


def _last_names(rng: np.random.Generator, n: int) -> pl.Series:
    """Common surnames plus composed ones (Ash+ford), so that surnames rarely collide."""
    composite = rng.random(n) < 0.45
    common = pick(vocab.LAST_COMMON, rng.integers(0, len(vocab.LAST_COMMON), n))
    comp = pick(vocab.LAST_PREFIX, rng.integers(0, len(vocab.LAST_PREFIX), n)) + pick(
        vocab.LAST_SUFFIX, rng.integers(0, len(vocab.LAST_SUFFIX), n)
    )
    return pl.select(pl.when(pl.Series(composite)).then(comp).otherwise(common)).to_series()


def _emails(rng: np.random.Generator, first: pl.Series, last: pl.Series) -> pl.Series:
    """A plausible personal e-mail per person (lower case, before any source noise)."""
    n = len(first)
    f = first.str.to_lowercase()
    ln = last.str.to_lowercase().str.replace_all(r"[^a-z]", "")
    pattern = weighted(rng, [0.3, 0.15, 0.15, 0.1, 0.18, 0.12], n)
    num2 = pl.Series(rng.integers(1, 99, n)).cast(pl.String)
    year = pl.Series(rng.integers(55, 99, n)).cast(pl.String)
    local = pl.select(
        pl.when(pl.Series(pattern == 0))
        .then(pl.concat_str([f, pl.lit("."), ln]))
        .when(pl.Series(pattern == 1))
        .then(pl.concat_str([f, ln]))
        .when(pl.Series(pattern == 2))
        .then(pl.concat_str([f.str.slice(0, 1), ln]))
        .when(pl.Series(pattern == 3))
        .then(pl.concat_str([f, pl.lit("_"), ln]))
        .when(pl.Series(pattern == 4))
        .then(pl.concat_str([f, pl.lit("."), ln, num2]))
        .otherwise(pl.concat_str([f, ln.str.slice(0, 1), year]))
    ).to_series()
    domains = [d for d, _ in vocab.EMAIL_DOMAINS]
    dom = pick(domains, weighted(rng, [w for _, w in vocab.EMAIL_DOMAINS], n))
    email = local + "@" + dom
    return email


def _unique_emails(email: pl.Series, pid: np.ndarray) -> pl.Series:
    """Make addresses globally unique: later holders of a taken address get their id appended."""
    df = pl.DataFrame({"e": email, "pid": pid}).with_columns(
        k=pl.int_range(pl.len()).over("e", order_by="pid")
    )
    fixed = df.select(
        pl.when(pl.col("k") == 0)
        .then(pl.col("e"))
        .otherwise(pl.col("e").str.replace("@", pl.col("pid").cast(pl.String) + "@", literal=True))
    ).to_series()
    return fixed


#: Share of people who are the second of a pair of twins living together (same surname, address
#: and birth date, another first name): a matcher must keep them apart.
TWIN_SHARE = 0.008
#: Share of people who share the address of another person (a partner or relative); half of
#: them also share the surname.
HOUSEHOLD_SHARE = 0.10


def _families(
    rng: np.random.Generator,
    pid: np.ndarray,
    first: pl.Series,
    last: pl.Series,
    birth: np.ndarray,
    cur: dict[str, Any],
    prev: dict[str, Any],
    moved: np.ndarray,
) -> tuple[pl.Series, pl.Series, pl.Series, pl.Series, np.ndarray, np.ndarray]:
    """Twins and households: person i shares the home of person i-1 (people are in no order).

    A twin takes the surname, birth date, current and previous address of the person before
    it and keeps (or is given) another first name; a household member takes the addresses, and
    with even odds the surname. Pairs never chain, so each link names one other person. Returns
    ``twin_of`` and ``household_of`` (the other person's id, else null) and the updated columns.
    """
    n = len(pid)
    twin = rng.random(n) < TWIN_SHARE
    twin[0] = False
    twin &= ~np.roll(twin, 1) & ~np.roll(twin, -1)
    paired = twin | np.roll(twin, -1)
    house = (rng.random(n) < HOUSEHOLD_SHARE) & ~paired & ~np.roll(paired, 1)
    house[0] = False
    house &= ~np.roll(house, 1)
    take_surname = twin | (house & (rng.random(n) < 0.5))
    src = np.arange(n) - 1
    idx = np.where(twin | house, src, np.arange(n))
    for addr in (cur, prev):
        for key, col in addr.items():
            addr[key] = col.gather(idx) if isinstance(col, pl.Series) else col[idx]
    moved = moved[idx]
    last = last.gather(np.where(take_surname, src, np.arange(n)))
    birth = np.where(twin, birth[np.maximum(src, 0)], birth)
    # a twin never shares the first name
    names = np.asarray(vocab.MALE_FIRST + vocab.FEMALE_FIRST)
    before = first.gather(np.maximum(src, 0)).to_numpy()
    k = rng.integers(0, len(names), n)
    other = np.where(names[k] != before, names[k], names[(k + 1) % len(names)])
    same = twin & (first.to_numpy() == before)
    first = pl.Series(np.where(same, other, first.to_numpy()), dtype=pl.String)
    prev_pid = pl.Series(np.where(src >= 0, pid[np.maximum(src, 0)], 0))
    twin_of = pl.select(pl.when(pl.Series(twin)).then(prev_pid).otherwise(None)).to_series()
    household_of = pl.select(pl.when(pl.Series(house)).then(prev_pid).otherwise(None)).to_series()
    return twin_of, household_of, first, last, birth, moved


def make_people(
    ctx: Ctx,
    n: int | None = None,
    first_pid: int = 1,
    stream: str = "world.people",
    first_day: int | None = None,
    last_day: int | None = None,
) -> pl.DataFrame:
    """People with their true attributes, system membership and buy-till-you-die parameters.

    ``first_day``/``last_day`` bound the first purchase (default: the history window); daily
    loads call this for the day's new sign-ups.
    """
    n = n if n is not None else ctx.sized(PEOPLE_AT_SCALE_1, floor=200)
    rng = ctx.rng(stream)
    pid = np.arange(first_pid, first_pid + n, dtype=np.int64)
    gender = np.asarray(("M", "F", "X"))[weighted(rng, [0.83, 0.16, 0.01], n)]
    male = pick(vocab.MALE_FIRST, rng.integers(0, len(vocab.MALE_FIRST), n))
    female = pick(vocab.FEMALE_FIRST, rng.integers(0, len(vocab.FEMALE_FIRST), n))
    coin = rng.random(n) < 0.5
    gs = pl.Series(gender)
    first = pl.select(
        pl.when((gs == "M") | ((gs == "X") & pl.Series(coin))).then(male).otherwise(female)
    ).to_series()
    last = _last_names(rng, n)
    age_days = (np.clip(rng.normal(47, 14, n), 18, 88) * 365.25).astype(np.int64)
    birth = ctx.cal.end_day - age_days - rng.integers(0, 365, n)

    def address(stream_rng: np.random.Generator) -> dict[str, pl.Series | np.ndarray]:
        city_idx = stream_rng.integers(0, len(vocab.CITIES), n)
        cities = vocab.CITIES
        zip3 = pick([c[2] for c in cities], city_idx)
        zip_ = zip3 + pl.Series(stream_rng.integers(0, 100, n)).cast(pl.String).str.zfill(2)
        number = np.where(
            stream_rng.random(n) < 0.6,
            stream_rng.integers(1, 999, n),
            stream_rng.integers(1000, 19999, n),
        )
        has_apt = stream_rng.random(n) < 0.15
        apt = pl.select(
            pl.when(pl.Series(has_apt))
            .then(pl.lit("Apt ") + pl.Series(stream_rng.integers(1, 60, n)).cast(pl.String))
            .otherwise(None)
        ).to_series()
        return {
            "street_number": number,
            "street_name": pick(
                vocab.STREET_NAMES, stream_rng.integers(0, len(vocab.STREET_NAMES), n)
            ),
            "street_suffix": stream_rng.integers(0, len(vocab.STREET_SUFFIXES), n),
            "apt": apt,
            "city": pick([c[0] for c in cities], city_idx),
            "state": pick([c[1] for c in cities], city_idx),
            "zip": zip_,
            "area_code": pick([c[3] for c in cities], city_idx),
        }

    cur = address(ctx.rng(stream + ".address"))
    prev = address(ctx.rng(stream + ".prev_address"))
    moved = rng.random(n) < 0.08
    twin_of, household_of, first, last, birth, moved = _families(
        ctx.rng(stream + ".family"), pid, first, last, birth, cur, prev, moved
    )
    # Phones: unique per person (a bijection of the person id), area code of the home city.
    line = (pid * 2_654_435 + 1_234_567) % 8_000_000 + 2_000_000
    phone = cur["area_code"] + pl.Series(line).cast(pl.String)
    email = _emails(rng, first, last)
    new_email = rng.random(n) < 0.07
    alt = _emails(ctx.rng(stream + ".alt_email"), first, last)
    both = _unique_emails(pl.concat([email, alt]), np.concatenate([pid, pid + 10**11]))
    email, alt = both[:n], both[n:]
    prev_email = pl.select(
        pl.when(pl.Series(new_email) & (alt != email)).then(alt).otherwise(None)
    ).to_series()

    height = np.clip(rng.normal(181, 8, n), 152, 214)
    bmi = np.clip(rng.normal(32, 6, n), 19, 58)
    weight = np.clip(bmi * (height / 100) ** 2, 50, 280)
    chest = np.clip(62 + 0.43 * weight + rng.normal(0, 4, n), 80, 195)
    waist = np.clip(28 + 0.62 * weight + rng.normal(0, 5, n), 66, 195)
    inseam = np.clip(0.45 * height + rng.normal(0, 2, n), 62, 105)
    size_idx = size_from_measures(chest, height)

    # System membership: each person is known to one to five identity systems (+ CRM leads).
    s = SYSTEM_SHARES
    in_shop = rng.random(n) < s["shop"]
    in_loyalty = in_shop & (rng.random(n) < s["loyalty"] / s["shop"])
    in_loyalty |= (~in_shop) & (rng.random(n) < 0.05)
    in_marketing = rng.random(n) < np.where(in_shop, 0.66, 0.35)
    in_support = rng.random(n) < np.where(in_shop, s["support"] / s["shop"], 0.06)
    in_crm = rng.random(n) < s["crm"]
    in_lead = rng.random(n) < np.where(in_crm, 0.45, 0.08)
    none = ~(in_shop | in_loyalty | in_marketing | in_support | in_crm | in_lead)
    in_shop |= none

    # Buy-till-you-die truth for shop customers.
    lam = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], n)
    p_drop = rng.beta(BGNBD["a"], BGNBD["b"], n)
    nu = rng.gamma(GAMMA_GAMMA["q"], 1.0 / GAMMA_GAMMA["v"], n)
    # people who buy for a company (uniforms, team kit): CRM contacts with an account, whose
    # orders are several times larger (own stream: every other draw stays as it was)
    b2b_buyer = in_crm & (ctx.rng(stream + ".b2b").random(n) < B2B["share_of_crm"])
    nu = np.where(b2b_buyer, nu / B2B["spend_multiplier"], nu)
    lo = ctx.cal.start_day if first_day is None else first_day
    hi = ctx.cal.end_day - 1 if last_day is None else last_day
    first_purchase_day = rng.integers(lo, hi + 1, n)
    older_account = rng.random(n) < 0.15
    signup_day = np.where(
        older_account,
        rng.integers(day_number_2015(), np.maximum(first_purchase_day, day_number_2015() + 1)),
        first_purchase_day,
    )
    fitmap = in_shop & (rng.random(n) < 0.28)
    channel_idx = weighted(rng, [0.45, 0.30, 0.20, 0.05], n)

    df = pl.DataFrame(
        {
            "person_id": pid,
            "gender": gender,
            "first_name": first,
            "last_name": last,
            "birth_day": birth,
            **{k: v for k, v in cur.items() if k != "area_code"},
            **{f"prev_{k}": v for k, v in prev.items() if k != "area_code"},
            "moved": moved,
            "twin_of": twin_of,
            "household_of": household_of,
            "email": email,
            "prev_email": prev_email,
            "phone": phone,
            "height_cm": np.round(height, 1),
            "weight_kg": np.round(weight, 1),
            "chest_cm": np.round(chest, 1),
            "waist_cm": np.round(waist, 1),
            "inseam_cm": np.round(inseam, 1),
            "size_idx": size_idx,
            "fitmap_user": fitmap,
            "size_problem": rng.beta(1.3, 3.5, n),
            "preferred_channel": np.asarray(("web", "store", "app", "phone"))[channel_idx],
            "marketing_opt_in": rng.random(n) < 0.7,
            "in_shop": in_shop,
            "in_crm": in_crm,
            "b2b_buyer": b2b_buyer,
            "in_lead": in_lead,
            "in_support": in_support,
            "in_marketing": in_marketing,
            "in_loyalty": in_loyalty,
            "lambda_week": lam,
            "p_dropout": p_drop,
            "nu": nu,
            "first_purchase_day": first_purchase_day,
            "signup_day": signup_day,
            "engagement": rng.beta(2, 2, n),
            "home_store": rng.integers(0, 10**6, n),
            **person_tastes(ctx.rng(stream + ".taste"), n),
        }
    )
    return df


B2B = {"share_of_crm": 0.12, "spend_multiplier": 3.0}
"""Share of CRM contacts who buy for a company (their contact carries the account), and how
many times a consumer's spend such a buyer's orders average (nu divided by it)."""


TASTE = {
    "n_categories": {1: 0.35, 2: 0.40, 3: 0.25},
    "second_brand": 0.5,
    "taste_share_beta": (8.0, 2.0),
    "brand_bonus": 2.5,
    "popularity_weight": 1.0,
}
"""Latent purchase preferences (recorded in ``_truth/taste_params.json``)."""


def person_tastes(rng: np.random.Generator, n: int) -> dict[str, object]:
    """Each person's favourite categories (1-3, Dirichlet weights), preferred brands (1-2) and
    the share of order lines that follow these tastes (the rest follow overall popularity).

    Without this, order lines depend on price only and no recommender can beat popularity; with
    it, people who share a favourite category and brand buy overlapping products, the co-purchase
    structure item-item similarity feeds on. Categories are drawn in proportion to their
    catalogue weight (Gumbel top-k, vectorised), brands uniformly.
    """
    cats = list(vocab.CATEGORIES)
    cw = np.log(np.asarray([vocab.CATEGORIES[c][0] for c in cats]))
    top_c = np.argsort(-(cw + rng.gumbel(size=(n, len(cats)))), axis=1)[:, :3]
    k = 1 + weighted(rng, list(TASTE["n_categories"].values()), n)
    w = rng.gamma(1.0, 1.0, (n, 3)) * (np.arange(3) < k[:, None])
    w = w / w.sum(axis=1, keepdims=True)
    top_b = np.argsort(rng.random((n, len(vocab.BRANDS))), axis=1)[:, :2]
    has_b2 = rng.random(n) < TASTE["second_brand"]
    a, b = TASTE["taste_share_beta"]
    cat_names = pl.Series(values=cats, dtype=pl.String)
    brands = pl.Series(values=list(vocab.BRANDS), dtype=pl.String)
    out: dict[str, object] = {}
    for j in range(3):  # three columns, not a loop per person
        out[f"taste_category_{j + 1}"] = pl.select(
            pl.when(pl.Series(j < k)).then(cat_names.gather(top_c[:, j])).otherwise(None)
        ).to_series()
        out[f"taste_category_weight_{j + 1}"] = np.round(w[:, j], 4)
    out["taste_brand_1"] = brands.gather(top_b[:, 0])
    out["taste_brand_2"] = pl.select(
        pl.when(pl.Series(has_b2)).then(brands.gather(top_b[:, 1])).otherwise(None)
    ).to_series()
    out["taste_share"] = np.round(rng.beta(a, b, n), 4)
    return out
