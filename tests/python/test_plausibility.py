"""Plausibility of the test lake: each figure of ``quality/plausibility.py`` within its bound.

The bounds are those a living business shows (open tickets a few per cent of all, the top product
a few per cent of order lines, ...); a generator change that makes the warehouse implausible
fails here, naming the figure."""

from __future__ import annotations

import pytest

from engagement_lake.quality import plausibility


@pytest.mark.parametrize("check", plausibility.CHECKS, ids=lambda c: c.name)
def test_figure_within_bound(con, check: plausibility.Check) -> None:
    (result,) = plausibility.run(con, (check,))
    assert result.passed, f"{check.name}: {check.what} = {result.observed} (bound {check.bound()})"


def test_markdown_marks_a_failed_figure() -> None:
    ok = plausibility.Check("a", "a figure", "select 1", low=0.5)
    bad = plausibility.Check("b", "another", "select 1", high=0.5)
    results = [plausibility.Result(ok, 0.75), plausibility.Result(bad, 0.75)]
    table = plausibility.markdown(results, queries=False)
    assert "| `a` | a figure | 0.75 | >= 0.5 | yes |" in table
    assert "| `b` | another | 0.75 | <= 0.5 | **no** |" in table
    assert not plausibility.Result(ok, None).passed
    assert "```sql" not in table
    assert "`b`:\n\n```sql\nselect 1\n```" in plausibility.markdown(results)
