"""Customer lifetime value: BG/NBD purchase counts times Gamma-Gamma spend, discounted.

The gold CLV table needs a per-customer forecast that does not depend on a heavyweight modelling
package, so the two Fader–Hardie–Lee (2005) models are written out here as closed-form
likelihoods and predictions over numpy arrays. Every function works on whole columns at once (no
Python loop per customer), so a warehouse of a million customers is one vectorised pass.

Time is in whatever unit the model was fitted in (days or weeks, see ``rfm_summary``); the CLV
function takes ``periods_per_month`` so the conversion from months to that unit is explicit
rather than assumed.

References:
    Fader, Hardie and Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
    Pareto/NBD Model", Marketing Science 24(2). Likelihood (eq. 6), P(alive) (eq. 13) and the
    conditional expectation (eq. 10).
    Fader, Hardie and Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base
    Analysis", Journal of Marketing Research 42(4); Fader and Hardie (2013), "The Gamma-Gamma
    Model of Monetary Value".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import expit, gammaln, hyp2f1

FloatArray = NDArray[np.float64]

DAYS_PER_MONTH = 365.25 / 12
"""Mean Gregorian month in days (30.4375): the CLV horizon in months becomes model time with it."""

PERIODS_PER_MONTH: dict[str, float] = {"D": DAYS_PER_MONTH, "W": DAYS_PER_MONTH / 7}
"""``periods_per_month`` for a model fitted on ``rfm_summary(..., time_unit=...)`` output."""

_DAYS_PER_UNIT: dict[str, float] = {"D": 1.0, "W": 7.0}

# Log-parameter box for the optimiser: wide enough for any unit (α is ~30 in days for a monthly
# buyer, ~4 in weeks) while keeping exp() finite if the likelihood is flat in some direction.
_LOG_BOUND = 15.0

# The BG/NBD conditional expectation has a removable 0/0 singularity at a = 1 (the closed form
# divides by a − 1). Within this distance of 1 the value is interpolated linearly between
# a = 1 ± h, which is exact to O(h²) and keeps the cancellation error near 1e-16 / h.
_A_ONE_STEP = 1e-4


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted BG/NBD parameters: λ ~ Gamma(r, rate α) purchase rates, p ~ Beta(a, b) dropout."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")
    """Total log-likelihood at the optimum (without the penalty), for model comparison."""
    n: int = 0
    """Number of customers the model was fitted on."""


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters: spend ~ Gamma(p, rate ν), ν ~ Gamma(q, rate v)."""

    p: float
    q: float
    v: float
    log_likelihood: float = float("nan")
    """Total log-likelihood at the optimum (without the penalty)."""
    n: int = 0
    """Number of repeat buyers the model was fitted on (customers with x = 0 are dropped)."""


@dataclass(frozen=True)
class RfmSummary:
    """Per-customer recency–frequency–monetary inputs of the two models, aligned by position."""

    customer_id: NDArray[Any]
    frequency: FloatArray
    """Repeat purchases: distinct purchase days minus one."""
    recency: FloatArray
    """Time from the first to the last purchase day, in the summary's time unit."""
    T: FloatArray
    """Time from the first purchase day to the observation end, in the summary's time unit."""
    monetary_value: FloatArray
    """Mean spend per repeat purchase day (the first day excluded); 0 when frequency is 0."""
    time_unit: str

    def to_dict(self) -> dict[str, NDArray[Any]]:
        """Columns by name, so pandas, polars or DuckDB can take the summary without copying."""
        return {
            "customer_id": self.customer_id,
            "frequency": self.frequency,
            "recency": self.recency,
            "T": self.T,
            "monetary_value": self.monetary_value,
        }


# --------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------


def _floats(*arrays: ArrayLike) -> list[FloatArray]:
    """Broadcast the customer columns together so scalars and arrays mix freely."""
    return [np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*arrays)]


def _check_rft(x: FloatArray, tx: FloatArray, T: FloatArray) -> None:
    """Reject inputs that would silently give nonsense (negative ages, recency beyond T)."""
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(tx)) and np.all(np.isfinite(T))):
        raise ValueError("frequency, recency and T must be finite (no NaN or inf)")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("frequency must be a non-negative whole number of repeat purchases")
    if np.any(tx < 0) or np.any(tx > T):
        raise ValueError("recency must lie in [0, T]: it is measured from the first purchase")
    if np.any((x == 0) & (tx != 0)):
        raise ValueError("recency must be 0 for customers with frequency 0")


def _fit(
    objective: Callable[[FloatArray], float], start: FloatArray
) -> tuple[FloatArray, bool, str]:
    """Minimise over log-parameters: L-BFGS-B first, Nelder-Mead if it did not converge.

    Log-parameters keep every parameter positive without constraints; Nelder-Mead is the fallback
    because the finite-difference gradient of L-BFGS-B can stall on the flat ridges these
    likelihoods have when a parameter is weakly identified.
    """
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(start)
    res = minimize(objective, start, method="L-BFGS-B", bounds=bounds)
    if not res.success:
        res = minimize(
            objective,
            res.x,
            method="Nelder-Mead",
            bounds=bounds,
            options={"maxiter": 20_000, "xatol": 1e-8, "fatol": 1e-12},
        )
    return np.asarray(res.x, dtype=np.float64), bool(res.success), str(res.message)


# --------------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------------


def _bg_nbd_ll(
    r: float, alpha: float, a: float, b: float, x: FloatArray, tx: FloatArray, T: FloatArray
) -> FloatArray:
    """Per-customer log-likelihood, FHL (2005) eq. 6, in log space so large x cannot overflow."""
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    # For x = 0 the second term is absent; b + x − 1 could be ≤ 0 there, so it is masked first.
    safe = np.where(repeat, b + x - 1.0, 1.0)
    a4 = np.where(repeat, np.log(a) - np.log(safe) - (r + x) * np.log(alpha + tx), -np.inf)
    return a1 + a2 + np.logaddexp(a3, a4)


def bg_nbd_log_likelihood(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-customer log-likelihood, exposed so callers can compare fits or compute standard errors
    (observed information) without re-deriving the formula."""
    x, tx, t_age = _floats(frequency, recency, T)
    return _bg_nbd_ll(params.r, params.alpha, params.a, params.b, x, tx, t_age)


def _fit_four_parameters(
    log_likelihood: Callable[..., FloatArray],
    name: str,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    penalizer: float,
) -> tuple[float, float, float, float, float, float]:
    """Maximum likelihood of a BG/NBD-family model (r, α, a, b): the fit BG/NBD and MBG/NBD share.

    ``log_likelihood(r, alpha, a, b, x, t_x, T)`` gives each customer's log-likelihood. Returns
    r, α, a, b, the total log-likelihood and the number of customers.
    """
    x, tx, t_age = _floats(frequency, recency, T)
    x, tx, t_age = x.ravel(), tx.ravel(), t_age.ravel()
    if x.size == 0:
        raise ValueError("no customers to fit")
    _check_rft(x, tx, t_age)
    if penalizer < 0:
        raise ValueError("penalizer must be non-negative")

    rows, counts = np.unique(np.column_stack([x, tx, t_age]), axis=0, return_counts=True)
    ux, utx, uT = rows[:, 0], rows[:, 1], rows[:, 2]
    weights = counts.astype(np.float64)
    n = float(weights.sum())

    def objective(log_params: FloatArray) -> float:
        r, alpha, a, b = np.exp(log_params)
        ll = float(np.dot(weights, log_likelihood(r, alpha, a, b, ux, utx, uT)))
        return -ll / n + penalizer * float(np.sum(np.exp(2 * log_params)))

    # Start at r = 1 with α matching the pooled repeat rate, a = b = 1 (uniform dropout prior):
    # the right order of magnitude for α whatever the time unit.
    rate = max(float(np.dot(weights, ux)), 1.0) / max(float(np.dot(weights, uT)), 1e-12)
    start = np.log(np.array([1.0, 1.0 / rate, 1.0, 1.0]))
    log_params, ok, message = _fit(objective, start)
    if not ok:
        raise ValueError(f"{name} fit did not converge: {message}")
    r, alpha, a, b = (float(v) for v in np.exp(log_params))
    total_ll = float(np.dot(weights, log_likelihood(r, alpha, a, b, ux, utx, uT)))
    return r, alpha, a, b, total_ll, n


def fit_bg_nbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    penalizer: float = 0.0,
) -> BgNbdParams:
    """Maximum-likelihood BG/NBD fit.

    Identical (x, t_x, T) rows are collapsed with counts first: with day-granular data most
    customers share a few thousand distinct triples, so the likelihood is evaluated once per triple.
    ``penalizer`` adds ``penalizer · (r² + α² + a² + b²)`` to the mean negative log-likelihood (the
    lifetimes convention): a small value keeps a and b finite on data with almost no dropout.

    Raises:
        ValueError: on invalid inputs, or if the optimiser does not converge.
    """
    r, alpha, a, b, total_ll, n = _fit_four_parameters(
        _bg_nbd_ll, "BG/NBD", frequency, recency, T, penalizer
    )
    return BgNbdParams(r=r, alpha=alpha, a=a, b=b, log_likelihood=total_ll, n=int(n))


def p_alive(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Probability the customer is still active at T, FHL (2005) eq. 13.

    Computed as a logistic of the log-odds of having dropped out, so customers with many purchases
    long ago (huge odds) give exactly 0 instead of an overflow warning. Customers with no repeat
    purchase cannot have dropped out in BG/NBD (dropout happens only after a repeat purchase), so
    their P(alive) is 1.
    """
    x, tx, t_age = _floats(frequency, recency, T)
    return _p_alive(params, x, tx, t_age)


def _p_alive(params: BgNbdParams, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    safe = np.where(repeat, b + x - 1.0, 1.0)
    log_odds_dead = np.where(
        repeat,
        np.log(a) - np.log(safe) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)),
        -np.inf,
    )
    return np.asarray(expit(-log_odds_dead), dtype=np.float64)


def _expected_if_alive(
    r: float, alpha: float, a: float, b: float, t: FloatArray, x: FloatArray, T: FloatArray
) -> FloatArray:
    """E[purchases in (T, T+t]] given alive at T: FHL eq. 10 without the P(alive) factor.

    The paper's form (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z)]
    multiplies a (1−z)^(r+x) that underflows by a 2F1 that overflows once x is in the hundreds.
    Euler's transformation 2F1(A, B; C; z) = (1−z)^(C−A−B) 2F1(C−A, C−B; C; z) cancels the two
    exactly, leaving 1 − (1−z)^(a−1) · 2F1(a+b−1−r, a−1; a+b+x−1; z), whose parameters stay small.
    The closed form is analytic in a, so it is valid for a < 1 as well (the CDNOW fit has
    a = 0.79); only a = 1 itself is a removable 0/0, handled by the caller.
    """
    z = t / (alpha + T + t)
    log_one_minus_z = np.log(alpha + T) - np.log(alpha + T + t)
    hyp = hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
    bracket = -np.expm1((a - 1.0) * log_one_minus_z) - np.exp((a - 1.0) * log_one_minus_z) * (
        hyp - 1.0
    )
    return (a + b + x - 1.0) / (a - 1.0) * bracket


def conditional_expected_purchases(
    params: BgNbdParams,
    t: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Expected purchases in (T, T + t] for a customer with history (x, t_x, T), FHL eq. 10.

    ``t`` broadcasts against the customer columns, so a column of horizons of shape (k, 1)
    against n customers gives a (k, n) table in one call (how the CLV sums months).

    Raises:
        ValueError: if t is negative.
    """
    t_arr, x, tx, t_age = _floats(t, frequency, recency, T)
    if np.any(t_arr < 0):
        raise ValueError("the horizon t must be non-negative")
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1.0) < _A_ONE_STEP:
        below = _expected_if_alive(r, alpha, 1.0 - _A_ONE_STEP, b, t_arr, x, t_age)
        above = _expected_if_alive(r, alpha, 1.0 + _A_ONE_STEP, b, t_arr, x, t_age)
        weight = (a - (1.0 - _A_ONE_STEP)) / (2.0 * _A_ONE_STEP)
        alive = below + weight * (above - below)
    else:
        alive = _expected_if_alive(r, alpha, a, b, t_arr, x, t_age)
    return alive * _p_alive(params, x, tx, t_age)


# --------------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------------


def _gamma_gamma_ll(p: float, q: float, v: float, x: FloatArray, m: FloatArray) -> FloatArray:
    """Log density of a customer's mean spend m̄ over x purchases (Fader & Hardie 2013, eq. 3)."""
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + x * m)
    )


def fit_gamma_gamma(
    frequency: ArrayLike, monetary_value: ArrayLike, penalizer: float = 0.0
) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma fit on repeat buyers.

    Customers with frequency 0 have no repeat spend to learn from, and a mean spend ≤ 0 (net of
    refunds) has no Gamma density; both are dropped here so callers can pass the whole RFM table.
    The model assumes spend is independent of frequency, which callers should check (correlation
    of frequency and monetary_value near 0) before trusting the CLV.

    Raises:
        ValueError: if fewer than 3 repeat buyers remain, or the optimiser does not converge.
    """
    x, m = _floats(frequency, monetary_value)
    x, m = x.ravel(), m.ravel()
    keep = (x > 0) & np.isfinite(m) & (m > 0)
    x, m = x[keep], m[keep]
    if x.size < 3:
        raise ValueError("Gamma-Gamma needs at least 3 repeat buyers with positive spend")
    if penalizer < 0:
        raise ValueError("penalizer must be non-negative")
    n = x.size

    def objective(log_params: FloatArray) -> float:
        p, q, v = np.exp(log_params)
        ll = float(np.sum(_gamma_gamma_ll(p, q, v, x, m)))
        return -ll / n + penalizer * float(np.sum(np.exp(2 * log_params)))

    # Start from p = 2, q = 3 and the v that reproduces the observed mean spend, E[m̄] = p·v/(q−1),
    # so the optimiser begins at the right scale of money whatever the currency.
    p0, q0 = 2.0, 3.0
    v0 = float(np.mean(m)) * (q0 - 1.0) / p0
    log_params, ok, message = _fit(objective, np.log(np.array([p0, q0, v0])))
    if not ok:
        raise ValueError(f"Gamma-Gamma fit did not converge: {message}")
    p, q, v = (float(val) for val in np.exp(log_params))
    total_ll = float(np.sum(_gamma_gamma_ll(p, q, v, x, m)))
    return GammaGammaParams(p=p, q=q, v=v, log_likelihood=total_ll, n=int(n))


def expected_average_spend(
    gg_params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    """Posterior mean spend per transaction: shrinks a customer's observed mean toward the
    population mean, the more the fewer purchases they have made.

    E[Z | x, m̄] = p·(v + x·m̄) / (p·x + q − 1); for x = 0 it is the population mean p·v/(q − 1)
    (whatever monetary_value says, so NaN or 0 placeholders are fine there).

    Raises:
        ValueError: if q ≤ 1, where the population mean spend is infinite.
    """
    p, q, v = gg_params.p, gg_params.q, gg_params.v
    if q <= 1.0:
        raise ValueError(f"q = {q:.4g} ≤ 1: the Gamma-Gamma mean spend is infinite")
    x, m = _floats(frequency, monetary_value)
    m = np.where(x > 0, m, 0.0)
    return p * (v + x * m) / (p * x + q - 1.0)


# --------------------------------------------------------------------------------------------
# CLV
# --------------------------------------------------------------------------------------------


def _monthly_discounted_value(
    bgnbd_params: BgNbdParams,
    gg_params: GammaGammaParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    months: int,
    monthly_discount_rate: float,
    periods_per_month: float,
) -> FloatArray:
    """(months, n) table of each month's discounted expected revenue per customer.

    Month m's purchases are E[X(m)] − E[X(m−1)] at cumulative horizons, so the sum of the months
    equals the expectation over the whole horizon exactly (no per-month approximation).
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    if monthly_discount_rate <= -1.0:
        raise ValueError("monthly_discount_rate must be greater than -1")
    if periods_per_month <= 0:
        raise ValueError("periods_per_month must be positive")
    x, tx, t_age, m = _floats(frequency, recency, T, monetary_value)
    shape = x.shape
    x, tx, t_age, m = x.ravel(), tx.ravel(), t_age.ravel(), m.ravel()
    horizons = (np.arange(months + 1, dtype=np.float64) * periods_per_month)[:, None]
    cumulative = conditional_expected_purchases(bgnbd_params, horizons, x, tx, t_age)
    per_month = np.diff(cumulative, axis=0)
    spend = expected_average_spend(gg_params, x, m)
    discount = (1.0 + monthly_discount_rate) ** -np.arange(1, months + 1, dtype=np.float64)
    value = per_month * spend[None, :] * discount[:, None]
    return value.reshape((months, *shape))


def customer_lifetime_value(
    bgnbd_params: BgNbdParams,
    gg_params: GammaGammaParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
    periods_per_month: float = DAYS_PER_MONTH,
) -> FloatArray:
    """Discounted expected revenue over the next ``months`` months, per customer.

    CLV = Σ_{m=1..months} E[purchases in month m] · E[spend per purchase] / (1 + d)^m.
    ``periods_per_month`` converts months into the model's time unit: the default
    (``DAYS_PER_MONTH`` = 30.4375) is for a model fitted in days; use ``PERIODS_PER_MONTH['W']``
    for weeks. Getting this wrong scales every forecast, which is why it is a parameter rather
    than being inferred.

    Typical use is the 12- and 36-month values of the gold CLV table; ``customer_lifetime_values``
    computes several horizons in one pass.
    """
    monthly = _monthly_discounted_value(
        bgnbd_params,
        gg_params,
        frequency,
        recency,
        T,
        monetary_value,
        months,
        monthly_discount_rate,
        periods_per_month,
    )
    return monthly.sum(axis=0)


def customer_lifetime_values(
    bgnbd_params: BgNbdParams,
    gg_params: GammaGammaParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    horizons_months: Sequence[int] = (12, 36),
    monthly_discount_rate: float = 0.01,
    periods_per_month: float = DAYS_PER_MONTH,
) -> dict[int, FloatArray]:
    """CLV at several horizons from one evaluation of the longest: the shorter horizons are
    prefix sums of the same monthly table, so 12 and 36 months cost the same as 36 alone."""
    if not horizons_months or min(horizons_months) < 1:
        raise ValueError("horizons_months must be a non-empty list of whole months ≥ 1")
    monthly = _monthly_discounted_value(
        bgnbd_params,
        gg_params,
        frequency,
        recency,
        T,
        monetary_value,
        max(horizons_months),
        monthly_discount_rate,
        periods_per_month,
    )
    running = np.cumsum(monthly, axis=0)
    return {int(h): running[int(h) - 1] for h in horizons_months}


# --------------------------------------------------------------------------------------------
# Transaction log → RFM
# --------------------------------------------------------------------------------------------


def rfm_summary(
    customer_ids: ArrayLike,
    dates: ArrayLike,
    amounts: ArrayLike,
    observation_end: Any,
    time_unit: Literal["D", "W"] = "D",
) -> RfmSummary:
    """Collapse a transaction log into the per-customer inputs of BG/NBD and Gamma-Gamma.

    Follows the lifetimes convention: several purchases on one calendar day are one transaction
    (their amounts summed), because the models describe purchase occasions, not order lines.
    frequency is distinct purchase days minus one; recency and T are measured from the first
    purchase day; monetary_value is the mean of the repeat days' spend, the first day excluded
    because it is often atypical (a welcome offer, a first basket). Transactions after
    ``observation_end`` are ignored, so one log can be cut at any calibration date.
    With ``time_unit='W'`` recency and T are fractional weeks (days / 7); frequency still counts
    days, as in FHL's CDNOW data.

    Customers are returned sorted by id. Only numpy is used, so any array-like of ids (ints or
    strings) and of dates (datetime64, ISO strings, datetime.date) is accepted.
    """
    if time_unit not in _DAYS_PER_UNIT:
        raise ValueError(f"time_unit must be one of {sorted(_DAYS_PER_UNIT)}, got {time_unit!r}")
    ids = np.asarray(customer_ids)
    days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
    values = np.asarray(amounts, dtype=np.float64)
    if not (ids.shape == days.shape == values.shape) or ids.ndim != 1:
        raise ValueError("customer_ids, dates and amounts must be 1-D and of equal length")
    end = np.datetime64(observation_end, "D").astype(np.int64)

    in_window = days <= end
    ids, days, values = ids[in_window], days[in_window], values[in_window]
    if np.any(~np.isfinite(values)):
        raise ValueError("amounts must be finite")
    unique_ids, code = np.unique(ids, return_inverse=True)
    code = code.ravel()

    # One row per (customer, day): sort by customer then day and sum amounts within each run.
    # Amount is the last sort key so that a day's amounts are added in one order whatever the
    # order of the log (a warehouse hands rows over in any order): the sum, and every fit on it,
    # is then the same to the bit.
    order = np.lexsort((values, days, code))
    code, days, values = code[order], days[order], values[order]
    new_pair = np.ones(code.size, dtype=bool)
    new_pair[1:] = (code[1:] != code[:-1]) | (days[1:] != days[:-1])
    starts = np.flatnonzero(new_pair)
    pair_code = code[starts]
    pair_day = days[starts]
    pair_amount = np.add.reduceat(values, starts) if starts.size else values[:0]

    # Per customer: pairs are contiguous and day-sorted, so first/last rows are first/last days.
    new_customer = np.ones(pair_code.size, dtype=bool)
    new_customer[1:] = pair_code[1:] != pair_code[:-1]
    first = np.flatnonzero(new_customer)
    last = np.append(first[1:] - 1, pair_code.size - 1) if first.size else first
    n_days = (last - first + 1).astype(np.float64)
    total = np.add.reduceat(pair_amount, first) if first.size else pair_amount[:0]
    frequency = n_days - 1.0
    repeat_spend = total - pair_amount[first]
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat_spend / frequency, 0.0)

    scale = _DAYS_PER_UNIT[time_unit]
    recency = (pair_day[last] - pair_day[first]).astype(np.float64) / scale
    age = (end - pair_day[first]).astype(np.float64) / scale
    return RfmSummary(
        customer_id=unique_ids,
        frequency=frequency,
        recency=recency,
        T=age,
        monetary_value=monetary,
        time_unit=time_unit,
    )
