"""A/B test statistics from summary counts, vectorised over experiments.

The gold experiment tables aggregate exposures and conversions per variant in SQL; these
functions take those aggregates (not raw events) so one call evaluates every experiment × metric
row at once. Inputs broadcast like numpy arrays; when every input is a scalar the result fields
are plain Python floats/bools, otherwise numpy arrays of the broadcast shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

FloatOrArray = float | NDArray[np.float64]
BoolOrArray = bool | NDArray[np.bool_]


@dataclass(frozen=True)
class TwoProportionResult:
    """Conversion-rate comparison, treatment minus control."""

    control_rate: FloatOrArray
    treatment_rate: FloatOrArray
    absolute_lift: FloatOrArray
    relative_lift: FloatOrArray
    """absolute_lift / control_rate; NaN when the control rate is 0."""
    ci_low: FloatOrArray
    ci_high: FloatOrArray
    """Wald interval of the difference with the unpooled standard error (no null assumed)."""
    z: FloatOrArray
    p_value: FloatOrArray
    """Two-sided, from the pooled-variance z statistic (the standard test of equal rates)."""
    is_significant: BoolOrArray


@dataclass(frozen=True)
class WelchResult:
    """Difference in means (treatment minus control) with unequal variances."""

    difference: FloatOrArray
    relative_lift: FloatOrArray
    """difference / control_mean; NaN when the control mean is 0."""
    ci_low: FloatOrArray
    ci_high: FloatOrArray
    t: FloatOrArray
    df: FloatOrArray
    """Welch–Satterthwaite degrees of freedom."""
    p_value: FloatOrArray
    is_significant: BoolOrArray


@dataclass(frozen=True)
class SrmResult:
    """Sample-ratio-mismatch check: were users split as planned?"""

    chi2: FloatOrArray
    df: FloatOrArray
    p_value: FloatOrArray
    is_mismatch: BoolOrArray
    expected: NDArray[np.float64]
    """Expected counts under the plan, same shape as the observed counts (NaN where padded)."""


def _unwrap(value: NDArray[Any]) -> Any:
    """0-d results become Python scalars so a single test reads like a single test."""
    return value.item() if np.ndim(value) == 0 else value


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")


def two_proportion_test(
    control_users: ArrayLike,
    control_conversions: ArrayLike,
    treatment_users: ArrayLike,
    treatment_conversions: ArrayLike,
    alpha: float = 0.05,
) -> TwoProportionResult:
    """Two-sided z-test of equal conversion rates, with a Wald interval for the difference.

    The test and the interval use different standard errors on purpose: under the null both arms
    share one rate, so the pooled SE is the right yardstick for the p-value, whereas the interval
    describes the difference we actually observed and so uses each arm's own rate. When both
    arms convert at 0% or 100% the pooled SE is 0 and there is no evidence either way: z = 0 and
    p = 1 rather than NaN, so such rows are simply "not significant".

    Raises:
        ValueError: if a user count is not positive or conversions are outside [0, users].
    """
    _check_alpha(alpha)
    n_c, x_c, n_t, x_t = (
        np.asarray(a, dtype=np.float64)
        for a in np.broadcast_arrays(
            control_users, control_conversions, treatment_users, treatment_conversions
        )
    )
    if np.any(n_c <= 0) or np.any(n_t <= 0):
        raise ValueError("user counts must be positive")
    if np.any((x_c < 0) | (x_c > n_c) | (x_t < 0) | (x_t > n_t)):
        raise ValueError("conversions must lie between 0 and the number of users")

    p_c = x_c / n_c
    p_t = x_t / n_t
    diff = p_t - p_c
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(p_c > 0, diff / p_c, np.nan)

    se_unpooled = np.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
    z_crit = stats.norm.ppf(1 - alpha / 2)
    pooled = (x_c + x_t) / (n_c + n_t)
    se_pooled = np.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    degenerate = se_pooled == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(degenerate, 0.0, diff / np.where(degenerate, 1.0, se_pooled))
    p_value = 2 * stats.norm.sf(np.abs(z))
    return TwoProportionResult(
        control_rate=_unwrap(p_c),
        treatment_rate=_unwrap(p_t),
        absolute_lift=_unwrap(diff),
        relative_lift=_unwrap(relative),
        ci_low=_unwrap(diff - z_crit * se_unpooled),
        ci_high=_unwrap(diff + z_crit * se_unpooled),
        z=_unwrap(z),
        p_value=_unwrap(p_value),
        is_significant=_unwrap(p_value < alpha),
    )


def welch_t_test(
    control_mean: ArrayLike,
    control_var: ArrayLike,
    control_n: ArrayLike,
    treatment_mean: ArrayLike,
    treatment_var: ArrayLike,
    treatment_n: ArrayLike,
    alpha: float = 0.05,
) -> WelchResult:
    """Welch's t-test from per-arm mean, sample variance (ddof = 1) and count.

    Summary statistics are what SQL gives cheaply (avg, var_samp, count), so revenue-per-user
    style metrics can be tested straight from a gold aggregate. Welch rather than Student because
    treatment often changes the spread as well as the mean (a few big spenders), and Welch stays
    calibrated when variances and arm sizes differ.

    Raises:
        ValueError: if an arm has fewer than 2 observations, a negative variance, or both
            variances are 0 (the statistic is undefined).
    """
    _check_alpha(alpha)
    m_c, v_c, n_c, m_t, v_t, n_t = (
        np.asarray(a, dtype=np.float64)
        for a in np.broadcast_arrays(
            control_mean, control_var, control_n, treatment_mean, treatment_var, treatment_n
        )
    )
    if np.any(n_c < 2) or np.any(n_t < 2):
        raise ValueError("each arm needs at least 2 observations")
    if np.any(v_c < 0) or np.any(v_t < 0):
        raise ValueError("variances must be non-negative")
    s2_c = v_c / n_c
    s2_t = v_t / n_t
    se2 = s2_c + s2_t
    if np.any(se2 == 0):
        raise ValueError("both variances are 0: the t statistic is undefined")
    se = np.sqrt(se2)
    diff = m_t - m_c
    df = se2**2 / (s2_c**2 / (n_c - 1) + s2_t**2 / (n_t - 1))
    t = diff / se
    p_value = 2 * stats.t.sf(np.abs(t), df)
    half_width = stats.t.ppf(1 - alpha / 2, df) * se
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(m_c != 0, diff / m_c, np.nan)
    return WelchResult(
        difference=_unwrap(diff),
        relative_lift=_unwrap(relative),
        ci_low=_unwrap(diff - half_width),
        ci_high=_unwrap(diff + half_width),
        t=_unwrap(t),
        df=_unwrap(df),
        p_value=_unwrap(p_value),
        is_significant=_unwrap(p_value < alpha),
    )


def srm_test(
    observed: ArrayLike, expected_ratios: ArrayLike, threshold: float = 0.001
) -> SrmResult:
    """Chi-square goodness of fit of variant counts against the planned split.

    A sample ratio mismatch means assignment or logging is broken, which invalidates every metric
    of the experiment, so the default threshold is strict (p < 0.001) to flag only real breakage
    at the sample sizes where tiny imbalances are otherwise always "significant".

    ``observed`` is either one experiment (1-D, one count per variant) or a table of experiments
    (2-D, experiments × variants) where experiments with fewer variants are padded with NaN.
    ``expected_ratios`` has the same shape, or is 1-D and shared by every row; the padding of
    ``observed`` decides which variants exist, and ratios in padded cells are ignored. Ratios need
    not sum to 1 (e.g. [50, 50] or [1, 1, 2]); each row is normalised over its present variants.

    Raises:
        ValueError: on negative counts, a missing or non-positive ratio for an observed variant,
            or an experiment with fewer than 2 variants or no users.
    """
    counts = np.asarray(observed, dtype=np.float64)
    if counts.ndim not in (1, 2):
        raise ValueError("observed must be 1-D (one experiment) or 2-D (experiments × variants)")
    single = counts.ndim == 1
    table = np.atleast_2d(counts)
    ratios = np.broadcast_to(np.asarray(expected_ratios, dtype=np.float64), table.shape)

    present = ~np.isnan(table)
    if np.any(table[present] < 0):
        raise ValueError("counts must be non-negative")
    if not np.all(ratios[present] > 0):  # also catches a NaN ratio for an observed variant
        raise ValueError("every observed variant needs a positive planned ratio")
    k = present.sum(axis=1)
    if np.any(k < 2):
        raise ValueError("every experiment needs at least 2 variants")

    filled_counts = np.where(present, table, 0.0)
    filled_ratios = np.where(present, ratios, 0.0)
    total = filled_counts.sum(axis=1, keepdims=True)
    if np.any(total == 0):
        raise ValueError("every experiment needs at least one user")
    expected = total * filled_ratios / filled_ratios.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(present, (filled_counts - expected) ** 2 / expected, 0.0)
    chi2 = terms.sum(axis=1)
    df = (k - 1).astype(np.float64)
    p_value = stats.chi2.sf(chi2, df)
    expected = np.where(present, expected, np.nan)
    if single:
        return SrmResult(
            chi2=float(chi2[0]),
            df=float(df[0]),
            p_value=float(p_value[0]),
            is_mismatch=bool(p_value[0] < threshold),
            expected=expected[0],
        )
    return SrmResult(
        chi2=chi2, df=df, p_value=p_value, is_mismatch=p_value < threshold, expected=expected
    )
