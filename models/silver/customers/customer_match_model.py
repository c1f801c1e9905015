"""One row per comparison level of the customer matcher: the m-probability expectation
maximisation learnt (how often two records of one person agree at that level), with the
training date, the number of records and the fingerprint of what it was learnt from.

Incremental by design: a build reuses the rows it finds when its training input
(int_customer_identities_for_training, which changes once per var('matcher_retraining_period'))
has the same fingerprint, and learns them again otherwise, replacing every row
(engagement_lake.mdm.training). A build from scratch of the same bronze learns the same values.
int_customer_clusters and customer_match_review score every pair with these m and with u and a
prior estimated on all of today's records.
"""


def model(dbt, session):
    dbt.config(materialized="incremental", unique_key="matcher")
    from engagement_lake.frames import is_spark, to_engine, to_polars
    from engagement_lake.mdm.training import customer_match_model

    training = to_polars(dbt.ref("int_customer_identities_for_training"))
    previous = to_polars(session.sql(f"select * from {dbt.this}")) if dbt.is_incremental else None
    spark = session if is_spark(session) else None
    return to_engine(customer_match_model(training, previous, spark=spark), session)
