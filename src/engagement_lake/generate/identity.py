"""Per-source identity noise: how each system mis-types, abbreviates and forgets people.

Each identity system (shop customers, CRM contacts and leads, support requesters, marketing
subscribers, loyalty members) observes the same people through its own ``NoiseProfile``, at one
of three levels (:data:`NOISE_LEVELS`: ``clean``, ``realistic``, ``hard``). Noise is applied
per field with independent rates; every record's truth row lists the kinds applied to it, so
matching quality can be reported per kind. Every transformation is a vectorised Polars
expression over all records at once.

Kinds of noise: typos (transposition, dropped or doubled letter), keyboard slips (a neighbouring
key), OCR confusions (rn/m, cl/d), nicknames (Robert -> Bob), initials, swapped first and last
name, "Last, First" in full-name fields, case and stray whitespace, e-mail case, plus-tags and
domain typos (gmial.com), phone formats (E.164, (555) 123-4567, ...), street-type abbreviations
(Street -> St), transposed birth-date digits, missing fields, records without e-mail and phone,
stale values (the previous address or e-mail), and duplicate records of the same person within
one system. Twins and shared household addresses are facts of the world
(``engagement_lake.generate.world``), not noise: the matcher must keep those people apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from engagement_lake.config import DEFAULT_NOISE_LEVEL, NOISE_LEVELS
from engagement_lake.generate import vocab

#: Identity noise levels (:data:`engagement_lake.config.NOISE_LEVELS`). ``clean``: every record
#: spells its person exactly (duplicates and absent systems remain); ``realistic`` (the
#: default): the per-system rates of :data:`PROFILES`; ``hard``: every noise rate of
#: ``realistic`` times :data:`HARD_FACTOR` (capped at :data:`HARD_CAP`), with at least
#: :data:`HARD_MIN_NO_CONTACT` of every system's records without e-mail and phone and
#: :data:`HARD_MIN_OCR` read from paper.
HARD_FACTOR = 2.5
HARD_CAP = 0.6
HARD_MIN_NO_CONTACT = 0.05
HARD_MIN_OCR = 0.02

#: Fields of :class:`NoiseProfile` that are rates of noise (scaled by the level). The others
#: (``duplicate``, ``abbreviate``, ``zip4``, ``phone_styles``) describe how a system stores
#: records, not mistakes; ``clean`` keeps duplicates but writes one canonical format.
NOISE_RATES: tuple[str, ...] = (
    "typo",
    "keyboard",
    "ocr",
    "nickname",
    "initial",
    "swapped",
    "last_first",
    "first_only",
    "case",
    "whitespace",
    "email_case",
    "plus_tag",
    "domain_typo",
    "missing_email",
    "missing_phone",
    "missing_first",
    "missing_birth",
    "missing_address",
    "no_contact",
    "stale",
    "dob_transposed",
)


@dataclass(frozen=True)
class NoiseProfile:
    """Per-field noise rates of one source system (shares of its records)."""

    duplicate: float = 0.03
    typo: float = 0.02
    """A letter transposed, dropped or doubled (first or last name)."""
    keyboard: float = 0.01
    """A letter replaced by a neighbouring key (QWERTY)."""
    ocr: float = 0.0
    """A scanned-form confusion (rn/m, cl/d, li/h, e/c, i/l) in a name."""
    nickname: float = 0.04
    initial: float = 0.01
    """First name reduced to its initial ("J" or "J.")."""
    swapped: float = 0.005
    """First and last name exchanged."""
    last_first: float = 0.0
    """Systems with one full-name field: written surname first ("Bennett, Dwayne")."""
    first_only: float = 0.0
    """Systems with one full-name field: only the first name given (when an e-mail is known)."""
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
    dob_transposed: float = 0.01
    """Birth date with digits transposed: day and month swapped, or two digits exchanged."""
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
        ocr=0.005,
        nickname=0.12,
        initial=0.02,
        case=0.08,
        missing_email=0.15,
        missing_phone=0.2,
        no_contact=0.01,
    ),
    "support.requesters": NoiseProfile(
        duplicate=0.04,
        nickname=0.08,
        last_first=0.06,
        first_only=0.04,
        case=0.12,
        missing_email=0.12,
        missing_phone=0.35,
        no_contact=0.01,
    ),
    "marketing.subscribers": NoiseProfile(
        duplicate=0.03,
        plus_tag=0.08,
        email_case=0.15,
        missing_email=0.0,
        missing_first=0.2,
        no_contact=0.01,
        stale=0.15,
    ),
    "loyalty.members": NoiseProfile(
        duplicate=0.02,
        ocr=0.005,
        nickname=0.05,
        last_first=0.03,
        missing_birth=0.04,
        missing_email=0.06,
        missing_phone=0.08,
        abbreviate=0.45,
    ),
}
"""The ``realistic`` level: how each identity system mis-types, abbreviates and forgets."""


def profile(system: str, level: str = DEFAULT_NOISE_LEVEL) -> NoiseProfile:
    """The noise profile of ``system`` (a bronze table name) at ``level``."""
    if level not in NOISE_LEVELS:
        raise ValueError(f"identity noise {level!r}: choose one of {', '.join(NOISE_LEVELS)}")
    base = PROFILES[system]
    if level == "realistic":
        return base
    if level == "clean":
        return replace(
            base,
            **dict.fromkeys(NOISE_RATES, 0.0),
            abbreviate=0.0,
            zip4=0.0,
            phone_styles=(1.0,),
        )
    hard = {k: min(getattr(base, k) * HARD_FACTOR, HARD_CAP) for k in NOISE_RATES}
    hard["no_contact"] = max(hard["no_contact"], HARD_MIN_NO_CONTACT)
    hard["ocr"] = max(hard["ocr"], HARD_MIN_OCR)
    return replace(base, **hard)


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


def typo(rng: np.random.Generator, s: pl.Series, rate: float) -> tuple[pl.Series, np.ndarray]:
    """Transpose, drop or double one inner letter of ``rate`` of the values (and which)."""
    n = len(s)
    length = s.str.len_chars().fill_null(0).to_numpy()
    hit = _mask(rng, n, rate) & (length >= 4)
    if not hit.any():
        return s, hit
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
    return out, hit


#: Keys next to each letter on a US QWERTY keyboard (a slip of the finger).
KEY_NEIGHBOURS: dict[str, str] = {
    "a": "qwsz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc",
    "g": "ftyhbv", "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop",
    "m": "njk", "n": "bhjm", "o": "iklp", "p": "ol", "q": "wa", "r": "edft", "s": "awedxz",
    "t": "rfgy", "u": "yhji", "v": "cfgb", "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx",
}  # fmt: skip

#: What optical character recognition of a paper form confuses, in both directions.
OCR_CONFUSIONS: tuple[tuple[str, str], ...] = (
    ("rn", "m"),
    ("m", "rn"),
    ("cl", "d"),
    ("d", "cl"),
    ("li", "h"),
    ("e", "c"),
    ("i", "l"),
)


def keyboard_typo(
    rng: np.random.Generator, s: pl.Series, rate: float
) -> tuple[pl.Series, np.ndarray]:
    """Replace one inner lower-case letter by a neighbouring key for ``rate`` of the values."""
    n = len(s)
    length = s.str.len_chars().fill_null(0).to_numpy()
    pos = 1 + (rng.random(n) * np.maximum(length - 1, 1)).astype(np.int64)
    pos = np.minimum(pos, np.maximum(length - 1, 0))
    pick_ = rng.integers(0, 6, n)
    df = pl.DataFrame({"s": s, "p": pos, "k": pick_})
    char = pl.col("s").str.slice(pl.col("p"), 1)
    near = char.replace_strict(KEY_NEIGHBOURS, default=None, return_dtype=pl.String)
    frame = df.with_columns(near.alias("near"))
    hit = _mask(rng, n, rate) & (length >= 3) & frame["near"].is_not_null().to_numpy()
    if not hit.any():
        return s, hit
    swap = pl.col("near").str.slice(pl.col("k") % pl.col("near").str.len_chars(), 1)
    out = frame.select(
        pl.when(pl.Series(hit))
        .then(
            pl.concat_str(
                [
                    pl.col("s").str.slice(0, pl.col("p")),
                    swap,
                    pl.col("s").str.slice(pl.col("p") + 1),
                ]
            )
        )
        .otherwise(pl.col("s"))
    ).to_series()
    return out, hit


def ocr_typo(rng: np.random.Generator, s: pl.Series, rate: float) -> tuple[pl.Series, np.ndarray]:
    """Apply one :data:`OCR_CONFUSIONS` substitution to ``rate`` of the values that allow one.

    Only the inner part of the name is touched (a confusion of the first letter would read as a
    different name rather than a misread one).
    """
    n = len(s)
    want = _mask(rng, n, rate)
    if not want.any():
        return s, np.zeros(n, bool)
    start = rng.integers(0, len(OCR_CONFUSIONS), n)
    head, tail = s.str.slice(0, 1), s.str.slice(1)
    out, hit = s, np.zeros(n, bool)
    # try the confusions in a per-value rotation; the first that applies is used
    for step in range(len(OCR_CONFUSIONS)):
        idx = (start + step) % len(OCR_CONFUSIONS)
        for j, (a, b) in enumerate(OCR_CONFUSIONS):
            has = tail.str.contains(a, literal=True).fill_null(False).to_numpy()
            cand = want & ~hit & (idx == j) & has
            if cand.any():
                out = _where(cand, head + tail.str.replace(a, b, literal=True), out)
                hit |= cand
    return out, hit


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


def nicknames(
    rng: np.random.Generator, first: pl.Series, rate: float
) -> tuple[pl.Series, np.ndarray]:
    """Replace formal first names by their nickname for ``rate`` of the values."""
    nick = first.replace_strict(vocab.NICKNAMES, default=None, return_dtype=pl.String)
    hit = _mask(rng, len(first), rate) & nick.is_not_null().to_numpy()
    return _where(hit, nick, first), hit


def initials(
    rng: np.random.Generator, first: pl.Series, rate: float
) -> tuple[pl.Series, np.ndarray]:
    """Reduce ``rate`` of the first names to their initial, with or without a full stop."""
    n = len(first)
    hit = _mask(rng, n, rate) & first.is_not_null().to_numpy()
    dot = rng.random(n) < 0.5
    letter = first.str.slice(0, 1)
    return _where(hit & dot, letter + ".", _where(hit, letter, first)), hit


def transposed_dates(
    rng: np.random.Generator, days: np.ndarray, rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """Transpose digits of ``rate`` of the dates (days since 1970-01-01).

    In order of preference: day and month swapped (when the day is 12 or less and differs from
    the month); the last two digits of the year exchanged when that makes the year earlier
    (1974 -> 1947, never a birth in the future); the two digits of the day exchanged when that
    gives another valid day (13 -> 31 in a month that has it, 12 -> 21). Dates none of these
    apply to are left alone.
    """
    n = len(days)
    want = _mask(rng, n, rate)
    d = pl.Series(days.astype(np.int64)).cast(pl.Date)
    frame = pl.DataFrame({"d": d}).with_columns(
        y=pl.col("d").dt.year(), m=pl.col("d").dt.month(), dd=pl.col("d").dt.day()
    )
    y, m, dd = (frame[c].to_numpy().astype(np.int64) for c in ("y", "m", "dd"))
    swap_dm = (dd <= 12) & (dd != m)
    y2 = (y // 100) * 100 + (y % 10) * 10 + (y // 10) % 10
    swap_y = ~swap_dm & (y2 < y) & (y2 >= 1900) & ~((m == 2) & (dd == 29))
    d2 = (dd % 10) * 10 + dd // 10
    month_len = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[m - 1]
    swap_d = ~swap_dm & ~swap_y & (dd % 10 != 0) & (d2 != dd) & (d2 <= month_len)
    ny = np.where(swap_y, y2, y)
    nm = np.where(swap_dm, dd, m)
    nd = np.where(swap_dm, m, np.where(swap_d, d2, dd))
    hit = want & (swap_dm | swap_y | swap_d)
    moved = (
        pl.DataFrame({"y": ny, "m": nm, "d": nd})
        .select(pl.date(pl.col("y"), pl.col("m"), pl.col("d")).cast(pl.Int64))
        .to_series()
        .to_numpy()
    )
    return np.where(hit, moved, days), hit


def noisy_name(
    rng: np.random.Generator, s: pl.Series, p: NoiseProfile
) -> tuple[pl.Series, dict[str, np.ndarray]]:
    """A name as a system holds it, and which mistakes were made in it."""
    s, t = typo(rng, s, p.typo)
    s, k = keyboard_typo(rng, s, p.keyboard)
    s, o = ocr_typo(rng, s, p.ocr)
    s = case_noise(rng, s, p.case)
    return whitespace_noise(rng, s, p.whitespace), {"typo": t, "keyboard": k, "ocr": o}


def noisy_email(
    rng: np.random.Generator, email: pl.Series, p: NoiseProfile
) -> tuple[pl.Series, np.ndarray]:
    """Case changes, plus-tags and (rarely) a mistyped domain (and which got the domain typo)."""
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
    out = _where(
        case_hit & upper, out.str.to_uppercase(), _where(case_hit, out.str.to_titlecase(), out)
    )
    return out, typo_hit & bad.is_not_null().to_numpy()


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


#: Truth schema of one identity record (``_truth/identity.parquet``): its person, whether it is
#: the system's second record of that person, the noise kinds applied to it, and the first and
#: last name as the system wrote them (before a full-name system joins them into one field).
TRUTH_SCHEMA: dict[str, Any] = {
    "source_system": pl.String,
    "source_id": pl.String,
    "person_id": pl.Int64,
    "is_duplicate": pl.Boolean,
    "noise": pl.List(pl.String),
    "given_name": pl.String,
    "family_name": pl.String,
}


@dataclass
class Observed:
    """The person attributes a record shows, after choosing current or stale values.

    ``kinds`` names each noise kind applied, with the records it was applied to; it becomes the
    ``noise`` column of the truth, so evaluation can report quality per kind of noise.
    """

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
    kinds: dict[str, np.ndarray] = field(default_factory=dict)

    def mark(self, kind: str, mask: np.ndarray) -> None:
        """Record that ``kind`` was applied to the records in ``mask``."""
        prev = self.kinds.get(kind)
        self.kinds[kind] = mask.copy() if prev is None else prev | mask


def observe(
    rng: np.random.Generator,
    people: pl.DataFrame,
    rec: Records,
    p: NoiseProfile,
    need_contact: bool = False,
) -> Observed:
    """Apply a system's noise profile to the people behind ``rec``.

    ``need_contact``: the system normally holds e-mail or phone (it has no birth date or address
    to match on), so when both are dropped at random one of them is kept; the profile's
    ``no_contact`` share still arrives with neither.
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

    first, nick = nicknames(rng, pp["first_name"], p.nickname)
    first, initial = initials(rng, first, p.initial)
    first, first_marks = noisy_name(rng, first, p)
    last, last_marks = noisy_name(rng, pp["last_name"], p)
    swapped = _mask(rng, n, p.swapped)
    first, last = _where(swapped, last, first), _where(swapped, first, last)
    email, domain_typo = noisy_email(rng, _where(stale_email, pp["prev_email"], pp["email"]), p)
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
    state = _where(
        _mask(rng, n, p.case * 2), pick_addr("state").str.to_lowercase(), pick_addr("state")
    )

    no_contact = _mask(rng, n, p.no_contact)
    miss_email = no_contact | _mask(rng, n, p.missing_email)
    miss_phone = no_contact | _mask(rng, n, p.missing_phone)
    if need_contact:
        both = miss_email & miss_phone & ~no_contact
        keep_email = rng.random(n) < 0.5
        miss_email &= ~(both & keep_email)
        miss_phone &= ~(both & ~keep_email)
    # a record without e-mail and phone keeps the attributes it can still be matched on
    contactless = miss_email & miss_phone
    miss_birth = _mask(rng, n, p.missing_birth) & ~contactless
    miss_addr = _mask(rng, n, p.missing_address) & ~contactless
    miss_first = _mask(rng, n, p.missing_first) & ~contactless & ~(miss_email | miss_phone)
    birth, dob_transposed = transposed_dates(rng, pp["birth_day"].to_numpy(), p.dob_transposed)
    obs = Observed(
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
    for kind, mask in (
        ("nickname", nick),
        ("initial", initial & ~miss_first),
        ("typo", first_marks["typo"] | last_marks["typo"]),
        ("keyboard", first_marks["keyboard"] | last_marks["keyboard"]),
        ("ocr", first_marks["ocr"] | last_marks["ocr"]),
        ("swapped", swapped),
        ("stale_address", stale_addr & ~miss_addr),
        ("stale_email", stale_email & ~miss_email),
        ("domain_typo", domain_typo & ~miss_email),
        ("no_contact", contactless),
        ("missing_birth", miss_birth),
        ("missing_address", miss_addr),
        ("missing_first", miss_first),
        ("dob_transposed", dob_transposed & ~miss_birth),
    ):
        obs.mark(kind, mask)
    return obs


def identity_truth(
    system: str,
    source_ids: pl.Series,
    people: pl.DataFrame,
    rec: Records,
    obs: Observed | None = None,
) -> pl.DataFrame:
    """Rows of ``_truth/identity.parquet`` for one system's records (:data:`TRUTH_SCHEMA`)."""
    n = len(rec)
    if obs is None:
        noise = pl.Series("noise", [[]] * n, dtype=pl.List(pl.String))
        given = family = pl.Series([None] * n, dtype=pl.String)
    else:
        kinds = sorted(k for k, m in obs.kinds.items() if m.any())
        noise = (
            pl.DataFrame({k: obs.kinds[k] for k in kinds})
            .select(
                pl.concat_list(
                    [pl.when(pl.col(k)).then(pl.lit(k)).otherwise(None) for k in kinds]
                ).list.drop_nulls()
            )
            .to_series()
            if kinds
            else pl.Series([[]] * n, dtype=pl.List(pl.String))
        )
        given, family = obs.first, obs.last
    return pl.DataFrame(
        {
            "source_system": pl.Series([system] * n, dtype=pl.String),
            "source_id": source_ids.cast(pl.String),
            "person_id": people["person_id"].gather(rec.person),
            "is_duplicate": rec.is_duplicate,
            "noise": noise,
            "given_name": given,
            "family_name": family,
        },
        schema=TRUTH_SCHEMA,
    )
