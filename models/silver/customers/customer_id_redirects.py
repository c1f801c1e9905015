"""One row per golden customer id absorbed by a merge: the surviving id it now resolves to (the
end of the chain when the survivor was itself absorbed later), the load date of the merge and
the reason. Read from customer_id_ledger (engagement_lake.mdm.ids.redirect_table)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from engagement_lake.frames import to_engine, to_polars
    from engagement_lake.mdm.ids import redirect_table

    return to_engine(redirect_table(to_polars(dbt.ref("customer_id_ledger"))), session)
