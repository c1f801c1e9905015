"""The matcher's trained m-probabilities, kept between builds: ``silver.customer_match_model``.

Learning m (how often two records of one person agree at each comparison level) by
expectation maximisation is more than half of the matcher's time. m describes how the sources
record a person, which a day of new records barely moves, so, as Splink recommends for a model
in production, it is learnt once and reused: the build trains on the identity records as they
stood at a training date (``silver.int_customer_identities_for_training``: the last load date
before the period of the newest load date began, ``var('matcher_retraining_period')``) and keeps
the result with a fingerprint of what it was learnt from. A later build whose training input
has the same fingerprint reuses it; any other input retrains. u and the prior describe the
population being matched and are estimated on every build from all records.

The fingerprint covers the records' identity columns that matching reads (keys, names, e-mail,
phone, birth date, address: :data:`~engagement_lake.mdm.normalize.IDENTITY_COLUMNS` but
``updated_at``), the settings, the comparisons, the training passes, the engine and the
versions of Splink and polars. So reusing is never a guess: a build from scratch of the same
bronze trains on the same records with the same code and gets the same m, to the bit on DuckDB
(EM iterates on one thread), which is what a day-by-day build reused; a record erased, or a
version of it restated before the training date, changes the input, and the model is learnt
again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import polars as pl

from engagement_lake.mdm.match import (
    MODEL_SCHEMA,
    MatchSettings,
    _prepare_input,
    _to_polars,
    train_match_model,
)
from engagement_lake.mdm.model import PRIOR_CAP, PRIOR_RULES, TRAINING_BLOCKS, comparisons
from engagement_lake.mdm.normalize import IDENTITY_COLUMNS

logger = logging.getLogger(__name__)

#: The name of the customer matcher's rows in ``silver.customer_match_model`` (its unique key:
#: a retrained model replaces every row of the previous one).
MATCHER = "customer_identity"

#: Columns of ``silver.customer_match_model``: the trained levels, then what they were learnt on.
TABLE_SCHEMA: dict[str, Any] = {
    "matcher": pl.String,
    **MODEL_SCHEMA,
    "trained_through": pl.Date,
    "training_records": pl.Int64,
    "training_fingerprint": pl.String,
}


def training_fingerprint(
    records: Any, settings: MatchSettings | None = None, engine: str = "duckdb"
) -> str:
    """A digest of everything the trained m depends on (see the module docstring)."""
    import splink

    settings = settings or MatchSettings()
    definition = json.dumps(
        {
            "settings": repr(settings),
            "engine": engine,
            "comparisons": [c.get_comparison(engine).as_dict() for c in comparisons(engine)],
            "training_blocks": TRAINING_BLOCKS,
            "prior_rules": PRIOR_RULES,
            "prior_cap": PRIOR_CAP,
            "versions": [splink.__version__, pl.__version__],
        },
        sort_keys=True,
        default=str,
    )
    digest = hashlib.sha256(definition.encode())
    # the columns matching reads, in matching's order (hashing them rather than the features
    # derived from them skips normalising every name and address again: 0.1 s against 2.5 s
    # for the 282,150 training records of a scale-1 lake)
    identities = _prepare_input(records).select(c for c in IDENTITY_COLUMNS if c != "updated_at")
    digest.update(str(identities.schema).encode())
    digest.update(identities.hash_rows(seed=0).to_numpy().tobytes())
    return digest.hexdigest()


def customer_match_model(
    training: Any,
    previous: Any = None,
    settings: MatchSettings | None = None,
    spark: Any = None,
) -> pl.DataFrame:
    """The rows of ``silver.customer_match_model`` for this build (:data:`TABLE_SCHEMA`).

    Args:
        training: the identity records to learn from, one per ``(source_system, source_id)``,
            with ``trained_through`` (the training date, one value).
        previous: the table as the last build left it, if any. Returned unchanged when it was
            learnt from the same input (same fingerprint).
        settings, spark: as for :func:`~engagement_lake.mdm.match.match_identities`.
    """
    settings = settings or MatchSettings()
    frame = _to_polars(training)
    through = frame["trained_through"].max() if frame.height else None
    records = frame.drop("trained_through")
    fingerprint = training_fingerprint(records, settings, "duckdb" if spark is None else "spark")
    if previous is not None:
        kept = _to_polars(previous)
        if kept.height and set(kept["training_fingerprint"].unique()) == {fingerprint}:
            logger.info("matcher m-probabilities reused (trained through %s)", through)
            return kept.select(list(TABLE_SCHEMA)).cast(TABLE_SCHEMA)  # type: ignore[arg-type]
    logger.info("matcher m-probabilities learnt on %d records through %s", frame.height, through)
    trained = train_match_model(records, settings, spark)
    return trained.select(
        pl.lit(MATCHER).alias("matcher"),
        *MODEL_SCHEMA,
        pl.lit(through, dtype=pl.Date).alias("trained_through"),
        pl.lit(frame.height, dtype=pl.Int64).alias("training_records"),
        pl.lit(fingerprint).alias("training_fingerprint"),
    ).cast(TABLE_SCHEMA)  # type: ignore[arg-type]
