"""Identifiers of L3 types (resident IDs by default) are kept as blind indexes, never in clear.

Identity resolution stores each normalized identifier in the operational store
(``identity_identifiers``) and the lake (``profile_identifiers``). For a type whose
``customer_records`` column is L3 under the classification policy, the value stored is its keyed
HMAC digest (:mod:`custodia.privacy.blind_index`): equal exactly when the normalized values are
equal, so deterministic matching, the "never merge two different IDs" guard and lookups
(``resident_id:...`` profile references) work unchanged, while the store and the lake hold no
resident ID at all. The golden value itself is sealed in ``profiles`` (column encryption).

The policy is read when a run starts; after raising another identifier type to L3, run
``custodia identity resolve --full`` so the stored identifiers of that type are re-digested.

Example::

    blinding = IdentifierBlinding(ws)
    blinding.value("resident_id", "11010519491231002X")   # 'bi1_…'
    blinding.value("phone", "+8613812345678")             # unchanged (L2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from custodia.core.tables import CUSTOMER_RECORDS
from custodia.identity.models import ID_TYPES
from custodia.privacy.blind_index import BlindIndexer
from custodia.workspace import Workspace

__all__ = ["IdentifierBlinding", "opened_traits"]


class IdentifierBlinding:
    """Turns normalized identifiers of blinded types into their blind index."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws
        sealing = ws.sealing
        sealed = set(sealing.tables()[CUSTOMER_RECORDS.name].sealed) if sealing else set()
        self.types = frozenset(t for t in ID_TYPES if t in sealed)
        self._indexer: BlindIndexer | None = None

    def value(self, id_type: str, value: str) -> str:
        """What the store keeps for this normalized identifier."""
        if id_type not in self.types:
            return value
        return self._index().digest(id_type, value)

    def triples(self, identifiers: Sequence[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
        """(record, type, value) with the values of blinded types digested."""
        if not self.types:
            return list(identifiers)
        out = []
        for record_id, id_type, value in identifiers:
            out.append((record_id, id_type, self.value(id_type, value)))
        return out

    def _index(self) -> BlindIndexer:
        if self._indexer is None:
            self._indexer = BlindIndexer(self._ws.data_keys.provider)
        return self._indexer


def opened_traits(ws: Workspace, profile_id: str, traits: dict[str, Any] | None) -> dict[str, Any]:
    """Golden traits from the profile registry with their sealed L3 values opened."""
    if ws.sealing is None:
        return dict(traits or {})
    return dict(ws.sealing.open_traits(profile_id, traits) or {})
