"""The Fellegi-Sunter model the matcher trains: comparisons, blocking, training passes, prior.

What is compared and how (:func:`comparisons`), which pairs are scored
(:data:`PREDICTION_BLOCKS`), which blocked passes train m by expectation maximisation
(:data:`TRAINING_BLOCKS`, :func:`training_blocks`), which rules estimate the prior
(:data:`PRIOR_RULES`), and what must agree besides the name for a pair to join
(:data:`CORROBORATING`). :mod:`engagement_lake.mdm.match` runs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

if TYPE_CHECKING:
    from engagement_lake.mdm.match import MatchSettings


# --------------------------------------------------------------------------------------------
# Probabilistic model
# --------------------------------------------------------------------------------------------


#: The engines Splink scores pairs on (:func:`comparisons`' ``dialect``).
DIALECTS: tuple[str, ...] = ("duckdb", "spark")


def hamming_sql(left: str, right: str, dialect: str = "duckdb") -> str:
    """SQL for the number of positions at which two strings of equal length differ.

    DuckDB has ``hamming``; Spark has none, so there it counts the differing positions with a
    higher-order function (null for strings of different lengths, where DuckDB's ``hamming``
    fails: the columns compared, dates as ``yyyymmdd`` and postcodes, have one length).
    """
    if dialect == "duckdb":
        return f"hamming({left}, {right})"
    return (
        f"CASE WHEN length({left}) = length({right}) THEN size(filter(sequence(1, "
        f"length({left})), i -> substr({left}, i, 1) <> substr({right}, i, 1))) END"
    )


def jaro_winkler_sql(left: str, right: str, dialect: str = "duckdb") -> str:
    """SQL for the Jaro-Winkler similarity: DuckDB's function, or on Spark the one Splink's
    similarity jar registers (engagement_lake.spark.register_similarity_functions)."""
    name = "jaro_winkler_similarity" if dialect == "duckdb" else "jaro_winkler"
    return f"{name}({left}, {right})"


def days_apart_sql(left: str, right: str, dialect: str = "duckdb") -> str:
    """SQL for the number of days between two dates, whichever comes first."""
    if dialect == "duckdb":
        return f"abs(date_diff('day', {left}, {right}))"
    return f"abs(datediff({left}, {right}))"


def _one_edit(column: str) -> Any:
    """Levenshtein or Damerau-Levenshtein distance 1 (a typo, or two neighbours swapped).

    DuckDB's ``damerau_levenshtein`` costs about six times ``levenshtein``; it is evaluated only
    for the few pairs whose lengths and plain edit distance leave a transposition possible.
    Spark has ``levenshtein`` and, from Splink's similarity jar, ``damerau_levenshtein``.
    """
    import splink.comparison_level_library as cll

    left, right = f"{column}_l", f"{column}_r"
    return cll.CustomLevel(
        f"levenshtein({left}, {right}) <= 1 OR (length({left}) = length({right}) "
        f"AND levenshtein({left}, {right}) = 2 AND damerau_levenshtein({left}, {right}) = 1)",
        label_for_charts="One typo or transposition",
    )


def comparisons(dialect: str = "duckdb") -> list[Any]:
    """Splink comparisons, each level's m-probability a starting value for EM.

    ``dialect`` is the engine that scores the pairs (:data:`DIALECTS`): the levels are the same,
    spelled in its SQL (:func:`hamming_sql`, :func:`jaro_winkler_sql`, :func:`days_apart_sql`).

    A null on either side is its own level (weight 0: a missing value is no evidence either
    way, never a disagreement). Exact agreement on first name, last name and city is adjusted
    for the value's frequency (agreeing on a rare surname says more than agreeing on Smith).
    The starting m values only seed expectation maximisation; they stand alone only for levels
    the data never shows and for inputs too small to train on.
    """
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def custom(name: str, levels: list[tuple[Any, float | None]]) -> Any:
        configured = [
            level if m is None else level.configure(m_probability=m) for level, m in levels
        ]
        return cl.CustomComparison(comparison_levels=configured, output_column_name=name)

    def level(sql: str, label: str) -> Any:
        return cll.CustomLevel(sql, label_for_charts=label)

    if dialect not in DIALECTS:
        raise ValueError(f"unknown matching dialect {dialect!r}; use one of {DIALECTS}")
    dob_digits = hamming_sql("dob_s_l", "dob_s_r", dialect)
    addr_similarity = jaro_winkler_sql("addr_l", "addr_r", dialect)
    swapped = "fn_l = ln_r AND ln_l = fn_r"
    return [
        custom(
            "first_name",
            [
                (cll.NullLevel("fn"), None),
                (cll.ExactMatchLevel("fn").configure(tf_adjustment_column="fn"), 0.80),
                (level(swapped, "First and last name swapped"), 0.01),
                (
                    cll.ArrayIntersectLevel("fn_names", 1).configure(label_for_charts="Nickname"),
                    0.04,
                ),
                (_one_edit("fn"), 0.05),
                (cll.JaroWinklerLevel("fn", 0.9), 0.04),
                (
                    level(
                        "(length(fn_l) = 1 OR length(fn_r) = 1) AND left(fn_l, 1) = left(fn_r, 1)",
                        "Initial agrees",
                    ),
                    0.02,
                ),
                (cll.JaroWinklerLevel("fn", 0.7), 0.02),
                (cll.ElseLevel(), 0.02),
            ],
        ),
        custom(
            "last_name",
            [
                (cll.NullLevel("ln"), None),
                (cll.ExactMatchLevel("ln").configure(tf_adjustment_column="ln"), 0.82),
                # A swap is one event, weighed once in first_name; here it is no evidence.
                (
                    level(swapped, "First and last name swapped").configure(is_null_level=True),
                    None,
                ),
                (_one_edit("ln"), 0.07),
                (cll.JaroWinklerLevel("ln", 0.9), 0.05),
                (cll.JaroWinklerLevel("ln", 0.7), 0.02),
                (cll.ElseLevel(), 0.03),
            ],
        ),
        custom(
            "birth_date",
            [
                (cll.NullLevel("dob"), None),
                (cll.ExactMatchLevel("dob"), 0.85),
                (
                    level(
                        f"{dob_digits} <= 1 OR ({dob_digits} = 2 "
                        "AND damerau_levenshtein(dob_s_l, dob_s_r) = 1)",
                        "One digit differs or two adjacent digits transposed",
                    ),
                    0.06,
                ),
                (
                    level(
                        "year(dob_l) = year(dob_r) AND month(dob_l) = day(dob_r) "
                        "AND day(dob_l) = month(dob_r)",
                        "Day and month swapped",
                    ),
                    0.02,
                ),
                (
                    level(f"{days_apart_sql('dob_l', 'dob_r', dialect)} <= 31", "Within a month"),
                    0.02,
                ),
                (level(f"{dob_digits} <= 2", "Two digits differ"), 0.02),
                (cll.ElseLevel(), 0.03),
            ],
        ),
        # Street, postcode, city and state describe one place, so they form one comparison: as
        # separate comparisons their agreement would be counted several times over, and members
        # of one household (same surname and address, different first name and birth date)
        # would outscore the evidence against them.
        custom(
            "location",
            [
                (
                    level(
                        "(addr_l IS NULL OR addr_r IS NULL) AND (zip_l IS NULL OR zip_r IS NULL) "
                        "AND (city_l IS NULL OR city_r IS NULL) "
                        "AND (state_l IS NULL OR state_r IS NULL)",
                        "No location on one side",
                    ).configure(is_null_level=True),
                    None,
                ),
                (level("addr_l = addr_r AND zip_l = zip_r", "Same address"), 0.60),
                (
                    level(
                        f"{addr_similarity} >= 0.9 AND zip_l = zip_r",
                        "Similar street line, same postcode",
                    ),
                    0.08,
                ),
                (level("addr_l = addr_r", "Same street line, postcode differs"), 0.05),
                (
                    level(
                        f"house_no_l = house_no_r AND {addr_similarity} >= 0.8",
                        "Same house number, similar street",
                    ),
                    0.05,
                ),
                (
                    level("zip_l = zip_r AND city_l = city_r", "Same postcode and city").configure(
                        tf_adjustment_column="city"
                    ),
                    0.06,
                ),
                (cll.ExactMatchLevel("zip"), 0.04),
                (cll.ExactMatchLevel("city").configure(tf_adjustment_column="city"), 0.03),
                (
                    level(
                        f"{hamming_sql('zip_l', 'zip_r', dialect)} <= 1", "Postcode one digit off"
                    ),
                    0.03,
                ),
                (cll.ExactMatchLevel("state"), 0.03),
                (cll.ElseLevel(), 0.03),
            ],
        ),
        custom(
            "email",
            [
                (cll.NullLevel("email"), None),
                (cll.ExactMatchLevel("email"), 0.85),
                (cll.ElseLevel(), 0.15),
            ],
        ),
        custom(
            "phone",
            [
                (cll.NullLevel("phone"), None),
                (cll.ExactMatchLevel("phone"), 0.85),
                (_one_edit("phone"), 0.02),
                (cll.ElseLevel(), 0.02),
            ],
        ),
    ]


#: Candidate-pair generators. Each is an equi-join on a selective combination of keys (or, for
#: swapped names, the two name keys crossed), so the pairs it produces are bounded by block
#: sizes rather than the square of the input. Together they tolerate errors in several
#: attributes at once: a typo'd surname still shares first name and birth date, a typo'd birth
#: date still shares full name, a moved person still shares e-mail, a person whose name and
#: address were both mistyped still shares birth date and postcode area.
PREDICTION_BLOCKS: tuple[tuple[str, ...] | str, ...] = (
    ("email",),
    ("phone",),
    ("fn", "ln"),
    "l.fn = r.ln AND l.ln = r.fn",
    ("fn_canon", "ln", "zip3"),
    ("ln", "dob"),
    ("fn_canon", "dob"),
    ("dob", "zip3"),
    ("dob", "house_no"),
    ("ln_sdx", "dob_year", "zip3"),
    ("zip", "ln_sdx"),
    ("zip", "fn_canon"),
    ("zip", "house_no"),
    ("addr", "fn_sdx"),
    ("city", "ln_sdx", "fn_sdx"),
)

#: Expectation-maximisation passes, tried in order. Comparisons on a pass's own columns cannot
#: be trained from it (they always agree), so between them the passes cover every comparison.
#: Each pass lists alternatives, broadest first: the first whose columns are present and that
#: yields between :attr:`MatchSettings.min_em_pairs` and :attr:`MatchSettings.max_em_pairs`
#: pairs runs, so a source without e-mail or phone (or without birth dates) still trains every
#: comparison it has, and a large input trains on a narrower block instead of a huge one.
TRAINING_BLOCKS: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("fn", "ln"), ("fn", "ln", "zip3")),
    (("dob",), ("dob", "zip3")),
    (("zip",), ("zip", "ln_sdx")),
    (("email",),),
    (("phone",),),
)

#: Rules precise enough to count as matches when estimating the prior (the probability that
#: two random records match): :func:`estimate_prior`. Each applies only when its columns are
#: present. :attr:`MatchSettings.prior_recall` is the share of true matches they are assumed
#: to find together.
PRIOR_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("fn", "ln", "dob"), "l.fn = r.fn AND l.ln = r.ln AND l.dob = r.dob"),
    (("fn", "ln", "dob"), "l.fn = r.ln AND l.ln = r.fn AND l.dob = r.dob"),
    (("fn", "ln", "addr"), "l.fn = r.fn AND l.ln = r.ln AND l.addr = r.addr"),
    (("email",), "l.email = r.email"),
    (("phone",), "l.phone = r.phone"),
)


#: Upper bound of the prior: even odds that two random records match.
PRIOR_CAP = 0.5


def _blocked_pair_count(features: pl.DataFrame, columns: tuple[str, ...]) -> int:
    """Number of distinct-record pairs an equi-join block on ``columns`` would produce."""
    sizes = features.drop_nulls(list(columns)).group_by(list(columns)).len()["len"]
    return int((sizes * (sizes - 1) // 2).sum())


def _present(features: pl.DataFrame, columns: tuple[str, ...]) -> bool:
    return all(features[c].null_count() < features.height for c in columns)


def training_blocks(features: pl.DataFrame, settings: MatchSettings) -> list[tuple[str, ...]]:
    """The EM passes of :data:`TRAINING_BLOCKS` this input supports (fields present, sizes)."""
    chosen = []
    for alternatives in TRAINING_BLOCKS:
        for block in alternatives:
            if not _present(features, block):
                continue
            pairs = _blocked_pair_count(features, block)
            if settings.min_em_pairs <= pairs <= settings.max_em_pairs:
                chosen.append(block)
                break
    return chosen


def prior_rules(features: pl.DataFrame) -> list[str]:
    """The :data:`PRIOR_RULES` whose columns this input has."""
    return [sql for columns, sql in PRIOR_RULES if _present(features, columns)]


#: Agreement beyond the name that a probabilistic edge needs to join clusters (SQL over the
#: pair's features, ``_l`` / ``_r`` as ``l.`` / ``r.``): the birth date within two digits, the
#: same postcode, city, e-mail or phone, or a similar street line. Two records that share a name
#: and agree on nothing else (absent, or different) stay apart whatever their weight: people who
#: share a name are common, and one wrong edge merges two whole clusters.
CORROBORATING: tuple[str, ...] = (
    "hamming(l.dob_s, r.dob_s) <= 2",
    "l.zip = r.zip",
    "l.city = r.city",
    "l.email = r.email",
    "l.phone = r.phone",
    "jaro_winkler_similarity(l.addr, r.addr) >= 0.9",
)


def corroborated(features: pl.DataFrame, pairs: pl.DataFrame) -> pl.Series:
    """Per pair (in ``pairs`` order): does some :data:`CORROBORATING` condition hold?"""
    keep = ["unique_id", "dob_s", "zip", "city", "email", "phone", "addr"]
    feats = features.select(keep).to_arrow()  # noqa: F841  (read by DuckDB below)
    edges = pairs.select("unique_id_l", "unique_id_r").with_row_index("i").to_arrow()  # noqa: F841
    condition = " OR ".join(f"coalesce({c}, false)" for c in CORROBORATING)
    with duckdb.connect() as con:
        result = con.execute(
            f"""
            select ({condition}) as corroborated
            from edges as e
            join feats as l on l.unique_id = e.unique_id_l
            join feats as r on r.unique_id = e.unique_id_r
            order by e.i
            """
        ).pl()
    return result["corroborated"]
