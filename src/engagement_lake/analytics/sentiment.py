"""VADER sentiment for reviews, support tickets and social mentions.

VADER is a lexicon and rule model tuned for short, informal text, needs no training data or
network access, and is deterministic, so the gold sentiment facts are reproducible from the same
text on any machine. The compound score is VADER's normalised overall polarity in [−1, 1].
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

POSITIVE = "positive"
NEUTRAL = "neutral"
NEGATIVE = "negative"

DEFAULT_POSITIVE_THRESHOLD = 0.05
DEFAULT_NEGATIVE_THRESHOLD = -0.05
"""The thresholds recommended by VADER's authors (Hutto & Gilbert 2014): compound ≥ 0.05 is
positive, ≤ −0.05 negative, anything between neutral."""


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    """One analyzer per process: construction parses the lexicon and emoji files from disk,
    which costs far more than scoring a sentence."""
    return SentimentIntensityAnalyzer()


def _is_missing(text: object) -> bool:
    if text is None:
        return True
    if isinstance(text, float) and math.isnan(text):  # pandas/numpy missing value
        return True
    if isinstance(text, str):
        return not text.strip()
    raise TypeError(f"texts must be strings or None, got {type(text).__name__}")


def vader_compound(texts: str | Iterable[str | None]) -> NDArray[np.float64]:
    """VADER compound score per text; missing text (None, NaN, empty or blank) gives NaN.

    VADER scores one string at a time in pure Python (tokenising, lexicon look-ups, negation and
    intensifier rules), so there is no vectorised form; a comprehension over the texts is the
    honest implementation, and the cached analyzer keeps the per-text cost to the scoring itself.
    NaN rather than 0 for missing text keeps "no text" distinct from "neutral text" downstream.
    A single string is scored as one text, not iterated character by character.
    """
    items = [texts] if isinstance(texts, str) else list(texts)
    analyzer = _analyzer()
    return np.array(
        [
            np.nan if _is_missing(text) else analyzer.polarity_scores(text)["compound"]
            for text in items
        ],
        dtype=np.float64,
    )


def label(
    scores: ArrayLike,
    pos: float = DEFAULT_POSITIVE_THRESHOLD,
    neg: float = DEFAULT_NEGATIVE_THRESHOLD,
) -> NDArray[np.object_]:
    """ "positive" / "neutral" / "negative" per score, inclusive at the thresholds.

    NaN scores (missing text) get None, so they load as NULL rather than pretending to be neutral.
    The result is an object array because it mixes strings and None.

    Raises:
        ValueError: if neg > pos (the bands would overlap).
    """
    if neg > pos:
        raise ValueError(f"neg ({neg}) must not exceed pos ({pos})")
    values = np.asarray(scores, dtype=np.float64)
    return np.select(
        [np.isnan(values), values >= pos, values <= neg],
        [None, POSITIVE, NEGATIVE],
        default=NEUTRAL,
    ).astype(object)
