"""Churn for every buyer, one-time buyers included: the MBG/NBD model.

BG/NBD lets a customer drop out only right after a *repeat* purchase, so a customer with one
purchase is alive with probability 1 however long ago it was (FHL 2005, eq. 13 at x = 0). The
modified BG/NBD of Batislam, Denizel and Filiztekin (2007) adds a dropout chance at time 0, right
after the first purchase, and after each repeat purchase, so a one-time buyer who has been silent
for a year is probably gone, which is what a churn probability has to say. Its likelihood and
predictions stay closed-form and vectorised like BG/NBD's; the fitting machinery, the input checks
and the hypergeometric expectation are shared with :mod:`engagement_lake.analytics.clv`.

Likelihood (per customer, x repeat purchases, last at t_x, observed to T):

    L = Γ(r+x) α^r / (Γ(r) (α+T)^(r+x)) · B(a, b+x+1)/B(a, b)
        · [1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)]

P(alive at T) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)), below 1 at x = 0 and decreasing in T.

References:
    Batislam, Denizel and Filiztekin (2007), "Empirical validation and comparison of models for
    customer base analysis", International Journal of Research in Marketing 24(3).
    Wagner and Hoppe (2008), "Erratum on the MBG/NBD model", same journal 25(3) (the conditional
    expectation). Reference values on the CDNOW sample: Platzer's BTYDplus, as checked by the
    ``lifetimes`` test suite (r = 0.525, α = 6.183, a = 0.891, b = 1.614).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, gammaln

from engagement_lake.analytics.clv import (
    _A_ONE_STEP,
    BgNbdParams,
    FloatArray,
    _expected_if_alive,
    _fit_four_parameters,
    _floats,
    _p_alive,
)


@dataclass(frozen=True)
class MbgNbdParams:
    """Fitted MBG/NBD parameters: λ ~ Gamma(r, rate α) purchase rates, p ~ Beta(a, b) dropout at
    the first purchase and after every repeat purchase."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    """Total log-likelihood at the optimum (without the penalty)."""
    n: int = 0
    """Number of customers the model was fitted on."""


def _log_odds_dead(
    r: float, alpha: float, a: float, b: float, x: FloatArray, tx: FloatArray, T: FloatArray
) -> FloatArray:
    """log[a/(b+x) · ((α+T)/(α+t_x))^(r+x)]: the odds of having dropped out by T."""
    return np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))


def _mbg_nbd_ll(
    r: float, alpha: float, a: float, b: float, x: FloatArray, tx: FloatArray, T: FloatArray
) -> FloatArray:
    """Per-customer log-likelihood (module docstring), in log space so large x cannot overflow."""
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + T)
    a2 = gammaln(a + b) + gammaln(b + x + 1.0) - gammaln(b) - gammaln(a + b + x + 1.0)
    return a1 + a2 + np.logaddexp(0.0, _log_odds_dead(r, alpha, a, b, x, tx, T))


def mbg_nbd_log_likelihood(
    params: MbgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-customer log-likelihood at ``params``, for model comparison with BG/NBD."""
    x, tx, t_age = _floats(frequency, recency, T)
    return _mbg_nbd_ll(params.r, params.alpha, params.a, params.b, x, tx, t_age)


def fit_mbg_nbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    penalizer: float = 0.0,
) -> MbgNbdParams:
    """Maximum-likelihood MBG/NBD fit, the same way as :func:`~.clv.fit_bg_nbd`: identical
    (x, t_x, T) rows collapsed with counts, log-parameters, an optional L2 ``penalizer`` on the
    parameters added to the mean negative log-likelihood.

    Raises:
        ValueError: on invalid inputs, or if the optimiser does not converge.
    """
    r, alpha, a, b, total_ll, n = _fit_four_parameters(
        _mbg_nbd_ll, "MBG/NBD", frequency, recency, T, penalizer
    )
    return MbgNbdParams(r=r, alpha=alpha, a=a, b=b, log_likelihood=total_ll, n=int(n))


def mbg_p_alive(
    params: MbgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Probability the customer is still active at T. Unlike BG/NBD it is below 1 for a one-time
    buyer and falls the longer they stay silent. A logistic of the log-odds, so very old
    histories give exactly 0 rather than an overflow."""
    x, tx, t_age = _floats(frequency, recency, T)
    return np.asarray(
        expit(-_log_odds_dead(params.r, params.alpha, params.a, params.b, x, tx, t_age)),
        dtype=np.float64,
    )


def mbg_conditional_expected_purchases(
    params: MbgNbdParams,
    t: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Expected purchases in (T, T + t] given the history (Wagner and Hoppe 2008):

    (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x+1; a+b+x; z)] · P(alive),

    which is BG/NBD's expectation-if-alive with b + 1 in place of b (the same stable Euler form
    and the same treatment of a = 1). ``t`` broadcasts against the customer columns.

    Raises:
        ValueError: if t is negative.
    """
    t_arr, x, tx, t_age = _floats(t, frequency, recency, T)
    if np.any(t_arr < 0):
        raise ValueError("the horizon t must be non-negative")
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1.0) < _A_ONE_STEP:
        below = _expected_if_alive(r, alpha, 1.0 - _A_ONE_STEP, b + 1.0, t_arr, x, t_age)
        above = _expected_if_alive(r, alpha, 1.0 + _A_ONE_STEP, b + 1.0, t_arr, x, t_age)
        weight = (a - (1.0 - _A_ONE_STEP)) / (2.0 * _A_ONE_STEP)
        alive = below + weight * (above - below)
    else:
        alive = _expected_if_alive(r, alpha, a, b + 1.0, t_arr, x, t_age)
    return alive * expit(-_log_odds_dead(r, alpha, a, b, x, tx, t_age))


def probability_no_purchase(
    params: BgNbdParams | MbgNbdParams,
    t: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """P(no purchase in (T, T + t]) under BG/NBD or MBG/NBD: dead already, or alive with no
    Poisson event in t. Given alive at T, λ's posterior is Gamma(r + x, rate α + T), and dropout
    happens only at a purchase, so no purchase while alive has probability ((α+T)/(α+T+t))^(r+x).
    """
    t_arr, x, tx, t_age = _floats(t, frequency, recency, T)
    if np.any(t_arr < 0):
        raise ValueError("the horizon t must be non-negative")
    if isinstance(params, MbgNbdParams):
        alive = mbg_p_alive(params, x, tx, t_age)
    else:
        alive = _p_alive(params, x, tx, t_age)
    silent = np.exp(
        (params.r + x) * (np.log(params.alpha + t_age) - np.log(params.alpha + t_age + t_arr))
    )
    return 1.0 - alive + alive * silent
