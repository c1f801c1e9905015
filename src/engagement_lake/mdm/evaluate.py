"""Pairwise evaluation of a customer crosswalk against ground truth.

Pairwise precision/recall is the standard entity-resolution metric: every pair of records placed
in the same found cluster is a predicted link, every pair belonging to the same true person is a
true link. Pair counts come from cluster-size contingency tables (``C(n, 2)`` per cell), so the
evaluation is linear in the number of records even when clusters are large; pairs are never
enumerated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

_KEYS = ["source_system", "source_id"]

#: The generator's ground truth names sources by bronze table (``shop.customers``); the
#: crosswalk uses the staging names (``shop``). Truth labels found here are translated.
TRUTH_SOURCE_SYSTEMS: dict[str, str] = {
    "shop.customers": "shop",
    "crm.contacts": "crm_contact",
    "crm.leads": "crm_lead",
    "support.requesters": "support",
    "marketing.subscribers": "marketing",
    "loyalty.members": "loyalty",
}


@dataclass(frozen=True)
class MatchMetrics:
    """Pairwise quality of a clustering, plus how much of the input could be evaluated.

    Attributes:
        precision: true-positive pairs / pairs placed together (1.0 when nothing was linked).
        recall: true-positive pairs / pairs that truly belong together (1.0 when none do).
        f1: harmonic mean of precision and recall.
        true_pairs, found_pairs, true_positive_pairs: the underlying pair counts.
        true_clusters: distinct persons among the evaluated records.
        found_clusters: distinct customer ids among the evaluated records.
        records: records present in both the crosswalk and the truth (the evaluated set).
        only_in_xref, only_in_truth: records excluded because the other side lacks them.
    """

    precision: float
    recall: float
    f1: float
    true_pairs: int
    found_pairs: int
    true_positive_pairs: int
    true_clusters: int
    found_clusters: int
    records: int
    only_in_xref: int = 0
    only_in_truth: int = 0

    def __str__(self) -> str:
        lines = [
            f"pairwise precision {self.precision:.4f}  recall {self.recall:.4f}  F1 {self.f1:.4f}",
            f"pairs: true {self.true_pairs:,}  found {self.found_pairs:,}  "
            f"correct {self.true_positive_pairs:,}",
            f"clusters: true {self.true_clusters:,}  found {self.found_clusters:,}  "
            f"over {self.records:,} records",
        ]
        if self.only_in_xref or self.only_in_truth:
            lines.append(
                f"excluded: {self.only_in_xref:,} only in xref, "
                f"{self.only_in_truth:,} only in truth"
            )
        return "\n".join(lines)


def _frame(data: Any) -> pl.DataFrame:
    if isinstance(data, pl.DataFrame):
        return data
    if type(data).__module__.startswith("pandas"):
        return pl.from_pandas(data)
    return pl.DataFrame(pl.from_arrow(data) if hasattr(data, "schema") else data)


def _pairs(sizes: pl.Series) -> int:
    """Σ C(n, 2) over group sizes."""
    return int((sizes.cast(pl.Int64) * (sizes.cast(pl.Int64) - 1) // 2).sum())


def evaluate_matches(xref: Any, truth: Any) -> MatchMetrics:
    """Compare a crosswalk (``customer_id`` per record) with truth (``person_id`` per record).

    Only records present in both are evaluated; the others are counted in ``only_in_xref`` /
    ``only_in_truth`` so that a silently dropped source cannot inflate the scores unnoticed.
    Generator truth labels (``shop.customers``…) are mapped to crosswalk labels (``shop``…) via
    :data:`TRUTH_SOURCE_SYSTEMS`; if nothing overlaps at all a ``ValueError`` is raised rather
    than a vacuous perfect score.
    """
    found = _frame(xref).select(
        pl.col("source_system").cast(pl.String),
        pl.col("source_id").cast(pl.String),
        pl.col("customer_id").cast(pl.String),
    )
    true = _frame(truth).select(
        pl.col("source_system").cast(pl.String).replace(TRUTH_SOURCE_SYSTEMS),
        pl.col("source_id").cast(pl.String),
        pl.col("person_id").cast(pl.String),
    )
    for name, frame in (("xref", found), ("truth", true)):
        if frame.select(pl.struct(_KEYS).is_duplicated().any()).item():
            raise ValueError(f"{name} has duplicate (source_system, source_id) rows")

    both = found.join(true, on=_KEYS, how="inner")
    if both.height == 0 and found.height and true.height:
        raise ValueError(
            "xref and truth share no (source_system, source_id); are the source_system labels "
            "or id formats different?"
        )
    only_in_xref = found.height - both.height
    only_in_truth = true.height - both.height

    found_pairs = _pairs(both.group_by("customer_id").len()["len"])
    true_pairs = _pairs(both.group_by("person_id").len()["len"])
    tp = _pairs(both.group_by("customer_id", "person_id").len()["len"])

    precision = tp / found_pairs if found_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return MatchMetrics(
        precision=precision,
        recall=recall,
        f1=f1,
        true_pairs=true_pairs,
        found_pairs=found_pairs,
        true_positive_pairs=tp,
        true_clusters=both["person_id"].n_unique(),
        found_clusters=both["customer_id"].n_unique(),
        records=both.height,
        only_in_xref=only_in_xref,
        only_in_truth=only_in_truth,
    )
