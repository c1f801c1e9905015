"""The Spark target's one piece of Python: dbt Python models run in the build's own Spark session.

Open-source dbt-spark compiles a Python model into a script (the model function, a ``dbt``
object whose ``ref`` returns ``spark.table(...)``, and a final ``saveAsTable``) but can only
submit that script to Databricks. ``engagement-lake build --target spark`` runs dbt in-process on
a local (or cluster-attached) pyspark session, so the script can simply run there: this module
adds a ``session`` submission method that executes it with ``spark`` bound to that session and
makes it the default. The Python models stay ordinary dbt models, in the DAG, tested like the
rest, on both engines; each reads its inputs through ``engagement_lake.frames`` so that the same
body accepts DuckDB relations and Spark DataFrames.

Steps that run Python code inside Spark (VADER per Arrow batch, the RFM summary per group of
customers) start Python workers; :func:`enable_python_models` points them at this interpreter,
so they import the same engagement_lake and the same libraries as the driver. Splink's
similarity functions (Jaro-Winkler, Damerau-Levenshtein) come from the jar Splink ships:
:func:`register_similarity_functions`.

pyspark is imported only when a Spark build starts: DuckDB users never need it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

SUBMISSION_METHOD = "session"

#: Splink's Scala similarity functions the matcher's Spark SQL calls: (SQL name, Java class).
SIMILARITY_FUNCTIONS: tuple[tuple[str, str], ...] = (
    ("jaro_winkler", "uk.gov.moj.dash.linkage.JaroWinklerSimilarity"),
    ("damerau_levenshtein", "uk.gov.moj.dash.linkage.LevDamerauDistance"),
)


class SessionPythonJobHelper:
    """Runs a compiled dbt Python model in the active Spark session (dbt-spark's job-helper
    interface: constructed per model, then ``submit(compiled_code)``)."""

    def __init__(self, parsed_model: dict[str, Any], credentials: Any) -> None:
        self.name = parsed_model.get("alias") or parsed_model.get("name", "python model")

    def submit(self, compiled_code: str) -> None:
        from pyspark.errors import PySparkRuntimeError
        from pyspark.sql import SparkSession

        # the session is the build's, made on dbt's main thread: active there, and the default
        # session of the process everywhere (dbt runs models on worker threads)
        try:
            spark = SparkSession.active()
        except PySparkRuntimeError:
            raise RuntimeError(
                f"Python model {self.name}: no Spark session; the spark target must use "
                "method: session (profiles.yml)"
            ) from None
        code = compile(compiled_code, f"<dbt python model {self.name}>", "exec")
        exec(code, {"spark": spark, "__name__": f"dbt_python_model_{self.name}"})


def register_similarity_functions(spark: Any) -> None:
    """Make :data:`SIMILARITY_FUNCTIONS` callable from ``spark``'s SQL (idempotent).

    They live in the jar Splink ships for Spark 4 (``similarity_jar_location``); a session
    started with it in ``spark.jars`` has the classes already, any other gets the jar added
    now (``ADD JAR`` also ships it to the executors).
    """
    from pyspark.sql.types import DoubleType

    if all(spark.catalog.functionExists(name) for name, _ in SIMILARITY_FUNCTIONS):
        return
    try:
        _register(spark, DoubleType())
    except Exception:  # the classes are not on the session's class path yet
        from splink.backends.spark import similarity_jar_location

        jar = similarity_jar_location()
        spark.sql(f"ADD JAR '{jar}'")
        try:
            _register(spark, DoubleType())
        except Exception as exc:
            raise RuntimeError(
                f"Splink's similarity functions could not be loaded from {jar}: {exc}"
            ) from exc


def _register(spark: Any, kind: Any) -> None:
    for name, java_class in SIMILARITY_FUNCTIONS:
        spark.udf.registerJavaFunction(name, java_class, kind)


def enable_python_models() -> None:
    """Teach dbt-spark the ``session`` submission method and make it the default (idempotent).

    Spark's Python workers run this interpreter (``PYSPARK_PYTHON``, unless already set), not
    whichever ``python3`` comes first on the path.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from dbt.adapters.spark.impl import SparkAdapter

    if getattr(SparkAdapter, "_engagement_lake_session", False):
        return
    helpers = SparkAdapter.python_submission_helpers.fget

    def python_submission_helpers(self: Any) -> dict[str, Any]:
        return {**helpers(self), SUBMISSION_METHOD: SessionPythonJobHelper}

    SparkAdapter.python_submission_helpers = property(python_submission_helpers)  # type: ignore[method-assign,assignment]
    SparkAdapter.default_python_submission_method = property(lambda self: SUBMISSION_METHOD)  # type: ignore[method-assign,assignment]
    SparkAdapter._engagement_lake_session = True  # type: ignore[attr-defined]
