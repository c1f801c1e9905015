"""VADER scoring and labelling: clear sentences get the obvious sign, missing text stays
missing, and the label bands are inclusive exactly at ±0.05."""

from __future__ import annotations

import numpy as np
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from engagement_lake.analytics import sentiment
from engagement_lake.analytics.sentiment import label, vader_compound

POSITIVE_TEXT = "I love this jacket, it fits perfectly and the support team was wonderful!"
NEGATIVE_TEXT = "Terrible quality. It fell apart after one wash and the refund was refused."
NEUTRAL_TEXT = "The parcel arrived on Tuesday."


def test_obvious_sentences_get_the_obvious_sign() -> None:
    scores = vader_compound([POSITIVE_TEXT, NEGATIVE_TEXT, NEUTRAL_TEXT])
    assert scores.dtype == np.float64
    assert scores.shape == (3,)
    assert scores[0] > 0.5
    assert scores[1] < -0.5
    assert scores[2] == 0.0
    assert list(label(scores)) == ["positive", "negative", "neutral"]


def test_scores_equal_a_fresh_analyzer() -> None:
    """Caching the analyzer must not change results, and the scores are VADER's own."""
    fresh = SentimentIntensityAnalyzer()
    texts = [POSITIVE_TEXT, NEGATIVE_TEXT, "not bad at all :)", "meh"]
    expected = [fresh.polarity_scores(text)["compound"] for text in texts]
    np.testing.assert_array_equal(vader_compound(texts), expected)
    # Negation is handled (a lexicon bag-of-words would call "not bad" negative).
    assert vader_compound(["not bad at all"])[0] > 0


def test_analyzer_is_created_once() -> None:
    sentiment._analyzer.cache_clear()
    vader_compound(["good"])
    vader_compound(["bad", "fine"])
    info = sentiment._analyzer.cache_info()
    assert info.misses == 1
    assert info.hits >= 1


def test_each_distinct_text_is_scored_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeated texts are scored once and every copy gets that score, in input order."""
    real = sentiment._analyzer()
    scored: list[str] = []

    class Counting:
        def polarity_scores(self, text: str) -> dict[str, float]:
            scored.append(text)
            return real.polarity_scores(text)

    monkeypatch.setattr(sentiment, "_analyzer", lambda: Counting())
    texts = ["great", "awful", None, "great", "awful", "great", ""]
    scores = vader_compound(texts)
    assert sorted(scored) == ["awful", "great"]
    np.testing.assert_array_equal(scores[[0, 3, 5]], [scores[0]] * 3)
    assert scores[0] > 0 > scores[1] == scores[4]
    assert np.isnan(scores[[2, 6]]).all()


def test_missing_text_is_nan_not_neutral() -> None:
    scores = vader_compound([None, "", "   ", float("nan"), "great"])
    assert np.isnan(scores[:4]).all()
    assert scores[4] > 0
    labels = label(scores)
    assert list(labels[:4]) == [None, None, None, None]
    assert labels[4] == "positive"


def test_a_single_string_is_one_text() -> None:
    scores = vader_compound("great")
    assert scores.shape == (1,)
    assert scores[0] > 0
    assert vader_compound([]).shape == (0,)


def test_non_text_is_rejected() -> None:
    with pytest.raises(TypeError, match="strings or None"):
        vader_compound(["fine", 3])  # type: ignore[list-item]


def test_label_thresholds_are_inclusive() -> None:
    scores = np.array([0.05, 0.0499, 0.0, -0.0499, -0.05, 1.0, -1.0, np.nan])
    assert list(label(scores)) == [
        "positive",
        "neutral",
        "neutral",
        "neutral",
        "negative",
        "positive",
        "negative",
        None,
    ]


def test_label_custom_thresholds_and_shape() -> None:
    scores = np.array([[0.2, 0.3], [-0.3, -0.1]])
    labels = label(scores, pos=0.3, neg=-0.3)
    assert labels.shape == (2, 2)
    assert labels.tolist() == [["neutral", "positive"], ["negative", "neutral"]]
    with pytest.raises(ValueError, match="must not exceed"):
        label(scores, pos=-0.1, neg=0.1)
