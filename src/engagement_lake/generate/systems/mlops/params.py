"""The personalisation platform's parameter set, written once and read by the backfill (a
``Block`` over all history) and by a daily load (a ``Day``) alike, and the registry lookups
every builder shares.

A rate here is a rate per customer-day (or per session, per assignment-day): the backfill draws
a customer's whole history from it (Poisson counts over the span), a daily load draws one day of
it (Bernoulli per customer), so both paths produce the same volume per day.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import polars as pl

from engagement_lake.generate.block import Block

HOUR = 3600 * 1_000_000
MINUTE = 60 * 1_000_000
SECOND = 1_000_000

# ----------------------------------------------------------------------------- recommendations

ALGORITHM_RATES = {
    "collaborative_filtering": (0.060, 0.30, 0.50),
    "content_based": (0.045, 0.27, 0.45),
    "hybrid": (0.075, 0.33, 0.55),
    "popularity": (0.035, 0.24, 0.40),
    "fitmap_size_match": (0.095, 0.42, 0.65),
}
"""algorithm -> (click rate at rank 1, add-to-cart given click, purchase given cart & an order)."""
ALGORITHM_MIX = {
    "collaborative_filtering": 0.3,
    "content_based": 0.2,
    "hybrid": 0.25,
    "popularity": 0.15,
    "fitmap_size_match": 0.1,
}
"""Share of recommendation requests served by each algorithm (FitMap size match falls back to
hybrid for customers without a FitMap profile)."""
RANK_DECAY = 0.15
"""Click rate at slot r = rate at rank 1 / (1 + RANK_DECAY x (r - 1))."""
SESSION_REC_SHARE = 0.25
"""Share of known customers' web sessions that request recommendations."""
WEB_CONTEXTS = {"Homepage": 0.45, "Product Page": 0.35, "Cart": 0.2}
SLOTS = {"Homepage": 6}
"""Slots filled per request: 6 on the homepage, DEFAULT_SLOTS elsewhere."""
DEFAULT_SLOTS = 4
STORE_KIOSK_SHARE = 0.1
"""Share of store orders preceded by a kiosk recommendation."""
EMAIL_REC_SHARE = 0.05
"""Share of opened e-mails carrying a recommendation block."""
DISMISS_RATE = 0.02
"""Share of shown, not clicked recommendations dismissed."""
BUY_WINDOW_DAYS = 3
"""A purchase is attributed to a recommendation clicked within this many days before the order."""

# ----------------------------------------------------------------------------- personalisation

STRATEGY_MIX = {
    "hero_banner": 0.3,
    "size_filter": 0.2,
    "offer": 0.2,
    "content_block": 0.15,
    "search_rerank": 0.15,
}
STRATEGY_CLICK = {
    "hero_banner": 0.04,
    "size_filter": 0.12,
    "offer": 0.08,
    "content_block": 0.03,
    "search_rerank": 0.10,
}
PERSONALISED_SESSION_SHARE = 0.4
PERSONALISED_CONVERSION = (0.6, 0.15)
"""Chance a converting session is credited to the impression: (clicked, not clicked)."""
DISPLAY_RATE = 0.95
OFFERS = ("OFF-SAVE10", "OFF-BIGTALL20", "OFF-FREESHIP", "OFF-FITMAP15")

# ----------------------------------------------------------------------------- experiments

ASSIGNMENT_DAYS = 42
"""An experiment reaches its coverage of the eligible customers in this many days: each eligible
customer not yet assigned is assigned on a given day with hazard -ln(1 - coverage) / 42 (their
first visit to the surface), the same day after day in the backfill and in a daily load."""
REPEAT_EXPOSURE_PER_DAY = 0.1
REPEAT_EXPOSURE_DAYS = 14
"""After the first exposure at assignment, an assigned customer who is still active meets the
surface again at REPEAT_EXPOSURE_PER_DAY in the REPEAT_EXPOSURE_DAYS after the assignment (while
the experiment runs): 1.4 more exposures on average, none for a quarter of them."""
MEAN_CONVERSION_REVENUE = 95.0
CONVERSION_REVENUE_SHAPE = 4.0

# ----------------------------------------------------------------------------- model scoring

SCORING_SHARE_PER_DAY = {
    "churn": 0.004,
    "clv": 0.003,
    "cross_sell": 0.003,
    "product_affinity": 0.002,
    "next_best_action": 0.003,
}
"""Share of the shop customers each deployed model version scores per day (about one customer
in ten a month for churn): every model in the registry is scored every month it is deployed,
so every one of them can be monitored month by month."""
CLASSIFIER_TYPES = ("churn", "cross_sell", "product_affinity")
"""Model types that write a thresholded label (score > 0.5) with their score."""
CLV_NOISE_SD = 0.35
"""Log-normal noise of the CLV prediction around the true 12-month value."""
SCORING_HOUR = 2
"""Batch scoring starts at 02:00 and runs for up to SCORING_HOURS hours."""
SCORING_HOURS = 4

# ----------------------------------------------------------------------------- vendor NLP

NLP_CENTER = {0: 0.6, 1: 0.0, 2: -0.6}
NLP_NOISE = 0.3
NLP_SCORED_SHARE = {
    "review": 0.7,
    "ticket_message": 0.4,
    "call_transcript": 0.6,
    "survey": 0.6,
    "social": 0.8,
}


def behaviour_params() -> dict[str, object]:
    return {
        "recommendation_algorithm_rates": {
            k: {
                "click_rate_rank1": v[0],
                "add_to_cart_given_click": v[1],
                "purchase_given_cart_and_order_within_3d": v[2],
            }
            for k, v in ALGORITHM_RATES.items()
        },
        "rank_decay": f"click rate x 1 / (1 + {RANK_DECAY} x (slot_rank - 1))",
        "personalization_click_rate": STRATEGY_CLICK,
        "experiment_assignment_days": ASSIGNMENT_DAYS,
        "experiment_repeat_exposure": {
            "per_day": REPEAT_EXPOSURE_PER_DAY,
            "days_after_assignment": REPEAT_EXPOSURE_DAYS,
        },
        "model_scoring_share_per_day": SCORING_SHARE_PER_DAY,
        "vendor_sentiment": {
            "center": {"positive": 0.6, "neutral": 0.0, "negative": -0.6},
            "noise_sd": NLP_NOISE,
            "label_thresholds": [-0.25, 0.25],
            "scored_share": NLP_SCORED_SHARE,
        },
    }


def model_row(models: pl.DataFrame, name: str, version: str) -> tuple[str, int]:
    """(model id, deployment time) of one registry entry."""
    m = models.filter((pl.col("model_name") == name) & (pl.col("model_version") == version))
    return str(m["model_id"][0]), int(m["deployed_us"][0])


def _model(blk: Block, name: str, version: str) -> tuple[str, int]:
    return model_row(blk.world.models, name, version)


def separation(training_auc: float | None) -> float:
    """Mean gap, in noise standard deviations, between the scores of the two classes that gives
    a binormal classifier the registry's training AUC (AUC = Phi(gap / sqrt 2))."""
    auc = 0.75 if training_auc is None or np.isnan(training_auc) else training_auc
    return float(np.sqrt(2.0) * NormalDist().inv_cdf(auc))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def customers(blk: Block) -> np.ndarray:
    """Local persons with a shop account, the population the platform scores."""
    return np.flatnonzero(blk.state["primary_cust"] >= 0)
