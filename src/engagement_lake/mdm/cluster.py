"""From matched pairs to golden customers: clustering that keeps different people apart.

Plain connected components over every accepted pair have one weakness: a record that lacks the
attribute telling two people apart links to both. Twins share a surname, an address and a birth
date; a record of one twin without a first name matches either twin on everything it has, and
one such record would merge them. So clustering adds pairs strongest first and refuses a pair
that would put two clearly different first names in one customer; a pair where one side has no
first name at all (so names cannot vouch for it) and the two sides hold only different e-mail
addresses; and a pair a data steward marked ``cannot_link``.

"Clearly different" means no kind of noise the matcher knows explains the difference: equal,
one an initial of the other, nickname-compatible (the name lists of
``normalize.first_name_variants_expr`` intersect), one a prefix of the other, within
:data:`MAX_NAME_EDITS` edits (a typo, a keyboard slip, an OCR confusion), or one record's first
name being the other's last name (swapped fields). The check guards phone and probabilistic
pairs; steward must-links and shared e-mail addresses are trusted as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: Edits (insertions, deletions, substitutions, adjacent transpositions) by which two first names
#: may differ and still be one name mistyped: one for names shorter than
#: :data:`LONG_NAME_LETTERS` letters, two from there on.
MAX_NAME_EDITS = 2
LONG_NAME_LETTERS = 6


def components(n: int, edges: Sequence[pl.DataFrame]) -> np.ndarray:
    """Connected-component label per record over the union of the edge lists."""
    left = np.concatenate([e["unique_id_l"].to_numpy() for e in edges] + [np.empty(0, np.int64)])
    right = np.concatenate([e["unique_id_r"].to_numpy() for e in edges] + [np.empty(0, np.int64)])
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels


def _edits_at_most(a: str, b: str, limit: int) -> bool:
    """Optimal-string-alignment distance of ``a`` and ``b`` is at most ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return False
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return False
        prev2, prev = prev, cur
    return prev[-1] <= limit


@lru_cache(maxsize=1 << 16)
def names_compatible(
    a: str, b: str, variants_a: frozenset[str], variants_b: frozenset[str]
) -> bool:
    """Could first-name keys ``a`` and ``b`` be one person's name written two ways?"""
    if a == b or variants_a & variants_b:
        return True
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    if a.startswith(b) or b.startswith(a):
        return True
    limit = MAX_NAME_EDITS if max(len(a), len(b)) >= LONG_NAME_LETTERS else 1
    return _edits_at_most(a, b, limit)


class _Clusters:
    """Union-find that remembers each cluster's first names, last names and cannot-links."""

    def __init__(
        self,
        first: Sequence[str | None],
        variants: Sequence[frozenset[str]],
        last: Sequence[str | None],
        email: Sequence[str | None],
        cannot: set[tuple[int, int]],
    ) -> None:
        n = len(first)
        self.parent = list(range(n))
        self.email: dict[int, set[str]] = {i: {e} for i, e in enumerate(email) if e}
        self.first: dict[int, dict[str, frozenset[str]]] = {
            i: {f: variants[i]} for i, f in enumerate(first) if f
        }
        self.last: dict[int, set[str]] = {i: {s} for i, s in enumerate(last) if s}
        self.marked: dict[int, set[int]] = {}
        for a, b in cannot:
            self.marked.setdefault(a, {a})
            self.marked.setdefault(b, {b})
        self.forbidden = cannot | {(b, a) for a, b in cannot}

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def _names_conflict(self, ra: int, rb: int) -> bool:
        fa, fb = self.first.get(ra), self.first.get(rb)
        if not fa or not fb:
            ea, eb = self.email.get(ra), self.email.get(rb)
            return bool(ea and eb and not ea & eb)
        la, lb = self.last.get(ra, set()), self.last.get(rb, set())
        for x, vx in fa.items():
            for y, vy in fb.items():
                if not (names_compatible(x, y, vx, vy) or x in lb or y in la):
                    return True
        return False

    def union(self, a: int, b: int, guarded: bool) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        left, right = self.marked.get(ra, set()), self.marked.get(rb, set())
        if left and right and any((x, y) in self.forbidden for x in left for y in right):
            return
        if guarded and self._names_conflict(ra, rb):
            return
        self.parent[rb] = ra
        if right:
            self.marked[ra] = left | right
            self.marked.pop(rb, None)
        if rb in self.first:
            self.first.setdefault(ra, {}).update(self.first.pop(rb))
        if rb in self.last:
            self.last.setdefault(ra, set()).update(self.last.pop(rb))
        if rb in self.email:
            self.email.setdefault(ra, set()).update(self.email.pop(rb))

    def labels(self) -> np.ndarray:
        roots = np.array([self.find(i) for i in range(len(self.parent))], dtype=np.int64)
        _, labels = np.unique(roots, return_inverse=True)
        return labels


def guarded_components(
    features: pl.DataFrame,
    trusted: Sequence[pl.DataFrame],
    guarded: Sequence[pl.DataFrame],
    cannot: set[tuple[int, int]],
) -> np.ndarray:
    """Cluster label per record (``features`` row order, ``unique_id`` 0..n-1).

    ``trusted`` edge lists join without the first-name check, ``guarded`` ones with it; both
    respect the steward's ``cannot`` pairs. Lists are taken in order, and a list with a
    ``match_weight`` column strongest pair first, so when a record fits two people it joins the
    one it matches best. ``features`` needs ``fn`` (first-name key), ``fn_names`` (its nickname
    variants), ``ln`` (last-name key) and ``email`` (normalised e-mail).
    """
    first = features["fn"].to_list()
    variants = [frozenset(v) if v else frozenset() for v in features["fn_names"].to_list()]
    clusters = _Clusters(
        first, variants, features["ln"].to_list(), features["email"].to_list(), cannot
    )
    for is_guarded, lists in ((False, trusted), (True, guarded)):
        for frame in lists:
            if "match_weight" in frame.columns:
                frame = frame.sort(
                    ["match_weight", "unique_id_l", "unique_id_r"], descending=[True, False, False]
                )
            for a, b in frame.select("unique_id_l", "unique_id_r").iter_rows():
                clusters.union(a, b, is_guarded)
    return clusters.labels()
