"""Borderline record pairs a data steward should look at: scored by the matcher, left in
different customers. below_threshold: match weight in the review band (MatchSettings.review_weight
up to the threshold); name_only: above the threshold, but nothing besides the name agrees. A
steward's decision goes into seeds/mdm/match_overrides.csv (must_link or cannot_link).

The same deterministic matching as customer_xref, run again (a dbt model returns one table).
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from engagement_lake.frames import is_spark, to_engine, to_polars
    from engagement_lake.mdm import match_identities_with_review

    identities = to_polars(dbt.ref("int_customer_identities_unioned"))
    overrides = to_polars(dbt.ref("match_overrides"))
    trained = to_polars(dbt.ref("customer_match_model"))
    spark = session if is_spark(session) else None
    review = match_identities_with_review(
        identities, overrides=overrides, spark=spark, trained=trained
    )[1]
    return to_engine(review, session)
