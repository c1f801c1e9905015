"""Customer identity matching: source records -> golden ``customer_id`` crosswalk.

Pipeline:

1. **Normalise** every record into matching keys (:mod:`engagement_lake.mdm.normalize`).
2. **Deterministic rules**: records sharing a normalised e-mail, or an E.164 phone, are the same
   customer. A key value carried by implausibly many records (a shop's placeholder address, a
   switchboard number) identifies nobody and is ignored, so one junk value cannot fuse hundreds
   of people into a single customer. These rules are accelerators: the probabilistic model
   does not depend on them.
3. **Probabilistic matching** with Splink 5 (Fellegi-Sunter) on first name (exact with term
   frequencies, swapped with the last name, nickname, one typo, Jaro-Winkler, initial), last name
   (exact with term frequencies, one typo, Jaro-Winkler), birth date (exact, one digit or two
   transposed digits, day/month swapped, within a month, two digits), location (street line,
   house number, postcode, city with term frequencies, state as one comparison, so a
   household's shared address is not counted several times), e-mail and phone. A value missing
   on either side is a null level: no evidence, never a disagreement. Candidate pairs come only
   from blocking rules on selective key combinations (:data:`PREDICTION_BLOCKS`), so cost grows
   with the number of records times bounded block sizes, never with all pairs. Every parameter
   is estimated from data: the prior (probability that two random records match) from
   :data:`PRIOR_RULES` and a stated recall and u from a seeded random sample, on the records at
   hand; m by expectation maximisation over the passes of :data:`TRAINING_BLOCKS` that the
   fields present support, on the records at hand or, given ``trained``, once on an earlier set
   (:func:`train_match_model`; the build keeps it in ``silver.customer_match_model``, see
   :mod:`engagement_lake.mdm.training`).
4. **Clustering** (:mod:`engagement_lake.mdm.cluster`): steward must-links, deterministic
   edges, then phone and probabilistic edges whose match weight reaches
   :attr:`MatchSettings.threshold_weight` and that some agreement besides the name corroborates
   (:data:`~engagement_lake.mdm.model.CORROBORATING`), strongest first, refusing a pair that
   would put two people in one customer (look-alikes such as twins; steward cannot-links).
   :func:`probabilistic_edges` also returns the borderline pairs scored from
   :attr:`MatchSettings.review_weight` up to the threshold; they are not merged.

Everything is deterministic for the same input, bit for bit: records are sorted by
(source_system, source_id) before numbering, sampling is seeded, EM iterates on one thread over
agreement-pattern counts sorted by pattern, the trained parameters are rounded to
:data:`PARAMETER_DIGITS` significant digits before scoring, and customer ids are content hashes.

Engines. Step 3, the one whose cost grows with the number of candidate pairs, runs on DuckDB in
the process, or on Spark when a Spark session is given (``spark=``: Splink's Spark backend, the
same model spelled in Spark SQL by :func:`~engagement_lake.mdm.model.comparisons`). The records,
their features, the deterministic rules and the clustering stay on the driver: they are linear
in the number of records. On Spark the EM sums run in parallel, so the model is reproducible
to the rounding of those sums rather than to the bit.

The model itself (comparisons, blocking, training passes, prior rules) is in
:mod:`engagement_lake.mdm.model`; clustering in :mod:`engagement_lake.mdm.cluster`. Measured
figures are in docs/benchmarks.md ("Master data matching").
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import polars as pl

from engagement_lake.mdm.cluster import guarded_components, name_replacement_rate
from engagement_lake.mdm.model import (
    PREDICTION_BLOCKS,
    PRIOR_CAP,
    _present,
    comparisons,
    corroborated,
    prior_rules,
    training_blocks,
)
from engagement_lake.mdm.normalize import (
    IDENTITY_COLUMNS,
    address_key_expr,
    canonical_first_name_expr,
    email_key_expr,
    first_name_key_expr,
    first_name_variants_expr,
    house_number_expr,
    name_key_expr,
    parse_date_expr,
    phone_e164_expr,
    postal_code_expr,
    soundex_expr,
    state_code_expr,
)

logger = logging.getLogger(__name__)

#: Values of ``match_method`` in the crosswalk, strongest evidence first. A record is labelled
#: with the strongest kind of edge that attaches it to another record of its cluster.
MATCH_METHODS: tuple[str, ...] = (
    "steward",
    "deterministic_email",
    "deterministic_phone",
    "probabilistic",
    "singleton",
)

#: Kinds of steward override (seeds/mdm/match_overrides.csv): ``must_link`` puts two records in
#: one customer whatever the matcher says; ``cannot_link`` keeps them in different customers
#: even when rules or the model would join them (the weakest joining evidence gives way).
OVERRIDE_RULES: tuple[str, ...] = ("must_link", "cannot_link")
OVERRIDE_COLUMNS: tuple[str, ...] = (
    "rule",
    "source_system_l",
    "source_id_l",
    "source_system_r",
    "source_id_r",
)

REVIEW_SCHEMA: dict[str, Any] = {
    "source_system_l": pl.String,
    "source_id_l": pl.String,
    "source_system_r": pl.String,
    "source_id_r": pl.String,
    "match_weight": pl.Float64,
    "match_probability": pl.Float64,
    "reason": pl.String,
}

XREF_SCHEMA: dict[str, Any] = {
    "source_system": pl.String,
    "source_id": pl.String,
    "customer_id": pl.String,
    "match_method": pl.String,
    "match_probability": pl.Float64,
}


@dataclass(frozen=True)
class MatchSettings:
    """Settings of :func:`match_identities`; the defaults are the production values.

    Attributes:
        threshold_weight: minimum match weight (log2 of the posterior odds that a pair is one
            person, prior included) for a probabilistic edge to join clusters. 1.0 means odds of
            at least 2 to 1 (match probability 0.667): the pair is more likely one person than
            two, by a margin. Because the prior and every m and u are estimated from the data at
            hand, the weight means the same on any source; it is not tuned per data set. The
            figures in docs/benchmarks.md (Febrl 1, 2, 4 and the project generator) are all
            measured with this one value.
        review_weight: :func:`probabilistic_edges` returns pairs from this weight up; those
            below ``threshold_weight`` are borderline (odds between 1:4 and 2:1) and not merged.
        prior_recall: share of true matches the :data:`PRIOR_RULES` are assumed to find; the
            prior (probability that two random records match) is their pair count divided by
            this, over all pairs.
        max_records_per_key: an e-mail or phone shared by more records than this is treated as
            non-identifying (placeholder, shared inbox, switchboard) by the deterministic rules.
        u_max_pairs: record pairs sampled to estimate u-probabilities. Exact agreement on
            names and city is weighed by term frequencies rather than by these samples; on the
            Febrl benchmarks 2e5, 3e5 and 6e5 pairs gave the same cluster F1 to within 0.0005.
        min_em_pairs, max_em_pairs: an EM training pass runs only on a number of blocked
            pairs between these bounds (too few to learn from, or too costly).
        em_max_iterations: EM iterations per pass.
        max_name_replacement: when at most this share of the record pairs sharing an e-mail
            or phone have clearly different first names, the sources keep names, and clustering
            treats clearly different first names as different people (see
            :mod:`engagement_lake.mdm.cluster`). Our generator keeps names (mistyped,
            abbreviated: docs/benchmarks.md gives the measured share per noise level); in the
            Febrl benchmarks about one true pair in twelve has a replaced first name, and they
            have no e-mail or phone to measure it on.
        min_name_evidence_pairs: fewer such pairs than this, and the share is not estimated
            (names then separate people only where contact details contradict).
        seed: seed for u sampling (the only random step).
    """

    threshold_weight: float = 1.0
    review_weight: float = -2.0
    prior_recall: float = 0.8
    max_records_per_key: int = 12
    u_max_pairs: float = 2e5
    min_em_pairs: int = 200
    max_em_pairs: int = 5_000_000
    em_max_iterations: int = 20
    max_name_replacement: float = 0.03
    min_name_evidence_pairs: int = 100
    seed: int = 42


# --------------------------------------------------------------------------------------------
# Input handling and features
# --------------------------------------------------------------------------------------------


def _to_polars(records: Any) -> pl.DataFrame:
    """Accept polars, pyarrow or pandas input (anything ``pl.DataFrame``/``pl.from_*`` takes)."""
    if isinstance(records, pl.DataFrame):
        return records
    if isinstance(records, pl.LazyFrame):
        return records.collect()
    import pyarrow as pa

    if isinstance(records, (pa.Table, pa.RecordBatch)):
        return pl.from_arrow(records)  # type: ignore[return-value]
    if type(records).__module__.startswith("pandas"):
        return pl.from_pandas(records)
    return pl.DataFrame(records)


def _prepare_input(records: Any) -> pl.DataFrame:
    """Validate, complete and sort the input so the numbering of records is reproducible."""
    frame = _to_polars(records)
    missing_keys = [c for c in ("source_system", "source_id") if c not in frame.columns]
    if missing_keys:
        raise ValueError(f"records lack required column(s): {', '.join(missing_keys)}")
    frame = frame.with_columns(
        [pl.lit(None, dtype=pl.String).alias(c) for c in IDENTITY_COLUMNS if c not in frame.columns]
    )
    frame = frame.with_columns(
        pl.col("source_system").cast(pl.String), pl.col("source_id").cast(pl.String)
    )
    if frame.select(pl.any_horizontal(pl.col("source_system", "source_id").is_null()).any()).item():
        raise ValueError("source_system and source_id must not be null")
    duplicated = frame.select(pl.struct("source_system", "source_id").is_duplicated().sum()).item()
    if duplicated:
        raise ValueError(f"{duplicated} records share a (source_system, source_id) with another")
    return frame.sort("source_system", "source_id")


def _birth_date_expr(dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Date:
        return pl.col("birth_date")
    if dtype.is_temporal():
        return pl.col("birth_date").cast(pl.Date)
    return parse_date_expr("birth_date")


def matching_features(records: pl.DataFrame) -> pl.DataFrame:
    """Matching keys for each record, numbered ``unique_id`` 0..n-1 in input order.

    The columns are what the deterministic rules join on and what Splink compares: ``email``
    (plus-tags and domain typos removed), ``phone`` (E.164),
    ``fn``/``fn_canon``/``fn_names`` (first name letters / with unambiguous nicknames resolved /
    with every name a nickname may stand for), ``ln`` (last name letters),
    ``ln_sdx`` (Soundex of ``ln``), ``dob`` and ``dob_year``, ``zip`` and ``zip3``, ``addr``
    (USPS-abbreviated street line) and ``house_no``, ``state``.
    """
    dob = _birth_date_expr(records.schema["birth_date"])
    features = records.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("unique_id"),
        email_key_expr("email").alias("email"),
        phone_e164_expr("phone").alias("phone"),
        first_name_key_expr("first_name").alias("fn"),
        canonical_first_name_expr("first_name").alias("fn_canon"),
        first_name_variants_expr("first_name").alias("fn_names"),
        name_key_expr("last_name").alias("ln"),
        dob.alias("dob"),
        postal_code_expr("postal_code").alias("zip"),
        address_key_expr("address_line1").alias("addr"),
        name_key_expr("city").alias("city"),
        state_code_expr("state").alias("state"),
    )
    return features.with_columns(
        soundex_expr("ln").alias("ln_sdx"),
        soundex_expr("fn").alias("fn_sdx"),
        pl.col("dob").dt.year().alias("dob_year"),
        pl.col("dob").dt.strftime("%Y%m%d").alias("dob_s"),
        pl.col("zip").str.slice(0, 3).alias("zip3"),
        house_number_expr("addr").alias("house_no"),
    )


# --------------------------------------------------------------------------------------------
# Deterministic rules
# --------------------------------------------------------------------------------------------


def deterministic_edges(features: pl.DataFrame, key: str, max_records_per_key: int) -> pl.DataFrame:
    """Edges joining every record to the first record that shares its ``key`` value.

    A star per key value is enough for connected components and keeps the edge count linear.
    Key values shared by more than ``max_records_per_key`` records are skipped as
    non-identifying.
    """
    keyed = features.select("unique_id", key).drop_nulls(key)
    groups = keyed.group_by(key).agg(
        pl.col("unique_id").min().alias("root"), pl.len().alias("size")
    )
    usable = groups.filter((pl.col("size") > 1) & (pl.col("size") <= max_records_per_key))
    skipped = groups.filter(pl.col("size") > max_records_per_key)
    if skipped.height:
        logger.info(
            "ignoring %d %s value(s) shared by more than %d records",
            skipped.height,
            key,
            max_records_per_key,
        )
    return (
        keyed.join(usable.select(key, "root"), on=key)
        .filter(pl.col("unique_id") != pl.col("root"))
        .select(
            pl.col("root").alias("unique_id_l"),
            pl.col("unique_id").alias("unique_id_r"),
        )
        .sort("unique_id_l", "unique_id_r")
    )


def match_weight_to_probability(weight: float) -> float:
    """Posterior match probability of a match weight (log2 of the posterior odds)."""
    return 2.0**weight / (1.0 + 2.0**weight)


class _EMPassRefused(Exception):
    """Splink refused an EM pass (an m underflowing to 0); the model must be rebuilt without it."""

    def __init__(self, block: tuple[str, ...]) -> None:
        super().__init__(block)
        self.block = block


# Significant digits kept of every trained parameter (m, u, the prior). Splink builds part of its
# SQL from Python sets, whose order follows the interpreter's string hashing (PYTHONHASHSEED), so
# the order of the pairs EM sums, and with it the last bits of each m, varied from one process to
# the next: two builds of the same bronze gave match weights one unit in the last place apart.
# Twelve digits is far below anything the data can estimate and far above that noise.
PARAMETER_DIGITS = 12


def _round_parameters(linker: Any) -> None:
    """Round the linker's trained m and u probabilities and its prior in place."""

    def rounded(value: Any) -> Any:
        return float(f"{value:.{PARAMETER_DIGITS}g}") if isinstance(value, float) else value

    settings = linker._settings_obj
    for comparison in settings.comparisons:
        for level in comparison.comparison_levels:
            if level.is_null_level:
                continue
            level.m_probability = rounded(level._m_probability)
            level.u_probability = rounded(level._u_probability)
    settings._probability_two_random_records_match = rounded(
        settings._probability_two_random_records_match
    )


def probabilistic_edges(
    features: pl.DataFrame,
    settings: MatchSettings,
    spark: Any = None,
    trained: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Score blocked candidate pairs with Splink; return those at or above the review weight.

    The prior comes from :data:`PRIOR_RULES` with the stated recall (Splink's
    ``estimate_probability_two_random_records_match``) and u from a seeded random sample, both
    on the records at hand. m comes from ``trained`` (:func:`train_match_model`, in the layout
    of :data:`MODEL_SCHEMA`) when given, else by EM over the passes of :func:`training_blocks`
    on these records. With a Spark session in ``spark`` the pairs are scored there.
    """
    if trained is not None:
        return _score_pairs(features, settings, [], spark=spark, trained=trained)
    em_blocks = training_blocks(features, settings)
    while True:
        try:
            return _score_pairs(features, settings, em_blocks, spark=spark)
        except _EMPassRefused as refused:
            logger.info("EM pass on %s refused by Splink; model rebuilt without it", refused.block)
            em_blocks = [b for b in em_blocks if b != refused.block]


def train_match_model(
    records: Any, settings: MatchSettings | None = None, spark: Any = None
) -> pl.DataFrame:
    """The m-probabilities EM learns from ``records``: one row per comparison level.

    m (how often two records of one person agree at a level) describes how the sources record
    a person, which changes slowly; u and the prior describe the population at hand and are
    estimated again whenever pairs are scored. So m can be learnt on one set of records and
    applied to a later, larger one: ``silver.customer_match_model`` keeps what was learnt on
    the records as they stood at a training date and retrains only when those change.

    Splink refuses an EM pass whose m for some level underflows to 0 (a level all but absent
    among the pass's matches, on small inputs) and leaves its model half-changed, so the model
    is then rebuilt from scratch without that pass.
    """
    settings = settings or MatchSettings()
    features = matching_features(_prepare_input(records))
    if features.height < 2:
        return pl.DataFrame(schema=MODEL_SCHEMA)
    em_blocks = training_blocks(features, settings)
    while True:
        try:
            with _estimated_linker(features, settings, spark) as (engine, linker):
                _train(engine, linker, em_blocks)
                _round_parameters(linker)
                return _m_table(linker)
        except _EMPassRefused as refused:
            logger.info("EM pass on %s refused by Splink; model rebuilt without it", refused.block)
            em_blocks = [b for b in em_blocks if b != refused.block]


#: A trained matcher (:func:`train_match_model`): one row per non-null comparison level.
MODEL_SCHEMA: dict[str, Any] = {
    "comparison": pl.String,
    "comparison_vector_value": pl.Int64,
    "level_label": pl.String,
    "m_probability": pl.Float64,
}


def _m_table(linker: Any) -> pl.DataFrame:
    rows = [
        (
            comparison.output_column_name,
            level.comparison_vector_value,
            level.label_for_charts,
            level.m_probability,
        )
        for comparison in linker._settings_obj.comparisons
        for level in comparison.comparison_levels
        if not level.is_null_level
    ]
    return pl.DataFrame(rows, schema=MODEL_SCHEMA, orient="row").sort(
        "comparison", "comparison_vector_value"
    )


def _apply_m(linker: Any, trained: pl.DataFrame) -> None:
    """Set every non-null level's m from ``trained``; a level it lacks is an error (the model
    was trained by other code: rebuild customer_match_model)."""
    m = {
        (row["comparison"], row["comparison_vector_value"]): row["m_probability"]
        for row in trained.iter_rows(named=True)
    }
    # a level Splink had no m for (none learnt, no default) stays without one
    for comparison in linker._settings_obj.comparisons:
        for level in comparison.comparison_levels:
            if level.is_null_level:
                continue
            key = (comparison.output_column_name, level.comparison_vector_value)
            if key not in m:
                raise ValueError(
                    f"the trained matcher has no m-probability for {key[0]} level {key[1]}"
                    f" ({level.label_for_charts}): it was trained by other code; rebuild it with"
                    " `dbt build --full-refresh --select customer_match_model`"
                )
            if m[key] is not None:
                level.m_probability = m[key]


@contextmanager
def _estimated_linker(
    features: pl.DataFrame, settings: MatchSettings, spark: Any, validate_settings: bool = False
) -> Iterator[tuple[Any, Any]]:
    """A Splink linker on ``features`` with the prior and u estimated, and its engine."""
    from splink import Linker, SettingsCreator, block_on

    n = features.height
    engine = _SparkScoring(spark) if spark is not None else _DuckDBScoring()
    splink_logger = logging.getLogger("splink")
    previous_level = splink_logger.level
    # Splink warns about every level EM could not observe (expected: blocked training pairs are
    # mostly matches) and about starting values left in place; those are by design here.
    splink_logger.setLevel(logging.ERROR)
    try:
        splink_input = engine.register(features)
        blocks = [
            block_on(*b) if isinstance(b, tuple) else b
            for b in PREDICTION_BLOCKS
            if isinstance(b, str) or _present(features, b)
        ]
        splink_settings = SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name="unique_id",
            comparisons=comparisons(engine.dialect),
            blocking_rules_to_generate_predictions=blocks,
            # Stands when no rule applies (about one other record per person) or when the
            # rules match nearly every pair of a tiny input (then PRIOR_CAP).
            probability_two_random_records_match=PRIOR_CAP if prior_rules(features) else 1 / n,
            retain_matching_columns=False,
            retain_intermediate_calculation_columns=False,
            max_iterations=settings.em_max_iterations,
        )
        # The settings are fixed code, validated once by a test (test_mdm.py
        # test_splink_settings_are_valid); validating them on every run parses every level's
        # SQL again and costs seconds on small inputs.
        linker = Linker(
            splink_input, splink_settings, log_level=None, validate_settings=validate_settings
        )
        rules = prior_rules(features)
        if rules:
            try:
                linker.training.estimate_probability_two_random_records_match(
                    rules, recall=settings.prior_recall
                )
            except ValueError:
                # Tiny inputs: the rules already find more than ``prior_recall`` of all pairs.
                logger.info("prior rules match nearly every pair; prior capped at %s", PRIOR_CAP)
        logger.info(
            "prior %.3g",
            linker._settings_obj._probability_two_random_records_match,
        )
        # One chunk: every sampled pair is counted in one pass. Splink's default probes ten
        # chunks and stops early once each level has 100 observations, which costs more
        # queries than it saves at this sample size.
        linker.training.estimate_u_using_random_sampling(
            max_pairs=settings.u_max_pairs, seed=settings.seed, num_chunks=1
        )
        yield engine, linker
    finally:
        splink_logger.setLevel(previous_level)
        engine.close()


def _train(engine: Any, linker: Any, em_blocks: list[tuple[str, ...]]) -> None:
    """m by EM, one pass per training block."""
    from splink import block_on

    with engine.single_threaded():
        for block in em_blocks:
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    block_on(*block), estimate_without_term_frequencies=True
                )
            except ValueError as exc:
                raise _EMPassRefused(block) from exc


def _score_pairs(
    features: pl.DataFrame,
    settings: MatchSettings,
    em_blocks: list[tuple[str, ...]],
    validate_settings: bool = False,
    spark: Any = None,
    trained: pl.DataFrame | None = None,
) -> pl.DataFrame:
    empty = pl.DataFrame(
        schema={
            "unique_id_l": pl.Int64,
            "unique_id_r": pl.Int64,
            "match_weight": pl.Float64,
            "match_probability": pl.Float64,
        }
    )
    if features.height < 2:
        return empty
    with _estimated_linker(features, settings, spark, validate_settings) as (engine, linker):
        if trained is None:
            _train(engine, linker, em_blocks)
        else:
            _apply_m(linker, trained)
        _round_parameters(linker)
        predictions = linker.inference.predict(
            threshold_match_weight=min(settings.threshold_weight, settings.review_weight)
        )
        edges = engine.fetch(predictions)
    return edges.cast(empty.schema).sort("unique_id_l", "unique_id_r")  # type: ignore[arg-type]


_PREDICTION_COLUMNS = ("unique_id_l", "unique_id_r", "match_weight", "match_probability")


class _DuckDBScoring:
    """Splink on an in-process DuckDB connection of its own (the default engine)."""

    dialect = "duckdb"

    def __init__(self) -> None:
        from splink import DuckDBAPI

        self.con = duckdb.connect()
        self.api = DuckDBAPI(connection=self.con)

    def register(self, features: pl.DataFrame) -> Any:
        return self.api.register(features.to_arrow(), dataset_display_name="identities")

    @contextmanager
    def single_threaded(self) -> Iterator[None]:
        """Make EM's floating-point sums run in one order.

        A training pass first computes the comparison vector of every blocked pair (row-wise,
        nearly all of its time), then counts the pairs per agreement pattern (integers), then
        iterates over those counts, summing floating-point numbers: only the iterations depend
        on the order rows arrive in. So the vectors stay parallel; the pattern counts are
        written sorted by pattern, whatever order the parallel vectors came in; and the
        iterations run on one thread. The model, and so the crosswalk, is then reproducible to
        the bit, at a fraction of the time of running the whole pass on one thread.
        """
        from splink.internals import em_training_session, expectation_maximisation

        count_patterns = expectation_maximisation.count_agreement_patterns_sql
        iterate = em_training_session.expectation_maximisation

        def sorted_patterns(comparisons: Any) -> str:
            gammas = ", ".join(c._gamma_column_name for c in comparisons)
            return f"{count_patterns(comparisons)} order by {gammas}"

        def on_one_thread(*args: Any, **kwargs: Any) -> Any:
            self.con.execute("SET threads = 1")
            try:
                return iterate(*args, **kwargs)
            finally:
                self.con.execute("RESET threads")

        expectation_maximisation.count_agreement_patterns_sql = sorted_patterns
        em_training_session.expectation_maximisation = on_one_thread
        try:
            yield
        finally:
            expectation_maximisation.count_agreement_patterns_sql = count_patterns
            em_training_session.expectation_maximisation = iterate

    def fetch(self, predictions: Any) -> pl.DataFrame:
        table = predictions.as_duckdbpyrelation().select(", ".join(_PREDICTION_COLUMNS))
        edges = pl.from_arrow(table.to_arrow_table())
        assert isinstance(edges, pl.DataFrame)
        return edges

    def close(self) -> None:
        self.con.close()


class _SparkScoring:
    """Splink on the given Spark session (Splink's ``SparkAPI``): the candidate pairs are
    generated, trained on and scored by Spark; only the scored edges come back."""

    dialect = "spark"

    def __init__(self, spark: Any) -> None:
        from splink.backends.spark import SparkAPI

        from engagement_lake.spark import register_similarity_functions

        register_similarity_functions(spark)
        self.spark = spark
        self.before = {t.name for t in spark.catalog.listTables() if t.isTemporary}
        # persist: Splink's intermediate tables stay in the executors' memory (spilling to
        # disk), where "parquet", its default, would need a checkpoint directory
        self.api = SparkAPI(
            spark_session=spark, break_lineage_method="persist", register_udfs_automatically=False
        )

    def register(self, features: pl.DataFrame) -> Any:
        from engagement_lake.frames import to_engine

        return self.api.register(to_engine(features, self.spark), dataset_display_name="identities")

    @contextmanager
    def single_threaded(self) -> Iterator[None]:
        """Spark's EM sums are parallel whatever is set here: its model is reproducible to the
        rounding of those sums."""
        yield

    def fetch(self, predictions: Any) -> pl.DataFrame:
        from engagement_lake.frames import to_polars

        return to_polars(predictions.as_spark_dataframe().select(*_PREDICTION_COLUMNS))

    def close(self) -> None:
        """Drop the temporary views Splink made (uncaching what it persisted)."""
        for table in self.spark.catalog.listTables():
            if table.isTemporary and table.name not in self.before:
                self.spark.catalog.dropTempView(table.name)


# --------------------------------------------------------------------------------------------
# Clustering and crosswalk
# --------------------------------------------------------------------------------------------


def customer_id_for(source_system: str, source_id: str) -> str:
    """Golden id of a cluster from its smallest member key: stable while that record exists."""
    digest = hashlib.md5(f"{source_system}|{source_id}".encode(), usedforsecurity=False)
    return "CUS-" + digest.hexdigest()[:12]


def _incident(edges: pl.DataFrame) -> pl.DataFrame:
    """Record ids that touch at least one edge (with the best probability where scored)."""
    prob = (
        pl.col("match_probability")
        if "match_probability" in edges.columns
        else pl.lit(1.0, dtype=pl.Float64)
    )
    both = pl.concat(
        [
            edges.select(pl.col("unique_id_l").alias("unique_id"), prob.alias("p")),
            edges.select(pl.col("unique_id_r").alias("unique_id"), prob.alias("p")),
        ]
    )
    return both.group_by("unique_id").agg(pl.col("p").max())


def _override_edges(
    frame: pl.DataFrame, overrides: Any
) -> tuple[pl.DataFrame, set[tuple[int, int]]]:
    """Must-link edges and cannot-link pairs (record numbers) from steward overrides.

    Overrides naming a record that is not in the input are ignored (the record may be gone);
    an unknown rule, a missing column or a pair that is both must- and cannot-link is an error.
    """
    empty = pl.DataFrame(schema={"unique_id_l": pl.Int64, "unique_id_r": pl.Int64})
    if overrides is None:
        return empty, set()
    table = _to_polars(overrides)
    missing = [c for c in OVERRIDE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"match overrides lack column(s): {', '.join(missing)}")
    table = table.select([pl.col(c).cast(pl.String).str.strip_chars() for c in OVERRIDE_COLUMNS])
    unknown = sorted(set(table["rule"].to_list()) - set(OVERRIDE_RULES))
    if unknown:
        raise ValueError(
            f"unknown match override rule(s) {unknown}; use {' or '.join(OVERRIDE_RULES)}"
        )
    ids = frame.select("source_system", "source_id").with_row_index("uid")
    resolved = (
        table.join(
            ids.rename({"source_system": "source_system_l", "source_id": "source_id_l"}),
            on=["source_system_l", "source_id_l"],
        )
        .rename({"uid": "a"})
        .join(
            ids.rename({"source_system": "source_system_r", "source_id": "source_id_r"}),
            on=["source_system_r", "source_id_r"],
        )
        .rename({"uid": "b"})
        .filter(pl.col("a") != pl.col("b"))
        .select(
            "rule",
            pl.min_horizontal("a", "b").cast(pl.Int64).alias("unique_id_l"),
            pl.max_horizontal("a", "b").cast(pl.Int64).alias("unique_id_r"),
        )
    )
    if resolved.height < table.height:
        logger.info("%d override(s) name records not in the input", table.height - resolved.height)
    must = resolved.filter(pl.col("rule") == "must_link").select("unique_id_l", "unique_id_r")
    cannot = resolved.filter(pl.col("rule") == "cannot_link").select("unique_id_l", "unique_id_r")
    both = must.join(cannot, on=["unique_id_l", "unique_id_r"])
    if both.height:
        raise ValueError(f"{both.height} record pair(s) are both must_link and cannot_link")
    return must.unique().sort("unique_id_l", "unique_id_r"), set(cannot.iter_rows())


def match_identities(
    records: Any,
    settings: MatchSettings | None = None,
    overrides: Any = None,
    spark: Any = None,
    trained: Any = None,
) -> pl.DataFrame:
    """Cluster customer records from all sources into golden customers.

    See :func:`match_identities_with_review`, which also returns the borderline pairs.
    """
    return match_identities_with_review(records, settings, overrides, spark, trained)[0]


def match_identities_with_review(
    records: Any,
    settings: MatchSettings | None = None,
    overrides: Any = None,
    spark: Any = None,
    trained: Any = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cluster customer records into golden customers; list the pairs a steward should review.

    Args:
        records: one row per source record with ``source_system``, ``source_id`` and any of
            ``first_name``, ``last_name``, ``email``, ``phone``, ``birth_date``,
            ``address_line1``, ``city``, ``state``, ``postal_code``, ``updated_at`` (a polars or
            pandas DataFrame or a pyarrow Table). ``(source_system, source_id)`` must be unique.
        settings: the defaults are the production values.
        overrides: steward decisions, one row per pair: ``rule`` (:data:`OVERRIDE_RULES`) and
            ``source_system_l``, ``source_id_l``, ``source_system_r``, ``source_id_r``. They win
            over the rules and the model.
        spark: a Spark session to score the candidate pairs on (Splink's Spark backend);
            without one, DuckDB scores them in the process.
        trained: m-probabilities learnt before (:func:`train_match_model`, the layout of
            :data:`MODEL_SCHEMA`, e.g. ``silver.customer_match_model``); without them, or
            when the table is empty, EM learns m from ``records``.

    Returns:
        The crosswalk: one row per input record, sorted by (source_system, source_id):
        ``source_system``, ``source_id``, ``customer_id`` (``CUS-`` + 12 hex of the md5 of the
        cluster's smallest ``source_system|source_id``), ``match_method`` (the strongest edge
        attaching the record to its cluster: ``steward``, ``deterministic_email``,
        ``deterministic_phone``, ``probabilistic``, or ``singleton`` when it matched nothing)
        and ``match_probability`` (1.0 for steward and deterministic matches; the best Splink
        probability among the record's accepted pairs for probabilistic ones; 1.0 for
        singletons, as silver.customer_xref documents: a record certainly belongs to the cluster
        that holds only itself).

        The review list (:data:`REVIEW_SCHEMA`): scored pairs left in different customers that
        are borderline: ``below_threshold`` (match weight from
        :attr:`MatchSettings.review_weight` up to the threshold) or ``name_only`` (at or above
        the threshold, but nothing besides the name agrees).
    """
    settings = settings or MatchSettings()
    frame = _prepare_input(records)
    override_frame = None if overrides is None else _to_polars(overrides)
    trained_frame = None if trained is None else _to_polars(trained).select(list(MODEL_SCHEMA))
    if trained_frame is not None and trained_frame.height == 0:
        # silver.customer_match_model is empty when no record had landed by the training
        # date: nothing was learnt, so EM learns from the records at hand
        trained_frame = None
    key = _memo_key(
        frame, override_frame, settings, "duckdb" if spark is None else "spark", trained_frame
    )
    if key in _LAST_RESULT:
        crosswalk, review = _LAST_RESULT[key]
        return crosswalk.clone(), review.clone()
    result = _match(frame, settings, override_frame, spark, trained_frame)
    _LAST_RESULT.clear()
    _LAST_RESULT[key] = result
    return result[0].clone(), result[1].clone()


#: The last input's result. dbt's customer clusters and match review models both need one
#: matching of the same records in one build; the second gets the first's result instead of
#: matching again (about a minute at scale 1). Keyed by a hash of every input value, so a
#: different input (or settings) is matched afresh.
_LAST_RESULT: dict[str, tuple[pl.DataFrame, pl.DataFrame]] = {}


def _memo_key(
    frame: pl.DataFrame,
    overrides: pl.DataFrame | None,
    settings: MatchSettings,
    engine: str,
    trained: pl.DataFrame | None = None,
) -> str:
    digest = hashlib.sha256(f"{settings!r} {engine}".encode())
    for part in (frame, overrides, trained):
        digest.update(b"|")
        if part is not None:
            digest.update(str(part.schema).encode())
            digest.update(part.hash_rows(seed=0).to_numpy().tobytes())
    return digest.hexdigest()


def _match(
    frame: pl.DataFrame,
    settings: MatchSettings,
    overrides: pl.DataFrame | None,
    spark: Any = None,
    trained: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`match_identities_with_review` on prepared input, without the memo."""
    if frame.height == 0:
        return pl.DataFrame(schema=XREF_SCHEMA), pl.DataFrame(schema=REVIEW_SCHEMA)
    features = matching_features(frame)
    must_edges, cannot = _override_edges(frame, overrides)

    email_edges = deterministic_edges(features, "email", settings.max_records_per_key)
    phone_edges = deterministic_edges(features, "phone", settings.max_records_per_key)
    scored = probabilistic_edges(features, settings, spark, trained)
    scored = scored.with_columns(corroborated(features, scored))
    accepted = (pl.col("match_weight") >= settings.threshold_weight) & pl.col("corroborated")
    prob_edges = scored.filter(accepted)

    replaced = name_replacement_rate(
        features, [email_edges, phone_edges], settings.min_name_evidence_pairs
    )
    logger.info("first names clearly different in %s of contact-linked pairs", replaced)
    labels = guarded_components(
        features,
        trusted=[must_edges, email_edges],
        guarded=[phone_edges, prob_edges],
        cannot=cannot,
        names_decide=replaced is not None and replaced <= settings.max_name_replacement,
    )
    # an edge that was refused attaches nothing: keep only edges inside a cluster
    must_edges, email_edges, phone_edges, prob_edges = (
        e.filter(
            pl.Series(labels[e["unique_id_l"].to_numpy()] == labels[e["unique_id_r"].to_numpy()])
        )
        for e in (must_edges, email_edges, phone_edges, prob_edges)
    )
    xref = frame.select("source_system", "source_id").with_columns(
        pl.Series("unique_id", np.arange(frame.height, dtype=np.int64)),
        pl.Series("cluster", labels.astype(np.int64)),
    )
    # Input is sorted, so the first record of each cluster is its smallest key.
    roots = xref.group_by("cluster").agg(
        pl.col("source_system").first(), pl.col("source_id").first()
    )
    roots = roots.with_columns(
        pl.struct("source_system", "source_id")
        .map_elements(
            lambda k: customer_id_for(k["source_system"], k["source_id"]), return_dtype=pl.String
        )
        .alias("customer_id")
    ).select("cluster", "customer_id")

    by_steward = _incident(must_edges).select("unique_id", pl.lit(True).alias("is_steward"))
    by_email = _incident(email_edges).select("unique_id", pl.lit(True).alias("is_email"))
    by_phone = _incident(phone_edges).select("unique_id", pl.lit(True).alias("is_phone"))
    by_model = _incident(prob_edges).rename({"p": "prob"})
    xref = (
        xref.join(roots, on="cluster", how="left")
        .join(by_steward, on="unique_id", how="left")
        .join(by_email, on="unique_id", how="left")
        .join(by_phone, on="unique_id", how="left")
        .join(by_model, on="unique_id", how="left")
        .sort("unique_id")
    )
    method = (
        pl.when(pl.col("is_steward"))
        .then(pl.lit("steward"))
        .when(pl.col("is_email"))
        .then(pl.lit("deterministic_email"))
        .when(pl.col("is_phone"))
        .then(pl.lit("deterministic_phone"))
        .when(pl.col("prob").is_not_null())
        .then(pl.lit("probabilistic"))
        .otherwise(pl.lit("singleton"))
    )
    probability = (
        pl.when(
            pl.col("is_steward")
            | pl.col("is_email")
            | pl.col("is_phone")
            | pl.col("prob").is_null()
        )
        .then(pl.lit(1.0))
        .otherwise(pl.col("prob"))
        .cast(pl.Float64)
    )
    crosswalk = xref.select(
        "source_system",
        "source_id",
        "customer_id",
        method.alias("match_method"),
        probability.alias("match_probability"),
    )
    cluster_of = pl.Series(labels.astype(np.int64))
    keys = frame.select("source_system", "source_id").with_row_index("uid")
    review = (
        scored.filter(~accepted)
        .with_columns(
            pl.when(pl.col("match_weight") >= settings.threshold_weight)
            .then(pl.lit("name_only"))
            .otherwise(pl.lit("below_threshold"))
            .alias("reason")
        )
        .filter(
            cluster_of.gather(scored.filter(~accepted)["unique_id_l"])
            != cluster_of.gather(scored.filter(~accepted)["unique_id_r"])
        )
        .join(
            keys.select(
                pl.col("uid").cast(pl.Int64).alias("unique_id_l"),
                pl.col("source_system").alias("source_system_l"),
                pl.col("source_id").alias("source_id_l"),
            ),
            on="unique_id_l",
        )
        .join(
            keys.select(
                pl.col("uid").cast(pl.Int64).alias("unique_id_r"),
                pl.col("source_system").alias("source_system_r"),
                pl.col("source_id").alias("source_id_r"),
            ),
            on="unique_id_r",
        )
        .sort("unique_id_l", "unique_id_r")
        .select(list(REVIEW_SCHEMA))
        .cast(REVIEW_SCHEMA)  # type: ignore[arg-type]
    )
    return crosswalk, review
