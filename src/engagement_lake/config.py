"""Paths, scale and seed defaults: the one place the CLI, dbt and the tests agree on them.

Environment variables win over defaults so that `make`, dbt (profiles.yml reads the same
variables) and the Python commands always point at the same data folder and warehouse file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""Repository root (src layout): holds dbt_project.yml, profiles.yml and schemas/."""

SCHEMAS_DIR = PROJECT_ROOT / "schemas"
MODELS_DIR = PROJECT_ROOT / "models"

DATA_DIR_ENV = "ENGAGEMENT_LAKE_DATA_DIR"
WAREHOUSE_ENV = "ENGAGEMENT_LAKE_WAREHOUSE"
SPARK_DIR_ENV = "ENGAGEMENT_LAKE_SPARK_DIR"

DEFAULT_DATA_DIR = Path("data")
DEFAULT_WAREHOUSE = Path("warehouse/engagement.duckdb")
DEFAULT_SPARK_DIR = Path("warehouse/spark")
DEFAULT_SCALE = 0.1
DEFAULT_SEED = 42
DEFAULT_AS_OF = date(2026, 6, 30)
"""End of the generated history. Fixed, never the wall clock, so that the same seed gives the
same data on any day."""
#: Identity noise levels of the generator (see ``engagement_lake.generate.identity``).
NOISE_LEVELS: tuple[str, ...] = ("clean", "realistic", "hard")
DEFAULT_NOISE_LEVEL = "realistic"

# The choices of the command line, written once here (a cheap import) so that the CLI offers them
# as Enum options and the functions behind it validate against the same tuples.
DDL_DIALECTS = ("duckdb", "spark", "snowflake", "redshift", "trino")
"""Dialects ``schemas ddl`` transpiles the bronze DDL to (sqlglot's names)."""
ENGINES = ("duckdb", "spark")
"""The dbt targets of profiles.yml a build can run on (``engagement-lake build --target``)."""
UNREADABLE_POLICIES = ("fail", "quarantine")
"""What a build does with a bronze file the preflight rejects."""
QUALITY_LAYERS = ("bronze", "silver", "gold")
CHECK_LAYERS = (*QUALITY_LAYERS, "all")
"""What ``engagement-lake check --layer`` accepts."""
OUTPUT_FORMATS = ("table", "csv", "json")
"""How ``sql`` and ``cookbook`` print a result."""
SERVING_KEYS = ("referenced", "all")
"""Which of gold's keys the serving file declares (``engagement_lake.publish``): the primary keys
of the tables a foreign key points to, or every primary and foreign key."""
DEFAULT_SERVING_KEYS = "referenced"
SERVING_REWRITE_EVERY = 7
"""Every this many publications (the export's version number, ``<data dir>/.published/gold-N``,
a multiple of it) the serving file is written whole instead of updated from the previous one.
An update deletes the changed rows and inserts their new versions, and DuckDB reuses the space
of deleted rows only in part: replacing 5 % of the rows of the four largest gold tables daily
grew a scale-1 file by 11 % in eight days (docs/benchmarks.md). A weekly whole write bounds that
at about a week of changes, for one slower publish a week."""
SQL_READS = ("serving", "warehouse")
"""What ``engagement-lake sql --read`` opens: the serving file (gold, pseudonymised: what BI
tools read) or the working warehouse (every layer, personal data raw: for maintainers)."""
DEFAULT_DASHBOARDS_DIR = Path("reports/dashboards")
"""Where ``engagement-lake dashboards`` writes the site (reports/ is git-ignored)."""

UNKNOWN_MEMBER_DATE = date(1900, 1, 1)
"""The sentinel date of "unknown" (dbt var ``unknown_member_date``): every date column's contract
window starts after it, so no source date can pose as unknown. ``dim_date``'s unknown member has
no date at all (a sentinel day would stretch every BI date axis back to it)."""

UNKNOWN_MEMBER_KEY = "0" * 32
"""The surrogate key of every dimension's unknown member (dbt var ``unknown_member_key``): 32
zeros, the width of the md5 surrogate keys, so it can never be the key of a real member."""

LAYER_SCHEMAS = ("staging", "silver", "gold", "quality", "history")


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The data folder (bronze/, _truth/, gold/): argument, then environment, then default."""
    if override is not None:
        return Path(override)
    return Path(os.environ.get(DATA_DIR_ENV, DEFAULT_DATA_DIR))


def warehouse_path(override: str | os.PathLike[str] | None = None) -> Path:
    """The DuckDB warehouse file: argument, then environment, then default."""
    if override is not None:
        return Path(override)
    return Path(os.environ.get(WAREHOUSE_ENV, DEFAULT_WAREHOUSE))


def spark_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The spark target's folder (tables and metastore): argument, environment, default."""
    if override is not None:
        return Path(override)
    return Path(os.environ.get(SPARK_DIR_ENV, DEFAULT_SPARK_DIR))


@dataclass(frozen=True)
class RunConfig:
    """Everything a generate → build → check run needs, resolved once."""

    data_dir: Path
    warehouse: Path
    scale: float = DEFAULT_SCALE
    seed: int = DEFAULT_SEED
    as_of: date = DEFAULT_AS_OF
    target_dir: Path | None = None
    """dbt artefacts (manifest, run results); default ``target/`` in the project. Tests give each
    lake its own so that partial parsing never mixes two data folders."""
    engine: str = "duckdb"
    """The profiles.yml target: ``duckdb`` (``warehouse`` is the DuckDB file) or ``spark``
    (``warehouse`` is the folder of the Spark tables and their metastore)."""

    @property
    def artefacts(self) -> Path:
        """Where dbt writes and the steps after it read the manifest and run results."""
        return self.target_dir or PROJECT_ROOT / "target"

    def dbt_env(self) -> dict[str, str]:
        """Environment for dbt: profiles.yml and the sources read these variables."""
        env = {DATA_DIR_ENV: str(self.data_dir.resolve())}
        if self.engine == "spark":
            env[SPARK_DIR_ENV] = str(self.warehouse.resolve())
        else:
            env[WAREHOUSE_ENV] = str(self.warehouse.resolve())
        return env


def duckdb_settings(profiles: Path | None = None) -> dict[str, str]:
    """The DuckDB ``settings`` of the dbt profile's default output (memory limit, threads,
    insertion order, time zone), rendered as dbt renders them (``env_var`` with its default).
    Every step that opens the warehouse for heavy work (the benchmark's replay, publishing)
    applies them, so one limit governs the machine, not only dbt's part of it."""
    import jinja2
    import yaml

    path = profiles or PROJECT_ROOT / "profiles.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    profile = doc["engagement_lake"]
    output = profile["outputs"][profile["target"]]
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.globals["env_var"] = lambda name, default=None: os.environ.get(name, default)
    return {key: env.from_string(str(value)).render() for key, value in output["settings"].items()}
