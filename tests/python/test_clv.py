"""CLV models: BG/NBD and Gamma-Gamma recover known parameters from simulated data, and the
closed-form predictions agree with the published CDNOW value, with brute-force integration over
the posterior, and with a forward simulation of the purchase process."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date

import numpy as np
import pytest
from scipy import integrate
from scipy.special import gammaln, hyp2f1

from engagement_lake.analytics.clv import (
    DAYS_PER_MONTH,
    PERIODS_PER_MONTH,
    BgNbdParams,
    GammaGammaParams,
    bg_nbd_log_likelihood,
    conditional_expected_purchases,
    customer_lifetime_value,
    customer_lifetime_values,
    expected_average_spend,
    fit_bg_nbd,
    fit_gamma_gamma,
    p_alive,
    rfm_summary,
)
from engagement_lake.analytics.clv_predictions import monthly_snapshot_dates

# Fader, Hardie and Lee (2005), "Counting your customers the easy way", fitted on CDNOW (weeks).
CDNOW = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)

# Simulation truth, in weeks: a ≈ 0.8 < 1 like CDNOW, so the a < 1 branch is what gets fitted.
TRUE_BG = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
TRUE_GG = {"p": 6.0, "q": 4.0, "v": 15.0}


def simulate_bg_nbd(
    rng: np.random.Generator,
    T: np.ndarray,
    r: float,
    alpha: float,
    a: float,
    b: float,
    holdout: float = 0.0,
) -> dict[str, np.ndarray]:
    """Exact, vectorised BG/NBD simulation over (0, T] and a holdout (T, T + holdout].

    A customer drops out after their K-th repeat purchase, K ~ Geometric(p) on {1, 2, …};
    purchases arrive as a Poisson process of rate λ, so x = min(K, N(T)). Given N(T) = n
    arrivals, their times are uniform order statistics on [0, T], so the x-th one is
    T · Beta(x, n − x + 1). The holdout continues the same Poisson process and the same K.
    """
    n = T.size
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    k = rng.geometric(p)
    n_cal = rng.poisson(lam * T)
    x = np.minimum(k, n_cal)
    tx = np.zeros(n)
    buyers = x > 0
    tx[buyers] = T[buyers] * rng.beta(x[buyers], n_cal[buyers] - x[buyers] + 1)
    n_total = n_cal + rng.poisson(lam * holdout)
    return {
        "x": x.astype(float),
        "tx": tx,
        "T": T,
        "alive": k > n_cal,
        "holdout_purchases": (np.minimum(k, n_total) - x).astype(float),
    }


def simulate_spend(
    rng: np.random.Generator, x: np.ndarray, p: float, q: float, v: float
) -> np.ndarray:
    """Mean spend over each customer's x purchases: ν ~ Gamma(q, rate v), z ~ Gamma(p, rate ν),
    every transaction drawn individually and averaged per customer."""
    counts = x.astype(int)
    nu = rng.gamma(q, 1.0 / v, counts.size)
    spends = rng.gamma(p, 1.0 / np.repeat(nu, counts))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.add.reduceat(spends, starts) / counts


def numerical_hessian(f: Callable[[np.ndarray], float], theta: np.ndarray) -> np.ndarray:
    """Central second differences with a relative step: standard errors for the tolerances."""
    h = 1e-4 * theta
    k = theta.size
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei = np.zeros(k)
            ej = np.zeros(k)
            ei[i], ej[j] = h[i], h[j]
            hess[i, j] = (
                f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej) + f(theta - ei - ej)
            ) / (4 * h[i] * h[j])
    return hess


@pytest.fixture(scope="module")
def simulated() -> dict[str, np.ndarray]:
    """20,000 customers with ages of 1–3 years in weeks, and their repeat spend."""
    rng = np.random.default_rng(2005)
    T = rng.uniform(52.0, 156.0, 20_000)
    data = simulate_bg_nbd(rng, T, **TRUE_BG)
    monetary = np.zeros_like(data["x"])
    buyers = data["x"] > 0
    monetary[buyers] = simulate_spend(rng, data["x"][buyers], **TRUE_GG)
    data["monetary"] = monetary
    return data


# --------------------------------------------------------------------------------------------
# Parameter recovery
# --------------------------------------------------------------------------------------------


def test_bg_nbd_recovers_simulated_parameters(simulated: dict[str, np.ndarray]) -> None:
    """Tolerance: 15% relative and 4 standard errors. With 20,000 customers the observed-
    information standard errors are 1–6% of each parameter (b, the least identified, ≈ 5.5%),
    so 15% is ≥ 2.7 SE for every parameter and a correct fit fails only by a > 2.7-sigma fluke
    (across ten other seeds the worst error was 10%, on b); a likelihood with a wrong term is
    off by far more, and would also fail the normalisation test below."""
    x, tx, T = simulated["x"], simulated["tx"], simulated["T"]
    fit = fit_bg_nbd(x, tx, T)
    fitted = np.array([fit.r, fit.alpha, fit.a, fit.b])
    truth = np.array([TRUE_BG["r"], TRUE_BG["alpha"], TRUE_BG["a"], TRUE_BG["b"]])

    def nll(theta: np.ndarray) -> float:
        return -float(bg_nbd_log_likelihood(BgNbdParams(*theta), x, tx, T).sum())

    se = np.sqrt(np.diag(np.linalg.inv(numerical_hessian(nll, fitted))))
    assert fit.n == 20_000
    assert fit.log_likelihood == pytest.approx(-nll(fitted), rel=1e-12)
    assert np.all(se / fitted < 0.08)
    assert np.all(np.abs(fitted / truth - 1) < 0.15), (fitted, truth)
    assert np.all(np.abs(fitted - truth) < 4 * se), (fitted, truth, se)
    # The optimum is a maximum: nudging any parameter lowers the likelihood.
    for i in range(4):
        for step in (0.97, 1.03):
            moved = fitted.copy()
            moved[i] *= step
            assert nll(moved) > nll(fitted)


def test_gamma_gamma_recovers_simulated_parameters(simulated: dict[str, np.ndarray]) -> None:
    """Tolerance: 20% relative and 4 standard errors. Only the ~11,000 repeat buyers inform the
    fit and p and v are strongly correlated, so their standard errors are larger than BG/NBD's
    (q ≈ 2%, p ≈ 5%, v ≈ 7%): 20% is ≈ 3 SE for v. Across ten other seeds the worst v error was
    15%, which a 15% bound would have made a coin toss."""
    from engagement_lake.analytics.clv import _gamma_gamma_ll

    x, m = simulated["x"], simulated["monetary"]
    fit = fit_gamma_gamma(x, m)  # the whole table: non-buyers are dropped inside
    buyers = x > 0
    assert fit.n == int(buyers.sum())
    fitted = np.array([fit.p, fit.q, fit.v])
    truth = np.array([TRUE_GG["p"], TRUE_GG["q"], TRUE_GG["v"]])

    def nll(theta: np.ndarray) -> float:
        return -float(_gamma_gamma_ll(*theta, x[buyers], m[buyers]).sum())

    se = np.sqrt(np.diag(np.linalg.inv(numerical_hessian(nll, fitted))))
    assert np.all(se / fitted < 0.10)
    assert np.all(np.abs(fitted / truth - 1) < 0.20), (fitted, truth)
    assert np.all(np.abs(fitted - truth) < 4 * se), (fitted, truth, se)


def test_fit_is_invariant_to_the_time_unit(simulated: dict[str, np.ndarray]) -> None:
    """Refitting in days instead of weeks must scale α by 7 and leave r, a, b unchanged: λ is a
    rate per unit of time and nothing else in the model has a unit."""
    x, tx, T = simulated["x"][:5_000], simulated["tx"][:5_000], simulated["T"][:5_000]
    weeks = fit_bg_nbd(x, tx, T)
    days = fit_bg_nbd(x, 7 * tx, 7 * T)
    assert days.alpha == pytest.approx(7 * weeks.alpha, rel=1e-3)
    for name in ("r", "a", "b"):
        assert getattr(days, name) == pytest.approx(getattr(weeks, name), rel=1e-3)


def test_penalizer_shrinks_parameters(simulated: dict[str, np.ndarray]) -> None:
    x, tx, T = simulated["x"][:5_000], simulated["tx"][:5_000], simulated["T"][:5_000]
    free = fit_bg_nbd(x, tx, T)
    penalised = fit_bg_nbd(x, tx, T, penalizer=0.01)
    assert penalised.alpha < free.alpha
    assert penalised.log_likelihood < free.log_likelihood


def test_bg_nbd_likelihood_is_a_probability_distribution() -> None:
    """The likelihood is the density of all x purchase times; integrating out the x − 1 earlier
    ones multiplies it by t_x^(x−1)/(x−1)!. Then P(x = 0) plus, for every x ≥ 1, that density
    integrated over t_x in [0, T] must sum to 1. A missing or wrong term breaks this regardless
    of any fit."""
    params = BgNbdParams(r=0.25, alpha=4.0, a=0.8, b=2.5)
    T = 52.0
    nodes, weights = np.polynomial.legendre.leggauss(200)
    tx = (nodes + 1) * T / 2
    x = np.arange(1, 5_001, dtype=float)[:, None]
    log_lik = bg_nbd_log_likelihood(params, x, np.broadcast_to(tx, (x.size, tx.size)), T)
    density = np.exp(log_lik + (x - 1) * np.log(tx) - gammaln(x))
    total = float(np.exp(bg_nbd_log_likelihood(params, 0, 0, T))) + float(
        (density @ weights).sum() * T / 2
    )
    assert total == pytest.approx(1.0, abs=1e-8)


def test_gamma_gamma_density_integrates_to_one() -> None:
    from engagement_lake.analytics.clv import _gamma_gamma_ll

    for x in (1.0, 4.0, 20.0):
        mass = integrate.quad(
            lambda m, x=x: math.exp(float(_gamma_gamma_ll(6.0, 4.0, 15.0, x, m))), 0, np.inf
        )[0]
        assert mass == pytest.approx(1.0, abs=1e-8)


def test_gamma_gamma_drops_non_buyers_and_rejects_too_few() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        fit_gamma_gamma([0, 0, 1, 2], [0.0, 0.0, 10.0, 12.0])


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "message"),
    [
        ([1, 2], [5.0, 50.0], [10.0, 40.0], "recency"),
        ([0, 2], [3.0, 5.0], [10.0, 40.0], "recency must be 0"),
        ([-1, 2], [0.0, 5.0], [10.0, 40.0], "frequency"),
        ([1.5, 2], [1.0, 5.0], [10.0, 40.0], "frequency"),
        ([1, 2], [np.nan, 5.0], [10.0, 40.0], "finite"),
    ],
)
def test_fit_bg_nbd_rejects_invalid_inputs(
    frequency: list[float], recency: list[float], T: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fit_bg_nbd(frequency, recency, T)


# --------------------------------------------------------------------------------------------
# Predictions: published value, quadrature over the posterior, forward simulation
# --------------------------------------------------------------------------------------------


def test_cdnow_published_expectation() -> None:
    """FHL (2005), section 5: x = 2, t_x = 30.43, T = 38.86 → 1.226 purchases in 39 weeks."""
    value = float(conditional_expected_purchases(CDNOW, 39, 2, 30.43, 38.86))
    assert value == pytest.approx(1.226, abs=5e-4)


def test_matches_literal_eq10_with_hypergeometric() -> None:
    """The implementation uses an Euler-transformed 2F1; the paper's literal form must agree
    wherever the latter does not overflow."""
    r, alpha, a, b = CDNOW.r, CDNOW.alpha, CDNOW.a, CDNOW.b
    x = np.array([0.0, 1.0, 2.0, 5.0, 20.0, 60.0])
    tx = np.array([0.0, 3.0, 30.43, 20.0, 37.0, 38.0])
    T = np.full(x.size, 38.86)
    t = 39.0
    literal = (
        (a + b + x - 1)
        / (a - 1)
        * (
            1
            - ((alpha + T) / (alpha + T + t)) ** (r + x)
            * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
        )
        / (1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))
    )
    np.testing.assert_allclose(
        conditional_expected_purchases(CDNOW, t, x, tx, T), literal, rtol=1e-10
    )


def posterior_by_quadrature(
    params: BgNbdParams, x: float, tx: float, T: float, t: float
) -> tuple[float, float]:
    """P(alive) and E[purchases in (T, T+t]] by integrating over the posterior of (λ, p).

    Joint: Gamma(r, α) × Beta(a, b) prior times the individual likelihood, which splits into
    "alive at T" ((1−p)^x λ^x e^{−λT}) and "dropped after the x-th purchase"
    (p (1−p)^{x−1} λ^x e^{−λ t_x}). An alive customer buys (1 − e^{−λpt})/p times on average in
    the next t. Nothing here uses a closed form. Log space with a shift at the λ mode keeps
    λ^x finite for x in the hundreds.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    mode = max(r + x - 1.0, 1e-3) / (alpha + tx)
    shift = (r + x - 1.0) * math.log(mode) - (alpha + tx) * mode
    upper = mode + 60.0 * math.sqrt(r + x + 1.0) / (alpha + tx)

    def log_prior(lam: float, p: float) -> float:
        return (
            (r - 1) * math.log(lam)
            - alpha * lam
            + (a - 1) * math.log(p)
            + (b - 1) * math.log1p(-p)
            - shift
        )

    def alive(lam: float, p: float) -> float:
        return math.exp(log_prior(lam, p) + x * math.log1p(-p) + x * math.log(lam) - lam * T)

    def dead(lam: float, p: float) -> float:
        if x == 0:
            return 0.0
        return math.exp(
            log_prior(lam, p)
            + math.log(p)
            + (x - 1) * math.log1p(-p)
            + x * math.log(lam)
            - lam * tx
        )

    def future(lam: float, p: float) -> float:
        return alive(lam, p) * -math.expm1(-lam * p * t) / p

    def double(f: Callable[[float, float], float]) -> float:
        def inner(p: float) -> float:
            return integrate.quad(
                f, 0, upper, args=(p,), points=[mode], epsabs=0, epsrel=1e-10, limit=200
            )[0]

        return integrate.quad(inner, 0, 1, epsabs=0, epsrel=1e-8, limit=200)[0]

    mass_alive, mass_dead, mass_future = double(alive), double(dead), double(future)
    evidence = mass_alive + mass_dead
    return mass_alive / evidence, mass_future / evidence


@pytest.mark.parametrize(
    "params",
    [
        CDNOW,
        BgNbdParams(r=0.243, alpha=4.414, a=1.0, b=2.426),  # the removable a = 1 singularity
        BgNbdParams(r=1.5, alpha=20.0, a=2.5, b=6.0),
    ],
    ids=["cdnow-a<1", "a=1", "a>1"],
)
@pytest.mark.parametrize(
    ("x", "tx", "T"),
    [(2, 30.43, 38.86), (0, 0.0, 38.86), (7, 35.0, 38.0), (1, 5.0, 60.0), (300, 37.0, 38.0)],
)
def test_predictions_match_posterior_quadrature(
    params: BgNbdParams, x: float, tx: float, T: float
) -> None:
    expected_alive, expected_purchases = posterior_by_quadrature(params, x, tx, T, 39.0)
    assert float(p_alive(params, x, tx, T)) == pytest.approx(expected_alive, rel=1e-7)
    assert float(conditional_expected_purchases(params, 39.0, x, tx, T)) == pytest.approx(
        expected_purchases, rel=1e-7
    )


def test_predictions_match_forward_simulation() -> None:
    """Simulate 200,000 customers through a calibration period and a 39-week holdout: the share
    alive at T and the holdout purchases must match the predictions (with the true parameters)
    in every frequency group, within 4 Monte Carlo standard errors."""
    rng = np.random.default_rng(7)
    params = BgNbdParams(**TRUE_BG)
    T = rng.uniform(26.0, 104.0, 200_000)
    sim = simulate_bg_nbd(rng, T, **TRUE_BG, holdout=39.0)
    predicted_alive = p_alive(params, sim["x"], sim["tx"], T)
    predicted_purchases = conditional_expected_purchases(params, 39.0, sim["x"], sim["tx"], T)
    groups = [(0, 0), (1, 1), (2, 2), (3, 5), (6, np.inf)]
    for low, high in groups:
        in_group = (sim["x"] >= low) & (sim["x"] <= high)
        assert in_group.sum() > 5_000
        for realised, predicted in (
            (sim["alive"].astype(float), predicted_alive),
            (sim["holdout_purchases"], predicted_purchases),
        ):
            gap = realised[in_group] - predicted[in_group]
            standard_error = gap.std() / math.sqrt(gap.size)
            assert abs(gap.mean()) <= 4 * standard_error, (low, high, gap.mean(), standard_error)


def test_p_alive_properties() -> None:
    # No repeat purchase: cannot have dropped out, whatever T.
    np.testing.assert_array_equal(p_alive(CDNOW, 0, 0, [1.0, 50.0, 500.0]), [1.0, 1.0, 1.0])
    # The longer since the last purchase, the less likely alive.
    gaps = p_alive(CDNOW, 3, 20.0, np.array([20.0, 25.0, 30.0, 40.0, 80.0]))
    assert np.all(np.diff(gaps) < 0)
    assert gaps[0] < 1.0  # even at t_x = T a repeat buyer may have dropped out just now
    # For the same silence, a more frequent buyer is more suspicious.
    by_x = p_alive(CDNOW, np.array([1, 3, 10, 30]), 20.0, 40.0)
    assert np.all(np.diff(by_x) < 0)
    # Extreme odds give 0, not an overflow.
    with np.errstate(over="raise"):
        assert float(p_alive(CDNOW, 5_000, 1.0, 500.0)) == 0.0


def test_conditional_expectation_properties() -> None:
    horizons = np.array([0.0, 4.0, 13.0, 26.0, 52.0, 104.0])
    values = conditional_expected_purchases(CDNOW, horizons, 2, 30.43, 38.86)
    assert values[0] == 0.0
    assert np.all(np.diff(values) > 0)
    # Broadcasting: horizons (k, 1) against n customers give a (k, n) table equal to scalar calls.
    x = np.array([0.0, 1.0, 4.0])
    tx = np.array([0.0, 10.0, 30.0])
    T = np.array([20.0, 40.0, 35.0])
    table = conditional_expected_purchases(CDNOW, horizons[:, None], x, tx, T)
    assert table.shape == (horizons.size, x.size)
    for i, t in enumerate(horizons):
        for j in range(x.size):
            assert table[i, j] == pytest.approx(
                float(conditional_expected_purchases(CDNOW, t, x[j], tx[j], T[j])), rel=1e-12
            )
    with pytest.raises(ValueError, match="non-negative"):
        conditional_expected_purchases(CDNOW, -1.0, 1, 1.0, 2.0)


# --------------------------------------------------------------------------------------------
# Spend and CLV
# --------------------------------------------------------------------------------------------

GG = GammaGammaParams(p=6.25, q=3.74, v=15.44)


def test_expected_average_spend_matches_posterior_integral() -> None:
    """E[mean spend | x, m̄] by integrating p/ν over the posterior of ν, where m̄ | ν is the mean of
    x Gamma(p, ν) draws, i.e. Gamma(p·x, rate x·ν)."""
    p, q, v = GG.p, GG.q, GG.v
    for x, m in ((1.0, 20.0), (3.0, 35.0), (10.0, 12.0)):

        def weight(nu: float, x: float = x, m: float = m) -> float:
            log_prior = (q - 1) * math.log(nu) - v * nu
            log_lik = p * x * math.log(x * nu) - x * nu * m
            return math.exp(log_prior + log_lik)

        # The posterior of ν is narrow for larger x: integrate over a finite range around it.
        upper = 50.0 * (q + p * x) / (v + x * m)
        evidence = integrate.quad(weight, 0, upper, epsabs=0, epsrel=1e-11, limit=200)[0]
        moment = integrate.quad(
            lambda nu, w=weight: w(nu) * p / nu, 0, upper, epsabs=0, epsrel=1e-11, limit=200
        )[0]
        assert float(expected_average_spend(GG, x, m)) == pytest.approx(moment / evidence, rel=1e-7)
    # Non-buyers get the population mean p·v/(q − 1) whatever monetary_value holds.
    population = p * v / (q - 1)
    np.testing.assert_allclose(
        expected_average_spend(GG, [0, 0], [0.0, np.nan]), [population, population]
    )
    # Shrinkage: the estimate lies between the observed mean and the population mean.
    shrunk = float(expected_average_spend(GG, 2, 100.0))
    assert population < shrunk < 100.0
    with pytest.raises(ValueError, match="infinite"):
        expected_average_spend(GammaGammaParams(p=2.0, q=0.9, v=5.0), 1, 10.0)


CUSTOMERS = {
    "frequency": np.array([0.0, 1.0, 2.0, 6.0, 15.0]),
    "recency": np.array([0.0, 12.0, 30.43, 30.0, 50.0]),
    "T": np.array([20.0, 40.0, 38.86, 52.0, 52.0]),
    "monetary_value": np.array([0.0, 25.0, 40.0, 18.0, 55.0]),
}


def test_clv_horizons_and_discounting() -> None:
    weeks = PERIODS_PER_MONTH["W"]
    clv12 = customer_lifetime_value(CDNOW, GG, **CUSTOMERS, months=12, periods_per_month=weeks)
    clv36 = customer_lifetime_value(CDNOW, GG, **CUSTOMERS, months=36, periods_per_month=weeks)
    assert clv12.shape == (5,)
    assert np.all(clv12 > 0)
    assert np.all(clv36 > clv12)
    undiscounted = customer_lifetime_value(
        CDNOW, GG, **CUSTOMERS, months=12, monthly_discount_rate=0.0, periods_per_month=weeks
    )
    steeper = customer_lifetime_value(
        CDNOW, GG, **CUSTOMERS, months=12, monthly_discount_rate=0.03, periods_per_month=weeks
    )
    assert np.all(steeper < clv12)
    assert np.all(clv12 < undiscounted)
    # Undiscounted, the months telescope to the whole-horizon expectation times spend.
    whole = conditional_expected_purchases(
        CDNOW, 12 * weeks, CUSTOMERS["frequency"], CUSTOMERS["recency"], CUSTOMERS["T"]
    ) * expected_average_spend(GG, CUSTOMERS["frequency"], CUSTOMERS["monetary_value"])
    np.testing.assert_allclose(undiscounted, whole, rtol=1e-10)
    # One pass for several horizons equals separate calls.
    both = customer_lifetime_values(CDNOW, GG, **CUSTOMERS, periods_per_month=weeks)
    np.testing.assert_allclose(both[12], clv12, rtol=1e-12)
    np.testing.assert_allclose(both[36], clv36, rtol=1e-12)


def test_clv_discounting_month_by_month() -> None:
    """The vectorised sum equals an explicit per-month loop over one customer."""
    weeks = PERIODS_PER_MONTH["W"]
    x, tx, T, m = 6.0, 30.0, 52.0, 18.0
    spend = float(expected_average_spend(GG, x, m))
    expected = 0.0
    for month in range(1, 13):
        bought = float(
            conditional_expected_purchases(CDNOW, month * weeks, x, tx, T)
            - conditional_expected_purchases(CDNOW, (month - 1) * weeks, x, tx, T)
        )
        expected += bought * spend / 1.02**month
    value = customer_lifetime_value(
        CDNOW, GG, x, tx, T, m, months=12, monthly_discount_rate=0.02, periods_per_month=weeks
    )
    assert float(value) == pytest.approx(expected, rel=1e-12)


def test_clv_unit_conversion_is_consistent() -> None:
    """The same customers and model expressed in days (α × 7, ages × 7) with DAYS_PER_MONTH give
    the same CLV as in weeks with PERIODS_PER_MONTH['W']."""
    in_weeks = customer_lifetime_value(
        CDNOW, GG, **CUSTOMERS, months=24, periods_per_month=PERIODS_PER_MONTH["W"]
    )
    in_days_model = BgNbdParams(r=CDNOW.r, alpha=7 * CDNOW.alpha, a=CDNOW.a, b=CDNOW.b)
    in_days = customer_lifetime_value(
        in_days_model,
        GG,
        CUSTOMERS["frequency"],
        7 * CUSTOMERS["recency"],
        7 * CUSTOMERS["T"],
        CUSTOMERS["monetary_value"],
        months=24,
    )
    assert pytest.approx(30.4375) == DAYS_PER_MONTH
    np.testing.assert_allclose(in_days, in_weeks, rtol=1e-10)


def test_clv_keeps_input_shape_and_rejects_bad_arguments() -> None:
    grid = {key: value.reshape(5, 1) for key, value in CUSTOMERS.items()}
    assert customer_lifetime_value(CDNOW, GG, **grid).shape == (5, 1)
    with pytest.raises(ValueError, match="months"):
        customer_lifetime_value(CDNOW, GG, **CUSTOMERS, months=0)
    with pytest.raises(ValueError, match="periods_per_month"):
        customer_lifetime_value(CDNOW, GG, **CUSTOMERS, periods_per_month=0.0)
    with pytest.raises(ValueError, match="horizons_months"):
        customer_lifetime_values(CDNOW, GG, **CUSTOMERS, horizons_months=(0, 12))


# --------------------------------------------------------------------------------------------
# Transaction log → RFM
# --------------------------------------------------------------------------------------------


def test_rfm_summary_by_hand() -> None:
    ids = np.array(["c1", "c1", "c1", "c1", "c2", "c3", "c3", "c2", "c1"])
    dates = np.array(
        [
            "2024-01-01",
            "2024-01-01",  # same day as the first: merged, amounts summed
            "2024-01-15",
            "2024-03-01T17:45",  # time of day is ignored
            "2024-02-10",
            "2024-03-01",
            "2024-03-08",
            "2024-06-01",  # after the observation end: ignored
            "2024-02-01",
        ],
        dtype="datetime64[m]",
    )
    amounts = np.array([10.0, 5.0, 20.0, 40.0, 7.0, 3.0, 9.0, 100.0, 30.0])
    summary = rfm_summary(ids, dates, amounts, observation_end="2024-03-31")
    np.testing.assert_array_equal(summary.customer_id, ["c1", "c2", "c3"])
    # c1: days 01-01 (15), 01-15 (20), 02-01 (30), 03-01 (40) → 3 repeats, mean (20+30+40)/3.
    np.testing.assert_array_equal(summary.frequency, [3.0, 0.0, 1.0])
    np.testing.assert_array_equal(summary.recency, [60.0, 0.0, 7.0])
    np.testing.assert_array_equal(summary.T, [90.0, 50.0, 30.0])
    np.testing.assert_allclose(summary.monetary_value, [30.0, 0.0, 9.0])

    weekly = rfm_summary(ids, dates, amounts, observation_end="2024-03-31", time_unit="W")
    np.testing.assert_array_equal(weekly.frequency, summary.frequency)
    np.testing.assert_allclose(weekly.recency, summary.recency / 7)
    np.testing.assert_allclose(weekly.T, summary.T / 7)
    assert set(weekly.to_dict()) == {"customer_id", "frequency", "recency", "T", "monetary_value"}


def test_rfm_summary_feeds_the_fit_with_integer_ids() -> None:
    """A simulated daily log round-trips: the summary's frequency equals the distinct days."""
    rng = np.random.default_rng(3)
    n_tx = 5_000
    ids = rng.integers(0, 400, n_tx)
    dates = np.datetime64("2023-01-01") + rng.integers(0, 700, n_tx).astype("timedelta64[D]")
    amounts = rng.gamma(2.0, 20.0, n_tx)
    summary = rfm_summary(ids, dates, amounts, observation_end=np.datetime64("2024-12-31"))
    for customer in (0, 17, 399):
        mine = ids == customer
        days = np.unique(dates[mine])
        index = int(np.flatnonzero(summary.customer_id == customer)[0])
        assert summary.frequency[index] == days.size - 1
        assert summary.recency[index] == (days[-1] - days[0]).astype(int)
        assert summary.T[index] == (np.datetime64("2024-12-31") - days[0]).astype(int)
        first_day_spend = amounts[mine & (dates == days[0])].sum()
        assert summary.monetary_value[index] == pytest.approx(
            (amounts[mine].sum() - first_day_spend) / (days.size - 1)
        )
    fit = fit_bg_nbd(summary.frequency, summary.recency, summary.T)
    assert fit.n == summary.customer_id.size
    assert np.isfinite([fit.r, fit.alpha, fit.a, fit.b]).all()


def test_rfm_summary_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="time_unit"):
        rfm_summary(["a"], ["2024-01-01"], [1.0], "2024-02-01", time_unit="M")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="equal length"):
        rfm_summary(["a", "b"], ["2024-01-01"], [1.0], "2024-02-01")


def test_the_clv_trend_keeps_the_newest_load_date_of_each_month() -> None:
    loads = [
        date(2025, 11, 30), date(2025, 12, 1), date(2025, 12, 31), date(2026, 1, 2),
        date(2026, 1, 3), date(2026, 3, 5),
    ]  # fmt: skip
    assert monthly_snapshot_dates(loads, 13) == [
        date(2025, 11, 30), date(2025, 12, 31), date(2026, 1, 3), date(2026, 3, 5),
    ]  # fmt: skip
    # a month without a load has no point; the window counts months that have one
    assert monthly_snapshot_dates(reversed(loads), 2) == [date(2026, 1, 3), date(2026, 3, 5)]
    assert monthly_snapshot_dates([], 13) == []
    with pytest.raises(ValueError, match="clv_history_months"):
        monthly_snapshot_dates(loads, 0)
