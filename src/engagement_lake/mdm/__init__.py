"""Customer master data: identity matching across source systems and its evaluation.

``match_identities`` turns the standardised customer records of
``silver.int_customer_identities_unioned`` (shop, CRM contacts and leads, support, marketing and
loyalty) into a crosswalk of golden ``customer_id`` values; ``evaluate_matches`` scores a
crosswalk against ground truth; ``engagement_lake.mdm.benchmark`` runs public benchmarks through
the build.
"""

from engagement_lake.mdm.evaluate import MatchMetrics, evaluate_matches
from engagement_lake.mdm.match import (
    MatchSettings,
    customer_id_for,
    match_identities,
    match_identities_with_review,
)

__all__ = [
    "MatchMetrics",
    "MatchSettings",
    "customer_id_for",
    "evaluate_matches",
    "match_identities",
    "match_identities_with_review",
]
