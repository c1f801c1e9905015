"""One row per customer text from any channel, with one sentiment score in [-1, 1].

The vendor NLP score is used where the vendor scored the text; every other text is scored
with VADER's compound score, so every channel is comparable. Labels: positive at or above the
var sentiment_positive_threshold, negative at or below sentiment_negative_threshold, otherwise
neutral (VADER's published thresholds, 0.05 and -0.05). A Python model because VADER is a Python
library.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    import numpy as np
    import polars as pl

    from engagement_lake.analytics.sentiment import label, vader_compound

    texts = dbt.ref("int_customer_texts_unioned").pl()
    vendor = texts["vendor_score"].to_numpy().astype(float)
    needs_vader = np.isnan(vendor)
    scores = vendor.copy()
    if needs_vader.any():
        to_score = texts["text"].filter(pl.Series(needs_vader)).to_list()
        scores[needs_vader] = vader_compound(to_score)
    scores = np.clip(scores, -1.0, 1.0)
    return texts.drop("vendor_score").with_columns(
        pl.Series("sentiment_score", scores, dtype=pl.Float64),
        pl.Series(
            "sentiment_label",
            label(
                scores,
                pos=float(dbt.config.get("positive_threshold")),
                neg=float(dbt.config.get("negative_threshold")),
            ),
            dtype=pl.String,
        ),
        pl.Series("score_method", np.where(needs_vader, "vader", "vendor"), dtype=pl.String),
        pl.Series("vendor_score", vendor, dtype=pl.Float64).fill_nan(None),
    )
