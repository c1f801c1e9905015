"""Template texts whose sentiment and topic are known by construction.

Reviews, ticket messages, call transcripts, survey verbatims and social posts are assembled by
vectorised template choice: for each row a sentiment (positive / neutral / negative) and a topic
(sizing, quality, shipping, price, service, fitmap, returns) are decided by the behaviour that
produced the text (a wrong size, a late parcel, a FitMap scan...), then one phrase per slot is
gathered from the bank for that (topic, sentiment) group. The labels go to
``_truth/texts.parquet``; the sentiment layer and the vendor scores can be judged against them.

Phrases are written so that a lexicon scorer (VADER) agrees with the label most of the time:
positive phrases carry clear praise, negative phrases clear complaints, and neutral phrases are
factual statements without polarity words.
"""

from __future__ import annotations

import numpy as np
import polars as pl

SENTIMENTS = ("positive", "neutral", "negative")
TOPICS = ("sizing", "quality", "shipping", "price", "service", "fitmap", "returns")

# topic -> sentiment -> phrases. "{item}" is replaced by the product word (e.g. "jeans").
BODY: dict[str, dict[str, tuple[str, ...]]] = {
    "sizing": {
        "positive": (
            "The {item} fit perfectly, finally a brand that gets big and tall sizing right.",
            "Love the fit of the {item}, true to size and very comfortable.",
            "Great sizing, the {item} fit like they were made for me.",
            "The tall length is perfect and the {item} fit great.",
            "Excellent fit, the size chart was spot on and I am thrilled.",
        ),
        "neutral": (
            "I ordered my usual size in the {item}.",
            "The {item} are the same size as my last order.",
            "I normally wear a 3XL and ordered that size in the {item}.",
            "Question about the inseam length of the {item}.",
            "The {item} come in regular and tall lengths.",
        ),
        "negative": (
            "The {item} ran way too small, terrible sizing and very disappointing.",
            "Awful fit, the {item} were much too tight across the chest.",
            "The {item} were too large and looked ridiculous, sizing is a mess.",
            "Disappointed, the sleeves on the {item} were too short even in the tall size.",
            "Horrible fit, I had to send the {item} back because the size was wrong.",
        ),
    },
    "quality": {
        "positive": (
            "Excellent quality, the {item} feel solid and well made.",
            "Great fabric, the {item} still look amazing after many washes.",
            "Beautiful stitching and a wonderful feel, very happy with the {item}.",
            "Superb quality for the {item}, they are sturdy and comfortable.",
        ),
        "neutral": (
            "The {item} are made of cotton with a polyester blend.",
            "The label on the {item} says machine wash cold.",
            "The {item} have two front pockets and a zip.",
            "I have had the {item} for about ten weeks now.",
        ),
        "negative": (
            "Poor quality, the seams on the {item} ripped after one wash.",
            "The {item} fell apart within a week, cheap and disappointing.",
            "Terrible fabric, the {item} pilled and faded almost immediately.",
            "The zipper on the {item} broke the first day, awful quality.",
        ),
    },
    "shipping": {
        "positive": (
            "Super fast shipping, the {item} arrived early and well packed.",
            "Delivery was quick and easy, great experience.",
            "The package arrived ahead of schedule, excellent service.",
        ),
        "neutral": (
            "The {item} arrived on Tuesday by ground delivery.",
            "The tracking page shows the parcel at the depot.",
            "The order shipped from the warehouse in two boxes.",
        ),
        "negative": (
            "Shipping was terribly slow, the {item} arrived two weeks late.",
            "The package was lost and nobody could tell me where it was, awful.",
            "The box arrived damaged and the {item} were dirty, very frustrating.",
        ),
    },
    "price": {
        "positive": (
            "Great value for the price, the {item} were a bargain on sale.",
            "Excellent deal, I love the prices for big and tall clothes here.",
            "Worth every penny, the {item} are a great buy.",
        ),
        "neutral": (
            "I paid full price for the {item}.",
            "The {item} were part of the weekend promotion.",
            "The price of the {item} changed between my visits.",
        ),
        "negative": (
            "Way overpriced, the {item} are not worth the money at all.",
            "Ridiculous prices, I found the same {item} much cheaper elsewhere, disappointed.",
            "Too expensive for such poor {item}, a rip off.",
        ),
    },
    "service": {
        "positive": (
            "The staff were friendly and incredibly helpful, great service.",
            "Amazing customer service, the associate was kind and patient.",
            "Wonderful experience in the store, the team was fantastic.",
        ),
        "neutral": (
            "I spoke with an associate at the store on Saturday.",
            "I called the service line about my order.",
            "The store opens at ten on weekdays.",
        ),
        "negative": (
            "Rude staff and terrible service, nobody cared about my problem.",
            "Horrible customer service, I waited an hour and got no answer.",
            "The agent was unhelpful and dismissive, very frustrating experience.",
        ),
    },
    "fitmap": {
        "positive": (
            "The FitMap scan was amazing, it nailed my size and the {item} fit great.",
            "Love FitMap, the body scan recommended the perfect size.",
            "FitMap made shopping easy, excellent recommendations for my build.",
        ),
        "neutral": (
            "I did a FitMap scan at the store last month.",
            "The FitMap app suggested a 2XLT for the {item}.",
            "The FitMap scan took about two minutes.",
        ),
        "negative": (
            "The FitMap scan was useless, it recommended the wrong size, disappointing.",
            "FitMap kept failing in the app, frustrating and a waste of time.",
            "Terrible FitMap advice, the {item} it picked were too small.",
        ),
    },
    "returns": {
        "positive": (
            "The return was easy and the refund came quickly, great policy.",
            "Love the hassle free exchange, the new size arrived fast.",
            "Returning the {item} in store was simple and pleasant.",
        ),
        "neutral": (
            "I am returning the {item} for a different size.",
            "The return label is attached to the order email.",
            "I dropped off the {item} for a return at the store.",
        ),
        "negative": (
            "The refund for the {item} still has not arrived, this is unacceptable.",
            "Returning the {item} was a nightmare, terrible process.",
            "They refused my return on the {item}, very angry and disappointed.",
        ),
    },
}

CLOSERS: dict[str, tuple[str, ...]] = {
    "positive": (
        "Highly recommend!",
        "Will definitely buy again.",
        "Very happy customer.",
        "Five stars, love it.",
        "",
    ),
    "neutral": ("", "That is all.", "Order details are in my account.", ""),
    "negative": (
        "Very disappointed.",
        "Not happy at all.",
        "I want this fixed, terrible.",
        "Awful, never again.",
        "",
    ),
}

CALL_CLOSERS: dict[str, tuple[str, ...]] = {
    "positive": ("Great, that is wonderful.", "Perfect, I appreciate it."),
    "neutral": ("Noted.", "That is all for today."),
    "negative": ("This is still unacceptable.", "I am very unhappy about this."),
}

TITLES: dict[str, tuple[str, ...]] = {
    "positive": ("Great fit", "Love it", "Excellent purchase", "Perfect", "Highly recommend"),
    "neutral": ("As described", "Standard order", "Review", "My order", "Average"),
    "negative": ("Disappointed", "Poor fit", "Terrible", "Not worth it", "Bad experience"),
}

GREETINGS = ("Hi,", "Hello,", "Hi there,", "", "Hey,")

AGENT_LINES = (
    "I have looked into order details on my side.",
    "I am checking the order status now.",
    "I have forwarded the request to the fulfilment team.",
    "I have updated the case with your information.",
    "A replacement order is on the way to you.",
    "The refund request has been submitted.",
)
BOT_LINES = (
    "I am the DXL virtual assistant. An agent will be with you in a few minutes.",
    "Your chat has been placed in the queue for the next available agent.",
)

SOCIAL_TAGS = ("#bigandtall", "#DXL", "#fitmap", "#menswear", "#tallguy", "")


def _bank_series(groups: list[tuple[str, ...]]) -> tuple[pl.Series, np.ndarray, np.ndarray]:
    flat = [p for g in groups for p in g]
    lens = np.array([len(g) for g in groups])
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    return pl.Series(flat, dtype=pl.String), starts, lens


_BODY_SERIES, _BODY_START, _BODY_LEN = _bank_series(
    [BODY[t][s] for t in TOPICS for s in SENTIMENTS]
)


def _pick(bank: tuple[str, ...], rng: np.random.Generator, n: int) -> pl.Series:
    """``n`` phrases drawn uniformly from one bank."""
    return pl.Series(list(bank), dtype=pl.String).gather(rng.integers(0, len(bank), n))


def _pick_grouped(
    groups: list[tuple[str, ...]], rng: np.random.Generator, group: np.ndarray
) -> pl.Series:
    """One phrase per row from the bank of its group (vectorised: one gather for all rows)."""
    series, starts, lens = _bank_series(groups)
    idx = starts[group] + (rng.random(len(group)) * lens[group]).astype(np.int64)
    return series.gather(idx)


def body(
    rng: np.random.Generator, topic: np.ndarray, sentiment: np.ndarray, item: pl.Series
) -> pl.Series:
    """One body phrase per row for its (topic, sentiment), with the product word filled in."""
    g = np.asarray(topic) * len(SENTIMENTS) + np.asarray(sentiment)
    idx = _BODY_START[g] + (rng.random(len(g)) * _BODY_LEN[g]).astype(np.int64)
    phrases = _BODY_SERIES.gather(idx)
    return (
        pl.DataFrame({"p": phrases, "i": item.fill_null("items")})
        .select(pl.col("p").str.replace("{item}", pl.col("i"), literal=True))
        .to_series()
    )


def by_sentiment(
    rng: np.random.Generator, bank: dict[str, tuple[str, ...]], sentiment: np.ndarray
) -> pl.Series:
    return _pick_grouped([bank[s] for s in SENTIMENTS], rng, np.asarray(sentiment))


def join(*parts: pl.Series | str) -> pl.Series:
    """Space-join text parts, skipping empty ones."""
    cols = [p if isinstance(p, pl.Series) else pl.Series([p]) for p in parts]
    n = max(len(c) for c in cols)
    df = pl.DataFrame(
        {f"c{i}": (c if len(c) == n else pl.Series([c[0]] * n)) for i, c in enumerate(cols)}
    )
    return df.select(
        pl.concat_list([pl.col(c) for c in df.columns])
        .list.eval(pl.element().filter(pl.element().str.len_chars() > 0))
        .list.join(" ")
    ).to_series()


def review_texts(
    rng: np.random.Generator, topic: np.ndarray, sentiment: np.ndarray, item: pl.Series
) -> tuple[pl.Series, pl.Series]:
    """(title, review_text) per review."""
    title = by_sentiment(rng, TITLES, sentiment)
    second_topic = np.where(
        rng.random(len(topic)) < 0.3, rng.integers(0, len(TOPICS), len(topic)), topic
    )
    extra = body(rng, second_topic, sentiment, item)
    has_extra = rng.random(len(topic)) < 0.35
    text = join(
        body(rng, topic, sentiment, item),
        pl.select(
            pl.when(pl.Series(has_extra) & (pl.Series(second_topic) != pl.Series(topic)))
            .then(extra)
            .otherwise(pl.lit(""))
        ).to_series(),
        by_sentiment(rng, CLOSERS, sentiment),
    )
    return title, text


def customer_message(
    rng: np.random.Generator, topic: np.ndarray, sentiment: np.ndarray, item: pl.Series
) -> pl.Series:
    greet = _pick(GREETINGS, rng, len(topic))
    return join(greet, body(rng, topic, sentiment, item), by_sentiment(rng, CLOSERS, sentiment))


def agent_message(rng: np.random.Generator, n: int) -> pl.Series:
    return join(_pick(GREETINGS, rng, n), _pick(AGENT_LINES, rng, n))


def bot_message(rng: np.random.Generator, n: int) -> pl.Series:
    return _pick(BOT_LINES, rng, n)


def transcript(
    rng: np.random.Generator, topic: np.ndarray, sentiment: np.ndarray, item: pl.Series
) -> pl.Series:
    n = len(topic)
    return join(
        "Agent: DXL customer line, this is Sam speaking.",
        pl.Series(["Customer:"] * n),
        body(rng, topic, sentiment, item),
        pl.Series(["Agent:"] * n),
        _pick(AGENT_LINES, rng, n),
        pl.Series(["Customer:"] * n),
        by_sentiment(rng, CALL_CLOSERS, sentiment),
    )


def verbatim(
    rng: np.random.Generator, topic: np.ndarray, sentiment: np.ndarray, item: pl.Series
) -> pl.Series:
    return join(body(rng, topic, sentiment, item), by_sentiment(rng, CLOSERS, sentiment))


def social_post(
    rng: np.random.Generator, topic: np.ndarray, sentiment: np.ndarray, item: pl.Series
) -> pl.Series:
    n = len(topic)
    tag = _pick(SOCIAL_TAGS, rng, n)
    at = np.where(rng.random(n) < 0.6, "@DXL", "")
    return join(
        pl.Series(at), body(rng, topic, sentiment, item), by_sentiment(rng, CLOSERS, sentiment), tag
    )


def truth(
    source_type: str,
    source_id: pl.Series,
    topic: np.ndarray,
    sentiment: np.ndarray,
    ts_us: np.ndarray,
) -> pl.DataFrame:
    """Rows of ``_truth/texts.parquet`` (``ts_us`` -- when the text was written -- is used by
    the vendor-sentiment emitter and dropped before the truth file is written)."""
    n = len(source_id)
    return pl.DataFrame(
        {
            "source_type": pl.Series([source_type] * n, dtype=pl.String),
            "source_id": source_id.cast(pl.String),
            "sentiment": pl.Series(list(SENTIMENTS), dtype=pl.String).gather(np.asarray(sentiment)),
            "topic": pl.Series(list(TOPICS), dtype=pl.String).gather(np.asarray(topic)),
            "ts_us": np.asarray(ts_us, dtype=np.int64),
        }
    )


ITEM_WORDS = {
    "Shirts": "shirt",
    "Pants": "pants",
    "Jeans": "jeans",
    "Suits": "suit",
    "Outerwear": "jacket",
    "Shoes": "shoes",
    "Activewear": "workout gear",
    "Underwear": "undershirts",
    "Accessories": "belt",
    "Polos": "polo",
    "Sweaters": "sweater",
    "Shorts": "shorts",
}
