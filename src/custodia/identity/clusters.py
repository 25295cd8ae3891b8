"""Clustering of identity records: union-find, with the guards that keep merges safe.

Edges say "these two records are the same person" (a shared identifier, a probabilistic match,
an identify call). Joining every edge blindly is how CDPs end up with one giant profile behind a
shared family phone or a junk value. :class:`GuardedClusterer` takes edges one at a time, in a
deterministic order (strongest rule first), and refuses a union that would

- put two different values of a *guarded* identifier type in one profile (two valid resident ID
  numbers are two people, whatever else agrees);
- exceed a per-type limit (e.g. at most 5 phones in one profile);
- join records that a data steward split apart (a *cannot-link* pair from an unmerge).

A refused edge is kept with its reason, so ``identity explain`` can show why two records that
look alike were not merged.

Example::

    clusterer = GuardedClusterer(limits={"resident_id": 1}, guarded={"resident_id"})
    clusterer.add_record("r1", [("resident_id", "11010519491231002X")])
    clusterer.add_record("r2", [("resident_id", "110105194912310021")])
    clusterer.link("r1", "r2").accepted   # False: different ID numbers
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

__all__ = ["GuardedClusterer", "LinkOutcome", "connected_components"]


def connected_components(
    record_ids: Iterable[str], pairs: Iterable[tuple[str, str]]
) -> dict[str, str]:
    """Plain union-find: each record's cluster id is the smallest record id of its component.

    >>> connected_components(["a", "b", "c"], [("b", "a")])
    {'a': 'a', 'b': 'a', 'c': 'c'}
    """
    parent: dict[str, str] = {r: r for r in record_ids}

    def find(node: str) -> str:
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    for left, right in pairs:
        parent.setdefault(left, left)
        parent.setdefault(right, right)
        a, b = find(left), find(right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {r: find(r) for r in parent}


@dataclass(frozen=True, slots=True)
class LinkOutcome:
    """What happened to one edge: merged, already together, or refused and why."""

    accepted: bool
    reason: str | None = None
    """``None`` when accepted; else ``guard:<type>``, ``limit:<type>`` or ``cannot_link``."""


_JOINED = LinkOutcome(True)
_ALREADY = LinkOutcome(True, "already_linked")


class GuardedClusterer:
    """Union-find over records whose components carry their identifier values.

    Identifiers are interned to small integers so a million records fit in memory; each
    component keeps the interned identifiers of its members (merged small-into-large).
    """

    def __init__(
        self,
        *,
        limits: Mapping[str, int] | None = None,
        guarded: Collection[str] = (),
        cannot_link: Iterable[tuple[str, str]] = (),
    ) -> None:
        self._limits = dict(limits or {})
        self._guarded = frozenset(guarded)
        self._parent: dict[str, str] = {}
        self._members: dict[str, list[str]] = {}
        self._idents: dict[str, set[int]] = {}
        self._intern: dict[tuple[str, str], int] = {}
        self._id_type: list[str] = []
        self._cannot: dict[str, set[str]] = {}
        for left, right in cannot_link:
            self._cannot.setdefault(left, set()).add(right)
            self._cannot.setdefault(right, set()).add(left)

    def add_record(self, record_id: str, identifiers: Iterable[tuple[str, str]] = ()) -> None:
        """Register a record (idempotent) with its valid, normalized identifiers."""
        if record_id in self._parent:
            root = self.find(record_id)
            self._idents[root].update(self._intern_all(identifiers))
            return
        self._parent[record_id] = record_id
        self._members[record_id] = [record_id]
        self._idents[record_id] = set(self._intern_all(identifiers))

    def find(self, record_id: str) -> str:
        """The root of ``record_id``'s component (with path compression)."""
        parent = self._parent
        root = record_id
        while parent[root] != root:
            root = parent[root]
        while parent[record_id] != root:
            parent[record_id], record_id = root, parent[record_id]
        return root

    def link(self, left: str, right: str) -> LinkOutcome:
        """Join the components of ``left`` and ``right`` unless a guard forbids it."""
        a, b = self.find(left), self.find(right)
        if a == b:
            return _ALREADY
        refusal = self._refusal(a, b)
        if refusal is not None:
            return LinkOutcome(False, refusal)
        if len(self._members[a]) < len(self._members[b]):
            a, b = b, a
        self._parent[b] = a
        self._members[a].extend(self._members.pop(b))
        self._idents[a].update(self._idents.pop(b))
        return _JOINED

    def components(self) -> dict[str, list[str]]:
        """Root -> sorted member record ids, for every component."""
        return {root: sorted(members) for root, members in self._members.items()}

    def _intern_all(self, identifiers: Iterable[tuple[str, str]]) -> list[int]:
        out = []
        for key in identifiers:
            code = self._intern.get(key)
            if code is None:
                code = self._intern[key] = len(self._id_type)
                self._id_type.append(key[0])
            out.append(code)
        return out

    def _refusal(self, a: str, b: str) -> str | None:
        if self._cannot and self._crosses_cannot_link(a, b):
            return "cannot_link"
        left, right = self._idents[a], self._idents[b]
        combined = left | right
        if len(combined) == max(len(left), len(right)):
            return None
        counts: dict[str, int] = {}
        for code in combined:
            id_type = self._id_type[code]
            counts[id_type] = counts.get(id_type, 0) + 1
        for id_type, count in sorted(counts.items()):
            if id_type in self._guarded and count > 1 and self._both_hold(left, right, id_type):
                return f"guard:{id_type}"
            limit = self._limits.get(id_type)
            if limit is not None and count > limit:
                return f"limit:{id_type}"
        return None

    def _both_hold(self, left: set[int], right: set[int], id_type: str) -> bool:
        types = self._id_type
        return any(types[c] == id_type for c in left) and any(types[c] == id_type for c in right)

    def _crosses_cannot_link(self, a: str, b: str) -> bool:
        small, large = sorted((a, b), key=lambda root: len(self._members[root]))
        large_members = set(self._members[large])
        for record in self._members[small]:
            if self._cannot.get(record, set()) & large_members:
                return True
        return False
