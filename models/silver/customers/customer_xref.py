"""One row per source identity record: its golden customer id, and how it was matched.

The matching (cluster, match_method, match_probability) is int_customer_clusters'; the id is the
one customer_id_ledger has carried forward for the record, so it survives rebuilds and daily
loads (engagement_lake.mdm.ids states the keep, merge, split and mint rules).
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from engagement_lake.frames import to_engine, to_polars
    from engagement_lake.mdm.ids import current_ids

    clusters = to_polars(dbt.ref("int_customer_clusters"))
    ids = current_ids(to_polars(dbt.ref("customer_id_ledger")))
    xref = clusters.join(ids, on=["source_system", "source_id"], how="left").select(
        "source_system",
        "source_id",
        "customer_id",
        "match_method",
        "match_probability",
        "assigned_on",
        "assigned_reason",
    )
    return to_engine(xref, session)
