"""Identity noise of the generator, and the matcher against each kind of it.

The noise functions are tested on their own (each changes what it says and nothing else), the
levels are tested as declared, and for every kind of noise the matcher gets a small fixture: a
record garbled that way must still join its person, and a look-alike who is somebody else (a
twin, a household member) must stay apart. The background population comes from test_mdm, so
u-probabilities and term frequencies are estimated from a realistic crowd.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from engagement_lake.config import NOISE_LEVELS
from engagement_lake.generate import identity
from engagement_lake.mdm import match_identities
from engagement_lake.mdm.cluster import names_compatible
from engagement_lake.mdm.evaluate import (
    metrics_by_noise,
    metrics_by_source_pair,
    name_parsing,
    related_people_merged,
)
from test_mdm import _records, make_population, standardize

# --------------------------------------------------------------------------------------------
# Noise functions
# --------------------------------------------------------------------------------------------

NAMES = pl.Series(["Margaret", "Jonathan", "Christina", "Bernard", "Al", "Dominic", None])


def _rng() -> np.random.Generator:
    return np.random.default_rng(3)


def test_keyboard_typo_replaces_one_letter_by_a_neighbouring_key() -> None:
    out, hit = identity.keyboard_typo(_rng(), NAMES, 1.0)
    for before, after, h in zip(NAMES.to_list(), out.to_list(), hit, strict=True):
        if not h:
            assert after == before
            continue
        diff = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
        assert len(diff) == 1, (before, after)
        assert diff[0][1] in identity.KEY_NEIGHBOURS[diff[0][0]]
    assert hit[:4].all() and not hit[-1]


def test_ocr_typo_applies_one_known_confusion() -> None:
    names = pl.Series(["Bernard", "Claudia", "Emily", "Xyz"])
    out, hit = identity.ocr_typo(_rng(), names, 1.0)
    assert hit.tolist() == [True, True, True, False]
    for before, after in zip(names.to_list()[:3], out.to_list()[:3], strict=True):
        assert after != before and after[0] == before[0]
        assert any(after[1:] == before[1:].replace(a, b, 1) for a, b in identity.OCR_CONFUSIONS), (
            before,
            after,
        )
    assert out[3] == "Xyz"


def test_initials_and_nicknames() -> None:
    out, hit = identity.initials(_rng(), NAMES, 1.0)
    assert all(o in (n[0], n[0] + ".") for n, o in zip(NAMES[:6], out[:6], strict=True))
    assert not hit[-1] and out[-1] is None
    nick, hit = identity.nicknames(_rng(), pl.Series(["Robert", "Zebulon"]), 1.0)
    assert nick[0] != "Robert" and hit.tolist() == [True, False] and nick[1] == "Zebulon"


def test_transposed_dates_are_valid_other_dates() -> None:
    dates = [dt.date(1974, 3, 12), dt.date(1974, 5, 13), dt.date(1947, 8, 23), dt.date(1966, 4, 30)]
    days = np.array([(d - dt.date(1970, 1, 1)).days for d in dates])
    out, hit = identity.transposed_dates(_rng(), days, 1.0)
    got = [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in out]
    assert got[0] == dt.date(1974, 12, 3)  # day and month swapped
    assert got[1] == dt.date(1947, 5, 13)  # year digits, only ever earlier
    assert got[2] == dt.date(1947, 8, 23) and not hit[2]  # 1974 would be later; 32 no day
    assert got[3] == dt.date(1966, 4, 30) and not hit[3]  # 03 is no transposition of 30
    assert hit.tolist() == [True, True, False, False]


def test_levels_scale_every_rate() -> None:
    assert identity.NOISE_LEVELS == NOISE_LEVELS
    for system, realistic in identity.PROFILES.items():
        clean = identity.profile(system, "clean")
        hard = identity.profile(system, "hard")
        assert identity.profile(system) is realistic
        for rate in identity.NOISE_RATES:
            assert getattr(clean, rate) == 0.0
            assert getattr(hard, rate) >= getattr(realistic, rate)
        assert clean.duplicate == realistic.duplicate
        assert hard.no_contact >= identity.HARD_MIN_NO_CONTACT
        # every system sends records without e-mail and phone at the default level
        assert realistic.no_contact > 0
    with pytest.raises(ValueError, match="identity noise 'noisy'"):
        identity.profile("shop.customers", "noisy")


def test_first_name_compatibility() -> None:
    def ok(a: str, b: str) -> bool:
        return names_compatible(a, b, frozenset({a}), frozenset({b}))

    assert ok("JONATHAN", "JONAHTAN") and ok("MARGARET", "MARGRAET") and ok("J", "JOHN")
    assert ok("BERNARD", "BEMARD") and ok("CHRIS", "CHRISTINA")
    assert not ok("HAROLD", "JEFFREY") and not ok("ANNA", "EMMA") and not ok("J", "MARY")
    assert names_compatible("BOB", "ROBERT", frozenset({"BOB", "ROBERT"}), frozenset({"ROBERT"}))


# --------------------------------------------------------------------------------------------
# The matcher against each kind of noise: a pair that must match, a pair that must not
# --------------------------------------------------------------------------------------------

PERSON = {
    "first_name": "Jonathan",
    "last_name": "Whitacre",
    "birth_date": "1971-03-12",
    "address_line1": "4417 Juniper Ave",
    "city": "Boston",
    "state": "MA",
    "postal_code": "02118",
}
TWIN = {**PERSON, "first_name": "Harold"}
PARTNER = {**PERSON, "first_name": "Maria", "birth_date": "1975-09-02"}


@pytest.fixture(scope="module")
def crowd() -> pl.DataFrame:
    raw, _ = make_population(250, seed=19)
    return standardize(raw)


def _customer_ids(crowd: pl.DataFrame, rows: list[dict[str, object]]) -> dict[str, str]:
    records = pl.concat([crowd, _records(rows)], how="diagonal_relaxed")
    xref = match_identities(records).filter(pl.col("source_system") == "test")
    return dict(zip(xref["source_id"], xref["customer_id"], strict=True))


#: Per kind: the person's surname, and what the garbled record shows instead of the clean one.
CASES: dict[str, tuple[str, dict[str, object]]] = {
    "typo": ("Whitacre", {"first_name": "Jonahtan"}),
    "keyboard": ("Ashdown", {"last_name": "Ashdpwn"}),  # o -> p, a neighbouring key
    "ocr": ("Pellegrino", {"last_name": "Pellegnno"}),  # ri -> n
    "nickname": ("Okonkwo", {"first_name": "Jon"}),
    "initial": ("Lindqvist", {"first_name": "J."}),
    "swapped": ("Castellano", {"first_name": "Castellano", "last_name": "Jonathan"}),
    "dob_transposed": ("Brannigan", {"birth_date": "1971-12-03"}),  # day and month
    "missing_birth": ("Vasquez", {"birth_date": None}),
    "missing_first": ("Thornbury", {"first_name": None}),
    "stale_address": ("Kowalczyk", {"address_line1": "12 Cedar Rd", "postal_code": "02130"}),
}


@pytest.fixture(scope="module")
def garbled_ids(crowd: pl.DataFrame) -> dict[str, str]:
    """One matching run: per kind, a person (clean record + garbled record) and a twin."""
    rows: list[dict[str, object]] = []
    for i, (kind, (surname, garbled)) in enumerate(sorted(CASES.items())):
        person = {**PERSON, "last_name": surname, "address_line1": f"{100 + i} Juniper Ave"}
        rows += [
            {**person, "source_system": "test", "source_id": f"{kind}:clean"},
            {**person, **garbled, "source_system": "test", "source_id": f"{kind}:garbled"},
            {
                **person,
                "first_name": "Harold",
                "source_system": "test",
                "source_id": f"{kind}:twin",
            },
        ]
    return _customer_ids(crowd, rows)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_noise_kind_still_matches_and_a_twin_stays_apart(
    garbled_ids: dict[str, str], kind: str
) -> None:
    ids = garbled_ids
    assert ids[f"{kind}:clean"] == ids[f"{kind}:garbled"], kind
    assert ids[f"{kind}:twin"] != ids[f"{kind}:clean"], kind


def test_a_record_without_a_first_name_cannot_merge_twins(crowd: pl.DataFrame) -> None:
    """Each twin has a full record with an e-mail; a name-less record fits both. One of them
    takes it; the twins stay two customers."""
    rows = [
        {**PERSON, "source_system": "test", "source_id": "a", "email": "jw@example.com"},
        {**PERSON, "source_system": "test", "source_id": "a2", "email": "jw@example.com",
         "first_name": "Jon"},
        {**TWIN, "source_system": "test", "source_id": "b", "email": "hw@example.com"},
        {**TWIN, "source_system": "test", "source_id": "b2", "email": "hw@example.com"},
        {**PERSON, "source_system": "test", "source_id": "nameless", "first_name": None},
        {**PARTNER, "source_system": "test", "source_id": "partner"},
    ]  # fmt: skip
    ids = _customer_ids(crowd, rows)
    assert ids["a"] == ids["a2"] and ids["b"] == ids["b2"]
    assert ids["a"] != ids["b"]
    assert ids["nameless"] in (ids["a"], ids["b"])
    assert ids["partner"] not in (ids["a"], ids["b"])


# --------------------------------------------------------------------------------------------
# Evaluation breakdowns, on hand-counted clusters
# --------------------------------------------------------------------------------------------


def _truth() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source_system": ["shop", "shop", "loyalty", "loyalty", "shop", "loyalty"],
            "source_id": ["1", "2", "1", "2", "3", "3"],
            "person_id": [1, 1, 1, 2, 3, 3],
            "noise": [[], ["typo"], ["typo", "initial"], [], ["last_first"], []],
            "given_name": ["Ann", "Anm", "A.", "Bo", "Cy", "Cy"],
            "family_name": ["Lee", "Lee", "Lee", "Ray", "Orr", "Orr"],
        }
    )


def test_breakdowns_count_pairs_by_noise_and_by_source_pair() -> None:
    # person 1 (3 records) split 2+1; person 2 wrongly joined with person 3's loyalty record
    xref = pl.DataFrame(
        {
            "source_system": ["shop", "shop", "loyalty", "loyalty", "shop", "loyalty"],
            "source_id": ["1", "2", "1", "2", "3", "3"],
            "customer_id": ["A", "A", "B", "C", "D", "C"],
        }
    )
    by_noise = {r["noise"]: r for r in metrics_by_noise(xref, _truth()).iter_rows(named=True)}
    # typo records: shop/2 and loyalty/1 -> true pairs touching them: all 3 pairs of person 1
    assert by_noise["typo"]["true_pairs"] == 3 and by_noise["typo"]["found_pairs"] == 1
    assert by_noise["typo"]["recall"] == pytest.approx(1 / 3)
    assert by_noise["initial"]["true_pairs"] == 2 and by_noise["initial"]["found_pairs"] == 0
    assert by_noise["last_first"]["true_pairs"] == 1 and by_noise["last_first"]["recall"] == 0
    pairs = {
        (r["source_l"], r["source_r"]): r
        for r in metrics_by_source_pair(xref, _truth()).iter_rows(named=True)
    }
    assert pairs[("loyalty", "shop")]["true_pairs"] == 3  # (1,l1) (2,l1) (3,l3)
    assert pairs[("loyalty", "shop")]["found_pairs"] == 0
    assert pairs[("shop", "shop")]["precision"] == 1.0 and pairs[("shop", "shop")]["recall"] == 1.0
    assert pairs[("loyalty", "loyalty")]["true_pairs"] == 0
    assert pairs[("loyalty", "loyalty")]["precision"] == 0.0
    people = pl.DataFrame(
        {"person_id": [1, 2, 3], "twin_of": [None, None, 2], "household_of": [None, 1, None]}
    )
    related = {r["relation"]: r for r in related_people_merged(xref, _truth(), people).to_dicts()}
    assert related["twins"] == {"relation": "twins", "pairs": 1, "merged": 1}
    assert related["household"]["merged"] == 0


def test_name_parsing_compares_with_what_was_written() -> None:
    parsed = pl.DataFrame(
        {
            "source_system": ["shop", "shop", "loyalty"],
            "source_id": ["3", "1", "3"],
            "first_name": ["cy ", "Ann", "Orr"],
            "last_name": ["ORR", "Lee", "Cy"],
        }
    )
    result = {r["style"]: r for r in name_parsing(parsed, _truth()).iter_rows(named=True)}
    assert result["last_first"]["records"] == 1 and result["last_first"]["share_correct"] == 1.0
    assert result["first_last"]["records"] == 2 and result["first_last"]["correct"] == 1


# --------------------------------------------------------------------------------------------
# The generator: levels recorded and kept, truth that says what was done, twins that are twins
# --------------------------------------------------------------------------------------------


def test_session_lake_twins_households_and_truth(lake) -> None:
    """The default (realistic) lake: twins are real twins, the truth's noise labels agree with
    bronze, and the build keeps twins apart and parses every "Last, First" name."""
    import json

    import duckdb

    from engagement_lake.mdm.evaluate import evaluate_lake

    assert json.loads((lake.truth / "manifest.json").read_text())["identity_noise"] == "realistic"
    people = pl.read_parquet(lake.truth / "people.parquet")
    twins = people.filter(pl.col("twin_of").is_not_null()).join(
        people, left_on="twin_of", right_on="person_id", suffix="_twin"
    )
    assert twins.height >= 5
    for col in ("last_name", "birth_date", "street_name", "street_number", "zip"):
        assert (twins[col] == twins[f"{col}_twin"]).all(), col
    assert (twins["first_name"] != twins["first_name_twin"]).all()
    household = people.filter(pl.col("household_of").is_not_null()).join(
        people, left_on="household_of", right_on="person_id", suffix="_other"
    )
    assert (household["zip"] == household["zip_other"]).all() and household.height > 50

    truth = pl.read_parquet(lake.truth / "identity.parquet")
    shop = duckdb.sql(
        f"select customer_id, email, phone, first_name from read_parquet("
        f"'{lake.cfg.data_dir}/bronze/shop/customers/*/*.parquet')"
    ).pl()
    labelled = truth.filter(pl.col("source_system") == "shop.customers").join(
        shop, left_on="source_id", right_on="customer_id"
    )
    contactless = labelled.filter(pl.col("noise").list.contains("no_contact"))
    assert contactless.height > 0
    assert contactless["email"].is_null().all() and contactless["phone"].is_null().all()
    initial = labelled.filter(pl.col("noise").list.contains("initial"))
    assert (initial["first_name"].str.strip_chars().str.len_chars() <= 2).all()

    with lake.connect() as con:
        result = evaluate_lake(lake.truth, con)
    related = {r["relation"]: r for r in result.related.iter_rows(named=True)}
    assert related["twins"]["pairs"] >= 5 and related["twins"]["merged"] == 0
    names = {r["style"]: r for r in result.names.iter_rows(named=True)}
    assert names["last_first"]["records"] > 10
    assert names["last_first"]["share_correct"] >= 0.99
    assert result.by_source_pair.height >= 10
    assert set(result.by_noise["noise"]) >= {"typo", "nickname", "no_contact", "(none)"}


def test_clean_level_is_clean_and_daily_loads_keep_it(tmp_path) -> None:
    import json

    from engagement_lake.generate import generate, generate_day

    data = tmp_path / "clean"
    generate(data, scale=0.005, identity_noise="clean", progress=False)
    manifest = json.loads((data / "_truth" / "manifest.json").read_text())
    assert manifest["identity_noise"] == "clean"
    generate_day(data, dt.date(2026, 7, 1), progress=False)
    truth = pl.read_parquet(data / "_truth" / "identity.parquet")
    assert truth.height > 500
    assert truth["noise"].list.len().fill_null(0).max() == 0
    import duckdb

    shop = duckdb.sql(
        f"select email, phone from read_parquet('{data}/bronze/shop/customers/*/*.parquet')"
    ).pl()
    assert shop["email"].null_count() == 0 and shop["phone"].null_count() == 0
    assert (shop["email"] == shop["email"].str.to_lowercase()).all()
    assert shop["phone"].str.starts_with("+1").all()
    with pytest.raises(ValueError, match="identity noise"):
        generate(tmp_path / "bad", scale=0.005, identity_noise="noisy", progress=False)
    assert not (tmp_path / "bad" / "bronze").exists()


def test_whether_names_decide_is_measured_from_the_data(crowd: pl.DataFrame) -> None:
    """Sources that keep names (contact-linked pairs rarely disagree on the first name): a
    different first name keeps a look-alike apart. Without e-mail or phone to measure on (the
    Febrl shape, where names are replaced wholesale), the same pair is one person."""
    from engagement_lake.mdm.cluster import name_replacement_rate
    from engagement_lake.mdm.match import deterministic_edges, matching_features

    features = matching_features(crowd)
    linked = [deterministic_edges(features, key, 12) for key in ("email", "phone")]
    rate = name_replacement_rate(features, linked, 100)
    assert rate is not None and rate < 0.01
    assert name_replacement_rate(features, linked, 10**9) is None
    rows = [
        {**PERSON, "source_system": "test", "source_id": "a"},
        {**PERSON, "first_name": "Harold", "source_system": "test", "source_id": "b"},
    ]
    kept = _customer_ids(crowd, rows)
    assert kept["a"] != kept["b"]
    no_contacts = crowd.with_columns(email=pl.lit(None, pl.String), phone=pl.lit(None, pl.String))
    replaced = _customer_ids(no_contacts, rows)
    assert replaced["a"] == replaced["b"]
