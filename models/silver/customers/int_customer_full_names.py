"""One row per support requester and loyalty member: its single full-name field parsed.

Those sources keep a person's name in one field ("Mary Ann Smith", "Smith, Mary", "Dr. John
Q. Public Jr."). engagement_lake.mdm.names parses it with the nameparser library (surname-first
comma form, titles, suffixes, middle names); int_customer_identities_unioned takes first, middle
and last name from here. A Python model because the parser is a Python library; on either
engine the two name columns come to the driver (engagement_lake.frames), where each distinct name
is parsed once.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    import polars as pl

    from engagement_lake.frames import to_engine, to_polars
    from engagement_lake.mdm.names import parse_full_names

    keys = ("source_system", "source_id")
    support = to_polars(dbt.ref("stg_support__requesters"), ["requester_id", "name"])
    loyalty = to_polars(dbt.ref("stg_loyalty__members"), ["member_id", "full_name"])
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
    return to_engine(parse_full_names(pl.concat(frames), keys, "full_name"), session)
