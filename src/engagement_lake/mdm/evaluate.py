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


def _keyed(xref: Any, truth: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The crosswalk's keys and ``customer_id``, and the truth (every column) with its keys and
    ``person_id`` as strings and generator labels mapped to the crosswalk's."""
    found = _frame(xref).select(
        pl.col("source_system").cast(pl.String),
        pl.col("source_id").cast(pl.String),
        pl.col("customer_id").cast(pl.String),
    )
    true = _frame(truth).with_columns(
        pl.col("source_system").cast(pl.String).replace(TRUTH_SOURCE_SYSTEMS),
        pl.col("source_id").cast(pl.String),
        pl.col("person_id").cast(pl.String),
    )
    return found, true


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
    found, true = _keyed(xref, truth)
    true = true.select(*_KEYS, "person_id")
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


# --------------------------------------------------------------------------------------------
# Breakdowns: per kind of noise, per pair of sources, related people, name parsing
# --------------------------------------------------------------------------------------------


def _joined(xref: Any, truth: Any) -> pl.DataFrame:
    """Records present in both, with ``customer_id``, ``person_id`` and the truth's extras."""
    found, true = _keyed(xref, truth)
    return found.join(true, on=_KEYS, how="inner")


def _c2(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Int64) * (pl.col(col).cast(pl.Int64) - 1) // 2


def _touching(both: pl.DataFrame, group: list[str]) -> int:
    """Pairs within each group that involve at least one flagged record: C(n,2) - C(n-k,2)."""
    if both.height == 0:
        return 0
    g = both.group_by(group).agg(pl.len().alias("n"), pl.col("flag").sum().alias("k"))
    g = g.with_columns((pl.col("n") - pl.col("k")).alias("rest"))
    return int(g.select((_c2("n") - _c2("rest")).sum()).item())


def _prf(tp: int, found: int, true: int) -> tuple[float, float, float]:
    precision = tp / found if found else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def metrics_by_noise(xref: Any, truth: Any) -> pl.DataFrame:
    """Pairwise precision / recall / F1 restricted to pairs touching a record with each noise kind.

    ``truth`` needs a ``noise`` list column (the generator's ``_truth/identity.parquet``). A pair
    counts for a kind when at least one of its two records carries it, so recall per kind says
    how often records garbled that way still join their person. Computed from group sizes, never
    by listing pairs. One row per kind, plus ``(none)`` for records without any noise.
    """
    both = _joined(xref, truth)
    kinds = sorted(k for k in both.select(pl.col("noise").explode().drop_nulls().unique())["noise"])
    rows = []
    for kind in [*kinds, "(none)"]:
        flag = (
            pl.col("noise").list.len().fill_null(0) == 0
            if kind == "(none)"
            else pl.col("noise").list.contains(kind).fill_null(False)
        )
        flagged = both.with_columns(flag.alias("flag"))
        true_pairs = _touching(flagged, ["person_id"])
        found_pairs = _touching(flagged, ["customer_id"])
        tp = _touching(flagged, ["customer_id", "person_id"])
        precision, recall, f1 = _prf(tp, found_pairs, true_pairs)
        rows.append(
            {
                "noise": kind,
                "records": int(flagged["flag"].sum()),
                "share": float(flagged["flag"].mean() or 0.0),
                "true_pairs": true_pairs,
                "found_pairs": found_pairs,
                "precision": precision,
                "recall": recall,
                "f1": f1,
            }
        )
    return pl.DataFrame(rows)


def metrics_by_source_pair(xref: Any, truth: Any) -> pl.DataFrame:
    """Pairwise precision / recall / F1 for the record pairs between each two sources.

    For sources A and B (A before B, or A = B for duplicates within one source), the true pairs
    are the pairs of an A record and a B record of one person, the found pairs those placed in
    one customer. Counts come from per-group source tallies: Σ n_A·n_B (or C(n_A, 2)).
    """
    both = _joined(xref, truth)
    sources = sorted(both["source_system"].unique())

    def tallies(group: list[str]) -> pl.DataFrame:
        return (
            both.group_by([*group, "source_system"])
            .len()
            .pivot(on="source_system", index=group, values="len")
            .fill_null(0)
        )

    per_person = tallies(["person_id"])
    per_customer = tallies(["customer_id"])
    per_cell = tallies(["customer_id", "person_id"])
    rows = []
    for i, a in enumerate(sources):
        for b in sources[i:]:

            def count(frame: pl.DataFrame, a: str = a, b: str = b) -> int:
                if a not in frame.columns or b not in frame.columns:
                    return 0
                if a == b:
                    return int(frame.select(_c2(a).sum()).item())
                return int(frame.select((pl.col(a).cast(pl.Int64) * pl.col(b)).sum()).item())

            true_pairs, found_pairs = count(per_person), count(per_customer)
            tp = count(per_cell)
            if not (true_pairs or found_pairs):
                continue
            precision, recall, f1 = _prf(tp, found_pairs, true_pairs)
            rows.append(
                {
                    "source_l": a,
                    "source_r": b,
                    "true_pairs": true_pairs,
                    "found_pairs": found_pairs,
                    "precision": precision,
                    "recall": recall,
                    "f1": f1,
                }
            )
    return pl.DataFrame(rows)


def related_people_merged(xref: Any, truth: Any, people: Any) -> pl.DataFrame:
    """How many pairs of related people (twins, households) ended up as one customer.

    ``people`` is the generator's ``_truth/people.parquet`` (``person_id``, ``twin_of``,
    ``household_of``). A pair is merged when any record of one and any record of the other share
    a customer id. Pairs where one person has no evaluated record are not counted.
    """
    both = _joined(xref, truth).select("customer_id", "person_id").unique()
    frame = _frame(people)
    rows = []
    for relation, column in (("twins", "twin_of"), ("household", "household_of")):
        if column not in frame.columns:
            continue
        pairs = frame.filter(pl.col(column).is_not_null()).select(
            pl.col("person_id").cast(pl.String).alias("a"),
            pl.col(column).cast(pl.String).alias("b"),
        )
        pairs = pairs.filter(
            pl.col("a").is_in(both["person_id"].implode())
            & pl.col("b").is_in(both["person_id"].implode())
        )
        shared = (
            pairs.join(both, left_on="a", right_on="person_id")
            .join(both, left_on=["b", "customer_id"], right_on=["person_id", "customer_id"])
            .select("a", "b")
            .unique()
        )
        rows.append({"relation": relation, "pairs": pairs.height, "merged": shared.height})
    return pl.DataFrame(rows, schema={"relation": pl.String, "pairs": pl.Int64, "merged": pl.Int64})


def _name_key(column: str) -> pl.Expr:
    return (
        pl.col(column)
        .cast(pl.String)
        .str.strip_chars()
        .str.replace_all(r"\s+", " ")
        .str.to_lowercase()
    )


def name_parsing(parsed: Any, truth: Any) -> pl.DataFrame:
    """How often a full-name field was split into the first and last name its system wrote.

    ``parsed``: ``source_system``, ``source_id``, ``first_name``, ``last_name`` (the output of
    ``silver.int_customer_full_names``). Compared with the truth's ``given_name`` and
    ``family_name`` (as the system wrote them, noise included), ignoring case and spacing; one
    row per name style: ``last_first`` ("Bennett, Dwayne") and ``first_last``.
    """
    both = _joined(_frame(parsed).with_columns(pl.lit("-").alias("customer_id")), truth).join(
        _frame(parsed).select(
            pl.col("source_system").cast(pl.String),
            pl.col("source_id").cast(pl.String),
            pl.col("first_name").alias("parsed_first"),
            pl.col("last_name").alias("parsed_last"),
        ),
        on=_KEYS,
    )
    both = both.filter(
        pl.col("given_name").is_not_null()
        & pl.col("family_name").is_not_null()
        & ~pl.col("noise").list.contains("first_only").fill_null(False)
    ).with_columns(
        pl.when(pl.col("noise").list.contains("last_first").fill_null(False))
        .then(pl.lit("last_first"))
        .otherwise(pl.lit("first_last"))
        .alias("style"),
        (
            (_name_key("parsed_first") == _name_key("given_name")).fill_null(False)
            & (_name_key("parsed_last") == _name_key("family_name")).fill_null(False)
        ).alias("correct"),
    )
    return (
        both.group_by("style")
        .agg(pl.len().alias("records"), pl.col("correct").sum().alias("correct"))
        .with_columns((pl.col("correct") / pl.col("records")).alias("share_correct"))
        .sort("style")
    )


@dataclass(frozen=True)
class LakeEvaluation:
    """Everything ``engagement-lake mdm evaluate`` reports for one generated and built lake."""

    noise_level: str | None
    overall: MatchMetrics
    by_noise: pl.DataFrame
    by_source_pair: pl.DataFrame
    related: pl.DataFrame
    names: pl.DataFrame

    def __str__(self) -> str:
        def table(frame: pl.DataFrame) -> str:
            with pl.Config(
                tbl_rows=-1, tbl_cols=-1, tbl_hide_dataframe_shape=True, float_precision=4,
                tbl_hide_column_data_types=True, tbl_width_chars=120,
            ):  # fmt: skip
                return str(frame)

        return "\n".join(
            [
                f"identity noise level: {self.noise_level or 'unknown'}",
                str(self.overall),
                "per kind of noise (pairs touching a record with it):",
                table(self.by_noise),
                "per pair of sources:",
                table(self.by_source_pair),
                "related people placed in one customer (should be 0):",
                table(self.related),
                "full-name fields parsed to the first and last name written:",
                table(self.names),
            ]
        )


def evaluate_lake(truth_dir: Any, con: Any) -> LakeEvaluation:
    """Score the warehouse's ``silver.customer_xref`` against a generated lake's truth.

    Reads exactly what the build matched (the crosswalk and the parsed full names of
    ``silver.int_customer_full_names``) from the DuckDB connection ``con``, and the generator's
    ``identity.parquet``, ``people.parquet`` and ``manifest.json`` from ``truth_dir``.
    """
    import json
    from pathlib import Path

    truth_dir = Path(truth_dir)
    truth = pl.read_parquet(truth_dir / "identity.parquet")
    people = pl.read_parquet(truth_dir / "people.parquet")
    manifest = truth_dir / "manifest.json"
    level = json.loads(manifest.read_text()).get("identity_noise") if manifest.exists() else None
    xref = con.execute("select * from silver.customer_xref").pl()
    parsed = con.execute(
        "select source_system, source_id, first_name, last_name from silver.int_customer_full_names"
    ).pl()
    return LakeEvaluation(
        noise_level=level,
        overall=evaluate_matches(xref, truth),
        by_noise=metrics_by_noise(xref, truth),
        by_source_pair=metrics_by_source_pair(xref, truth),
        related=related_people_merged(xref, truth, people),
        names=name_parsing(parsed, truth),
    )
