"""Pure analytics behind the gold layer: CLV, A/B test statistics and text sentiment.

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
from engagement_lake.analytics.sentiment import label, vader_compound

__all__ = [
    "DAYS_PER_MONTH",
    "PERIODS_PER_MONTH",
    "BgNbdParams",
    "GammaGammaParams",
    "RfmSummary",
    "SrmResult",
    "TwoProportionResult",
    "WelchResult",
    "bg_nbd_log_likelihood",
    "conditional_expected_purchases",
    "customer_lifetime_value",
    "customer_lifetime_values",
    "expected_average_spend",
    "fit_bg_nbd",
    "fit_gamma_gamma",
    "label",
    "p_alive",
    "rfm_summary",
    "srm_test",
    "two_proportion_test",
    "vader_compound",
    "welch_t_test",
]
