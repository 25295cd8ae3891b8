"""Whose rows are these? The one definition of "one person's data" for exports and erasures.

An access request must return everything about the person and nothing about anyone else; an
erasure must delete the same set. Both start from :func:`person_scope`, which finds the live
profile from any identifier (:meth:`ProfileView.find`), its merged aliases, its records in the
identity graph and their identifiers, and then, table by table, the surrogate keys of the lake
rows that belong to the person:

* records and derived tables by ``record_id`` / ``profile_id``;
* events by the person's user ids and anonymous ids;
* orders, interactions and touchpoints by ``customer_ref`` (in the forms sources write it);
  order lines and deliveries through those orders;
* raw landing rows and quarantined payloads whose JSON holds one of the person's values as a
  whole token.

An identifier that another person's records also hold (a family phone, a shared device) is
**shared**: rows found only through it are not the person's alone, so they are neither exported
nor erased, and the scope says how many identifiers were set aside.

Example::

    scope = person_scope(ws, "phone:13812340001")
    scope.lake_keys["orders"].keys      # order ids of the person
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from custodia.core.errors import TableNotFoundError
from custodia.core.tables import table_spec
from custodia.pipeline.profile_view import ProfileView, ref_variants
from custodia.storage.store_identity import IdentityGraphStore
from custodia.workspace import Workspace

__all__ = ["LakeKeys", "PersonScope", "lake_rows", "person_scope"]

_REF_TYPES: Final = ("member_id", "user_id", "phone", "email")
_RECORD_VALUE_COLUMNS: Final = (
    "source_key", "member_id", "user_id", "phone", "email", "resident_id",
)  # fmt: skip
_WORD_CHARS: Final = r"0-9A-Za-z@._+\-"
_CHUNK: Final = 400


@dataclass(frozen=True)
class LakeKeys:
    """The person's rows of one lake table: the column to select/delete by and its values."""

    zone: str
    table: str
    column: str
    keys: tuple[str, ...]


@dataclass
class PersonScope:
    """Everything that identifies one person's data (values stay in memory, never logged)."""

    profile_id: str
    profile_ids: list[str]
    record_ids: list[str]
    identifiers: set[tuple[str, str]]
    shared: set[tuple[str, str]]
    raw_values: set[str] = field(default_factory=set)
    lake_keys: dict[str, LakeKeys] = field(default_factory=dict)

    def own(self, id_type: str) -> list[str]:
        """The person's identifiers of ``id_type`` that no one else holds."""
        return sorted(v for t, v in self.identifiers - self.shared if t == id_type)


def person_scope(ws: Workspace, ref: str) -> PersonScope:
    """The person ``ref`` (``ID_TYPE:VALUE``) finds, and the keys of their rows everywhere."""
    graph = IdentityGraphStore(ws.store)
    profile_id = ProfileView(ws).find(ref)
    profile_ids = [profile_id, *graph.aliases_of(profile_id)]
    record_ids = sorted(graph.records_of_profiles(profile_ids))
    identifiers = {(t, v) for _r, t, v in graph.identifiers_of(record_ids)}
    mine = set(record_ids)
    shared = {(t, v) for r, t, v in graph.records_holding(identifiers) if r not in mine}
    scope = PersonScope(profile_id, profile_ids, record_ids, identifiers, shared)
    _LakeScan(ws, scope).run()
    return scope


def lake_rows(ws: Workspace, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows of a read-only query over the canonical tables; [] when a table does not exist
    (a workspace that never loaded that kind of data)."""
    try:
        rows: list[dict[str, Any]] = ws.query_engine().query(sql, list(params)).to_pylist()
    except TableNotFoundError:
        return []
    return rows


class _LakeScan:
    """Looks up the surrogate keys of the person's rows, table by table."""

    def __init__(self, ws: Workspace, scope: PersonScope) -> None:
        self._ws = ws
        self._scope = scope

    def run(self) -> None:
        s = self._scope
        self._keep("customer_records", "record_id", s.record_ids)
        self._keep("customer_records_filled", "record_id", s.record_ids)
        self._keep("profiles", "profile_id", s.profile_ids)
        self._keep("profile_identifiers", "profile_id", s.profile_ids)
        self._record_values()
        self._events()
        orders = self._by_ref("orders", "order_id")
        self._by_ref("interactions", "interaction_id")
        self._by_ref("touchpoints", "touchpoint_id")
        self._through_orders(orders)
        for table, key in (("source_records_raw", "raw_id"), ("quarantine", "quarantine_id")):
            self._payloads(table, key)

    def _keep(self, table: str, column: str, keys: Iterable[str]) -> None:
        found = tuple(sorted(set(keys)))
        if found and self._exists(table):
            zone = table_spec(table).zone.value
            self._scope.lake_keys[table] = LakeKeys(zone, table, column, found)

    def _exists(self, table: str) -> bool:
        return self._ws.lake.exists(table_spec(table).zone.value, table)

    def _select(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        return lake_rows(self._ws, sql, params)

    def _select_in(self, sql: str, values: Sequence[str]) -> list[dict[str, Any]]:
        """``sql`` with one ``{in}`` placeholder, run over ``values`` in chunks."""
        rows: list[dict[str, Any]] = []
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            rows += self._select(sql.format(in_=", ".join("?" for _ in chunk)), chunk)
        return rows

    def _record_values(self) -> None:
        """Values as the sources wrote them, for finding raw payloads (own identifiers only)."""
        s = self._scope
        if "customer_records" not in s.lake_keys:
            return
        columns = ", ".join(_RECORD_VALUE_COLUMNS)
        sql = f"SELECT {columns} FROM customer_records WHERE record_id IN ({{in_}})"
        shared_raw = {v for t, v in s.shared for v in ref_variants(t, v)}
        for row in self._select_in(sql, s.record_ids):
            s.raw_values.update(
                str(v) for v in row.values() if v is not None and str(v) not in shared_raw
            )

    def _events(self) -> None:
        users, anons = self._scope.own("user_id"), self._scope.own("anonymous_id")
        if (not users and not anons) or not self._exists("events"):
            return
        sql = "SELECT message_id FROM events WHERE user_id IN ({in_}) OR anonymous_id IN ({in_})"
        ids = self._select_in_pairs(sql, users, anons)
        self._keep("events", "message_id", ids)
        self._scope.raw_values.update(users + anons)

    def _select_in_pairs(self, sql: str, first: list[str], second: list[str]) -> list[str]:
        marks_a = ", ".join("?" for _ in first) or "NULL"
        marks_b = ", ".join("?" for _ in second) or "NULL"
        text = sql.replace("{in_}", marks_a, 1).replace("{in_}", marks_b, 1)
        return [r["message_id"] for r in self._select(text, [*first, *second])]

    def _by_ref(self, table: str, key: str) -> list[str]:
        where, params = self._ref_filter()
        if not params or not self._exists(table):
            return []
        keys = [r[key] for r in self._select(f"SELECT {key} FROM {table} WHERE {where}", params)]
        self._keep(table, key, keys)
        return keys

    def _ref_filter(self) -> tuple[str, list[str]]:
        parts: list[str] = []
        params: list[str] = []
        for id_type in _REF_TYPES:
            values = sorted({f for v in self._scope.own(id_type) for f in ref_variants(id_type, v)})
            if values:
                marks = ", ".join("?" for _ in values)
                parts.append(f"(customer_ref_type = ? AND customer_ref IN ({marks}))")
                params += [id_type, *values]
                self._scope.raw_values.update(values)
        return " OR ".join(parts), params

    def _through_orders(self, order_ids: list[str]) -> None:
        if not order_ids:
            return
        self._keep("order_lines", "order_id", order_ids)
        sql = "SELECT source_key FROM orders WHERE order_id IN ({in_})"
        numbers = [r["source_key"] for r in self._select_in(sql, order_ids) if r["source_key"]]
        if numbers and self._exists("deliveries"):
            sql = "SELECT delivery_id FROM deliveries WHERE order_source_key IN ({in_})"
            self._keep(
                "deliveries",
                "delivery_id",
                [r["delivery_id"] for r in self._select_in(sql, numbers)],
            )

    def _payloads(self, table: str, key: str) -> None:
        values = sorted(v for v in self._scope.raw_values if len(v) >= 2)
        if not values or not self._exists(table):
            return
        tokens = re.compile(
            f"(?<![{_WORD_CHARS}])(?:{'|'.join(map(re.escape, values))})(?![{_WORD_CHARS}])"
        )
        contains = " OR ".join("contains(payload, ?)" for _ in values)
        rows = self._select(f"SELECT {key}, payload FROM {table} WHERE {contains}", values)
        self._keep(table, key, [r[key] for r in rows if tokens.search(r["payload"] or "")])
