"""Value normalisation for customer identity matching.

Matching compares values that different source systems spell differently: ``Bob`` in the shop is
``Robert`` in the CRM, ``jane+news@gmial.com`` in marketing is ``jane@gmail.com`` in loyalty,
``12 North Oak Avenue`` is ``12 N Oak Ave``. Each normaliser here maps such variants to one
comparable *key* so that deterministic rules can join on equality and the probabilistic model
compares like with like.

Every normaliser is a polars expression (vectorised, so a million records stay cheap) with a
scalar wrapper of the same name minus ``_expr`` for tests and ad-hoc use; the scalar wrappers run
the very same expression, so the two can never drift apart. The lookup tables (nicknames, e-mail
domain typos, address abbreviations, state names) are plain data at the top of the module so they
can be reviewed and extended without touching logic.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import polars as pl

# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------

#: Canonical first name -> nicknames and spelling variants that denote the same given name.
#: Keys and values are upper-case letters only (the form produced by :func:`name_key_expr`).
#: A nickname may serve several given names (``PAT`` is Patricia or Patrick, ``SAM`` Samuel or
#: Samantha, ``TED`` Edward or Theodore): matching then treats it as compatible with each of
#: them (:func:`first_name_variants_expr`) without declaring Patricia and Patrick the same.
#: Distinct given names that merely look alike (Stephen/Steven, Catherine/Katherine) are not
#: variants of each other; they share their nicknames instead, and string similarity covers
#: the rest.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "ROBERT": ("BOB", "BOBBY", "ROB", "ROBBIE", "ROBBY"),
    "WILLIAM": ("BILL", "BILLY", "WILL", "WILLY", "WILLIE"),
    "JAMES": ("JIM", "JIMMY", "JAMIE", "JIMMIE"),
    "MICHAEL": ("MIKE", "MIKEY", "MICK", "MICKEY"),
    "THOMAS": ("TOM", "TOMMY"),
    "RICHARD": ("DICK", "RICK", "RICKY", "RICH", "RICHIE"),
    "ELIZABETH": ("LIZ", "LIZZY", "LIZZIE", "BETH", "BETSY", "BETTY", "ELIZA", "LIBBY"),
    "KATHERINE": ("KATE", "KATIE", "KATY", "KAT", "KATHY"),
    "KATHRYN": ("KATE", "KATIE", "KATHY"),
    "CATHERINE": ("CATHY", "CATE", "KATE", "KATIE"),
    "KATHLEEN": ("KATHY", "KATE", "KATIE"),
    "JENNIFER": ("JEN", "JENN", "JENNY", "JENNI"),
    "CHRISTOPHER": ("CHRIS", "KRIS", "TOPHER"),
    "CHRISTINE": ("CHRIS", "CHRISSY", "TINA"),
    "CHRISTINA": ("CHRIS", "CHRISSY", "TINA", "KRISTINA"),
    "DAVID": ("DAVE", "DAVEY", "DAVY"),
    "JOSEPH": ("JOE", "JOEY"),
    "DANIEL": ("DAN", "DANNY"),
    "MATTHEW": ("MATT", "MATTY"),
    "ANTHONY": ("TONY",),
    "STEVEN": ("STEVE", "STEVIE"),
    "STEPHEN": ("STEVE", "STEVIE"),
    "STEPHANIE": ("STEPH", "STEFANIE", "STEPHIE"),
    "ANDREW": ("ANDY", "DREW"),
    "NICHOLAS": ("NICK", "NICKY", "NICO", "NIC"),
    "SAMUEL": ("SAM", "SAMMY"),
    "SAMANTHA": ("SAM", "SAMMY", "SAMMIE"),
    "BENJAMIN": ("BEN", "BENNY", "BENJI"),
    "ALEXANDER": ("ALEX", "XANDER"),
    "ALEXANDRA": ("ALEX", "ALEXA", "LEXI"),
    "ALEXIS": ("LEXI", "LEXIE"),
    "JONATHAN": ("JON", "JONNY"),
    "PATRICIA": ("PAT", "PATTY", "PATSY", "TRISH", "TRICIA"),
    "PATRICK": ("PAT", "PADDY"),
    "SUSAN": ("SUE", "SUSIE", "SUZY", "SUZIE"),
    "MARGARET": ("MEG", "MAGGIE", "PEGGY", "MARGE", "MARGIE", "PEG"),
    "KENNETH": ("KEN", "KENNY"),
    "LAWRENCE": ("LARRY", "LAURENCE"),
    "RONALD": ("RON", "RONNIE", "RONNY"),
    "DONALD": ("DON", "DONNIE", "DONNY"),
    "EDWARD": ("ED", "EDDIE", "EDDY", "TED", "TEDDY", "NED"),
    "THEODORE": ("TED", "TEDDY", "THEO"),
    "GREGORY": ("GREG",),
    "JEFFREY": ("JEFF", "GEOFFREY", "GEOFF"),
    "JOSHUA": ("JOSH",),
    "TIMOTHY": ("TIM", "TIMMY"),
    "JACOB": ("JAKE",),
    "ZACHARY": ("ZACH", "ZACK", "ZAK"),
    "NATHAN": ("NATE",),
    "NATHANIEL": ("NATE", "NAT"),
    "PETER": ("PETE",),
    "PHILIP": ("PHIL", "PHILLIP"),
    "RAYMOND": ("RAY",),
    "GERALD": ("JERRY", "GERRY"),
    "DOUGLAS": ("DOUG",),
    "CHARLES": ("CHARLIE", "CHUCK", "CHAS"),
    "FREDERICK": ("FRED", "FREDDIE", "FREDDY"),
    "LEONARD": ("LEN", "LENNY", "LEO"),
    "MITCHELL": ("MITCH",),
    "GEORGE": ("GEORGIE",),
    "HENRY": ("HANK",),
    "JOHN": ("JOHNNY",),
    "ABIGAIL": ("ABBY", "ABBIE", "ABBEY"),
    "REBECCA": ("BECKY", "BECCA", "BECK"),
    "CYNTHIA": ("CINDY",),
    "DEBORAH": ("DEB", "DEBBIE", "DEBBY", "DEBRA"),
    "JESSICA": ("JESS", "JESSIE", "JESSI"),
    "AMANDA": ("MANDY", "MANDI"),
    "VICTORIA": ("VICKY", "VICKI", "TORI"),
    "KIMBERLY": ("KIM", "KIMMY"),
    "PAMELA": ("PAM",),
    "ANGELA": ("ANGIE",),
    "BARBARA": ("BARB", "BARBIE"),
    "DOROTHY": ("DOT", "DOTTIE", "DOROTHEA"),
    "JUDITH": ("JUDY", "JUDI"),
    "THERESA": ("TERESA", "TESS", "TESSA", "TERRI"),
    "VALERIE": ("VAL",),
    "JACQUELINE": ("JACKIE",),
    "MADELINE": ("MADDIE", "MADDY", "MADELYN"),
    "SARAH": ("SARA", "SALLY", "SADIE"),
    "ANNE": ("ANN", "ANNIE"),
    "MARY": ("MOLLY", "MAMIE", "POLLY"),
    "CAROLINE": ("CARRIE",),
}

#: Misspelt e-mail domains seen in hand-typed addresses -> the domain that was meant.
EMAIL_DOMAIN_TYPOS: dict[str, str] = {
    "gmial.com": "gmail.com",
    "gmal.com": "gmail.com",
    "gmai.com": "gmail.com",
    "gamil.com": "gmail.com",
    "gnail.com": "gmail.com",
    "gmaill.com": "gmail.com",
    "gmail.co": "gmail.com",
    "gmail.con": "gmail.com",
    "gmail.cm": "gmail.com",
    "googlemail.com": "gmail.com",
    "hotmial.com": "hotmail.com",
    "hotmal.com": "hotmail.com",
    "hotmai.com": "hotmail.com",
    "homail.com": "hotmail.com",
    "hotmaill.com": "hotmail.com",
    "hotmail.co": "hotmail.com",
    "hotmail.con": "hotmail.com",
    "yaho.com": "yahoo.com",
    "yahooo.com": "yahoo.com",
    "yhoo.com": "yahoo.com",
    "yahho.com": "yahoo.com",
    "yahoo.co": "yahoo.com",
    "yahoo.con": "yahoo.com",
    "outlok.com": "outlook.com",
    "outllook.com": "outlook.com",
    "outlook.co": "outlook.com",
    "iclod.com": "icloud.com",
    "icloud.co": "icloud.com",
    "aol.co": "aol.com",
    "aol.con": "aol.com",
    "live.co": "live.com",
    "msn.co": "msn.com",
    "protonmal.com": "protonmail.com",
}

#: Address tokens -> USPS standard abbreviation. Unit designators all collapse to ``UNIT`` so
#: that ``Apt 4``, ``Suite 4`` and ``#4`` agree; ordinal words become ordinal numbers.
ADDRESS_ABBREVIATIONS: dict[str, str] = {
    "STREET": "ST",
    "STR": "ST",
    "AVENUE": "AVE",
    "AV": "AVE",
    "AVEN": "AVE",
    "ROAD": "RD",
    "BOULEVARD": "BLVD",
    "BOUL": "BLVD",
    "DRIVE": "DR",
    "DRV": "DR",
    "LANE": "LN",
    "COURT": "CT",
    "PLACE": "PL",
    "TERRACE": "TER",
    "TERR": "TER",
    "PARKWAY": "PKWY",
    "PKY": "PKWY",
    "HIGHWAY": "HWY",
    "CIRCLE": "CIR",
    "SQUARE": "SQ",
    "TRAIL": "TRL",
    "WAY": "WAY",
    "ALLEY": "ALY",
    "CRESCENT": "CRES",
    "EXPRESSWAY": "EXPY",
    "FREEWAY": "FWY",
    "PLAZA": "PLZ",
    "POINT": "PT",
    "MOUNT": "MT",
    "HEIGHTS": "HTS",
    "CENTER": "CTR",
    "CENTRE": "CTR",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
    "APARTMENT": "UNIT",
    "APT": "UNIT",
    "SUITE": "UNIT",
    "STE": "UNIT",
    "NO": "UNIT",
    "NUMBER": "UNIT",
    "FIRST": "1ST",
    "SECOND": "2ND",
    "THIRD": "3RD",
    "FOURTH": "4TH",
    "FIFTH": "5TH",
    "SIXTH": "6TH",
    "SEVENTH": "7TH",
    "EIGHTH": "8TH",
    "NINTH": "9TH",
    "TENTH": "10TH",
    "ELEVENTH": "11TH",
    "TWELFTH": "12TH",
}

#: Full US state names -> postal code, so ``California`` and ``CA`` compare equal.
US_STATES: dict[str, str] = {
    "ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA",
    "COLORADO": "CO", "CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC",
    "FLORIDA": "FL", "GEORGIA": "GA", "HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL",
    "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS", "KENTUCKY": "KY", "LOUISIANA": "LA",
    "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA", "MICHIGAN": "MI", "MINNESOTA": "MN",
    "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT", "NEBRASKA": "NE", "NEVADA": "NV",
    "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM", "NEW YORK": "NY",
    "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK", "OREGON": "OR",
    "PENNSYLVANIA": "PA", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC", "SOUTH DAKOTA": "SD",
    "TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT", "VIRGINIA": "VA",
    "WASHINGTON": "WA", "WEST VIRGINIA": "WV", "WISCONSIN": "WI", "WYOMING": "WY",
}  # fmt: skip


def _invert_nicknames(nicknames: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Turn canonical -> variants into variant -> sorted canonicals.

    A variant that is itself a canonical name would make "same given name" non-transitive
    (``A`` ~ ``B`` as a nickname while ``B`` is a name of its own), so the table refuses it.
    """
    inverted: dict[str, set[str]] = {}
    for canonical, variants in nicknames.items():
        for variant in variants:
            if variant in nicknames:
                raise ValueError(f"nickname {variant!r} is itself a canonical name")
            inverted.setdefault(variant, set()).add(canonical)
    return {variant: tuple(sorted(names)) for variant, names in sorted(inverted.items())}


#: Variant -> the canonical first names it can stand for (derived from :data:`NICKNAMES`).
NICKNAME_TO_CANONICALS: dict[str, tuple[str, ...]] = _invert_nicknames(NICKNAMES)

#: Variant -> canonical first name, for the variants that stand for exactly one name.
NICKNAME_TO_CANONICAL: dict[str, str] = {
    variant: names[0] for variant, names in NICKNAME_TO_CANONICALS.items() if len(names) == 1
}


# --------------------------------------------------------------------------------------------
# Vectorised normalisers (polars expressions)
# --------------------------------------------------------------------------------------------

_EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _col(column: str | pl.Expr) -> pl.Expr:
    return pl.col(column) if isinstance(column, str) else column


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.len_chars() > 0).then(expr).otherwise(None)


def email_key_expr(column: str | pl.Expr) -> pl.Expr:
    """Matching key for an e-mail: lower-case, plus-tag removed, domain typos corrected.

    ``Jane.Doe+promo@GMIAL.com`` and ``jane.doe@gmail.com`` reach the same mailbox, so they must
    produce the same key for the deterministic e-mail rule. Values that are not shaped like an
    address become null rather than a key, so junk can never join two people.
    """
    email = _col(column).cast(pl.String).str.strip_chars().str.to_lowercase()
    email = pl.when(email.str.contains(_EMAIL_SHAPE)).then(email).otherwise(None)
    local = email.str.extract(r"^([^@]+)@", 1).str.replace(r"\+.*$", "")
    domain = email.str.extract(r"@([^@]+)$", 1).str.strip_chars(".")
    domain = domain.replace(EMAIL_DOMAIN_TYPOS)
    return pl.when(local.str.len_chars() > 0).then(pl.concat_str([local, pl.lit("@"), domain]))


def phone_e164_expr(column: str | pl.Expr) -> pl.Expr:
    """E.164 form of a North-American phone number, or null.

    The same rule dbt staging applies (keep digits; 10 digits -> ``+1`` prefix; 11 digits starting
    with 1 -> ``+`` prefix; anything else is not a usable number), so normalising an already
    staged value is a no-op. A trailing extension (``x123``, ``ext. 9``) is dropped first because
    it identifies a desk, not a person.
    """
    raw = _col(column).cast(pl.String).str.replace(r"(?i)\s*(x|ext\.?|extension)\s*\d+\s*$", "")
    digits = raw.str.replace_all(r"\D", "")
    n = digits.str.len_chars()
    return (
        pl.when(n == 10)
        .then(pl.lit("+1") + digits)
        .when((n == 11) & digits.str.starts_with("1"))
        .then(pl.lit("+") + digits)
        .otherwise(None)
    )


def name_key_expr(column: str | pl.Expr) -> pl.Expr:
    """Upper-case ASCII letters only: ``O'Brien``, ``OBrien`` and ``o brien`` compare equal.

    Accents are decomposed and dropped (``José`` -> ``JOSE``) because source systems disagree on
    whether they keep them; punctuation and spaces inside a surname carry no identity.
    """
    letters = (
        _col(column)
        .cast(pl.String)
        .str.normalize("NFKD")
        .str.to_uppercase()
        .str.replace_all(r"[^A-Z]", "")
    )
    return _blank_to_null(letters)


def first_name_key_expr(column: str | pl.Expr) -> pl.Expr:
    """Letters of the first given name only: ``Mary Ann`` and ``Mary`` agree, ``J.`` is kept.

    Sources differ in whether a middle name rides along in the first-name field (support and
    loyalty split a single full-name string on its last space), so only the first token is
    identifying.
    """
    first_token = (
        _col(column).cast(pl.String).str.strip_chars().str.replace_all(r"[.,]", " ")
    ).str.extract(r"^\s*(\S+)", 1)
    return name_key_expr(first_token)


def canonical_first_name_expr(column: str | pl.Expr) -> pl.Expr:
    """First-name key with nicknames resolved: ``Bob``, ``Bobby`` and ``Robert`` -> ``ROBERT``.

    An ambiguous nickname (``PAT``) stays as it is: picking one of its names would be a guess.
    This single value is what blocking joins on; comparisons use
    :func:`first_name_variants_expr`, which also handles the ambiguous ones.
    """
    return first_name_key_expr(column).replace(NICKNAME_TO_CANONICAL)


#: Nickname -> "|"-joined sorted list of itself and its canonical names (precomputed so the
#: vectorised expression is a dictionary lookup and a split, not a per-row list sort).
_VARIANTS_JOINED = {v: "|".join(sorted({v, *names})) for v, names in NICKNAME_TO_CANONICALS.items()}


def first_name_variants_expr(column: str | pl.Expr) -> pl.Expr:
    """Sorted list of the first-name key and every canonical name it may stand for.

    ``Pat`` -> ``[PAT, PATRICIA, PATRICK]``, ``Patrick`` -> ``[PATRICK]``: two first names are
    nickname-compatible when their lists intersect, so Pat matches Patricia and Patrick while
    Patricia and Patrick stay different. Null when there is no first name.
    """
    key = first_name_key_expr(column)
    return key.replace_strict(_VARIANTS_JOINED, default=key, return_dtype=pl.String).str.split("|")


def address_key_expr(column: str | pl.Expr) -> pl.Expr:
    """Street address in USPS-abbreviated, upper-case, punctuation-free form.

    ``12 North Oak Avenue, Apt. 3`` and ``12 N Oak Ave #3`` both become ``12 N OAK AVE UNIT 3``.
    """
    text = (
        _col(column)
        .cast(pl.String)
        .str.normalize("NFKD")
        .str.to_uppercase()
        .str.replace_all("#", " UNIT ")
        .str.replace_all(r"[^A-Z0-9 ]", " ")
        .str.strip_chars()
    )
    tokens = text.str.split(" ").list.eval(
        pl.element().filter(pl.element() != "").replace(ADDRESS_ABBREVIATIONS)
    )
    # "UNIT UNIT 3" arises from "Apt #3"; collapse the duplicated designator.
    joined = tokens.list.join(" ").str.replace_all(r"\bUNIT( UNIT)+\b", "UNIT")
    return _blank_to_null(joined)


def house_number_expr(column: str | pl.Expr) -> pl.Expr:
    """Leading house number of a normalised address (``12`` of ``12 N OAK AVE``), or null."""
    return _col(column).str.extract(r"^(\d+)", 1)


def postal_code_expr(column: str | pl.Expr) -> pl.Expr:
    """Five-digit US ZIP code: ZIP+4 is truncated, leading zeros lost by spreadsheets restored.

    ``02134``, ``2134`` (a CSV round-trip dropped the zero) and ``02134-1234`` are one ZIP.
    """
    digits = _col(column).cast(pl.String).str.replace_all(r"\D", "")
    n = digits.str.len_chars()
    return (
        pl.when(n == 5)
        .then(digits)
        .when(n == 9)
        .then(digits.str.slice(0, 5))
        .when((n >= 3) & (n <= 4))
        .then(digits.str.zfill(5))
        .otherwise(None)
    )


def state_code_expr(column: str | pl.Expr) -> pl.Expr:
    """Two-letter upper-case US state code; full state names are translated, others null."""
    text = _col(column).cast(pl.String).str.strip_chars().str.to_uppercase()
    text = text.str.replace_all(r"[^A-Z ]", "").str.replace_all(r"\s+", " ")
    code = text.replace(US_STATES)
    return pl.when(code.str.contains(r"^[A-Z]{2}$")).then(code)


def initcap_expr(column: str | pl.Expr) -> pl.Expr:
    """Trimmed, title-cased name (``mary-ANN`` -> ``Mary-Ann``), blank -> null."""
    text = _col(column).cast(pl.String).str.strip_chars().str.replace_all(r"\s+", " ")
    return _blank_to_null(text.str.to_titlecase())


def parse_date_expr(column: str | pl.Expr) -> pl.Expr:
    """Parse ISO, US (``MM/DD/YYYY``) and slash-ISO date text to a date; unparseable -> null."""
    text = _col(column).cast(pl.String).str.strip_chars().str.slice(0, 10)
    return pl.coalesce(
        text.str.to_date("%Y-%m-%d", strict=False),
        text.str.to_date("%m/%d/%Y", strict=False),
        text.str.to_date("%Y/%m/%d", strict=False),
    )


# --------------------------------------------------------------------------------------------
# Phonetic key
# --------------------------------------------------------------------------------------------

_SOUNDEX_CODES = {
    **dict.fromkeys("BFPV", "1"),
    **dict.fromkeys("CGJKQSXZ", "2"),
    **dict.fromkeys("DT", "3"),
    "L": "4",
    **dict.fromkeys("MN", "5"),
    "R": "6",
}


@cache
def soundex(name: str | None) -> str | None:
    """American Soundex (``Robert`` -> ``R163``) used as a typo-tolerant blocking key.

    Blocking on exact surnames would never compare ``Smith`` with ``Smyth``; Soundex groups them
    while keeping blocks small. H and W do not separate equal codes; vowels do.
    """
    if not name:
        return None
    letters = "".join(ch for ch in name.upper() if "A" <= ch <= "Z")
    if not letters:
        return None
    code = letters[0]
    previous = _SOUNDEX_CODES.get(letters[0], "")
    for ch in letters[1:]:
        digit = _SOUNDEX_CODES.get(ch, "")
        if digit and digit != previous:
            code += digit
            if len(code) == 4:
                break
        if ch not in "HW":
            previous = digit
    return code.ljust(4, "0")


def soundex_expr(column: str | pl.Expr) -> pl.Expr:
    """Vectorised :func:`soundex` (memoised per distinct value, so cost follows cardinality)."""
    return _col(column).map_elements(soundex, return_dtype=pl.String, skip_nulls=True)


# --------------------------------------------------------------------------------------------
# Scalar wrappers
# --------------------------------------------------------------------------------------------


def _scalar(expr_fn: Callable[[pl.Expr], pl.Expr], value: Any, dtype: Any = pl.String) -> Any:
    frame = pl.DataFrame({"v": [value]}, schema={"v": dtype})
    return frame.select(expr_fn(pl.col("v"))).item()


def normalize_email(value: str | None) -> str | None:
    """Scalar :func:`email_key_expr`."""
    return _scalar(email_key_expr, value)


def normalize_phone(value: str | None) -> str | None:
    """Scalar :func:`phone_e164_expr`."""
    return _scalar(phone_e164_expr, value)


def name_key(value: str | None) -> str | None:
    """Scalar :func:`name_key_expr`."""
    return _scalar(name_key_expr, value)


def canonical_first_name(value: str | None) -> str | None:
    """Scalar :func:`canonical_first_name_expr`."""
    return _scalar(canonical_first_name_expr, value)


def first_name_variants(value: str | None) -> list[str] | None:
    """Scalar :func:`first_name_variants_expr`."""
    result = _scalar(first_name_variants_expr, value)
    return None if result is None else list(result)


def normalize_address(value: str | None) -> str | None:
    """Scalar :func:`address_key_expr`."""
    return _scalar(address_key_expr, value)


def normalize_postal_code(value: str | None) -> str | None:
    """Scalar :func:`postal_code_expr`."""
    return _scalar(postal_code_expr, value)


def normalize_state(value: str | None) -> str | None:
    """Scalar :func:`state_code_expr`."""
    return _scalar(state_code_expr, value)


# --------------------------------------------------------------------------------------------
# Matching input
# --------------------------------------------------------------------------------------------

#: Columns of the frame :func:`engagement_lake.mdm.match_identities` consumes, in order.
IDENTITY_COLUMNS: tuple[str, ...] = (
    "source_system",
    "source_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "address_line1",
    "city",
    "state",
    "postal_code",
    "updated_at",
)
