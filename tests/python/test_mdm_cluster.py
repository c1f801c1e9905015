"""The clustering's fast path gives the clusters of joining every pair one at a time.

``guarded_components`` joins the trusted pairs in one connected-components pass and skips
guarded pairs already inside a cluster; ``at_once=False`` joins every pair in order through the
same checks. On random records drawn from a few names, e-mail addresses and phone numbers (so
that the checks refuse pairs), both give the same partition.
"""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest

from engagement_lake.mdm.cluster import guarded_components, name_replacement_rate

FIRST = ["ANNA", "ANN", "BOB", "ROBERT", "CARL", "KARL", "DIANA", None]
VARIANTS = {"BOB": ["BOB", "ROBERT"], "ROBERT": ["ROBERT"]}
LAST = ["SMITH", "SMYTH", "JONES", "ANNA", None]


def _features(rng: random.Random, n: int) -> pl.DataFrame:
    first = [rng.choice(FIRST) for _ in range(n)]
    return pl.DataFrame(
        {
            "unique_id": list(range(n)),
            "fn": first,
            "fn_names": [VARIANTS.get(f, [f]) if f else None for f in first],
            "ln": [rng.choice(LAST) for _ in range(n)],
            "email": [rng.choice([None, "a@x.com", "b@x.com", "c@x.com"]) for _ in range(n)],
            "phone": [rng.choice([None, "+15550001", "+15550002"]) for _ in range(n)],
        },
        schema_overrides={"fn_names": pl.List(pl.String)},
    )


def _edges(rng: random.Random, n: int, count: int, weighted: bool) -> pl.DataFrame:
    pairs = sorted({tuple(sorted(rng.sample(range(n), 2))) for _ in range(count)})
    frame = pl.DataFrame(
        {"unique_id_l": [a for a, _ in pairs], "unique_id_r": [b for _, b in pairs]},
        schema={"unique_id_l": pl.Int64, "unique_id_r": pl.Int64},
    )
    if weighted:
        # few distinct weights, so ties are broken by the ids as in production
        frame = frame.with_columns(
            pl.Series("match_weight", [float(rng.randint(1, 4)) for _ in pairs])
        )
    return frame


def _partition(labels: np.ndarray) -> list[list[int]]:
    groups: dict[int, list[int]] = {}
    for record, label in enumerate(labels.tolist()):
        groups.setdefault(label, []).append(record)
    return sorted(groups.values())


@pytest.mark.parametrize("names_decide", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_joining_at_once_equals_joining_one_pair_at_a_time(seed: int, names_decide: bool) -> None:
    rng = random.Random(seed)
    n = 400
    features = _features(rng, n)
    trusted = [_edges(rng, n, 20, False), _edges(rng, n, 60, False)]
    guarded = [_edges(rng, n, 60, False), _edges(rng, n, 180, True)]
    at_once = guarded_components(features, trusted, guarded, set(), names_decide)
    in_order = guarded_components(features, trusted, guarded, set(), names_decide, at_once=False)
    assert _partition(at_once) == _partition(in_order)
    # the checks did refuse pairs: fewer merges than plain connected components would make
    unchecked = guarded_components(features, trusted + guarded, [], set())
    assert at_once.max() > unchecked.max()


def test_cannot_links_are_respected_on_the_trusted_pairs_too() -> None:
    features = _features(random.Random(1), 4)
    trusted = [
        pl.DataFrame(
            {"unique_id_l": [0, 1, 2], "unique_id_r": [1, 2, 3]},
            schema={"unique_id_l": pl.Int64, "unique_id_r": pl.Int64},
        )
    ]
    labels = guarded_components(features, trusted, [], {(0, 3)})
    # 0-1 and 1-2 join; 2-3 would put 0 and 3 together, which the steward forbade
    assert _partition(labels) == [[0, 1, 2], [3]]
    assert _partition(guarded_components(features, trusted, [], set())) == [[0, 1, 2, 3]]


def test_name_replacement_rate_counts_each_pair() -> None:
    features = pl.DataFrame(
        {
            "unique_id": [0, 1, 2, 3, 4, 5],
            "fn": ["ANNA", "ANN", "ANNA", "CARL", "DIANA", "ROBERT"],
            "fn_names": [["ANNA"], ["ANN"], ["ANNA"], ["CARL"], ["DIANA"], ["ROBERT"]],
            "ln": ["SMITH"] * 6,
        }
    )
    linked = pl.DataFrame(
        # ANNA/ANN prefix, ANNA/ANNA equal, CARL/DIANA different (twice, same names),
        # DIANA/ROBERT different
        {"unique_id_l": [0, 0, 3, 3, 4], "unique_id_r": [1, 2, 4, 4, 5]},
        schema={"unique_id_l": pl.Int64, "unique_id_r": pl.Int64},
    )
    repeated = pl.DataFrame(
        {"unique_id_l": [3], "unique_id_r": [4]},
        schema={"unique_id_l": pl.Int64, "unique_id_r": pl.Int64},
    )
    # four distinct pairs (a pair listed twice counts once), two of them clearly different
    assert name_replacement_rate(features, [linked, repeated], 1) == pytest.approx(2 / 4)
    assert name_replacement_rate(features, [linked], 5) is None
