"""Customer master data: identity matching across source systems and its evaluation.

``match_identities`` turns standardised customer records from shop, CRM (contacts and leads),
support, marketing and loyalty into a crosswalk of golden ``customer_id`` values;
``evaluate_matches`` scores a crosswalk against the generator's ground truth;
``identity_records_from_bronze`` builds the matching input straight from bronze Parquet with the
same standardisation dbt staging applies, so matching can be evaluated without a dbt build.
"""

from engagement_lake.mdm.evaluate import MatchMetrics, evaluate_matches
from engagement_lake.mdm.match import MatchSettings, customer_id_for, match_identities
from engagement_lake.mdm.normalize import identity_records_from_bronze

__all__ = [
    "MatchMetrics",
    "MatchSettings",
    "customer_id_for",
    "evaluate_matches",
    "identity_records_from_bronze",
    "match_identities",
]
