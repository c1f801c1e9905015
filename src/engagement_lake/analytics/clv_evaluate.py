"""Calibration/holdout validation of the CLV models, the way Fader and Hardie validate them.

``evaluate_clv`` cuts a transaction log at a calibration end date, fits BG/NBD (the purchase
model behind the CLV) and MBG/NBD (the churn model behind ``p_alive`` and ``churn_probability``)
on the calibration period only, predicts each calibration customer's repeat purchases in the
holdout period and compares them with what happened: in aggregate and per calibration-frequency
bucket (the classic calibration/holdout plot of FHL 2005, fig. 4). It also scores the churn
models as classifiers of "no purchase in the next ``CHURN_HORIZON_DAYS`` days" by the AUC of
their churn probability (rank formula, ties averaged).

Only customers whose first purchase falls in the calibration period are scored (a customer
first seen in the holdout has no calibration history to predict from). Purchases are counted as
distinct purchase days, as ``rfm_summary`` counts them.

Pure functions over arrays, like the rest of :mod:`engagement_lake.analytics`; reading the
warehouse or the CDNOW sample and writing the report is :mod:`engagement_lake.clv_report`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import rankdata

from engagement_lake.analytics.churn import (
    MbgNbdParams,
    fit_mbg_nbd,
    mbg_conditional_expected_purchases,
    mbg_p_alive,
    probability_no_purchase,
)
from engagement_lake.analytics.clv import (
    BgNbdParams,
    FloatArray,
    _p_alive,
    conditional_expected_purchases,
    fit_bg_nbd,
    rfm_summary,
)

HOLDOUT_WEEKS = 52
"""Default holdout: the last 52 weeks before the data's as-of date. BG/NBD and MBG/NBD are
time-homogeneous: they forecast the average purchase rate, not the seasonal one. A holdout of a
whole year holds every season once, so it is compared with what the models can predict; a
39-week holdout ending in June (FHL's CDNOW split, 39 + 39) holds the November–December peak
and no summer, and the stationary forecast falls short by the seasonal excess (about 12 % with
the generator's monthly intensities)."""

CHURN_HORIZON_DAYS = 180
"""The churn label: no purchase in this many days after the calibration end."""

FREQUENCY_BUCKET_CAP = 7
"""Calibration-frequency buckets 0, 1, …, 6 and ``7+`` (all frequencies ≥ this value)."""

AGGREGATE_TOLERANCE = 0.10
"""Pass mark: predicted holdout repeat purchases within 10 % of the actual total."""

CHURN_AUC_TARGET = 0.70
"""Pass mark for the churn model's AUC on "no purchase in the next CHURN_HORIZON_DAYS days"."""

SILENT_DAYS = 365
"""One-time buyers silent for longer than this must look churned (mean churn probability > ½)."""


# --------------------------------------------------------------------------------------------
# AUC
# --------------------------------------------------------------------------------------------


def auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve by the rank (Mann–Whitney) formula, ties counted as one half.

    AUC = (Σ ranks of positives − n₊(n₊+1)/2) / (n₊ · n₋). NaN if either class is empty.
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=bool).ravel()
    if s.shape != y.shape:
        raise ValueError("scores and labels must have the same length")
    if np.any(~np.isfinite(s)):
        raise ValueError("scores must be finite")
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(s)  # average ranks for ties
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


# --------------------------------------------------------------------------------------------
# Calibration / holdout
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BucketRow:
    """One calibration-frequency bucket: mean holdout repeat purchases, actual and predicted."""

    bucket: str
    customers: int
    actual: float
    bg_nbd: float
    mbg_nbd: float


@dataclass(frozen=True)
class Evaluation:
    """Result of :func:`evaluate_clv`; ``to_json`` / ``to_markdown`` give the report."""

    calibration_end: str
    holdout_end: str
    holdout_periods: float
    time_unit: str
    customers: int
    bg_nbd: dict[str, float]
    mbg_nbd: dict[str, float]
    actual_total: float
    predicted_total_bg_nbd: float
    predicted_total_mbg_nbd: float
    churn_horizon_days: int
    churned_share: float
    """Share of calibration customers with no purchase in the churn horizon (the positive class)."""
    churn_auc_mbg_nbd: float
    """AUC of MBG/NBD's 1 − P(alive) at the calibration end (the gold churn_probability)."""
    churn_auc_bg_nbd: float
    """AUC of BG/NBD's 1 − P(alive): the churn probability before MBG/NBD, for comparison."""
    no_purchase_auc_mbg_nbd: float
    """AUC of MBG/NBD's own P(no purchase within the horizon) (dead, or alive and silent)."""
    buckets: list[BucketRow] = field(default_factory=list)

    @property
    def relative_error_bg_nbd(self) -> float:
        return (self.predicted_total_bg_nbd - self.actual_total) / self.actual_total

    @property
    def relative_error_mbg_nbd(self) -> float:
        return (self.predicted_total_mbg_nbd - self.actual_total) / self.actual_total

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["relative_error_bg_nbd"] = self.relative_error_bg_nbd
        out["relative_error_mbg_nbd"] = self.relative_error_mbg_nbd
        out["pass"] = {
            "aggregate_within_tolerance": abs(self.relative_error_bg_nbd) <= AGGREGATE_TOLERANCE,
            "churn_auc_at_least_target": self.churn_auc_mbg_nbd >= CHURN_AUC_TARGET,
        }
        return out

    def to_markdown(self) -> str:
        unit = {"D": "days", "W": "weeks"}[self.time_unit]
        lines = [
            f"Calibration to {self.calibration_end}, holdout to {self.holdout_end} "
            f"({self.holdout_periods:g} {unit}); {self.customers:,} calibration customers.",
            "",
            f"BG/NBD  r={self.bg_nbd['r']:.4g} alpha={self.bg_nbd['alpha']:.4g} "
            f"a={self.bg_nbd['a']:.4g} b={self.bg_nbd['b']:.4g}",
            f"MBG/NBD r={self.mbg_nbd['r']:.4g} alpha={self.mbg_nbd['alpha']:.4g} "
            f"a={self.mbg_nbd['a']:.4g} b={self.mbg_nbd['b']:.4g}",
            "",
            "| holdout repeat purchases | total | vs actual |",
            "| --- | ---: | ---: |",
            f"| actual | {self.actual_total:,.0f} | |",
            f"| BG/NBD (CLV) | {self.predicted_total_bg_nbd:,.1f} | "
            f"{self.relative_error_bg_nbd:+.1%} |",
            f"| MBG/NBD (churn) | {self.predicted_total_mbg_nbd:,.1f} | "
            f"{self.relative_error_mbg_nbd:+.1%} |",
            "",
            "| calibration frequency | customers | actual mean | BG/NBD mean | MBG/NBD mean |",
            "| --- | ---: | ---: | ---: | ---: |",
            *(
                f"| {b.bucket} | {b.customers:,} | {b.actual:.3f} | {b.bg_nbd:.3f} | "
                f"{b.mbg_nbd:.3f} |"
                for b in self.buckets
            ),
            "",
            f"Churn = no purchase in the {self.churn_horizon_days} days after calibration "
            f"({self.churned_share:.1%} of customers):",
            f"AUC of MBG/NBD churn probability {self.churn_auc_mbg_nbd:.3f} "
            f"(target ≥ {CHURN_AUC_TARGET}), of BG/NBD churn probability "
            f"{self.churn_auc_bg_nbd:.3f}, of MBG/NBD P(no purchase) "
            f"{self.no_purchase_auc_mbg_nbd:.3f}.",
        ]
        return "\n".join(lines) + "\n"


def _bucket_labels(frequency: FloatArray, cap: int) -> tuple[np.ndarray, list[str]]:
    index = np.minimum(frequency, cap).astype(np.int64)
    return index, [*(str(i) for i in range(cap)), f"{cap}+"]


def _distinct_days_between(
    code: np.ndarray, days: np.ndarray, start: int, end: int, n: int
) -> FloatArray:
    """Distinct purchase days per customer code with start < day ≤ end."""
    inside = (days > start) & (days <= end)
    pairs = np.unique(np.column_stack([code[inside], days[inside]]), axis=0)
    return np.bincount(pairs[:, 0], minlength=n).astype(np.float64) if pairs.size else np.zeros(n)


def evaluate_clv(
    customer_ids: ArrayLike,
    dates: ArrayLike,
    calibration_end: Any,
    holdout_end: Any,
    time_unit: Literal["D", "W"] = "D",
    churn_horizon_days: int = CHURN_HORIZON_DAYS,
    bucket_cap: int = FREQUENCY_BUCKET_CAP,
) -> Evaluation:
    """Fit on the log up to ``calibration_end``, score the holdout up to ``holdout_end``.

    Raises:
        ValueError: if the holdout is empty or shorter than the churn horizon, or no customer
            purchased in the calibration period.
    """
    ids = np.asarray(customer_ids)
    days = np.asarray(dates, dtype="datetime64[D]")
    cal = np.datetime64(calibration_end, "D")
    end = np.datetime64(holdout_end, "D")
    if end <= cal:
        raise ValueError(f"holdout end {end} must be after the calibration end {cal}")
    if (end - cal).astype(int) < churn_horizon_days:
        raise ValueError(
            f"the holdout ({(end - cal).astype(int)} days) is shorter than the churn horizon "
            f"({churn_horizon_days} days)"
        )
    if not np.any(days <= cal):
        raise ValueError(f"no purchase on or before the calibration end {cal}")

    rfm = rfm_summary(ids, days, np.zeros(days.shape), cal, time_unit=time_unit)
    x, tx, T = rfm.frequency, rfm.recency, rfm.T
    # Customer codes in rfm order (sorted ids); holdout days counted for calibration customers.
    pos = np.searchsorted(rfm.customer_id, ids)
    pos = np.clip(pos, 0, rfm.customer_id.size - 1)
    known = rfm.customer_id[pos] == ids
    code, day_num = pos[known], days[known].astype(np.int64)
    cal_num, end_num = int(cal.astype(np.int64)), int(end.astype(np.int64))
    n = rfm.customer_id.size
    actual = _distinct_days_between(code, day_num, cal_num, end_num, n)
    in_horizon = _distinct_days_between(code, day_num, cal_num, cal_num + churn_horizon_days, n)
    churned = in_horizon == 0

    per_day = {"D": 1.0, "W": 7.0}[time_unit]
    horizon = (end_num - cal_num) / per_day
    bg = fit_bg_nbd(x, tx, T)
    mbg = fit_mbg_nbd(x, tx, T)
    pred_bg = conditional_expected_purchases(bg, horizon, x, tx, T)
    pred_mbg = mbg_conditional_expected_purchases(mbg, horizon, x, tx, T)

    index, labels = _bucket_labels(x, bucket_cap)
    buckets = []
    for i, label in enumerate(labels):
        sel = index == i
        if not sel.any():
            continue
        buckets.append(
            BucketRow(
                bucket=label,
                customers=int(sel.sum()),
                actual=float(actual[sel].mean()),
                bg_nbd=float(pred_bg[sel].mean()),
                mbg_nbd=float(pred_mbg[sel].mean()),
            )
        )
    churn_t = churn_horizon_days / per_day
    return Evaluation(
        calibration_end=str(cal),
        holdout_end=str(end),
        holdout_periods=float(horizon),
        time_unit=time_unit,
        customers=int(n),
        bg_nbd=_params(bg),
        mbg_nbd=_params(mbg),
        actual_total=float(actual.sum()),
        predicted_total_bg_nbd=float(pred_bg.sum()),
        predicted_total_mbg_nbd=float(pred_mbg.sum()),
        churn_horizon_days=int(churn_horizon_days),
        churned_share=float(churned.mean()),
        churn_auc_mbg_nbd=auc(1.0 - mbg_p_alive(mbg, x, tx, T), churned),
        churn_auc_bg_nbd=auc(1.0 - _p_alive(bg, x, tx, T), churned),
        no_purchase_auc_mbg_nbd=auc(probability_no_purchase(mbg, churn_t, x, tx, T), churned),
        buckets=buckets,
    )


def _params(fit: BgNbdParams | MbgNbdParams) -> dict[str, float]:
    names = ("r", "alpha", "a", "b", "log_likelihood")
    return {name: float(getattr(fit, name)) for name in names}


def silent_one_time_churn(
    customer_ids: ArrayLike, dates: ArrayLike, as_of: Any, silent_days: int = SILENT_DAYS
) -> tuple[int, float]:
    """(count, mean MBG/NBD churn probability) of one-time buyers whose only purchase day is more
    than ``silent_days`` before ``as_of``, with the model fitted on the whole log to ``as_of``:
    the figure the gold table shows them (it should be above ½)."""
    ids = np.asarray(customer_ids)
    rfm = rfm_summary(ids, dates, np.zeros(ids.shape), as_of, time_unit="D")
    fit = fit_mbg_nbd(rfm.frequency, rfm.recency, rfm.T)
    sel = (rfm.frequency == 0) & (silent_days < rfm.T)
    if not sel.any():
        return 0, float("nan")
    churn = 1.0 - mbg_p_alive(fit, rfm.frequency[sel], rfm.recency[sel], rfm.T[sel])
    return int(sel.sum()), float(churn.mean())
