"""One row per customer text from any channel, with one sentiment score in [-1, 1].

The vendor NLP score is used where the vendor scored the text; every other text is scored
with VADER's compound score, so every channel is comparable. Labels: positive at or above the
var sentiment_positive_threshold, negative at or below sentiment_negative_threshold, otherwise
neutral (VADER's published thresholds, 0.05 and -0.05). A Python model because VADER is a Python
library: engagement_lake.analytics.sentiment.score_texts, run on the driver on DuckDB and in
Spark's Python workers, batch by batch, on Spark.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from engagement_lake.analytics.sentiment import score_texts, score_texts_on_spark
    from engagement_lake.frames import is_spark, to_polars

    texts = dbt.ref("int_customer_texts_unioned")
    pos = float(dbt.config.get("positive_threshold"))
    neg = float(dbt.config.get("negative_threshold"))
    if is_spark(session):
        return score_texts_on_spark(texts, pos, neg)
    return score_texts(to_polars(texts), pos, neg)
