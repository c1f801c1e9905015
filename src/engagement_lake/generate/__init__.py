"""Synthetic bronze sources for Engagement Lake: one seeded world observed by ten systems.

``generate`` lands a fresh backfill (about three years of history ending at the as-of date) in
``<data_dir>/bronze`` and keeps the ground truth apart in ``<data_dir>/_truth``;
``generate_day`` appends one more daily load. Neither imports dbt or great_expectations.
"""

from engagement_lake.generate.increment import generate_day
from engagement_lake.generate.pipeline import GenerateResult, generate

__all__ = ["GenerateResult", "generate", "generate_day"]
