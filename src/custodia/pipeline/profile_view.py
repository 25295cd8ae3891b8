"""The customer 360 view: one person's identity, behaviour, transactions, service and tags.

A profile is found by any of its identifiers, written as ``ID_TYPE:VALUE``: ``phone:138 1234
5678`` (normalized the same way as at resolution), ``email:…``, ``member_id:…``, ``user_id:…``,
``anonymous_id:…``, ``resident_id:…`` or ``profile_id:…`` (a merged id finds the survivor).

Sub-views are paged (``limit``/``offset``): identities, events (by every user and anonymous id of
the person, so anonymous history counts from the moment it was stitched), orders, interactions
(tickets and reviews, with their text-mining tags) and tags (counts of complaint types and
sentiments). The summary adds the computed traits and identity / need / value tags of the last
traits run (``analysis_profile_traits``, one keyed read; empty before the first run).

Example::

    view = ProfileView(ws)
    pid = view.find("phone:13812345678")
    view.summary(pid)["traits"]["name"]["value"]
    view.events(pid, limit=20)
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa

from custodia.core.errors import NotFoundError, TableNotFoundError, ValidationError
from custodia.identity.models import ID_TYPES
from custodia.identity.normalize import normalize_values
from custodia.pipeline.analysis_traits import profile_traits
from custodia.pipeline.identifier_blinding import IdentifierBlinding, opened_traits
from custodia.pipeline.identity_review import resolve_profile_id
from custodia.storage.store_identity import IdentityGraphStore, ProfileEntry
from custodia.workspace import Workspace

__all__ = ["MAX_PAGE", "ProfileView", "parse_profile_ref", "ref_variants"]

MAX_PAGE = 500
REF_TYPES = (*ID_TYPES, "profile_id")


def parse_profile_ref(ref: str) -> tuple[str, str]:
    """``"phone:138..."`` -> ``("phone", "+86138...")`` (normalized); errors name the part."""
    id_type, sep, value = ref.partition(":")
    if not sep or not value.strip():
        raise ValidationError("profile", "format", "profile: expected ID_TYPE:VALUE")
    id_type = id_type.strip().lower()
    if id_type not in REF_TYPES:
        raise ValidationError("id_type", "known", f"id_type: must be one of {', '.join(REF_TYPES)}")
    if id_type == "profile_id":
        return id_type, value.strip()
    values, reasons = normalize_values(id_type, [value])
    if values[0] is None:
        reason = reasons[0] or f"{id_type}.invalid"
        raise ValidationError(id_type, reason, f"{id_type}: not a valid value ({reason})")
    return id_type, values[0]


def ref_variants(id_type: str, value: str) -> list[str]:
    """How sources write the same identifier (E.164 phones also appear without +86)."""
    if id_type == "phone" and value.startswith("+86"):
        national = value[3:]
        return [value, national, f"86{national}", f"0086{national}", f"+86-{national}"]
    return [value]


class ProfileView:
    """Read-only views of one profile, from the store (identity) and the lake (activity)."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws
        self._graph = IdentityGraphStore(ws.store)
        self._blinding = IdentifierBlinding(ws)

    def find(self, ref: str) -> str:
        """The live profile id for ``ID_TYPE:VALUE``, or NotFoundError."""
        id_type, value = parse_profile_ref(ref)
        if id_type == "profile_id":
            return resolve_profile_id(self._graph, value)
        found = self._graph.lookup(id_type, self._blinding.value(id_type, value))
        if found is None:
            raise NotFoundError(f"no profile holds this {id_type}")
        return resolve_profile_id(self._graph, found)

    def traits_of(self, ref: str) -> dict[str, Any]:
        """:meth:`traits` of the profile ``ref`` finds, in as few reads as possible (the hot
        path of a lookup API: one read for an identifier of a live profile)."""
        id_type, value = parse_profile_ref(ref)
        if id_type == "profile_id":
            return self.traits(resolve_profile_id(self._graph, value))
        entry = self._graph.profile_by_identifier(id_type, self._blinding.value(id_type, value))
        if entry is None:
            raise NotFoundError(f"no profile holds this {id_type}")
        if entry.merged_into is not None:
            return self.traits(resolve_profile_id(self._graph, entry.merged_into))
        return self._traits_view(entry)

    def identifiers(self, profile_id: str) -> list[tuple[str, str, str]]:
        """(record, type, value) of every identifier of the profile."""
        return self._graph.identifiers_of(self._graph.records_of_profiles([profile_id]))

    def traits(self, profile_id: str) -> dict[str, Any]:
        """Golden traits with their source and conflicts, record count and first/last seen."""
        entry = self._graph.registry([profile_id]).get(profile_id)
        if entry is None:
            raise NotFoundError(f"profile {profile_id} not found")
        return self._traits_view(entry)

    def _traits_view(self, entry: ProfileEntry) -> dict[str, Any]:
        return _traits_view(entry, opened_traits(self._ws, entry.profile_id, entry.traits))

    def identities(self, profile_id: str, *, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        """The profile's identifiers with the records and sources that carry them."""
        members = self._graph.records_of_profiles([profile_id])
        records = {r["record_id"]: r for r in self._graph.records(members)}
        items = [
            {
                "id_type": t,
                "value": v,
                "record_id": r,
                "source": records.get(r, {}).get("source"),
                "flags": records.get(r, {}).get("flags") or [],
            }
            for r, t, v in sorted(self.identifiers(profile_id), key=lambda x: (x[1], x[2], x[0]))
        ]
        return _page(items, limit, offset)

    def events(self, profile_id: str, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """Events of every user id and anonymous id of the person, newest first."""
        ids = self.identifiers(profile_id)
        users = sorted({v for _r, t, v in ids if t == "user_id"})
        anons = sorted({v for _r, t, v in ids if t == "anonymous_id"})
        if not users and not anons:
            return _page([], limit, offset)
        where = " OR ".join(
            part for part in (_in("user_id", users), _in("anonymous_id", anons)) if part
        )
        sql = (
            "SELECT message_id, type, event, name, user_id, anonymous_id, timestamp, source, "
            "properties FROM events WHERE " + where + " ORDER BY timestamp DESC, message_id"
        )
        return self._paged_query(sql, [*users, *anons], limit, offset)

    def orders(self, profile_id: str, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """Online orders and store receipts placed under any identifier of the person."""
        where, params = self._ref_filter(profile_id)
        sql = (
            "SELECT order_id, source_key, channel, store_id, ordered_at, status, currency, "
            "total_amount, item_count, payment_method, source FROM orders WHERE "
            + where + " ORDER BY ordered_at DESC, order_id"
        )  # fmt: skip
        return self._paged_query(sql, params, limit, offset)

    def interactions(self, profile_id: str, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """Service tickets, chats and reviews with their derived tags."""
        where, params = self._ref_filter(profile_id)
        sql = (
            "SELECT interaction_id, kind, channel, created_at, language, subject, text, rating, "
            "status, complaint_type, sentiment, tags, source FROM interactions WHERE "
            + where + " ORDER BY created_at DESC, interaction_id"
        )  # fmt: skip
        return self._paged_query(sql, params, limit, offset)

    def tags(self, profile_id: str) -> dict[str, Any]:
        """Counts of derived tags: complaint types and sentiments of the person's interactions."""
        where, params = self._ref_filter(profile_id)
        sql = (
            "SELECT 'complaint_type' AS tag, complaint_type AS value, count(*) AS n "
            "FROM interactions WHERE complaint_type IS NOT NULL AND (" + where + ") GROUP BY 2 "
            "UNION ALL SELECT 'sentiment', sentiment, count(*) FROM interactions "
            "WHERE sentiment IS NOT NULL AND (" + where + ") GROUP BY 2 ORDER BY 1, 3 DESC, 2"
        )
        rows = self._query(sql, [*params, *params])
        out: dict[str, dict[str, int]] = {}
        for row in rows:
            out.setdefault(row["tag"], {})[row["value"]] = int(row["n"])
        return {"profile_id": profile_id, "tags": out}

    def summary(self, profile_id: str) -> dict[str, Any]:
        """Everything at a glance: traits, identities, and the latest activity of each kind."""
        return {
            "profile": self.traits(profile_id),
            "identities": self.identities(profile_id)["items"],
            "events": self.events(profile_id, limit=10),
            "orders": self.orders(profile_id, limit=10),
            "interactions": self.interactions(profile_id, limit=10),
            "tags": self.tags(profile_id)["tags"],
            "traits": profile_traits(self._ws, profile_id),
        }

    # -- helpers ------------------------------------------------------------------------

    def _ref_filter(self, profile_id: str) -> tuple[str, list[str]]:
        parts: list[str] = []
        params: list[str] = []
        by_type: dict[str, set[str]] = {}
        for _r, id_type, value in self.identifiers(profile_id):
            if id_type in ("member_id", "user_id", "phone", "email"):
                by_type.setdefault(id_type, set()).update(ref_variants(id_type, value))
        for id_type, values in sorted(by_type.items()):
            ordered = sorted(values)
            parts.append(f"(customer_ref_type = ? AND {_in('customer_ref', ordered)})")
            params += [id_type, *ordered]
        return (" OR ".join(parts) or "FALSE"), params

    def _query(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        try:
            table: pa.Table = self._ws.query_engine().query(sql, list(params))
        except TableNotFoundError:
            return []
        rows: list[dict[str, Any]] = table.to_pylist()
        return rows

    def _paged_query(
        self, sql: str, params: Sequence[Any], limit: int, offset: int
    ) -> dict[str, Any]:
        limit, offset = _check_page(limit, offset)
        rows = self._query(f"{sql} LIMIT {limit + 1} OFFSET {offset}", params)
        return {
            "items": [_jsonable(r) for r in rows[:limit]],
            "limit": limit,
            "offset": offset,
            "has_more": len(rows) > limit,
        }


def _traits_view(entry: ProfileEntry, opened: dict[str, Any] | None) -> dict[str, Any]:
    traits = dict(opened or {})
    seen = traits.pop("_seen", [None, None])
    return {
        "profile_id": entry.profile_id,
        "record_count": entry.record_count,
        "first_seen": seen[0],
        "last_seen": seen[1],
        "updated_at": entry.updated_at.isoformat(),
        "attributes": traits,
    }


def _in(column: str, values: Sequence[str]) -> str:
    if not values:
        return ""
    return f"{column} IN ({', '.join('?' for _ in values)})"


def _check_page(limit: int, offset: int) -> tuple[int, int]:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError("limit", "range", f"limit: must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise ValidationError("offset", "range", "offset: must be 0 or more")
    return limit, offset


def _page(items: list[dict[str, Any]], limit: int, offset: int) -> dict[str, Any]:
    limit, offset = _check_page(limit, offset)
    return {
        "items": items[offset : offset + limit],
        "limit": limit,
        "offset": offset,
        "has_more": len(items) > offset + limit,
    }


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        elif isinstance(value, bytes):
            out[key] = value.decode("utf-8", "replace")
        elif isinstance(value, Decimal):
            out[key] = str(value)
        else:
            out[key] = value
    return out
