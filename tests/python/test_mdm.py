"""Tests for customer identity matching (engagement_lake.mdm).

The fixture below is a small, seeded, noisy multi-source world built here rather than by the
project generator, so every stage can be tested on data whose truth and noise are known exactly:
nicknames, surname typos, plus-tagged and misspelt e-mail domains, phone formats, abbreviated
addresses, missing e-mail/phone, and look-alike people (same surname and ZIP) who must stay apart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import polars as pl
import pytest

from engagement_lake.mdm import (
    MatchMetrics,
    MatchSettings,
    customer_id_for,
    evaluate_matches,
    match_identities,
    match_identities_with_review,
)
from engagement_lake.mdm.evaluate import TRUTH_SOURCE_SYSTEMS
from engagement_lake.mdm.match import (
    deterministic_edges,
    match_weight_to_probability,
    matching_features,
)
from engagement_lake.mdm.normalize import (
    NICKNAME_TO_CANONICAL,
    NICKNAME_TO_CANONICALS,
    NICKNAMES,
    canonical_first_name,
    first_name_variants,
    initcap_expr,
    name_key,
    normalize_address,
    normalize_email,
    normalize_phone,
    normalize_postal_code,
    normalize_state,
    parse_date_expr,
    phone_e164_expr,
    postal_code_expr,
    soundex,
    state_code_expr,
)

# --------------------------------------------------------------------------------------------
# Fixture: a seeded noisy multi-source population
# --------------------------------------------------------------------------------------------

FIRST_NAMES = [
    ("Robert", "Bob"), ("William", "Bill"), ("James", "Jim"), ("Michael", "Mike"),
    ("Thomas", "Tom"), ("Richard", "Dick"), ("Elizabeth", "Liz"), ("Katherine", "Kate"),
    ("Jennifer", "Jen"), ("Christopher", "Chris"), ("David", "Dave"), ("Joseph", "Joe"),
    ("Daniel", "Dan"), ("Matthew", "Matt"), ("Anthony", "Tony"), ("Steven", "Steve"),
    ("Andrew", "Andy"), ("Nicholas", "Nick"), ("Samuel", "Sam"), ("Benjamin", "Ben"),
    ("Margaret", "Meg"), ("Susan", "Sue"), ("Patricia", "Pat"), ("Kenneth", "Ken"),
    ("Maria", None), ("Linda", None), ("Laura", None), ("Olivia", None), ("Sophia", None),
    ("Emma", None), ("Noah", None), ("Liam", None), ("Ethan", None), ("Grace", None),
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Taylor", "Moore", "Jackson",
    "Martin", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams",
    "Nelson", "Baker", "Campbell", "Mitchell", "Carter", "Roberts", "Phillips", "Evans",
    "Turner", "Parker", "Collins", "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers",
]  # fmt: skip
STREETS = ["Oak", "Maple", "Cedar", "Pine", "Elm", "Washington", "Lake", "Hill", "Park", "Main"]
SUFFIXES = [("Street", "St"), ("Avenue", "Ave"), ("Road", "Rd"), ("Drive", "Dr"), ("Lane", "Ln")]
ZIPS = [f"{z:05d}" for z in range(2101, 2131)] + [f"{z:05d}" for z in range(60601, 60621)]
DOMAINS = [("gmail.com", "gmial.com"), ("hotmail.com", "hotmial.com"), ("yahoo.com", "yaho.com")]
SOURCE_RATES = {
    "shop": 0.8,
    "crm_contact": 0.35,
    "crm_lead": 0.3,
    "support": 0.35,
    "marketing": 0.5,
    "loyalty": 0.4,
}


def _typo(rng: random.Random, word: str) -> str:
    """One realistic keying error: transposition, dropped letter or doubled letter."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "double"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def _phone_format(rng: random.Random, digits: str) -> str:
    return rng.choice(
        [
            f"+1{digits}",
            f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
            f"{digits[:3]}.{digits[3:6]}.{digits[6:]}",
            f"1-{digits[:3]}-{digits[3:6]}-{digits[6:]}",
        ]
    )


def make_population(n_people: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Raw (unstandardised) identity records and their truth for ``n_people`` people.

    Look-alikes are deliberate: ZIPs and surnames come from small lists, so many people share a
    surname and ZIP and only first name, birth date, address and contacts tell them apart.
    """
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    truth: list[dict[str, str]] = []
    counters = dict.fromkeys(SOURCE_RATES, 0)
    for person in range(n_people):
        first, nick = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        dob = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20_000))
        domain, domain_typo = rng.choice(DOMAINS)
        email_local = f"{first}.{last}{rng.randrange(100)}".lower()
        phone = f"{rng.randrange(201, 989)}{rng.randrange(200, 999)}{rng.randrange(10_000):04d}"
        street = rng.choice(STREETS)
        suffix_long, suffix_short = rng.choice(SUFFIXES)
        number = rng.randrange(1, 9999)
        zip_code = rng.choice(ZIPS)
        state = "MA" if zip_code.startswith("02") else "IL"
        sources = [s for s, rate in SOURCE_RATES.items() if rng.random() < rate] or ["shop"]
        for source in sources:
            counters[source] += 1
            source_id = f"{source[:2].upper()}{counters[source]:06d}"
            given = nick if nick and rng.random() < 0.25 else first
            surname = _typo(rng, last) if rng.random() < 0.08 else last
            local = email_local + (f"+{source}" if rng.random() < 0.1 else "")
            dom = domain_typo if rng.random() < 0.05 else domain
            email = f"{local}@{dom}" if rng.random() < 0.8 else None
            if email and rng.random() < 0.3:
                email = email.upper()
            tel = _phone_format(rng, phone) if rng.random() < 0.7 else None
            suffix = suffix_long if rng.random() < 0.5 else suffix_short
            address = f"{number} {street} {suffix}"
            birth = dob
            if rng.random() < 0.03:
                birth = dob + dt.timedelta(days=1)
            rec: dict[str, object] = {
                "source_system": source,
                "source_id": source_id,
                "first_name": given.lower() if rng.random() < 0.2 else given,
                "last_name": surname,
                "email": email,
                "phone": tel,
                "birth_date": birth.isoformat(),
                "address_line1": address,
                "city": "Boston" if state == "MA" else "Chicago",
                "state": state.lower() if rng.random() < 0.2 else state,
                "postal_code": zip_code.lstrip("0") if rng.random() < 0.1 else zip_code,
                "updated_at": dt.datetime(2024, 1, 1) + dt.timedelta(hours=person),
            }
            # Per-source shape, as in the real sources.
            if source == "crm_lead":
                rec.update(birth_date=None, address_line1=None, city=None, postal_code=None)
            if source == "support":
                rec.update(birth_date=None, address_line1=None, city=None, state=None)
                rec.update(postal_code=None)
            if source == "marketing":
                rec.update(phone=None, birth_date=None, address_line1=None, city=None, state=None)
            rows.append(rec)
            truth.append(
                {"source_system": source, "source_id": source_id, "person_id": str(person)}
            )
    raw = pl.DataFrame(rows, schema_overrides={"birth_date": pl.String}, infer_schema_length=None)
    return raw, pl.DataFrame(truth)


def standardize(raw: pl.DataFrame) -> pl.DataFrame:
    """Roughly what dbt staging hands to matching: trimmed, cased, E.164, parsed dates."""

    def text(c: str) -> pl.Expr:
        value = pl.col(c).cast(pl.String).str.strip_chars().str.replace_all(r"\s+", " ")
        return pl.when(value.str.len_chars() > 0).then(value)

    return raw.select(
        pl.col("source_system").cast(pl.String),
        pl.col("source_id").cast(pl.String).str.strip_chars(),
        initcap_expr("first_name").alias("first_name"),
        initcap_expr("last_name").alias("last_name"),
        text("email").str.to_lowercase().alias("email"),
        phone_e164_expr("phone").alias("phone"),
        parse_date_expr("birth_date").alias("birth_date"),
        text("address_line1").alias("address_line1"),
        initcap_expr("city").alias("city"),
        state_code_expr("state").alias("state"),
        postal_code_expr("postal_code").alias("postal_code"),
    )


@pytest.fixture(scope="module")
def population() -> tuple[pl.DataFrame, pl.DataFrame]:
    raw, truth = make_population(300, seed=7)
    return standardize(raw), truth


@pytest.fixture(scope="module")
def population_xref(population: tuple[pl.DataFrame, pl.DataFrame]) -> pl.DataFrame:
    records, _ = population
    return match_identities(records)


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jane.Doe+promo@GMIAL.com", "jane.doe@gmail.com"),
        ("  bob@hotmial.com ", "bob@hotmail.com"),
        ("x+a+b@yaho.com", "x@yahoo.com"),
        ("plain@example.org", "plain@example.org"),
        ("not-an-email", None),
        ("two@@signs.com", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_email(raw: str | None, expected: str | None) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+15551234567", "+15551234567"),
        ("(555) 123-4567", "+15551234567"),
        ("555.123.4567", "+15551234567"),
        ("1-555-123-4567", "+15551234567"),
        ("555-123-4567 x89", "+15551234567"),
        ("123-4567", None),
        ("25551234567", None),
        (None, None),
    ],
)
def test_normalize_phone(raw: str | None, expected: str | None) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Bob", "ROBERT"),
        ("bobby", "ROBERT"),
        ("Robert", "ROBERT"),
        ("Liz", "ELIZABETH"),
        ("Beth", "ELIZABETH"),
        ("Ed", "EDWARD"),
        ("Ted", "TED"),  # Edward or Theodore: left unresolved
        ("Pat", "PAT"),  # Patricia or Patrick
        ("Mary Ann", "MARY"),
        ("J.", "J"),
        ("Olivia", "OLIVIA"),
        (None, None),
    ],
)
def test_canonical_first_name(raw: str | None, expected: str | None) -> None:
    assert canonical_first_name(raw) == expected


def test_first_name_variants_resolve_ambiguous_nicknames() -> None:
    assert first_name_variants("Pat") == ["PAT", "PATRICIA", "PATRICK"]
    assert first_name_variants("patrick") == ["PATRICK"]
    assert first_name_variants("Ted") == ["EDWARD", "TED", "THEODORE"]
    assert first_name_variants("Olivia") == ["OLIVIA"]
    assert first_name_variants(None) is None
    # Compatible = the lists intersect: Pat~Patricia, Pat~Patrick, but Patricia !~ Patrick.
    assert set(first_name_variants("Pat")) & set(first_name_variants("Patricia"))
    assert not set(first_name_variants("Patricia")) & set(first_name_variants("Patrick"))


def test_nickname_table_covers_the_brief() -> None:
    assert all(c in NICKNAME_TO_CANONICALS[v] for c, vs in NICKNAMES.items() for v in vs)
    assert not set(NICKNAME_TO_CANONICALS) & set(NICKNAMES)
    required = {
        "BOB": "ROBERT", "BILL": "WILLIAM", "JIM": "JAMES", "MIKE": "MICHAEL", "TOM": "THOMAS",
        "DICK": "RICHARD", "LIZ": "ELIZABETH", "KATE": "KATHERINE", "JEN": "JENNIFER",
        "CHRIS": "CHRISTOPHER", "DAVE": "DAVID", "JOE": "JOSEPH", "DAN": "DANIEL",
        "MATT": "MATTHEW", "TONY": "ANTHONY", "STEVE": "STEVEN", "ANDY": "ANDREW",
        "NICK": "NICHOLAS", "SAM": "SAMUEL", "BEN": "BENJAMIN", "ALEX": "ALEXANDER",
        "JON": "JONATHAN", "PAT": "PATRICIA", "SUE": "SUSAN", "MEG": "MARGARET",
        "BETH": "ELIZABETH", "KEN": "KENNETH", "LARRY": "LAWRENCE", "RON": "RONALD",
        "DON": "DONALD", "TED": "EDWARD", "ED": "EDWARD",
    }  # fmt: skip
    assert all(name in NICKNAME_TO_CANONICALS[nick] for nick, name in required.items())
    assert NICKNAME_TO_CANONICAL["BOB"] == "ROBERT" and "PAT" not in NICKNAME_TO_CANONICAL


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12 North Oak Avenue, Apt. 3", "12 N OAK AVE UNIT 3"),
        ("12 n oak ave #3", "12 N OAK AVE UNIT 3"),
        ("12 N. Oak Ave Apt #3", "12 N OAK AVE UNIT 3"),
        ("500 First Street Suite 200", "500 1ST ST UNIT 200"),
        ("7 Lake Road", "7 LAKE RD"),
        ("  ", None),
        (None, None),
    ],
)
def test_normalize_address(raw: str | None, expected: str | None) -> None:
    assert normalize_address(raw) == expected


def test_small_normalisers() -> None:
    assert [normalize_postal_code(z) for z in ("02134", "2134", "02134-1234", "12", None)] == [
        "02134",
        "02134",
        "02134",
        None,
        None,
    ]
    assert [normalize_state(s) for s in ("ma", " IL ", "California", "Atlantis", None)] == [
        "MA",
        "IL",
        "CA",
        None,
        None,
    ]
    assert [name_key(n) for n in ("O'Brien", "José", "van der Berg", "  ")] == [
        "OBRIEN",
        "JOSE",
        "VANDERBERG",
        None,
    ]
    # Classic Soundex reference values, including the H/W rule (Ashcraft) and vowels (Tymczak).
    assert [soundex(n) for n in ("Robert", "Rupert", "Ashcraft", "Tymczak", "Pfister", "Lee")] == [
        "R163",
        "R163",
        "A261",
        "T522",
        "P236",
        "L000",
    ]
    assert soundex("Smith") == soundex("Smyth") == "S530"


# --------------------------------------------------------------------------------------------
# Deterministic rules
# --------------------------------------------------------------------------------------------


def _records(rows: list[dict[str, object]]) -> pl.DataFrame:
    columns = [
        "source_system", "source_id", "first_name", "last_name", "email", "phone", "birth_date",
        "address_line1", "city", "state", "postal_code",
    ]  # fmt: skip
    data = {c: [r.get(c) for r in rows] for c in columns}
    frame = pl.DataFrame(data, schema={c: pl.String for c in columns})
    return frame.with_columns(pl.col("birth_date").str.to_date())


def test_deterministic_rules_join_normalised_email_and_phone() -> None:
    records = _records(
        [
            {"source_system": "shop", "source_id": "1", "email": "ann.lee+shop@gmial.com"},
            {"source_system": "marketing", "source_id": "9", "email": "ann.lee@gmail.com"},
            {"source_system": "support", "source_id": "4", "phone": "+15550001111"},
            {"source_system": "crm_lead", "source_id": "2", "phone": "(555) 000-1111"},
            {"source_system": "loyalty", "source_id": "3", "email": "other@gmail.com"},
        ]
    )
    features = matching_features(records.sort("source_system", "source_id"))
    email = deterministic_edges(features, "email", max_records_per_key=10)
    phone = deterministic_edges(features, "phone", max_records_per_key=10)
    assert email.height == 1 and phone.height == 1

    xref = match_identities(records)
    by_key = {(r["source_system"], r["source_id"]): r for r in xref.iter_rows(named=True)}
    assert by_key[("shop", "1")]["customer_id"] == by_key[("marketing", "9")]["customer_id"]
    assert by_key[("support", "4")]["customer_id"] == by_key[("crm_lead", "2")]["customer_id"]
    assert by_key[("loyalty", "3")]["match_method"] == "singleton"
    assert by_key[("loyalty", "3")]["match_probability"] == 1.0
    assert by_key[("shop", "1")]["match_method"] == "deterministic_email"
    assert by_key[("crm_lead", "2")]["match_method"] == "deterministic_phone"
    assert by_key[("crm_lead", "2")]["match_probability"] == 1.0
    # Golden id: hash of the cluster's smallest (source_system, source_id).
    assert by_key[("shop", "1")]["customer_id"] == customer_id_for("marketing", "9")
    assert by_key[("support", "4")]["customer_id"] == customer_id_for("crm_lead", "2")
    assert customer_id_for("crm_lead", "2") == "CUS-" + hashlib.md5(b"crm_lead|2").hexdigest()[:12]
    assert xref["customer_id"].n_unique() == 3


def test_shared_placeholder_email_does_not_fuse_strangers() -> None:
    rows = [
        {
            "source_system": "shop",
            "source_id": f"{i:03d}",
            "first_name": first,
            "last_name": last,
            "email": "noemail@store.com",
        }
        for i, (first, last) in enumerate(
            [(f, ln) for f in ("Ann", "Bo", "Cy", "Di") for ln in ("Ng", "Ito", "Roe", "Fox")]
        )
    ]
    xref = match_identities(_records(rows), MatchSettings(max_records_per_key=12))
    assert xref["customer_id"].n_unique() == 16
    assert set(xref["match_method"]) == {"singleton"}


# --------------------------------------------------------------------------------------------
# End to end on the fixture
# --------------------------------------------------------------------------------------------


def test_output_shape_and_determinism(
    population: tuple[pl.DataFrame, pl.DataFrame], population_xref: pl.DataFrame
) -> None:
    records, _ = population
    xref = population_xref
    assert xref.columns == [
        "source_system", "source_id", "customer_id", "match_method", "match_probability",
    ]  # fmt: skip
    assert xref.height == records.height
    assert xref.select(pl.struct("source_system", "source_id").is_unique().all()).item()
    assert xref["customer_id"].str.contains(r"^CUS-[0-9a-f]{12}$").all()
    assert set(xref["match_method"]) <= {
        "deterministic_email", "deterministic_phone", "probabilistic", "singleton",
    }  # fmt: skip
    deterministic = xref.filter(pl.col("match_method").str.starts_with("deterministic"))
    assert (deterministic["match_probability"] == 1.0).all()
    probabilistic = xref.filter(pl.col("match_method") == "probabilistic")["match_probability"]
    assert probabilistic.len() > 0 and probabilistic.min() >= match_weight_to_probability(
        MatchSettings().threshold_weight
    )
    assert xref["match_probability"].null_count() == 0
    assert (xref.filter(pl.col("match_method") == "singleton")["match_probability"] == 1.0).all()
    # Same input in another order and container type -> identical crosswalk.
    shuffled = records.sample(fraction=1.0, shuffle=True, seed=3).to_pandas()
    assert match_identities(shuffled).equals(xref)


def test_customer_id_is_smallest_member_key(population_xref: pl.DataFrame) -> None:
    smallest = population_xref.group_by("customer_id").agg(
        pl.col("source_system").first(), pl.col("source_id").first()
    )
    for row in smallest.iter_rows(named=True):
        assert row["customer_id"] == customer_id_for(row["source_system"], row["source_id"])


def test_fixture_quality(
    population: tuple[pl.DataFrame, pl.DataFrame], population_xref: pl.DataFrame
) -> None:
    _, truth = population
    metrics = evaluate_matches(population_xref, truth)
    assert metrics.records == truth.height
    # The misses are records that share nothing but a name with the rest of their person (a
    # lead with neither e-mail nor phone); linking on a name alone would be a guess.
    assert metrics.precision >= 0.99, str(metrics)
    assert metrics.recall >= 0.95, str(metrics)
    assert metrics.f1 >= 0.975, str(metrics)


def test_records_without_email_or_phone_are_matched_probabilistically() -> None:
    raw, truth = make_population(300, seed=11)
    people = truth.with_row_index("row")
    # Strip every contact detail from one loyalty record of each person who has one, so only
    # name + birth date + address/postcode can attach it to the rest of its person.
    target = people.filter(pl.col("source_system") == "loyalty")["row"].to_list()
    raw = raw.with_row_index("row").with_columns(
        pl.when(pl.col("row").is_in(target)).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("email", "phone")
    )
    records = standardize(raw.drop("row"))
    xref = match_identities(records)
    joined = xref.join(truth, on=["source_system", "source_id"]).join(
        records, on=["source_system", "source_id"]
    )
    # Persons with another record that has a birth date or an address: the evidence that must
    # suffice. (A loyalty record whose only sibling is a name-only lead cannot be linked.)
    matchable = (
        joined.filter(
            (pl.col("source_system") != "loyalty")
            & (pl.col("birth_date").is_not_null() | pl.col("address_line1").is_not_null())
        )
        .select("person_id")
        .unique()
    )
    stripped = joined.filter(pl.col("source_system") == "loyalty").join(matchable, on="person_id")
    assert stripped.height > 50
    # Each such record must share its customer with at least one other record of its person.
    shared = joined.group_by("person_id", "customer_id").len().rename({"len": "together"})
    ok = stripped.join(shared, on=["person_id", "customer_id"]).filter(pl.col("together") > 1)
    assert ok.height / stripped.height >= 0.97
    assert (stripped["match_method"] == "probabilistic").sum() >= 0.95 * stripped.height


def test_household_members_stay_apart() -> None:
    """Same surname and address, different first name and birth date: a family, not a person."""
    base = {"last_name": "Nguyen", "postal_code": "02110", "state": "MA"}
    rows = [
        {**base, "source_system": "shop", "source_id": "1", "first_name": "Linda",
         "birth_date": "1970-05-01", "address_line1": "1 Oak St"},
        {**base, "source_system": "loyalty", "source_id": "1", "first_name": "Linda",
         "birth_date": "1970-05-01", "address_line1": "1 Oak Street"},
        {**base, "source_system": "shop", "source_id": "2", "first_name": "Laura",
         "birth_date": "1998-11-23", "address_line1": "1 Oak St"},
        {**base, "source_system": "loyalty", "source_id": "2", "first_name": "Noah",
         "birth_date": "1968-02-14", "address_line1": "1 Oak St"},
    ]  # fmt: skip
    raw, _ = make_population(200, seed=5)
    records = pl.concat([standardize(raw), _records(rows)], how="diagonal_relaxed")
    xref = match_identities(records)
    ids = {
        (r["source_system"], r["source_id"]): r["customer_id"]
        for r in xref.filter(pl.col("source_id").is_in(["1", "2"])).iter_rows(named=True)
    }
    assert ids[("shop", "1")] == ids[("loyalty", "1")]
    assert len({ids[("shop", "1")], ids[("shop", "2")], ids[("loyalty", "2")]}) == 3


def test_input_containers_and_edge_cases() -> None:
    rows = [
        {"source_system": "shop", "source_id": "1", "email": "a@x.com"},
        {"source_system": "loyalty", "source_id": "1", "email": "A@X.com"},
    ]
    records = _records(rows)
    expected = match_identities(records)
    assert expected["customer_id"].n_unique() == 1
    assert match_identities(records.to_arrow()).equals(expected)
    assert match_identities(records.to_pandas()).equals(expected)
    # Only the keys are required; absent attribute columns are treated as null.
    minimal = match_identities(records.select("source_system", "source_id", "email"))
    assert minimal.equals(expected)
    single = match_identities(records.head(1))
    assert single.row(0) == ("shop", "1", customer_id_for("shop", "1"), "singleton", 1.0)
    empty = match_identities(records.clear())
    assert empty.height == 0 and empty.columns == expected.columns
    with pytest.raises(ValueError, match="share a"):
        match_identities(pl.concat([records, records]))
    with pytest.raises(ValueError, match="lack required"):
        match_identities(records.drop("source_id"))


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def test_evaluate_matches_on_hand_made_clusters() -> None:
    keys = [("shop", str(i)) for i in range(7)]
    truth = pl.DataFrame(
        {
            "source_system": [k[0] for k in keys],
            "source_id": [k[1] for k in keys],
            "person_id": ["p1", "p1", "p1", "p2", "p2", "p3", "p4"],
        }
    )
    # Found: {0,1} {2,3,4} {5} {6} + one record (shop/99) the truth does not know.
    xref = pl.DataFrame(
        {
            "source_system": ["shop"] * 8,
            "source_id": [*(k[1] for k in keys), "99"],
            "customer_id": ["a", "a", "b", "b", "b", "c", "d", "e"],
        }
    )
    metrics = evaluate_matches(xref, truth.vstack(pl.DataFrame(
        {"source_system": ["crm_lead"], "source_id": ["x"], "person_id": ["p9"]}
    )))  # fmt: skip
    # True pairs: C(3,2)+C(2,2) = 4. Found pairs: C(2,2)+C(3,2) = 4.
    # Correct: {0,1} (p1,a) + {3,4} (p2,b) = 2.
    assert (metrics.true_pairs, metrics.found_pairs, metrics.true_positive_pairs) == (4, 4, 2)
    assert metrics.precision == pytest.approx(0.5)
    assert metrics.recall == pytest.approx(0.5)
    assert metrics.f1 == pytest.approx(0.5)
    assert (metrics.true_clusters, metrics.found_clusters, metrics.records) == (4, 4, 7)
    assert (metrics.only_in_xref, metrics.only_in_truth) == (1, 1)
    text = str(metrics)
    assert "precision 0.5000" in text and "F1 0.5000" in text
    assert "clusters: true 4  found 4  over 7 records" in text
    assert "1 only in xref, 1 only in truth" in text


def test_evaluate_matches_perfect_and_degenerate() -> None:
    truth = pd.DataFrame(
        {"source_system": ["a", "a", "b"], "source_id": ["1", "2", "1"], "person_id": [1, 1, 2]}
    )
    perfect = truth.rename(columns={"person_id": "customer_id"})
    metrics = evaluate_matches(perfect, truth)
    assert isinstance(metrics, MatchMetrics)
    assert (metrics.precision, metrics.recall, metrics.f1) == (1.0, 1.0, 1.0)
    # Everything in one cluster: 3 found pairs, 1 correct.
    lumped = perfect.assign(customer_id="x")
    metrics = evaluate_matches(lumped, truth)
    assert metrics.precision == pytest.approx(1 / 3)
    assert metrics.recall == 1.0
    assert metrics.f1 == pytest.approx(0.5)


def test_evaluate_matches_translates_generator_labels_and_refuses_no_overlap() -> None:
    truth = pl.DataFrame(
        {
            "source_system": ["shop.customers", "loyalty.members", "crm.leads"],
            "source_id": ["C1", "L1", "Q1"],
            "person_id": [1, 1, 2],
        }
    )
    xref = pl.DataFrame(
        {
            "source_system": ["shop", "loyalty", "crm_lead"],
            "source_id": ["C1", "L1", "Q1"],
            "customer_id": ["a", "a", "b"],
        }
    )
    metrics = evaluate_matches(xref, truth)
    assert (metrics.records, metrics.f1, metrics.true_pairs) == (3, 1.0, 1)
    with pytest.raises(ValueError, match="share no"):
        evaluate_matches(xref.with_columns(pl.lit("other").alias("source_system")), truth)


# --------------------------------------------------------------------------------------------
# Generator data (project generator; skipped until it exists)
# --------------------------------------------------------------------------------------------


def test_generator_data_quality(lake) -> None:
    """What the build matched (int_customer_identities_unioned -> customer_xref) against the
    generator's truth: the one input evaluation reads."""
    with lake.connect() as con:
        records = con.execute("select * from silver.int_customer_identities_unioned").pl()
        xref = con.execute("select * from silver.customer_xref").pl()
    truth = pl.read_parquet(lake.truth / "identity.parquet")
    # CRM leads are not customer identities of the build (lead_golden resolves them to
    # customers through contacts), so they are the only truth records without a crosswalk row.
    leads = truth.filter(pl.col("source_system") == "crm.leads").height
    metrics = evaluate_matches(xref, truth)
    assert metrics.only_in_xref == 0 and metrics.only_in_truth == leads, str(metrics)
    assert metrics.records == records.height
    assert metrics.records > 3_000
    assert metrics.precision >= 0.99 and metrics.recall >= 0.98, str(metrics)
    assert metrics.f1 >= 0.99, str(metrics)

    # Records without e-mail and phone are linked whenever their person has another record with
    # a birth date or an address to match on.
    truth = truth.with_columns(pl.col("source_system").replace(TRUTH_SOURCE_SYSTEMS))
    joined = records.join(truth, on=["source_system", "source_id"]).join(
        xref, on=["source_system", "source_id"]
    )
    # (A contactless record that has only a name, as support and marketing send, is not
    # expected to find its person.)
    no_contact = joined.filter(
        pl.col("email").is_null()
        & pl.col("phone").is_null()
        & (pl.col("birth_date").is_not_null() | pl.col("address_line1").is_not_null())
    )
    evidence = joined.filter(
        pl.col("birth_date").is_not_null() | pl.col("address_line1").is_not_null()
    ).select(
        "person_id", pl.col("source_id").alias("other_id"), pl.col("source_system").alias("other")
    )
    candidates = (
        no_contact.join(evidence, on="person_id")
        .filter(
            (pl.col("other") != pl.col("source_system"))
            | (pl.col("other_id") != pl.col("source_id"))
        )
        .select("source_system", "source_id", "person_id", "customer_id")
        .unique()
    )
    together = joined.group_by("person_id", "customer_id").len()
    linked = candidates.join(together, on=["person_id", "customer_id"]).filter(pl.col("len") > 1)
    assert candidates.height > 20
    assert linked.height / candidates.height >= 0.98


def test_splink_settings_are_valid(population: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    """Matching skips Splink's settings validation for speed; it runs here, once, on the
    production comparisons and blocking rules, and scores the same pairs."""
    from engagement_lake.mdm.match import _score_pairs, training_blocks

    records, _ = population
    features = matching_features(records)
    settings = MatchSettings()
    blocks = training_blocks(features, settings)
    validated = _score_pairs(features, settings, blocks, validate_settings=True)
    unvalidated = _score_pairs(features, settings, blocks)
    assert validated.height > 100
    assert validated.select("unique_id_l", "unique_id_r").equals(
        unvalidated.select("unique_id_l", "unique_id_r")
    )


def test_the_same_input_is_matched_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """customer clusters and the review table need one matching of the same records: the
    second call reuses the first's result; any changed value is matched afresh."""
    import engagement_lake.mdm.match as match_module

    raw, _ = make_population(60, seed=3)
    records = standardize(raw)
    calls: list[int] = []
    real = match_module._match

    def counting(*args: object, **kwargs: object) -> tuple[pl.DataFrame, pl.DataFrame]:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(match_module, "_match", counting)
    first = match_identities(records)
    review = match_module.match_identities_with_review(records)[1]
    assert len(calls) == 1
    assert first.equals(match_module.match_identities_with_review(records)[0])
    assert review.schema == match_module.REVIEW_SCHEMA
    changed = records.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("Zed"))
        .otherwise(pl.col("first_name"))
        .alias("first_name")
    )
    match_identities(changed)
    assert len(calls) == 2


def test_em_iterates_on_one_thread_over_sorted_pattern_counts(
    population: tuple[pl.DataFrame, pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only EM's iterations sum floating-point numbers: a training pass computes its comparison
    vectors on every thread, counts the agreement patterns sorted by pattern, and iterates on
    one thread. It scores the same pairs as a pass run wholly on one thread, and Splink's
    functions are restored afterwards."""
    import duckdb
    from splink.internals import em_training_session
    from splink.internals import expectation_maximisation as em

    import engagement_lake.mdm.match as match_module
    from engagement_lake.mdm.match import _score_pairs, training_blocks

    records, _ = population
    features = matching_features(records)
    settings = MatchSettings()
    blocks = training_blocks(features, settings)
    vector_threads: list[int] = []
    iteration_threads: list[int] = []
    pattern_sql: list[str] = []
    vectors = em_training_session.EMTrainingSession._comparison_vectors
    iterate = em_training_session.expectation_maximisation

    def threads(db_api: Any) -> int:
        sql = "select current_setting('threads')"
        return int(db_api._execute_sql_against_backend(sql).fetchone()[0])

    def spy_vectors(session: Any) -> Any:
        vector_threads.append(threads(session.db_api))
        return vectors(session)

    def spy_iterations(*args: Any, **kwargs: Any) -> Any:
        iteration_threads.append(threads(kwargs["db_api"]))
        comparisons = kwargs["core_model_settings"].comparisons
        pattern_sql.append(em.count_agreement_patterns_sql(comparisons))
        return iterate(*args, **kwargs)

    monkeypatch.setattr(em_training_session.EMTrainingSession, "_comparison_vectors", spy_vectors)
    monkeypatch.setattr(em_training_session, "expectation_maximisation", spy_iterations)
    count_patterns = em.count_agreement_patterns_sql
    parallel = _score_pairs(features, settings, blocks)

    assert em_training_session.expectation_maximisation is spy_iterations
    assert em.count_agreement_patterns_sql is count_patterns
    assert len(blocks) > 1 and len(iteration_threads) == len(blocks)
    assert set(iteration_threads) == {1}
    all_threads = duckdb.connect().execute("select current_setting('threads')").fetchone()[0]
    assert vector_threads == [all_threads] * len(blocks)
    assert all("order by gamma_" in sql for sql in pattern_sql)

    @contextmanager
    def whole_pass_on_one_thread(scoring: Any) -> Iterator[None]:
        scoring.con.execute("SET threads = 1")
        yield
        scoring.con.execute("RESET threads")

    monkeypatch.setattr(match_module._DuckDBScoring, "single_threaded", whole_pass_on_one_thread)
    assert parallel.height > 100
    assert _score_pairs(features, settings, blocks).equals(parallel)


# --------------------------------------------------------------------------------------------
# The trained matcher kept between builds (silver.customer_match_model)
# --------------------------------------------------------------------------------------------


def test_scoring_with_trained_m_on_the_same_records_equals_training_in_place(
    population: tuple[pl.DataFrame, pl.DataFrame], population_xref: pl.DataFrame
) -> None:
    """m learnt once and applied is exactly what EM in place gives: u and the prior are
    estimated the same way either way, and EM does not touch them. An empty model is no model."""
    from engagement_lake.mdm.match import MODEL_SCHEMA, train_match_model

    records, _ = population
    trained = train_match_model(records)
    assert trained.schema == pl.Schema(MODEL_SCHEMA)
    assert trained["comparison"].n_unique() >= 6
    assert trained["m_probability"].is_between(0, 1).all()
    crosswalk, review = match_identities_with_review(records, trained=trained)
    assert crosswalk.equals(population_xref)
    assert review.equals(match_identities_with_review(records)[1])
    # an empty table (nothing had landed by the training date) means EM learns in place
    assert match_identities_with_review(records, trained=trained.clear())[0].equals(population_xref)


def test_trained_m_decide_the_scores() -> None:
    """The m given are the m used: m learnt on other people score the same pairs differently,
    and a model lacking a level is refused by name."""
    from engagement_lake.mdm.match import _score_pairs, train_match_model

    records = standardize(make_population(120, seed=11)[0])
    own = train_match_model(records)
    foreign = train_match_model(standardize(make_population(120, seed=12)[0]))
    assert not own["m_probability"].equals(foreign["m_probability"])
    features = matching_features(records)
    settings = MatchSettings()
    with_own = _score_pairs(features, settings, [], trained=own)
    with_foreign = _score_pairs(features, settings, [], trained=foreign)
    assert with_own.height > 50
    assert not with_foreign["match_weight"].equals(with_own["match_weight"])
    lacking = own.filter(
        ~((pl.col("comparison") == "birth_date") & (pl.col("comparison_vector_value") == 1))
    )
    with pytest.raises(ValueError, match="no m-probability for birth_date level 1"):
        _score_pairs(features, settings, [], trained=lacking)


def test_the_matcher_table_is_reused_for_the_same_training_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """customer_match_model learns once per training input: the same records (in any order,
    whatever their non-matching columns) reuse the previous rows without EM; a changed
    matching value learns again."""
    import engagement_lake.mdm.training as training_module
    from engagement_lake.mdm.training import TABLE_SCHEMA, customer_match_model

    records = standardize(make_population(80, seed=5)[0]).with_columns(
        pl.lit(dt.date(2026, 6, 30)).alias("trained_through")
    )
    first = customer_match_model(records)
    assert first.schema == pl.Schema(TABLE_SCHEMA)
    assert first["trained_through"].unique().to_list() == [dt.date(2026, 6, 30)]
    assert first["training_records"].unique().to_list() == [records.height]
    assert first["training_fingerprint"].n_unique() == 1

    calls: list[int] = []
    real = training_module.train_match_model

    def counting(*args: Any, **kwargs: Any) -> pl.DataFrame:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(training_module, "train_match_model", counting)
    shuffled = records.sample(fraction=1.0, shuffle=True, seed=1).with_columns(
        pl.lit("Gold").alias("loyalty_tier")
    )
    assert customer_match_model(shuffled, previous=first).equals(first)
    assert calls == []

    moved = records.with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.lit("99 Elsewhere Road"))
        .otherwise(pl.col("address_line1"))
        .alias("address_line1")
    )
    relearnt = customer_match_model(moved, previous=first)
    assert calls == [1]
    assert relearnt["training_fingerprint"][0] != first["training_fingerprint"][0]
    # a previous table of another fingerprint is replaced whole, never mixed
    assert relearnt["training_fingerprint"].n_unique() == 1
