"""mlops: the personalisation platform's outputs -- experiments, model predictions, features,
recommendations and their feedback, personalised impressions, next best actions and the
vendor's sentiment scores.

One module per output, each with its backfill emitter and its daily path, all reading the one
parameter set in ``params``. Every output has a known truth (``_truth/``): experiments' true
effects, the recommendation and personalisation rates, the models' achieved accuracy, the feature
drift and the vendor's noise.
"""

from __future__ import annotations

from engagement_lake.generate.block import Block
from engagement_lake.generate.daily import Day
from engagement_lake.generate.systems.mlops import (
    actions,
    experiments,
    features,
    nlp,
    predictions,
    recommendations,
)
from engagement_lake.generate.systems.mlops.features import feature_drift_truth
from engagement_lake.generate.systems.mlops.params import ALGORITHM_RATES, behaviour_params
from engagement_lake.generate.systems.mlops.predictions import (
    _auc,
    average_ranks,
    model_accuracy,
)

__all__ = [
    "ALGORITHM_RATES",
    "_auc",
    "average_ranks",
    "behaviour_params",
    "daily",
    "emit",
    "feature_drift_truth",
    "model_accuracy",
]


def emit(blk: Block) -> None:
    """The backfill: every output over all history for one block of people."""
    experiments.experiments(blk)
    predictions.predictions(blk)
    features.features(blk)
    recommendations.recommendations(blk)
    recommendations.personalization(blk)
    actions.next_best_actions(blk)
    nlp.nlp_sentiment(blk)


def daily(d: Day) -> None:
    """One daily load: today's scoring, features, recommendations, actions, experiments, NLP."""
    scored = predictions.daily(d)
    features.daily(d, scored)
    recommendations.daily(d)
    actions.daily(d, scored)
    experiments.daily(d)
    nlp.daily(d)
