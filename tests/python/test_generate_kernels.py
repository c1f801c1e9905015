"""Unit tests of the generator's vectorised kernels, against plain Python definitions.

These kernels trade readability for speed (byte buffers, strided word stores, rank tricks), so
each one is checked against the obvious slow implementation on edge cases and random input.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engagement_lake.generate.columns import digit_ids
from engagement_lake.generate.context import ID_FORMATS
from engagement_lake.generate.systems.mlops import _auc, average_ranks


@pytest.mark.parametrize(
    ("prefix", "width"),
    sorted({fmt for fmt in ID_FORMATS.values() if fmt[0] is not None} | {("", 8), ("X", 1)}),
)
def test_digit_ids_match_python_formatting(prefix: str, width: int) -> None:
    rng = np.random.default_rng(width)
    top = 10**width - 1
    for values in (
        np.array(sorted({0, 1, 9, min(10, top), top, top - 1}), dtype=np.int64),
        rng.integers(0, top + 1, 2_000),
        np.array([top // 3], dtype=np.int64),
        np.array([], dtype=np.int64),
    ):
        got = digit_ids(prefix, values, width)
        assert got.to_pylist() == [f"{prefix}{v:0{width}d}" for v in values.tolist()]
        assert got.null_count == 0


def test_average_ranks_match_the_definition() -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 20, 300).astype(float)  # many ties
    expected = [1 + (values < v).sum() + ((values == v).sum() - 1) / 2 for v in values.tolist()]
    assert np.allclose(average_ranks(values), expected)
    assert average_ranks(np.array([])).tolist() == []


def test_auc_is_the_share_of_correctly_ordered_pairs() -> None:
    rng = np.random.default_rng(4)
    label = rng.random(200) < 0.3
    score = np.round(rng.random(200) + 0.4 * label, 1)  # rounded: ties count one half
    pairs = [
        1.0 if s1 > s0 else 0.5 if s1 == s0 else 0.0
        for (s1, l1), (s0, l0) in itertools.product(zip(score, label, strict=True), repeat=2)
        if l1 and not l0
    ]
    assert _auc(score, label.astype(float)) == pytest.approx(np.mean(pairs))
    assert np.isnan(_auc(score, np.zeros(200)))
