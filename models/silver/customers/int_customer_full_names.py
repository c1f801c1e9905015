"""One row per support requester and loyalty member: its single full-name field parsed.

Those sources keep a person's name in one field ("Mary Ann Smith", "Smith, Mary", "Dr. John
Q. Public Jr."). engagement_lake.mdm.names parses it with the nameparser library (surname-first
comma form, titles, suffixes, middle names); int_customer_identities_unioned takes first, middle
and last name from here. A Python model because the parser is a Python library.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    import polars as pl

    from engagement_lake.mdm.names import parse_full_names

    keys = ("source_system", "source_id")
    support = dbt.ref("stg_support__requesters").pl()
    loyalty = dbt.ref("stg_loyalty__members").pl()
    frames = [
        support.select(
            pl.lit("support").alias("source_system"),
            pl.col("requester_id").cast(pl.String).alias("source_id"),
            pl.col("name").cast(pl.String).alias("full_name"),
        ),
        loyalty.select(
            pl.lit("loyalty").alias("source_system"),
            pl.col("member_id").cast(pl.String).alias("source_id"),
            pl.col("full_name").cast(pl.String).alias("full_name"),
        ),
    ]
    return parse_full_names(pl.concat(frames), keys, "full_name")
