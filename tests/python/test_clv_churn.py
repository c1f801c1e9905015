"""MBG/NBD churn model, the calibration/holdout evaluation and the CDNOW reproduction.

The CDNOW test reads the sample shipped in the ``lifetimes`` wheel (downloaded with pip into the
benchmark cache, never imported) and is skipped with the reason when the wheel cannot be had.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy.special import gammaln
from typer.testing import CliRunner

from engagement_lake.analytics.churn import (
    MbgNbdParams,
    fit_mbg_nbd,
    mbg_conditional_expected_purchases,
    mbg_nbd_log_likelihood,
    mbg_p_alive,
    probability_no_purchase,
)
from engagement_lake.analytics.clv import BgNbdParams, p_alive
from engagement_lake.analytics.clv_evaluate import (
    AGGREGATE_TOLERANCE,
    CHURN_AUC_TARGET,
    auc,
    evaluate_clv,
    silent_one_time_churn,
)
from engagement_lake.cli import app
from engagement_lake.clv_report import (
    CDNOW_CALIBRATION_END,
    CDNOW_HOLDOUT_END,
    CDNOW_PUBLISHED,
    cdnow_reproduction,
    find_cdnow_wheel,
    load_cdnow,
    write_report,
)

# Simulation truth, in weeks, close to the CDNOW MBG/NBD fit.
TRUE_MBG = {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.6}


def simulate_mbg_nbd(
    rng: np.random.Generator, T: np.ndarray, holdout: float = 0.0, **params: float
) -> dict[str, np.ndarray]:
    """Exact MBG/NBD simulation: dropout with probability p at time 0 and after every repeat
    purchase, so the repeat purchases made before dropping out are K ~ Geometric(p) − 1 on
    {0, 1, …}; x = min(K, N(T)) with N a Poisson process, alive at T iff K > N(T)."""
    n = T.size
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    k = rng.geometric(p) - 1
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


# --------------------------------------------------------------------------------------------
# MBG/NBD
# --------------------------------------------------------------------------------------------


def test_mbg_nbd_likelihood_is_a_probability_distribution() -> None:
    """P(x = 0) plus the density of every x ≥ 1 integrated over t_x (times t_x^(x−1)/(x−1)! for
    the earlier purchase times) sums to 1: a wrong Beta term or dropout term breaks this."""
    params = MbgNbdParams(**TRUE_MBG)
    T = 52.0
    nodes, weights = np.polynomial.legendre.leggauss(200)
    tx = (nodes + 1) * T / 2
    x = np.arange(1, 3_001, dtype=float)[:, None]
    log_lik = mbg_nbd_log_likelihood(params, x, np.broadcast_to(tx, (x.size, tx.size)), T)
    density = np.exp(log_lik + (x - 1) * np.log(tx) - gammaln(x))
    total = float(np.exp(mbg_nbd_log_likelihood(params, 0, 0, T))) + float(
        (density @ weights).sum() * T / 2
    )
    assert total == pytest.approx(1.0, abs=1e-8)


def test_one_time_buyers_can_be_dead() -> None:
    """BG/NBD's P(alive) is 1 at x = 0 whatever T; MBG/NBD's is 1/(1 + a/b·((α+T)/α)^r), below 1
    and falling with T, and falling with silence for repeat buyers too."""
    mbg = MbgNbdParams(**TRUE_MBG)
    bg = BgNbdParams(r=0.25, alpha=4.0, a=0.8, b=2.5)
    T = np.array([1.0, 10.0, 52.0, 104.0, 520.0])
    alive = mbg_p_alive(mbg, 0, 0, T)
    closed = 1.0 / (1.0 + 0.9 / 1.6 * ((6.0 + T) / 6.0) ** 0.5)
    np.testing.assert_allclose(alive, closed, rtol=1e-12)
    assert np.all(alive < 1.0) and np.all(np.diff(alive) < 0)
    assert np.all(p_alive(bg, 0, 0, T) == 1.0)
    assert mbg_p_alive(mbg, 0, 0, 520.0)[()] < 0.5
    silence = mbg_p_alive(mbg, 3, 20.0, np.array([20.0, 40.0, 80.0]))
    assert silence[0] > silence[1] > silence[2]
    assert np.isfinite(mbg_p_alive(mbg, 500, 1.0, 1e6)) and mbg_p_alive(mbg, 500, 1.0, 1e6) == 0.0


def test_mbg_nbd_matches_forward_simulation() -> None:
    """200,000 simulated customers, true parameters: the share alive at T, the holdout purchases
    and the share with no holdout purchase match the predictions in every frequency group within
    4 Monte Carlo standard errors."""
    rng = np.random.default_rng(11)
    params = MbgNbdParams(**TRUE_MBG)
    T = rng.uniform(26.0, 104.0, 200_000)
    sim = simulate_mbg_nbd(rng, T, holdout=26.0, **TRUE_MBG)
    x, tx = sim["x"], sim["tx"]
    predictions = (
        (sim["alive"].astype(float), mbg_p_alive(params, x, tx, T)),
        (sim["holdout_purchases"], mbg_conditional_expected_purchases(params, 26.0, x, tx, T)),
        (
            (sim["holdout_purchases"] == 0).astype(float),
            probability_no_purchase(params, 26.0, x, tx, T),
        ),
    )
    for low, high in [(0, 0), (1, 1), (2, 3), (4, np.inf)]:
        in_group = (x >= low) & (x <= high)
        assert in_group.sum() > 5_000
        for realised, predicted in predictions:
            gap = realised[in_group] - predicted[in_group]
            standard_error = gap.std() / math.sqrt(gap.size)
            assert abs(gap.mean()) <= 4 * standard_error, (low, high, gap.mean(), standard_error)


def test_fit_mbg_nbd_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(2007)
    T = rng.uniform(52.0, 156.0, 30_000)
    sim = simulate_mbg_nbd(rng, T, **TRUE_MBG)
    fit = fit_mbg_nbd(sim["x"], sim["tx"], T)
    for name, true in TRUE_MBG.items():
        assert getattr(fit, name) == pytest.approx(true, rel=0.15), name
    assert fit.n == 30_000 and fit.log_likelihood < 0
    with pytest.raises(ValueError, match="recency must be 0"):
        fit_mbg_nbd([0, 1], [1.0, 1.0], [5.0, 5.0])


def test_mbg_expectation_handles_a_near_one_and_rejects_negative_t() -> None:
    """At a = 1 the closed form is 0/0; the value there sits between a = 1 ± 1e-3."""
    near = [
        mbg_conditional_expected_purchases(
            MbgNbdParams(r=0.5, alpha=6.0, a=a, b=1.6), 39.0, 2, 30.0, 39.0
        )[()]
        for a in (1.0 - 1e-3, 1.0, 1.0 + 1e-3)
    ]
    assert near[0] > near[1] > near[2] or near[0] < near[1] < near[2]
    assert near[1] == pytest.approx((near[0] + near[2]) / 2, rel=1e-4)
    with pytest.raises(ValueError, match="non-negative"):
        mbg_conditional_expected_purchases(MbgNbdParams(**TRUE_MBG), -1.0, 0, 0, 10)


# --------------------------------------------------------------------------------------------
# AUC
# --------------------------------------------------------------------------------------------


def test_auc_rank_formula() -> None:
    assert auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]) == pytest.approx(0.5)
    assert auc([1.0, 2.0], [1, 0]) == 0.0
    assert math.isnan(auc([1.0, 2.0], [1, 1]))
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 20, 300).astype(float)  # many ties
    labels = rng.random(300) < 0.3 + scores / 40
    pos, neg = scores[labels], scores[~labels]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert auc(scores, labels) == pytest.approx(pairs, abs=1e-12)


# --------------------------------------------------------------------------------------------
# Calibration / holdout on a synthetic transaction log
# --------------------------------------------------------------------------------------------


def mbg_transaction_log(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """MBG/NBD customers (daily rates) as a dated transaction log: first purchase in 2024, then
    Poisson purchases until dropout (probability p at the start and after each purchase)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01")
    ids, days = [], []
    lam = rng.gamma(0.6, 1.0 / 40.0, n)  # one purchase every ~67 days on average
    p = rng.beta(1.0, 2.5, n)
    first = rng.integers(0, 366, n)
    for i in range(n):
        t = float(first[i])
        ids.append(i)
        days.append(t)
        while rng.random() >= p[i]:  # survives this dropout opportunity
            t += rng.exponential(1.0 / lam[i])
            if t > 1200:
                break
            ids.append(i)
            days.append(t)
    return np.array(ids), start + np.floor(days).astype("timedelta64[D]")


def test_evaluate_counts_the_holdout_and_scores_the_models() -> None:
    ids, dates = mbg_transaction_log(6_000, seed=5)
    cal, end = np.datetime64("2025-06-30"), np.datetime64("2026-03-31")
    result = evaluate_clv(ids, dates, cal, end)

    # The actual side, counted by hand: distinct holdout days of customers seen by cal.
    seen = {int(i) for i, d in zip(ids, dates, strict=True) if d <= cal}
    holdout = {(int(i), d) for i, d in zip(ids, dates, strict=True) if cal < d <= end}
    assert result.customers == len(seen)
    assert result.actual_total == sum(1 for i, _ in holdout if i in seen)
    horizon = cal + np.timedelta64(180, "D")
    active = {i for i, d in holdout if i in seen and d <= horizon}
    assert result.churned_share == pytest.approx(1 - len(active) / len(seen))
    assert sum(b.customers for b in result.buckets) == len(seen)
    assert [b.bucket for b in result.buckets][:3] == ["0", "1", "2"]
    assert result.buckets[-1].bucket == "7+"

    # The models are the data's own: aggregate within tolerance, churn AUC above target, and
    # BG/NBD's churn (1 at x = 0 alive) ranks worse than MBG/NBD's.
    assert abs(result.relative_error_mbg_nbd) <= AGGREGATE_TOLERANCE
    assert abs(result.relative_error_bg_nbd) <= AGGREGATE_TOLERANCE
    assert result.churn_auc_mbg_nbd >= CHURN_AUC_TARGET
    assert result.churn_auc_mbg_nbd > result.churn_auc_bg_nbd
    zero = result.buckets[0]
    assert zero.actual == pytest.approx(zero.mbg_nbd, rel=0.15)

    count, churn = silent_one_time_churn(ids, dates, end)
    assert count > 100 and churn > 0.5


def test_evaluate_rejects_a_holdout_shorter_than_the_churn_horizon() -> None:
    ids, dates = mbg_transaction_log(200, seed=1)
    with pytest.raises(ValueError, match="shorter than the churn horizon"):
        evaluate_clv(ids, dates, "2025-06-30", "2025-09-30")
    with pytest.raises(ValueError, match="must be after"):
        evaluate_clv(ids, dates, "2025-06-30", "2025-06-30")


def test_report_files(tmp_path: Path) -> None:
    ids, dates = mbg_transaction_log(1_500, seed=2)
    result = evaluate_clv(ids, dates, "2025-06-30", "2026-03-31")
    paths = write_report(result, tmp_path / "clv", {"note": 1})
    names = sorted(p.name for p in paths)
    assert names == [
        "calibration_holdout.png",
        "evaluation.json",
        "evaluation.md",
        "frequency_buckets.csv",
    ]
    assert (tmp_path / "clv" / "calibration_holdout.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((tmp_path / "clv" / "evaluation.json").read_text())
    assert data["note"] == 1 and data["actual_total"] == result.actual_total
    rows = (tmp_path / "clv" / "frequency_buckets.csv").read_text().splitlines()
    assert rows[0].startswith("calibration_frequency,") and len(rows) == len(result.buckets) + 1


def test_cli_evaluate_without_warehouse_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["clv", "evaluate", "--warehouse", str(tmp_path / "none.duckdb")]
    )
    assert result.exit_code == 1
    assert "no warehouse" in result.output and "Traceback" not in result.output


# --------------------------------------------------------------------------------------------
# CDNOW (published fits)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow_wheel() -> Path:
    try:
        return find_cdnow_wheel()
    except (subprocess.CalledProcessError, FileNotFoundError, OSError) as exc:
        pytest.skip(f"the lifetimes wheel (CDNOW sample) could not be fetched: {exc}")


def test_cdnow_published_parameters_within_one_percent(cdnow_wheel: Path) -> None:
    rows = cdnow_reproduction(cdnow_wheel)
    assert len(rows) == sum(len(v) for v in CDNOW_PUBLISHED.values()) == 11
    for row in rows:
        assert abs(row.relative_difference) < 0.01, row


def test_cdnow_sample_and_holdout(cdnow_wheel: Path) -> None:
    ids, dates, amounts = load_cdnow(cdnow_wheel)
    assert amounts.min() >= 0 and amounts.size == 6_919
    assert np.unique(ids).size == 2_357
    assert str(dates.min()) == "1997-01-01" and str(dates.max()) == "1998-06-30"
    result = evaluate_clv(ids, dates, CDNOW_CALIBRATION_END, CDNOW_HOLDOUT_END, time_unit="W")
    # FHL (2005): log-likelihood −9582.4 at the BG/NBD optimum.
    assert result.bg_nbd["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    assert result.customers == 2_357 and result.holdout_periods == pytest.approx(39.0)
    # BG/NBD's churn cannot tell a lapsed one-time buyer from an active one; MBG/NBD's can.
    assert result.churn_auc_bg_nbd < 0.5 < result.churn_auc_mbg_nbd


# --------------------------------------------------------------------------------------------
# On the test lake: the command reads the log the build fitted on
# --------------------------------------------------------------------------------------------


def test_cli_evaluate_on_the_built_lake(lake, tmp_path: Path) -> None:
    """``clv evaluate`` on the session lake: the holdout count equals an independent SQL count,
    and its one-time-buyer churn equals what the build wrote to gold (same log, same fit)."""
    report = tmp_path / "clv"
    result = CliRunner().invoke(
        app,
        ["clv", "evaluate", "--warehouse", str(lake.cfg.warehouse), "--holdout-weeks", "30",
         "--report-dir", str(report)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads((report / "evaluation.json").read_text())
    assert (report / "calibration_holdout.png").stat().st_size > 1_000
    with lake.connect() as con:
        as_of = con.execute("select max(fit_date) from gold.fct_customer_value").fetchone()[0]
        counts = con.execute(
            """
            with log as (
                select distinct v.customer_id, o.order_date
                from gold.fct_orders o join gold.fct_customer_value v using (customer_key)
                where not o.is_cancelled and o.order_date <= ?
            ),
            firsts as (select customer_id, min(order_date) as first_day from log group by 1)
            select count(distinct firsts.customer_id) filter (where first_day <= ?::date - 210),
                   count(*) filter (
                       where first_day <= ?::date - 210 and order_date > ?::date - 210
                   )
            from log join firsts using (customer_id)
            """,
            [as_of, as_of, as_of, as_of],
        ).fetchone()
        gold = con.execute(
            """
            select count(*), avg(churn_probability) from gold.fct_customer_value
            where frequency = 0 and age_days > 365
            """
        ).fetchone()
    assert data["calibration_end"] == str(np.datetime64(as_of, "D") - np.timedelta64(210, "D"))
    assert (data["customers"], data["actual_total"]) == (counts[0], counts[1])
    assert data["one_time_buyers_silent_count"] == gold[0]
    assert data["one_time_buyers_silent_mean_churn"] == pytest.approx(gold[1], abs=1e-9)
