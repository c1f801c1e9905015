"""Pure analytics behind the gold layer: CLV and churn, A/B test statistics and text sentiment.

Functions here take and return numpy arrays (or scalars) and never touch the warehouse, dbt or
the file system, so dbt Python models, the CLI and the tests can all call them on the same
aggregates and get the same numbers.
"""

from __future__ import annotations

from engagement_lake.analytics.abtest import (
    SrmResult,
    TwoProportionResult,
    WelchResult,
    srm_test,
    two_proportion_test,
    welch_t_test,
)
from engagement_lake.analytics.churn import (
    MbgNbdParams,
    fit_mbg_nbd,
    mbg_conditional_expected_purchases,
    mbg_nbd_log_likelihood,
    mbg_p_alive,
    probability_no_purchase,
)
from engagement_lake.analytics.clv import (
    DAYS_PER_MONTH,
    PERIODS_PER_MONTH,
    BgNbdParams,
    GammaGammaParams,
    RfmSummary,
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
from engagement_lake.analytics.clv_evaluate import Evaluation, auc, evaluate_clv
from engagement_lake.analytics.sentiment import label, vader_compound

__all__ = [
    "DAYS_PER_MONTH",
    "PERIODS_PER_MONTH",
    "BgNbdParams",
    "Evaluation",
    "GammaGammaParams",
    "MbgNbdParams",
    "RfmSummary",
    "SrmResult",
    "TwoProportionResult",
    "WelchResult",
    "auc",
    "bg_nbd_log_likelihood",
    "conditional_expected_purchases",
    "customer_lifetime_value",
    "customer_lifetime_values",
    "evaluate_clv",
    "expected_average_spend",
    "fit_bg_nbd",
    "fit_gamma_gamma",
    "fit_mbg_nbd",
    "label",
    "mbg_conditional_expected_purchases",
    "mbg_nbd_log_likelihood",
    "mbg_p_alive",
    "p_alive",
    "probability_no_purchase",
    "rfm_summary",
    "srm_test",
    "two_proportion_test",
    "vader_compound",
    "welch_t_test",
]
