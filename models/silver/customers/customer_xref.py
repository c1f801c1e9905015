"""One row per source identity record: the golden customer it belongs to, and how it was matched.

Deterministic rules first (normalised e-mail, E.164 phone), then probabilistic matching with
Splink on name, birth date and address with blocking, then clustering — see
engagement_lake.mdm.match_identities. A Python model because Splink's expectation maximisation
and the clustering are not expressible in SQL; the matching itself still runs inside DuckDB.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from engagement_lake.mdm import match_identities

    identities = dbt.ref("int_customer_identities_unioned").pl()
    return match_identities(identities)
