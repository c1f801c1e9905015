"""From matched pairs to golden customers: clustering that keeps different people apart.

Plain connected components over every accepted pair have one weakness: look-alike people. Twins
share a surname, an address and a birth date, and differ in the first name and in their own
e-mail and phone; a record of one twin without a first name (or without contact details)
matches either twin on everything it has, and one such record would merge them.

Whether a different first name alone means a different person depends on the sources. Some
replace names wholesale (the Febrl benchmarks do: there a different first name with everything
else equal is one person with a wrong name); ours mistype and abbreviate them but keep them. So
the data decides (:func:`name_replacement_rate`): among record pairs that share an e-mail address
or a phone number (the same person, beyond reasonable doubt), how often are the first names
clearly different? When that is rare, first names are *decisive*: clustering refuses a pair that
would put clearly different first names in one customer. When it is not rare, or the data has
too few such pairs to tell, names alone decide nothing, and a pair is refused only when contact
details contradict too (both sides hold e-mail addresses and share none, or phone numbers and
share none). In both modes a side without any first name cannot vouch: it is refused when the
contact details contradict. Pairs a data steward marked ``cannot_link`` are always refused.

Pairs are added strongest first, so a record that fits two people joins the one it matches
best. "Clearly different" first names: no kind of noise the matcher knows explains the
difference. They are not equal, neither is an initial of the other, they are not
nickname-compatible (the name lists of ``normalize.first_name_variants_expr`` intersect), neither
is a prefix of the other, they are more than :data:`MAX_NAME_EDITS` edits apart (a typo, a
keyboard slip, an OCR confusion), and neither is (within as many edits) the other record's last
name (swapped fields, or a lone surname read as a first name).
The check guards phone and probabilistic pairs; steward must-links and shared e-mail addresses
are trusted as they are.
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
LONG_NAME_LETTERS = 4


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


def _surname_compatible(first: str, last: str) -> bool:
    """A first-name key that may be the other record's surname (swapped or misparsed)."""
    return names_compatible(first, last, frozenset(), frozenset())


class _Held:
    """What one cluster holds: its first names (with their nickname variants), last names,
    e-mail addresses and phone numbers."""

    __slots__ = ("email", "first", "last", "phone")

    def __init__(self) -> None:
        self.first: dict[str, frozenset[str]] = {}
        self.last: set[str] = set()
        self.email: set[str] = set()
        self.phone: set[str] = set()

    def absorb(self, other: _Held) -> None:
        self.first.update(other.first)
        self.last |= other.last
        self.email |= other.email
        self.phone |= other.phone


class _Clusters:
    """Union-find that remembers each cluster's first names, last names and cannot-links.

    What a cluster holds is gathered only when a guarded pair asks for it: most records are
    joined by trusted pairs (:meth:`join_all`, one connected-components pass) or by pairs
    inside a cluster already, and never need it.
    """

    def __init__(
        self,
        first: Sequence[str | None],
        variants: Sequence[Sequence[str] | None],
        last: Sequence[str | None],
        email: Sequence[str | None],
        phone: Sequence[str | None],
        cannot: set[tuple[int, int]],
        names_decide: bool,
    ) -> None:
        self.names_decide = names_decide
        self.parent = list(range(len(first)))
        self.records = (first, variants, last, email, phone)
        self.held: dict[int, _Held] = {}
        # members of the clusters join_all made, gathered into ``held`` when first asked for
        self.bulk: dict[int, np.ndarray] = {}
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

    def _held(self, root: int) -> _Held:
        held = self.held.get(root)
        if held is None:
            held = self.held[root] = _Held()
            first, variants, last, email, phone = self.records
            members = self.bulk.pop(root, None)
            for i in [root] if members is None else members.tolist():
                if first[i]:
                    held.first[first[i]] = frozenset(variants[i] or ())
                if last[i]:
                    held.last.add(last[i])
                if email[i]:
                    held.email.add(email[i])
                if phone[i]:
                    held.phone.add(phone[i])
        return held

    def join_all(self, edges: Sequence[pl.DataFrame]) -> None:
        """Join every pair of ``edges`` at once: with no cannot-link and no check to refuse a
        pair, sequential joining ends in the connected components, whatever the order."""
        # every join, and every check that could refuse one, gathers what a cluster holds
        if self.marked or self.held or self.bulk:
            raise RuntimeError("join_all runs first, and only without cannot-links")
        labels = components(len(self.parent), edges)
        order = np.argsort(labels, kind="stable")
        sizes = np.bincount(labels)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        # each cluster's root is its smallest record, the first of its run in the stable order
        roots = order[starts]
        self.parent = roots[labels].tolist()
        for label in np.flatnonzero(sizes > 1).tolist():
            self.bulk[int(roots[label])] = order[starts[label] : starts[label] + sizes[label]]

    def same(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Whether each pair (a[k], b[k]) is in one cluster now (a cluster only grows, so such a
        pair never changes anything)."""
        roots = self.roots()
        return roots[a] == roots[b]

    def _contacts_contradict(self, a: _Held, b: _Held) -> bool:
        return bool(
            (a.email and b.email and not a.email & b.email)
            or (a.phone and b.phone and not a.phone & b.phone)
        )

    def _names_vouch(self, a: _Held, b: _Held) -> bool:
        if not a.first or not b.first:
            return False
        for x, vx in a.first.items():
            for y, vy in b.first.items():
                if not (
                    names_compatible(x, y, vx, vy)
                    or any(_surname_compatible(x, s) for s in b.last)
                    or any(_surname_compatible(y, s) for s in a.last)
                ):
                    return False
        return True

    def two_people(self, ra: int, rb: int) -> bool:
        """Is there evidence enough that the two clusters are different people?"""
        a, b = self._held(ra), self._held(rb)
        if a.first and b.first and self.names_decide:
            return not self._names_vouch(a, b)
        return self._contacts_contradict(a, b) and not self._names_vouch(a, b)

    def union(self, a: int, b: int, guarded: bool) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        left, right = self.marked.get(ra, set()), self.marked.get(rb, set())
        if left and right and any((x, y) in self.forbidden for x in left for y in right):
            return
        if guarded and self.two_people(ra, rb):
            return
        self.parent[rb] = ra
        if right:
            self.marked[ra] = left | right
            self.marked.pop(rb, None)
        absorbed = self._held(rb)
        self._held(ra).absorb(absorbed)
        del self.held[rb]

    def roots(self) -> np.ndarray:
        """Each record's root (pointer jumping over the whole parent array at once)."""
        roots = np.asarray(self.parent, dtype=np.int64)
        while True:
            up = roots[roots]
            if np.array_equal(up, roots):
                return roots
            roots = up

    def labels(self) -> np.ndarray:
        _, labels = np.unique(self.roots(), return_inverse=True)
        return labels


def name_replacement_rate(
    features: pl.DataFrame, linked: Sequence[pl.DataFrame], min_pairs: int
) -> float | None:
    """Share of contact-linked record pairs whose first names are clearly different.

    ``linked``: edge lists of pairs that share an e-mail address or a phone number. Only pairs
    where both records have a first name count; with fewer than ``min_pairs`` of them the rate
    is unknown (None).
    """
    names = features.select("unique_id", "fn", "fn_names", "ln")
    pairs = pl.concat(
        [e.select("unique_id_l", "unique_id_r") for e in linked]
        + [pl.DataFrame(schema={"unique_id_l": pl.Int64, "unique_id_r": pl.Int64})]
    ).unique()
    both = (
        pairs.join(names, left_on="unique_id_l", right_on="unique_id")
        .join(names, left_on="unique_id_r", right_on="unique_id", suffix="_r")
        .filter(pl.col("fn").is_not_null() & pl.col("fn_r").is_not_null())
    )
    if both.height < min_pairs:
        return None
    # pairs of one person repeat the same names: judge each combination of names once
    combinations = both.group_by("fn", "fn_names", "ln", "fn_r", "fn_names_r", "ln_r").len()
    different = sum(
        pairs
        for a, va, la, b, vb, lb, pairs in combinations.iter_rows()
        if not (
            names_compatible(a, b, frozenset(va or ()), frozenset(vb or ()))
            or (lb is not None and _surname_compatible(a, lb))
            or (la is not None and _surname_compatible(b, la))
        )
    )
    return different / both.height


def guarded_components(
    features: pl.DataFrame,
    trusted: Sequence[pl.DataFrame],
    guarded: Sequence[pl.DataFrame],
    cannot: set[tuple[int, int]],
    names_decide: bool = False,
    *,
    at_once: bool = True,
) -> np.ndarray:
    """Cluster label per record (``features`` row order, ``unique_id`` 0..n-1).

    ``trusted`` edge lists join without the check, ``guarded`` ones with it (``names_decide``:
    clearly different first names alone refuse a pair, see the module docstring); both respect
    the steward's ``cannot`` pairs. Lists are taken in order, and a list with a
    ``match_weight`` column strongest pair first, so when a record fits two people it joins the
    one it matches best. ``features`` needs ``fn`` (first-name key), ``fn_names`` (its nickname
    variants), ``ln`` (last-name key), ``email`` and ``phone`` (normalised).

    The clusters are those of joining every pair in that order, one at a time. Without
    cannot-links (and unless ``at_once`` is false, which tests compare against) the trusted
    pairs are joined in one connected-components pass, and guarded pairs already inside one
    cluster are dropped before the loop: neither can change the result.
    """
    clusters = _Clusters(
        features["fn"].to_list(),
        features["fn_names"].to_list(),
        features["ln"].to_list(),
        features["email"].to_list(),
        features["phone"].to_list(),
        cannot,
        names_decide,
    )
    bulk = at_once and not cannot
    if bulk:
        clusters.join_all(trusted)
    for is_guarded, lists in ((False, [] if bulk else trusted), (True, guarded)):
        for frame in lists:
            if "match_weight" in frame.columns:
                frame = frame.sort(
                    ["match_weight", "unique_id_l", "unique_id_r"], descending=[True, False, False]
                )
            left = frame["unique_id_l"].to_numpy()
            right = frame["unique_id_r"].to_numpy()
            if bulk:
                apart = ~clusters.same(left, right)
                left, right = left[apart], right[apart]
            for a, b in zip(left.tolist(), right.tolist(), strict=True):
                clusters.union(a, b, is_guarded)
    return clusters.labels()
