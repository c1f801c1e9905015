"""Per-source identity noise: how each system mis-types, abbreviates and forgets people.

Each identity system (shop customers, CRM contacts and leads, support requesters, marketing
subscribers, loyalty members) observes the same people through its own ``NoiseProfile``. Noise
is applied per field with modest, independent rates so that a good matcher can still link the
records (the silver MDM is judged on pairwise F1 >= 0.98): most records keep at least two
strong identifiers, and records without e-mail and phone always keep name, birth date and
address. Every transformation is a vectorised Polars expression over all records at once.

Kinds of noise: typos (transposition, dropped or doubled letter), nicknames (Robert -> Bob),
case and stray whitespace, e-mail case, plus-tags and domain typos (gmial.com), phone formats
(E.164, (555) 123-4567, 555.123.4567, bare 10 digits, ...), street-type abbreviations
(Street -> St), missing fields, stale values (the previous address or e-mail), and duplicate
records of the same person within one system.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from engagement_lake.generate import vocab


@dataclass(frozen=True)
class NoiseProfile:
    """Per-field noise rates of one source system."""

    duplicate: float = 0.03
    typo: float = 0.02
    nickname: float = 0.04
    case: float = 0.05
    whitespace: float = 0.03
    email_case: float = 0.10
    plus_tag: float = 0.05
    domain_typo: float = 0.004
    missing_email: float = 0.04
    missing_phone: float = 0.12
    missing_first: float = 0.01
    missing_birth: float = 0.10
    missing_address: float = 0.04
    no_contact: float = 0.03
    """Share of records with neither e-mail nor phone (name, birth date and address remain)."""
    stale: float = 0.5
    """Share of records of people who moved / changed e-mail that still hold the old value."""
    abbreviate: float = 0.35
    zip4: float = 0.05
    phone_styles: tuple[float, ...] = (0.2, 0.3, 0.1, 0.25, 0.1, 0.03, 0.02)


PROFILES: dict[str, NoiseProfile] = {
    "shop.customers": NoiseProfile(),
    "crm.contacts": NoiseProfile(
        duplicate=0.02,
        nickname=0.10,
        missing_phone=0.08,
        missing_birth=0.25,
        abbreviate=0.5,
        no_contact=0.02,
    ),
    "crm.leads": NoiseProfile(
        duplicate=0.12,
        typo=0.03,
        nickname=0.12,
        case=0.08,
        missing_email=0.15,
        missing_phone=0.2,
        no_contact=0.0,
    ),
    "support.requesters": NoiseProfile(
        duplicate=0.04,
        nickname=0.08,
        case=0.12,
        missing_email=0.12,
        missing_phone=0.35,
        no_contact=0.0,
    ),
    "marketing.subscribers": NoiseProfile(
        duplicate=0.03,
        plus_tag=0.08,
        email_case=0.15,
        missing_email=0.0,
        missing_first=0.2,
        no_contact=0.0,
        stale=0.15,
    ),
    "loyalty.members": NoiseProfile(
        duplicate=0.02,
        nickname=0.05,
        missing_birth=0.04,
        missing_email=0.06,
        missing_phone=0.08,
        abbreviate=0.45,
    ),
}

PLUS_TAGS = ("shop", "news", "deals", "dxl", "promo", "bigtall", "orders")


@dataclass
class Records:
    """Which person each record of a system belongs to, and whether it is a duplicate."""

    person: np.ndarray  # local person index (into the block's people frame)
    is_duplicate: np.ndarray

    def __len__(self) -> int:
        return len(self.person)


def select_records(rng: np.random.Generator, member: np.ndarray, duplicate_rate: float) -> Records:
    """One record per member, plus a second record for ``duplicate_rate`` of them.

    Records are shuffled so that the order (and hence the ids) carries no identity signal.
    """
    base = np.flatnonzero(member)
    dup = base[rng.random(len(base)) < duplicate_rate]
    person = np.concatenate([base, dup])
    is_dup = np.concatenate([np.zeros(len(base), bool), np.ones(len(dup), bool)])
    perm = rng.permutation(len(person))
    return Records(person[perm], is_dup[perm])


def _mask(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return rng.random(n) < rate


def _where(mask: np.ndarray, a: pl.Series | pl.Expr, b: pl.Series | pl.Expr) -> pl.Series:
    return pl.select(pl.when(pl.Series(mask)).then(a).otherwise(b)).to_series()


def typo(rng: np.random.Generator, s: pl.Series, rate: float) -> pl.Series:
    """Transpose, drop or double one inner letter of ``rate`` of the values."""
    n = len(s)
    length = s.str.len_chars().fill_null(0).to_numpy()
    hit = _mask(rng, n, rate) & (length >= 4)
    if not hit.any():
        return s
    pos = 1 + (rng.random(n) * np.maximum(length - 2, 1)).astype(np.int64)
    pos = np.minimum(pos, np.maximum(length - 2, 1))
    kind = rng.integers(0, 3, n)
    df = pl.DataFrame({"s": s, "p": pos, "k": kind, "h": hit})
    col, p = pl.col("s"), pl.col("p")
    head = col.str.slice(0, p)
    out = df.select(
        pl.when(~pl.col("h"))
        .then(col)
        .when(pl.col("k") == 0)
        .then(
            pl.concat_str(
                [head, col.str.slice(p + 1, 1), col.str.slice(p, 1), col.str.slice(p + 2)]
            )
        )
        .when(pl.col("k") == 1)
        .then(pl.concat_str([head, col.str.slice(p + 1)]))
        .otherwise(pl.concat_str([head, col.str.slice(p, 1), col.str.slice(p)]))
    ).to_series()
    return out


def case_noise(rng: np.random.Generator, s: pl.Series, rate: float) -> pl.Series:
    """Upper- or lower-case ``rate`` of the values (as typed into a form in a hurry)."""
    n = len(s)
    hit = _mask(rng, n, rate)
    upper = rng.random(n) < 0.5
    return _where(hit & upper, s.str.to_uppercase(), _where(hit, s.str.to_lowercase(), s))


def whitespace_noise(rng: np.random.Generator, s: pl.Series, rate: float) -> pl.Series:
    """Leading, trailing or doubled inner spaces."""
    n = len(s)
    hit = _mask(rng, n, rate)
    kind = rng.integers(0, 3, n)
    return _where(
        hit & (kind == 0),
        " " + s,
        _where(
            hit & (kind == 1), s + " ", _where(hit, s.str.replace(" ", "  ", literal=True) + " ", s)
        ),
    )


def nicknames(rng: np.random.Generator, first: pl.Series, rate: float) -> pl.Series:
    """Replace formal first names by their nickname for ``rate`` of the values."""
    nick = first.replace_strict(vocab.NICKNAMES, default=None, return_dtype=pl.String)
    hit = _mask(rng, len(first), rate)
    return _where(hit & nick.is_not_null().to_numpy(), nick, first)


def noisy_name(rng: np.random.Generator, s: pl.Series, p: NoiseProfile) -> pl.Series:
    s = typo(rng, s, p.typo)
    s = case_noise(rng, s, p.case)
    return whitespace_noise(rng, s, p.whitespace)


def noisy_email(rng: np.random.Generator, email: pl.Series, p: NoiseProfile) -> pl.Series:
    """Case changes, plus-tags and (rarely) a mistyped domain."""
    n = len(email)
    tag = pl.Series(list(PLUS_TAGS)).gather(rng.integers(0, len(PLUS_TAGS), n))
    plus = _mask(rng, n, p.plus_tag)
    local = email.str.split("@").list.first()
    domain = email.str.split("@").list.last()
    out = _where(plus, pl.concat_str([local, pl.lit("+"), tag, pl.lit("@"), domain]), email)
    typo_hit = _mask(rng, n, p.domain_typo)
    domain = out.str.split("@").list.last()
    bad = domain.replace_strict(vocab.DOMAIN_TYPOS, default=None, return_dtype=pl.String)
    local = out.str.split("@").list.first()
    out = _where(
        typo_hit & bad.is_not_null().to_numpy(), pl.concat_str([local, pl.lit("@"), bad]), out
    )
    case_hit = _mask(rng, n, p.email_case)
    upper = rng.random(n) < 0.2
    return _where(
        case_hit & upper, out.str.to_uppercase(), _where(case_hit, out.str.to_titlecase(), out)
    )


def format_phone(
    rng: np.random.Generator, digits: pl.Series, weights: tuple[float, ...]
) -> pl.Series:
    """Render 10-digit numbers in the formats people and systems actually use."""
    n = len(digits)
    w = np.asarray(weights, dtype=float)
    style = np.searchsorted(np.cumsum(w / w.sum()), rng.random(n), side="right").clip(0, len(w) - 1)
    a, b, c = digits.str.slice(0, 3), digits.str.slice(3, 3), digits.str.slice(6, 4)
    forms = [
        pl.concat_str([pl.lit("+1"), digits]),  # E.164
        pl.concat_str([pl.lit("("), a, pl.lit(") "), b, pl.lit("-"), c]),  # (555) 123-4567
        pl.concat_str([a, pl.lit("."), b, pl.lit("."), c]),  # 555.123.4567
        digits,  # no country code
        pl.concat_str([a, pl.lit("-"), b, pl.lit("-"), c]),  # 555-123-4567
        pl.concat_str([pl.lit("1-"), a, pl.lit("-"), b, pl.lit("-"), c]),  # 1-555-123-4567
        pl.concat_str([pl.lit("+1 "), a, pl.lit(" "), b, pl.lit(" "), c]),  # +1 555 123 4567
    ]
    expr = pl.when(pl.Series(style == 0)).then(forms[0])
    for k in range(1, len(forms)):
        expr = expr.when(pl.Series(style == k)).then(forms[k])
    return pl.select(expr.otherwise(digits)).to_series()


def street_line(
    rng: np.random.Generator,
    number: np.ndarray,
    name: pl.Series,
    suffix: np.ndarray,
    apt: pl.Series,
    abbreviate: float,
) -> pl.Series:
    """'123 Oak Street Apt 4' with the street type abbreviated (St, Ave, ...) for some records."""
    n = len(number)
    full = pl.Series([f for f, _ in vocab.STREET_SUFFIXES]).gather(suffix)
    short = pl.Series([s for _, s in vocab.STREET_SUFFIXES]).gather(suffix)
    abbr = _mask(rng, n, abbreviate)
    dot = rng.random(n) < 0.2
    suff = _where(abbr & dot & (short != "Way").to_numpy(), short + ".", _where(abbr, short, full))
    apt_style = rng.integers(0, 3, n)
    apt_num = apt.str.replace("Apt ", "", literal=True)
    apt_txt = _where(
        apt_style == 0,
        pl.concat_str([pl.lit(" "), apt]),
        _where(
            apt_style == 1,
            pl.concat_str([pl.lit(" #"), apt_num]),
            pl.concat_str([pl.lit(", Apt "), apt_num]),
        ),
    )
    base = pl.Series(number).cast(pl.String) + " " + name + " " + suff
    return base + apt_txt.fill_null("")


def null_where(s: pl.Series | np.ndarray, mask: np.ndarray) -> pl.Series:
    series = s if isinstance(s, pl.Series) else pl.Series(s)
    return _where(mask, pl.lit(None, dtype=series.dtype), series)


@dataclass
class Observed:
    """The person attributes a record shows, after choosing current or stale values."""

    first: pl.Series
    last: pl.Series
    email: pl.Series
    phone: pl.Series
    street: pl.Series
    city: pl.Series
    state: pl.Series
    zip: pl.Series
    birth_day: np.ndarray
    has_email: np.ndarray
    has_phone: np.ndarray


def observe(
    rng: np.random.Generator,
    people: pl.DataFrame,
    rec: Records,
    p: NoiseProfile,
    need_contact: bool = False,
) -> Observed:
    """Apply a system's noise profile to the people behind ``rec``.

    ``need_contact``: the system cannot hold a record without e-mail or phone (it has no birth
    date or address to match on), so at least one of them is always kept.
    """
    pp = people[rec.person]
    n = len(rec)
    # stale values: people who moved / changed address show the old one in some records
    moved = pp["moved"].to_numpy()
    stale_addr = moved & _mask(rng, n, p.stale)
    has_prev_email = pp["prev_email"].is_not_null().to_numpy()
    stale_email = has_prev_email & _mask(rng, n, p.stale)

    def pick_addr(col: str) -> pl.Series:
        return _where(stale_addr, pp[f"prev_{col}"], pp[col])

    first = nicknames(rng, pp["first_name"], p.nickname)
    first = noisy_name(rng, first, p)
    last = noisy_name(rng, pp["last_name"], p)
    email = noisy_email(rng, _where(stale_email, pp["prev_email"], pp["email"]), p)
    phone = format_phone(rng, pp["phone"], p.phone_styles)
    street = street_line(
        rng,
        pick_addr("street_number").to_numpy(),
        pick_addr("street_name"),
        pick_addr("street_suffix").to_numpy(),
        pick_addr("apt"),
        p.abbreviate,
    )
    street = case_noise(rng, street, p.case / 2)
    zip5 = pick_addr("zip")
    zip4 = _mask(rng, n, p.zip4)
    zip_ = _where(zip4, zip5 + "-" + pl.Series(rng.integers(1000, 9999, n)).cast(pl.String), zip5)
    city = case_noise(rng, pick_addr("city"), p.case)
    state = _where(_mask(rng, n, 0.1), pick_addr("state").str.to_lowercase(), pick_addr("state"))

    no_contact = _mask(rng, n, p.no_contact)
    miss_email = no_contact | _mask(rng, n, p.missing_email)
    miss_phone = no_contact | _mask(rng, n, p.missing_phone)
    if need_contact:
        both = miss_email & miss_phone
        keep_email = rng.random(n) < 0.5
        miss_email &= ~(both & keep_email)
        miss_phone &= ~(both & ~keep_email)
    # a record without e-mail and phone keeps the attributes it can still be matched on
    contactless = miss_email & miss_phone
    miss_birth = _mask(rng, n, p.missing_birth) & ~contactless
    miss_addr = _mask(rng, n, p.missing_address) & ~contactless
    miss_first = _mask(rng, n, p.missing_first) & ~contactless & ~(miss_email | miss_phone)
    birth = pp["birth_day"].to_numpy()
    return Observed(
        first=null_where(first, miss_first),
        last=last,
        email=null_where(email, miss_email),
        phone=null_where(phone, miss_phone),
        street=null_where(street, miss_addr),
        city=null_where(city, miss_addr),
        state=state,
        zip=null_where(zip_, miss_addr & (rng.random(n) < 0.5)),
        birth_day=np.ma.MaskedArray(birth, mask=miss_birth),
        has_email=~miss_email,
        has_phone=~miss_phone,
    )


def identity_truth(
    system: str, source_ids: pl.Series, people: pl.DataFrame, rec: Records
) -> pl.DataFrame:
    """Rows of ``_truth/identity.parquet`` for one system's records."""
    return pl.DataFrame(
        {
            "source_system": pl.Series([system] * len(rec), dtype=pl.String),
            "source_id": source_ids.cast(pl.String),
            "person_id": people["person_id"].gather(rec.person),
            "is_duplicate": rec.is_duplicate,
        }
    )
