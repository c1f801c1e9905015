"""Rules as data: no business threshold is hard-coded in a model, whatever its layer.

Every number that decides something (a threshold, a window, a count of items) lives in a seed or
in a var declared in ``dbt_project.yml``; a model only refers to it. This test reads the SQL as
written (no build, no dbt): it blanks comments and string literals, then fails on any numeric
literal other than 0 and 1, in the SQL and in the Jinja alike (``dateadd('day', -30, ...)`` or
``var('x', 20)`` hide a rule as well as ``> 500`` does), naming file:line. The few numbers that
are not rules are allowed by context below, each with its reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from engagement_lake.config import UNKNOWN_MEMBER_DATE, UNKNOWN_MEMBER_KEY

ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted((ROOT / "models").rglob("*.sql"))

#: Text that is never a rule: blanked before the scan (pattern, reason).
ALLOWED: list[tuple[str, str]] = [
    (
        r"\b(?:decimal|numeric)\s*\(\s*\d+\s*,\s*\d+\s*\)",
        "a column type's precision and scale, fixed by the gold contract",
    ),
    (r"\bround\s*\((?:[^()]|\([^()]*\))*,\s*\d+\s*\)", "rounding precision of a displayed value"),
    (
        r"(?<![\w.])100(?:\.0)?(?![\w.])",
        "the top of a 0-100 score or a percentage: a unit, like 0 and 1 for a share",
    ),
    (r"\(\s*[\w.]+\s*\+\s*1\s*\)\s*/\s*2\.0", "maps a -1..1 score onto 0..1"),
    (r"\(\s*frequency_score\s*\+\s*monetary_score\s*\)\s*/\s*2\.0", "FM is the mean of F and M"),
    (r"\bgroup\s+by\s+\d+(?:\s*,\s*\d+)*", "column positions in group by"),
    (r"\(\s*1\s*-\s*[\w.]+\s*\)\s*/\s*2(?:\.0)?", "maps a -1..1 score onto 1..0"),
    (r"\bntile\s*\(\s*10\s*\)", "deciles: ten is what the word means"),
    (
        r"/\s*(?:60|3600|86400)(?:\.0)?(?![\w.])",
        "a unit conversion: seconds or minutes to minutes, hours or days",
    ),
    (
        r"\b2\s*\*\s*[\w.]*precision\w*\s*\*\s*[\w.]*recall",
        "F1, the harmonic mean of precision and recall",
    ),
    (r"\bcategory_rank\s*=\s*2\b", "the second favourite category, as the column says"),
    (
        r"\bpurchase_day_count\s*>=\s*2\b",
        "leave-last-out evaluation needs a purchase day to learn from and one to hold out",
    ),
    (
        r"\bleft\s*\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*,\s*7\s*\)",
        "YYYY-MM: the first 7 characters of an ISO date",
    ),
    (
        r"\bpower\s*\(\s*cast\s*\(\s*0\.5\s+as\s+double\s*\)",
        "halving per half-life (the half-life itself is a var)",
    ),
]

#: Models that are calendar arithmetic, not rules: skipped whole, each with its reason.
EXEMPT = {
    "dim_date.sql": "calendar arithmetic: months in a year, days in a week, a year's date key",
}

#: Models whose numbers are still to move to vars or seeds: each test is an expected failure,
#: strict, so it must be removed from here when its model is done.
NOT_YET = {}

#: Numbers that are not rules wherever they appear: 0 and 1 (counts, flags, booleans as integers,
#: the first item, one day), written in any form.
NOT_A_RULE = {0.0, 1.0}

_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?|\.\d+)(?![\w.])")


def _blank(match: re.Match[str]) -> str:
    """The match replaced by spaces, keeping its newlines so line numbers survive."""
    return re.sub(r"[^\n]", " ", match.group(0))


def strip_sql(text: str) -> str:
    """The SQL with comments, string literals and allowed contexts blanked out."""
    for pattern in (
        r"\{#.*?#\}",  # Jinja comments
        r"/\*.*?\*/",  # block comments
        r"--[^\n]*",  # line comments
        r"'(?:[^']|'')*'",  # string literals
        r'"(?:[^"]|"")*"',  # quoted identifiers
    ):
        text = re.sub(pattern, _blank, text, flags=re.S)
    for pattern, _reason in ALLOWED:
        text = re.sub(pattern, _blank, text, flags=re.S | re.I)
    return text


def literal_numbers(text: str) -> list[tuple[int, str]]:
    """(line, literal) of every numeric literal other than 0 and 1 in the stripped SQL."""
    found = []
    for lineno, line in enumerate(strip_sql(text).splitlines(), start=1):
        for match in _NUMBER.finditer(line):
            if float(match.group(1)) not in NOT_A_RULE:
                found.append((lineno, match.group(1)))
    return found


def test_the_lint_sees_numbers_and_ignores_what_is_not_sql() -> None:
    sql = (
        "-- 14 days\n"
        "{# 15 days #}{%- set k = 10 -%}\n"
        "select {{ var('x', 20) }}, 'top 5', cast(a as decimal(14, 2)),\n"
        "  col_60d, 1.0 * b, 0.10 as c, {{ var('y') }}\n"
        "where d > 500 group by 1, 2\n"
    )
    assert literal_numbers(sql) == [(2, "10"), (3, "20"), (4, "0.10"), (5, "500")]


def test_models_are_found() -> None:
    assert any(p.name == "int_customer_next_best_action.sql" for p in MODELS)
    assert any(p.name.startswith("mart_") for p in MODELS)


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_no_numeric_literal_in_models(path: Path) -> None:
    if path.name in EXEMPT:
        pytest.skip(EXEMPT[path.name])
    found = literal_numbers(path.read_text())
    rel = path.relative_to(ROOT)
    if path.name in NOT_YET:
        assert found, f"{rel} has no hard-coded number left: remove it from NOT_YET"
        pytest.xfail(f"still hard-coded: {NOT_YET[path.name]}")
    assert not found, "hard-coded numbers; move each to a seed or a declared var:\n" + "\n".join(
        f"  {rel}:{line}: {literal}" for line, literal in found
    )


def _project_vars() -> dict:
    return yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]


def test_unknown_member_agrees_with_python() -> None:
    assert str(_project_vars()["unknown_member_date"]) == UNKNOWN_MEMBER_DATE.isoformat()
    assert _project_vars()["unknown_member_key"] == UNKNOWN_MEMBER_KEY


def test_not_yet_lists_only_models_that_exist() -> None:
    assert set(NOT_YET) <= {p.name for p in MODELS}


def test_every_var_used_is_declared_and_has_no_repeated_default() -> None:
    declared = set(_project_vars())
    # vars passed at run time by the Python runner, never declared
    runtime = {
        "bronze_files",
        "bronze_skipped_rows",
        "as_of_date",
        "bronze_tables",
    }
    problems = []
    for path in sorted((ROOT / "models").rglob("*.sql")) + sorted((ROOT / "macros").rglob("*.sql")):
        for lineno, line in enumerate(path.read_text().splitlines(), start=1):
            for name, default in re.findall(r"\bvar\(\s*'(\w+)'\s*(,)?", line):
                if name in runtime:
                    continue
                rel = path.relative_to(ROOT)
                if name not in declared:
                    problems.append(f"{rel}:{lineno}: var {name} is not in dbt_project.yml")
                elif default:
                    problems.append(f"{rel}:{lineno}: var {name} repeats its default")
    assert not problems, "\n".join(problems)


def test_every_declared_var_has_a_comment() -> None:
    lines = (ROOT / "dbt_project.yml").read_text().splitlines()
    start = lines.index("vars:")
    missing = []
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line and not line.startswith(" "):
            break
        m = re.match(r"  (\w+):", line)
        if m and "#" not in line and not lines[i - 1].strip().startswith("#"):
            # a var continues a commented group when the line before is another var of it
            j = i - 1
            while j > start and re.match(r"  \w+:", lines[j]):
                j -= 1
            if not lines[j].strip().startswith("#"):
                missing.append(m.group(1))
    assert not missing, f"vars without a comment in dbt_project.yml: {missing}"
