"""A/B test statistics agree with scipy's own tests on hand-made cases, have the advertised
coverage and error rates in repeated simulated experiments, and vectorise exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from engagement_lake.analytics.abtest import srm_test, two_proportion_test, welch_t_test

# --------------------------------------------------------------------------------------------
# Two proportions
# --------------------------------------------------------------------------------------------


def test_two_proportions_by_hand() -> None:
    result = two_proportion_test(10_000, 1_000, 10_000, 1_100)
    assert result.control_rate == pytest.approx(0.10)
    assert result.treatment_rate == pytest.approx(0.11)
    assert result.absolute_lift == pytest.approx(0.01)
    assert result.relative_lift == pytest.approx(0.10)
    pooled = 2_100 / 20_000
    z = 0.01 / math.sqrt(pooled * (1 - pooled) * 2 / 10_000)
    assert result.z == pytest.approx(z, rel=1e-12)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(z), rel=1e-12)
    half = stats.norm.ppf(0.975) * math.sqrt(0.1 * 0.9 / 10_000 + 0.11 * 0.89 / 10_000)
    assert result.ci_low == pytest.approx(0.01 - half, rel=1e-12)
    assert result.ci_high == pytest.approx(0.01 + half, rel=1e-12)
    assert result.is_significant is True
    assert isinstance(result.p_value, float)


@pytest.mark.parametrize(
    ("n_c", "x_c", "n_t", "x_t"),
    [(10_000, 1_000, 10_000, 1_100), (523, 41, 611, 37), (80, 3, 2_000, 160), (5, 0, 7, 7)],
)
def test_pooled_z_squared_is_the_uncorrected_chi_square(
    n_c: int, x_c: int, n_t: int, x_t: int
) -> None:
    """The pooled two-proportion z-test is the 2×2 chi-square test without Yates' correction."""
    chi2, p_value, _, _ = stats.chi2_contingency(
        [[x_c, n_c - x_c], [x_t, n_t - x_t]], correction=False
    )
    result = two_proportion_test(n_c, x_c, n_t, x_t)
    assert result.z**2 == pytest.approx(chi2, rel=1e-10)
    assert result.p_value == pytest.approx(p_value, rel=1e-9)
    assert np.sign(result.z) == np.sign(x_t / n_t - x_c / n_c)


def test_two_proportions_alpha_changes_interval_not_p_value() -> None:
    wide = two_proportion_test(4_000, 400, 4_000, 460, alpha=0.01)
    narrow = two_proportion_test(4_000, 400, 4_000, 460, alpha=0.10)
    assert wide.p_value == narrow.p_value
    assert wide.ci_low < narrow.ci_low < narrow.ci_high < wide.ci_high
    assert wide.is_significant is False  # p ≈ 0.032
    assert narrow.is_significant is True


def test_two_proportions_degenerate_rows() -> None:
    nothing = two_proportion_test([1_000, 1_000], [0, 1_000], [900, 900], [0, 900])
    np.testing.assert_array_equal(nothing.z, [0.0, 0.0])
    np.testing.assert_array_equal(nothing.p_value, [1.0, 1.0])
    np.testing.assert_array_equal(nothing.is_significant, [False, False])
    assert np.isnan(nothing.relative_lift[0])
    assert nothing.relative_lift[1] == 0.0


@pytest.mark.parametrize(
    ("args", "message"),
    [((0, 0, 10, 1), "positive"), ((10, 11, 10, 1), "between"), ((10, -1, 10, 1), "between")],
)
def test_two_proportions_rejects_bad_counts(args: tuple[int, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        two_proportion_test(*args)
    with pytest.raises(ValueError, match="alpha"):
        two_proportion_test(10, 1, 10, 2, alpha=1.5)


def test_two_proportions_vectorised_equals_scalar_calls() -> None:
    n_c = np.array([10_000, 523, 80, 2_500])
    x_c = np.array([1_000, 41, 3, 250])
    n_t = np.array([10_000, 611, 2_000, 2_500])
    x_t = np.array([1_100, 37, 160, 250])
    table = two_proportion_test(n_c, x_c, n_t, x_t)
    for i in range(n_c.size):
        one = two_proportion_test(int(n_c[i]), int(x_c[i]), int(n_t[i]), int(x_t[i]))
        for field in ("absolute_lift", "relative_lift", "ci_low", "ci_high", "z", "p_value"):
            assert getattr(table, field)[i] == pytest.approx(getattr(one, field), rel=1e-14)
        assert bool(table.is_significant[i]) is one.is_significant
    # Broadcasting: one control row against several treatments.
    broadcast = two_proportion_test(10_000, 1_000, 10_000, np.array([1_000, 1_100]))
    assert broadcast.p_value.shape == (2,)
    assert broadcast.p_value[1] == pytest.approx(table.p_value[0])


def test_two_proportions_coverage_and_false_positive_rate() -> None:
    """2,000 seeded experiments: the 95% interval covers the true difference 93–97% of the time,
    and under a true null the test rejects at close to 5%. With 2,000 runs the Monte Carlo SE of
    a 95% rate is 0.5 points, so the band is ±4 SE."""
    rng = np.random.default_rng(11)
    runs, n, p_c, p_t = 2_000, 5_000, 0.10, 0.12
    x_c = rng.binomial(n, p_c, runs)
    x_t = rng.binomial(n, p_t, runs)
    result = two_proportion_test(n, x_c, n, x_t)
    coverage = np.mean((result.ci_low <= p_t - p_c) & (p_t - p_c <= result.ci_high))
    assert 0.93 <= coverage <= 0.97
    # Power of a 2-point lift at 5,000 users per arm, by the normal approximation: ≈ 0.89.
    se = math.sqrt((p_c * (1 - p_c) + p_t * (1 - p_t)) / n)
    power = stats.norm.sf(stats.norm.ppf(0.975) - (p_t - p_c) / se)
    assert abs(np.mean(result.is_significant) - power) < 0.03

    null = two_proportion_test(n, rng.binomial(n, p_c, runs), n, rng.binomial(n, p_c, runs))
    assert 0.035 <= np.mean(null.is_significant) <= 0.065


# --------------------------------------------------------------------------------------------
# Welch
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("m_c", "v_c", "n_c", "m_t", "v_t", "n_t"),
    [
        (10.0, 4.0, 50, 11.0, 9.0, 40),
        (52.3, 400.0, 1_200, 50.1, 250.0, 3_000),
        (0.5, 0.01, 5, 0.9, 2.0, 200),
    ],
)
def test_welch_matches_scipy_from_stats(
    m_c: float, v_c: float, n_c: int, m_t: float, v_t: float, n_t: int
) -> None:
    result = welch_t_test(m_c, v_c, n_c, m_t, v_t, n_t)
    reference = stats.ttest_ind_from_stats(
        m_t, math.sqrt(v_t), n_t, m_c, math.sqrt(v_c), n_c, equal_var=False
    )
    assert result.t == pytest.approx(reference.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    assert result.difference == pytest.approx(m_t - m_c)
    assert result.relative_lift == pytest.approx((m_t - m_c) / m_c)


def test_welch_matches_scipy_on_raw_data() -> None:
    """From raw samples: summary statistics through our function give scipy's df and CI."""
    rng = np.random.default_rng(5)
    control = rng.lognormal(3.0, 0.8, 300)
    treatment = rng.lognormal(3.1, 1.0, 180)
    reference = stats.ttest_ind(treatment, control, equal_var=False)
    ci = reference.confidence_interval(0.95)
    result = welch_t_test(
        control.mean(),
        control.var(ddof=1),
        control.size,
        treatment.mean(),
        treatment.var(ddof=1),
        treatment.size,
    )
    assert result.df == pytest.approx(reference.df, rel=1e-10)
    assert result.t == pytest.approx(reference.statistic, rel=1e-10)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.ci_low == pytest.approx(ci.low, rel=1e-10)
    assert result.ci_high == pytest.approx(ci.high, rel=1e-10)


def test_welch_vectorised_equals_scalar_calls_and_coverage() -> None:
    """Vectorised over 2,000 simulated experiments with unequal variances and sizes: equal to
    scalar calls, and the 95% interval covers the true difference 93–97% of the time."""
    rng = np.random.default_rng(21)
    runs, n_c, n_t = 2_000, 40, 15
    control = rng.normal(10.0, 1.0, (runs, n_c))
    treatment = rng.normal(10.5, 3.0, (runs, n_t))
    result = welch_t_test(
        control.mean(axis=1),
        control.var(axis=1, ddof=1),
        n_c,
        treatment.mean(axis=1),
        treatment.var(axis=1, ddof=1),
        n_t,
    )
    coverage = np.mean((result.ci_low <= 0.5) & (result.ci_high >= 0.5))
    assert 0.93 <= coverage <= 0.97
    for i in (0, 17, 1_999):
        one = welch_t_test(
            control[i].mean(),
            control[i].var(ddof=1),
            n_c,
            treatment[i].mean(),
            treatment[i].var(ddof=1),
            n_t,
        )
        assert result.p_value[i] == pytest.approx(one.p_value, rel=1e-12)
        assert result.df[i] == pytest.approx(one.df, rel=1e-12)
        assert result.ci_low[i] == pytest.approx(one.ci_low, rel=1e-12)


def test_welch_rejects_degenerate_input() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        welch_t_test(1.0, 1.0, 1, 2.0, 1.0, 10)
    with pytest.raises(ValueError, match="undefined"):
        welch_t_test(1.0, 0.0, 10, 2.0, 0.0, 10)
    with pytest.raises(ValueError, match="non-negative"):
        welch_t_test(1.0, -1.0, 10, 2.0, 1.0, 10)
    assert math.isnan(welch_t_test(0.0, 1.0, 10, 2.0, 1.0, 10).relative_lift)


# --------------------------------------------------------------------------------------------
# Sample ratio mismatch
# --------------------------------------------------------------------------------------------


def test_srm_flags_a_real_mismatch_only() -> None:
    broken = srm_test([5_000, 5_400], [0.5, 0.5])
    assert broken.is_mismatch is True
    assert broken.chi2 == pytest.approx(2 * 200**2 / 5_200)
    fine = srm_test([5_000, 5_050], [50, 50])  # ratios are normalised
    assert fine.is_mismatch is False
    assert fine.p_value > 0.5
    for observed in ([5_000, 5_400], [5_000, 5_050]):
        reference = stats.chisquare(observed, [sum(observed) / 2] * 2)
        result = srm_test(observed, [1, 1])
        assert result.chi2 == pytest.approx(reference.statistic, rel=1e-12)
        assert result.p_value == pytest.approx(reference.pvalue, rel=1e-10)


def test_srm_unequal_plan_and_three_variants() -> None:
    observed = np.array([2_480, 2_530, 5_100])
    reference = stats.chisquare(observed, observed.sum() * np.array([0.25, 0.25, 0.5]))
    result = srm_test(observed, [1, 1, 2])
    assert result.df == 2
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    np.testing.assert_allclose(result.expected, observed.sum() * np.array([0.25, 0.25, 0.5]))
    # A 90/10 plan observed as 50/50 is a glaring mismatch.
    assert srm_test([5_000, 5_000], [0.9, 0.1]).is_mismatch is True


def test_srm_table_with_nan_padding_equals_row_calls() -> None:
    observed = np.array(
        [
            [5_000.0, 5_400.0, np.nan],
            [5_000.0, 5_050.0, np.nan],
            [2_480.0, 2_530.0, 5_100.0],
        ]
    )
    ratios = np.array([[1.0, 1.0, np.nan], [1.0, 1.0, np.nan], [1.0, 1.0, 2.0]])
    table = srm_test(observed, ratios)
    np.testing.assert_array_equal(table.df, [1.0, 1.0, 2.0])
    np.testing.assert_array_equal(table.is_mismatch, [True, False, False])
    assert np.isnan(table.expected[0, 2])
    for i, row in enumerate(observed):
        present = ~np.isnan(row)
        one = srm_test(row[present], ratios[i][present])
        assert table.p_value[i] == pytest.approx(one.p_value, rel=1e-12)
        assert table.chi2[i] == pytest.approx(one.chi2, rel=1e-12)
    # A shared 1-D plan broadcasts over rows; ratios under padding are ignored.
    shared = srm_test(observed[:2], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(shared.p_value, table.p_value[:2], rtol=1e-12)


@pytest.mark.parametrize(
    ("observed", "ratios", "message"),
    [
        ([10, -1], [1, 1], "non-negative"),
        ([10, 12], [1, 0], "positive planned ratio"),
        ([10, 12], [1, np.nan], "positive planned ratio"),
        ([10], [1], "at least 2"),
        ([0, 0], [1, 1], "at least one user"),
        ([[[1, 2]]], [1, 1], "1-D"),
    ],
)
def test_srm_rejects_bad_input(observed: list, ratios: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        srm_test(observed, ratios)
