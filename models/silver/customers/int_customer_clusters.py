"""One row per source identity record: the cluster (one real person) the matcher puts it in, and
how it was matched.

Steward overrides first (seeds/mdm/match_overrides.csv: must-link and cannot-link pairs win
over everything else), then deterministic rules (normalised e-mail, E.164 phone), then
probabilistic matching with Splink on name, birth date and address with blocking (m as learnt
in customer_match_model; u and the prior from today's records), then clustering — see
engagement_lake.mdm.match_identities. A Python model because Splink's
expectation maximisation and the clustering are not expressible in SQL; the pair scoring itself
runs inside the build's engine (an in-process DuckDB, or Splink's Spark backend on the build's
Spark session), the records and the clustering on the driver.

cluster_id is the content hash of the cluster's smallest record: a label of this build's
clustering only. The stable customer id is given by customer_id_ledger and read from
customer_xref.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from engagement_lake.frames import is_spark, to_engine, to_polars
    from engagement_lake.mdm import match_identities

    identities = to_polars(dbt.ref("int_customer_identities_unioned"))
    overrides = to_polars(dbt.ref("match_overrides"))
    trained = to_polars(dbt.ref("customer_match_model"))
    spark = session if is_spark(session) else None
    clusters = match_identities(identities, overrides=overrides, spark=spark, trained=trained)
    return to_engine(clusters.rename({"customer_id": "cluster_id"}), session)
