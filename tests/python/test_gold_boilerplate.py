"""Gold boilerplate lives in macros, one ephemeral model and doc blocks, not pasted into models
(issue 18): a fast grep over the model files, no build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engagement_lake.config import MODELS_DIR, PROJECT_ROOT

SHOP_XREF_MODEL = MODELS_DIR / "silver" / "customers" / "int_shop_customer_xref.sql"
SQL_MODELS = sorted(MODELS_DIR.rglob("*.sql"))
DIMENSIONS = sorted(MODELS_DIR.joinpath("gold").rglob("dim_*.sql"))


def _rel(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT))


def _has_unknown_member(sql: str) -> bool:
    return "unknown_member_row(" in sql or "unknown_member_key() }} as" in sql


def test_the_patterns_have_files_to_check():
    assert len(SQL_MODELS) > 50
    assert len(DIMENSIONS) >= 13
    assert SHOP_XREF_MODEL.is_file()


@pytest.mark.parametrize("path", DIMENSIONS, ids=lambda p: p.stem)
def test_no_dimension_hand_writes_its_unknown_member(path):
    sql = path.read_text()
    # The unknown member comes from the declared contract: unknown_member_row(), never a
    # select of literals keyed by unknown_member_key().
    assert not re.search(r"\{\{\s*unknown_member_key\(\)\s*\}\}\s+as\s+\w+_key", sql), _rel(path)


def test_dimensions_with_an_unknown_member_use_the_macro():
    using = [p.stem for p in DIMENSIONS if "unknown_member_row(" in p.read_text()]
    # dim_customer_alias has no unknown member of its own.
    assert len(using) >= 18, using


def test_no_model_pastes_the_shop_crosswalk():
    pasted = []
    for path in SQL_MODELS:
        if path == SHOP_XREF_MODEL:
            continue
        sql = path.read_text()
        # A shop_xref CTE may only import the ephemeral model.
        for body in re.findall(r"\bshop_xref\s+as\s+\((.*?)\n\)", sql, flags=re.S):
            if body.split() != ["select", "*", "from", "{{", "ref('int_shop_customer_xref')", "}}"]:
                pasted.append(_rel(path))
        # Nor filter the crosswalk to the shop inline.
        if re.search(r"\b(where|on|and)\s+[\w.]*source_system\s*=\s*'shop'", sql):
            pasted.append(_rel(path))
    assert not pasted


def test_dimension_keys_resolve_through_one_macro():
    # resolve_key() is the one place a missing key becomes the unknown member.
    unknown = r"\{\{\s*unknown_member_key\(\)\s*\}\}"
    patterns = [rf"coalesce\([^()]*,\s*{unknown}\s*\)", rf"is null then {unknown}"]
    hand_written = [
        _rel(p) for p in SQL_MODELS if any(re.search(pat, p.read_text()) for pat in patterns)
    ]
    assert not hand_written


def test_low_rating_is_defined_once():
    threshold = [_rel(p) for p in SQL_MODELS if re.search(r"rating\s*<=\s*2\b", p.read_text())]
    assert not threshold


def test_shared_column_descriptions_are_doc_blocks():
    docs = (MODELS_DIR / "docs.md").read_text()
    blocks = set(re.findall(r"\{%\s*docs\s+(\w+)\s*%\}", docs))
    assert {"customer_key", "customer_id"} <= blocks
    referenced: list[str] = []
    for path in MODELS_DIR.rglob("_*models.yml"):
        referenced += re.findall(r"doc\('(\w+)'\)", path.read_text())
    assert set(referenced) == blocks, set(referenced) ^ blocks
    # The customer_key description pasted into 17 facts is now one block.
    assert referenced.count("customer_key") >= 10


# ----------------------------------------------------------------------- column descriptions

_DOC_BLOCK = re.compile(r"\{%\s*docs\s+(\w+)\s*%\}(.*?)\{%\s*enddocs\s*%\}", flags=re.S)
_DOC_REF = re.compile(r"\{\{\s*doc\(['\"](\w+)['\"]\)\s*\}\}")
#: Words that carry no meaning of their own in a description.
_FILLER = {"a", "an", "the", "of", "in", "on", "at", "to", "for", "by", "and", "or", "is", "its"}


def gold_column_descriptions() -> list[tuple[str, str, str]]:
    """(model, column, description) of every column of the gold YAML, doc blocks resolved."""
    import yaml

    blocks = {
        name: text.strip()
        for name, text in _DOC_BLOCK.findall((MODELS_DIR / "docs.md").read_text())
    }
    found = []
    for path in sorted(MODELS_DIR.joinpath("gold").rglob("_*__models.yml")):
        for model in yaml.safe_load(path.read_text()).get("models") or []:
            for column in model.get("columns") or []:
                text = _DOC_REF.sub(lambda m: blocks[m.group(1)], column.get("description") or "")
                found.append((model["name"], column["name"], text))
    return found


def words_beyond_the_name(column: str, description: str) -> list[str]:
    """The description's words that are neither the column name's own words nor filler."""
    name = set(column.lower().split("_"))
    return [w for w in re.findall(r"[a-z0-9]+", description.lower()) if w not in name | _FILLER]


def test_the_description_check_sees_a_restated_name():
    assert len(words_beyond_the_name("order_id", "Order id.")) == 0
    assert len(words_beyond_the_name("brand", "Brand.")) == 0
    assert len(words_beyond_the_name("units_returned", "Units returned.")) == 0
    assert len(words_beyond_the_name("channel_key", "Channel (dim_channel).")) == 1
    assert len(words_beyond_the_name("brand", "Brand as printed on the label (e.g. Contoso)")) >= 3


def test_every_gold_column_description_says_more_than_its_name():
    # A BI user reads the description when the name is not enough: it must add at least three
    # words of its own (unit, meaning, source, the value of the unknown member...).
    columns = gold_column_descriptions()
    assert len(columns) > 800
    short = [
        f"{model}.{column}: {text!r}"
        for model, column, text in columns
        if len(words_beyond_the_name(column, text)) < 3
    ]
    assert not short, f"{len(short)} gold column descriptions restate the name:\n" + "\n".join(
        short
    )
