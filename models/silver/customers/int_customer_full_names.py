"""One row per support requester and loyalty member: its single full-name field parsed.

Those sources keep a person's name in one field ("Mary Ann Smith", "Smith, Mary", "Dr. John
Q. Public Jr."). engagement_lake.mdm.names parses it with the nameparser library (surname-first
comma form, titles, suffixes, middle names); int_customer_identities_unioned takes first, middle
and last name from here. A Python model because the parser is a Python library; on either
engine the two name columns come to the driver (engagement_lake.frames), where each distinct name
is parsed once.

Parsing is most of the model's time (about 0.1 ms a name), and a name parses the same on every
build, so on DuckDB the model is incremental (YAML): a run parses only the records whose name is
new or changed since the rows kept (compared on the full name the model keeps beside its parts)
and replaces those records. A record never leaves staging on an incremental run (a removed
partition or an erasure rebuilds everything), so the table equals a build from scratch. On
Spark it stays a table.
"""


def model(dbt, session):
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
    records = pl.concat(frames)
    if dbt.is_incremental:
        kept = to_polars(session.sql(f"select source_system, source_id, full_name from {dbt.this}"))
        records = records.join(kept, on=[*keys, "full_name"], how="anti", nulls_equal=True)
    parsed = parse_full_names(records, keys, "full_name").join(
        records.select(*keys, "full_name"), on=list(keys), how="left"
    )
    return to_engine(parsed, session)
