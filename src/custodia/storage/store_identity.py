"""Persistence of the identity graph in the operational store.

Four tables (see :mod:`custodia.storage.store_schema`): ``identity_records`` (each record and its
profile), ``identity_identifiers`` (valid normalized identifiers, indexed for matching and lookups),
``identity_edges`` (append-only evidence) and ``profile_registry`` (every profile id ever issued,
merged ones kept as aliases). Resolution logic lives in :mod:`custodia.identity`; this module only
reads and writes rows, in bulk, the same way on SQLite and PostgreSQL.

Example::

    graph = IdentityGraphStore(store)
    graph.lookup("phone", "+8613812345678")   # the live profile id, or None
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from custodia.storage.store import OperationalStore
from custodia.storage.store_schema import (
    identity_edges,
    identity_identifiers,
    identity_records,
    profile_registry,
)

__all__ = ["EdgeRow", "IdentityGraphStore", "ProfileEntry"]

_CHUNK = 900
T = TypeVar("T")


def _chunks(values: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass(frozen=True, slots=True)
class EdgeRow:
    """One stored edge."""

    edge_id: str
    left_record: str
    right_record: str
    rule: str
    score: float
    evidence: dict[str, Any] | None
    created_at: datetime
    created_by: str
    refused_reason: str | None
    undone_at: datetime | None
    undone_by: str | None


@dataclass(frozen=True, slots=True)
class ProfileEntry:
    """One row of the profile registry."""

    profile_id: str
    created_at: datetime
    merged_into: str | None
    record_count: int
    traits: dict[str, Any] | None
    updated_at: datetime


def _edge(row: Any) -> EdgeRow:
    return EdgeRow(**{"evidence": None, **row})


class IdentityGraphStore:
    """Bulk reads and writes of the identity graph tables."""

    def __init__(self, store: OperationalStore) -> None:
        self._store = store

    # -- records and identifiers ---------------------------------------------------------

    def upsert_records(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert or refresh records (source, kind, flags, first/last seen); keeps profile ids."""
        keep = ("source", "kind", "flags", "first_seen", "last_seen", "resolved_at")
        self._upsert(identity_records, "record_id", keep, rows)

    def replace_identifiers(
        self, record_ids: Sequence[str], rows: Sequence[tuple[str, str, str]]
    ) -> None:
        """Make ``rows`` (record, type, value) the identifiers of ``record_ids``."""
        with self._store.begin() as conn:
            for chunk in _chunks(record_ids):
                conn.execute(
                    delete(identity_identifiers).where(identity_identifiers.c.record_id.in_(chunk))
                )
            payload = [{"record_id": r, "id_type": t, "value": v} for r, t, v in rows]
            for part in _chunks(payload, 5000):
                conn.execute(
                    self._insert(conn, identity_identifiers).on_conflict_do_nothing(), part
                )

    def records_holding(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
        """(record, type, value) of every stored record holding one of the (type, value) pairs."""
        by_type: dict[str, list[str]] = {}
        for id_type, value in pairs:
            by_type.setdefault(id_type, []).append(value)
        out: list[tuple[str, str, str]] = []
        c = identity_identifiers.c
        with self._store.read() as conn:
            for id_type, values in sorted(by_type.items()):
                for chunk in _chunks(sorted(set(values))):
                    query = select(c.record_id, c.id_type, c.value).where(
                        c.id_type == id_type, c.value.in_(chunk)
                    )
                    out.extend((r, t, v) for r, t, v in conn.execute(query))
        return out

    def shared_values(self, batch: int = 50_000) -> Iterator[tuple[str, list[str]]]:
        """(type, holders) of every (type, value) two records or more hold, in (type, value)
        order with sorted holders: a full run's matching never holds every identifier.

        Pages of about ``batch`` rows are read along the ``(id_type, value)`` index, each in its
        own short read transaction: the caller writes edges between pages, and a read snapshot
        held across those writes would keep SQLite from checkpointing its write-ahead log (it
        grew past 17 GB at a million customers).
        """
        c = identity_identifiers.c
        columns = select(c.id_type, c.value, c.record_id)
        after: tuple[str, str] | None = None
        while True:
            query = columns.order_by(c.id_type, c.value, c.record_id).limit(batch)
            if after is not None:
                query = query.where(tuple_(c.id_type, c.value) > tuple_(*after))
            with self._store.read() as conn:
                rows = list(conn.execute(query))
            if not rows:
                return
            groups = [
                (key, [record_id for _t, _v, record_id in group])
                for key, group in itertools.groupby(rows, key=lambda r: (r[0], r[1]))
            ]
            if len(rows) == batch:  # the page may end inside its last value: read it whole
                last = groups[-1][0]
                with self._store.read() as conn:
                    holders = conn.execute(
                        select(c.record_id)
                        .where(c.id_type == last[0], c.value == last[1])
                        .order_by(c.record_id)
                    ).scalars()
                    groups[-1] = (last, list(holders))
            for (id_type, _value), members in groups:
                if len(members) > 1:
                    yield id_type, members
            after = groups[-1][0]

    def identifiers_by_record(
        self, record_ids: Sequence[str] | None, batch: int = 50_000
    ) -> Iterator[tuple[str, list[tuple[str, str]]]]:
        """(record, [(type, value), ...]) of the given records (all when ``None``, streamed in
        record order, so clustering a full run never holds every identifier as a tuple).

        All records are streamed from one read snapshot: consume the iterator before writing,
        or SQLite cannot checkpoint meanwhile (see :meth:`shared_values`)."""
        c = identity_identifiers.c
        base = select(c.record_id, c.id_type, c.value)
        if record_ids is not None:
            rows: Iterable[Any] = sorted(self._select_in(base, c.record_id, record_ids))
            for record_id, group in itertools.groupby(rows, key=lambda r: r[0]):
                yield record_id, [(t, v) for _r, t, v in group]
            return
        with self._store.read() as conn:
            ordered = base.order_by(c.record_id, c.id_type, c.value)
            stream = conn.execution_options(yield_per=batch).execute(ordered)
            for record_id, group in itertools.groupby(stream, key=lambda r: r[0]):
                yield record_id, [(t, v) for _r, t, v in group]

    def identifiers_of_type(self, id_type: str) -> list[tuple[str, str]]:
        """(record, value) of every stored identifier of one type (indexed by type and value)."""
        c = identity_identifiers.c
        with self._store.read() as conn:
            query = select(c.record_id, c.value).where(c.id_type == id_type)
            return [(r, v) for r, v in conn.execute(query)]

    def identifiers_of(self, record_ids: Sequence[str] | None) -> list[tuple[str, str, str]]:
        """(record, type, value) of the given records, or of all records when ``None``."""
        c = identity_identifiers.c
        base = select(c.record_id, c.id_type, c.value)
        return [(r, t, v) for r, t, v in self._select_in(base, c.record_id, record_ids)]

    def records(self, record_ids: Sequence[str] | None) -> list[dict[str, Any]]:
        """Stored record rows (all columns) of the given records, or all when ``None``."""
        base = select(identity_records)
        rows = self._select_in(base, identity_records.c.record_id, record_ids)
        return [dict(row._mapping) for row in rows]

    def known_record_ids(self) -> set[str]:
        """Every record id resolution has seen."""
        with self._store.read() as conn:
            return set(conn.execute(select(identity_records.c.record_id)).scalars())

    def profiles_of(self, record_ids: Sequence[str] | None) -> dict[str, str | None]:
        """record -> profile id (``None`` before its first clustering)."""
        c = identity_records.c
        base = select(c.record_id, c.profile_id)
        return dict(self._select_in(base, c.record_id, record_ids))

    def records_of_profiles(self, profile_ids: Sequence[str]) -> list[str]:
        """Every record currently assigned to one of ``profile_ids``."""
        c = identity_records.c
        return [r for (r,) in self._select_in(select(c.record_id), c.profile_id, profile_ids)]

    def assign(self, assignment: Mapping[str, str]) -> None:
        """Set each record's profile id."""
        stmt = (
            update(identity_records)
            .where(identity_records.c.record_id == bindparam("rid"))
            .values(profile_id=bindparam("pid"))
        )
        payload = [{"rid": r, "pid": p} for r, p in assignment.items()]
        with self._store.begin() as conn:
            for part in _chunks(payload, 5000):
                conn.execute(stmt, part)

    # -- edges --------------------------------------------------------------------------

    def add_edges(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Insert edges whose id is new (an edge undone earlier stays undone); returns those."""
        if not rows:
            return []
        existing: set[str] = set()
        ids = [str(row["edge_id"]) for row in rows]
        c = identity_edges.c
        existing.update(r for (r,) in self._select_in(select(c.edge_id), c.edge_id, ids))
        fresh = [dict(row) for row in rows if row["edge_id"] not in existing]
        unique = list({row["edge_id"]: row for row in fresh}.values())
        with self._store.begin() as conn:
            for part in _chunks(unique, 5000):
                conn.execute(self._insert(conn, identity_edges).on_conflict_do_nothing(), part)
        return unique

    def edges_touching(
        self,
        record_ids: Sequence[str] | None,
        *,
        include_undone: bool = False,
        with_evidence: bool = True,
    ) -> list[EdgeRow]:
        """Edges with either end in ``record_ids`` (all edges when ``None``).

        ``with_evidence=False`` leaves ``evidence`` empty: clustering a million edges does not
        need a million decoded JSON documents.
        """
        c = identity_edges.c
        columns = [col for col in identity_edges.c if with_evidence or col.name != "evidence"]
        base = select(*columns)
        if not include_undone:
            base = base.where(c.undone_at.is_(None))
        if record_ids is None:
            with self._store.read() as conn:
                return [_edge(row._mapping) for row in conn.execute(base)]
        seen: dict[str, EdgeRow] = {}
        with self._store.read() as conn:
            for chunk in _chunks(sorted(set(record_ids)), 450):
                query = base.where(or_(c.left_record.in_(chunk), c.right_record.in_(chunk)))
                for row in conn.execute(query):
                    seen[row.edge_id] = _edge(row._mapping)
        return sorted(seen.values(), key=lambda e: e.edge_id)

    def cannot_link_records(self, rule: str) -> set[str]:
        """Records on either side of a constraint edge (a steward's unmerge)."""
        c = identity_edges.c
        query = select(c.left_record, c.right_record).where(c.rule == rule)
        with self._store.read() as conn:
            return {r for row in conn.execute(query) for r in row}

    def set_refusals(self, refusals: Mapping[str, str | None]) -> None:
        """Record the reason each edge was refused by the last clustering (``None``: accepted)."""
        stmt = (
            update(identity_edges)
            .where(identity_edges.c.edge_id == bindparam("eid"))
            .values(refused_reason=bindparam("why"))
        )
        payload = [{"eid": e, "why": why} for e, why in refusals.items()]
        with self._store.begin() as conn:
            for part in _chunks(payload, 5000):
                conn.execute(stmt, part)

    def undo_edges(self, edge_ids: Sequence[str], *, by: str, at: datetime) -> int:
        """Mark edges undone (kept for the record); returns how many were still active."""
        c = identity_edges.c
        count = 0
        with self._store.begin() as conn:
            for chunk in _chunks(edge_ids):
                result = conn.execute(
                    update(identity_edges)
                    .where(and_(c.edge_id.in_(chunk), c.undone_at.is_(None)))
                    .values(undone_at=at, undone_by=by)
                )
                count += result.rowcount or 0
        return count

    # -- profile registry ---------------------------------------------------------------

    def registry(self, profile_ids: Sequence[str] | None = None) -> dict[str, ProfileEntry]:
        """Registry rows by profile id (all when ``None``)."""
        c = profile_registry.c
        base = select(
            c.profile_id, c.created_at, c.merged_into, c.record_count, c.traits, c.updated_at
        )
        rows = self._select_in(base, c.profile_id, profile_ids)
        return {row.profile_id: ProfileEntry(**row._mapping) for row in rows}

    def issued_profiles(self) -> dict[str, datetime]:
        """Every profile id ever issued (live or alias) with its creation time."""
        c = profile_registry.c
        with self._store.read() as conn:
            rows = conn.execute(select(c.profile_id, c.created_at)).all()
        return {str(profile_id): created for profile_id, created in rows}

    def aliases_of(self, profile_id: str) -> list[str]:
        """Profile ids merged into ``profile_id``."""
        c = profile_registry.c
        query = select(c.profile_id).where(c.merged_into == profile_id).order_by(c.profile_id)
        with self._store.read() as conn:
            return list(conn.execute(query).scalars())

    def live_profile_count(self) -> int:
        """Profiles that are not aliases of another."""
        c = profile_registry.c
        query = select(func.count()).select_from(profile_registry).where(c.merged_into.is_(None))
        with self._store.read() as conn:
            return int(conn.execute(query).scalar_one())

    def register_profiles(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert new profiles or refresh live ones (record count, traits, merged_into)."""
        keep = ("merged_into", "merged_at", "record_count", "traits", "updated_at")
        self._upsert(profile_registry, "profile_id", keep, rows)

    def live_profile(self, profile_id: str) -> str | None:
        """Follow alias links to the live profile (``None`` if the id was never issued)."""
        c = profile_registry.c
        seen: set[str] = set()
        current: str | None = profile_id
        with self._store.read() as conn:
            while current is not None and current not in seen:
                seen.add(current)
                row = conn.execute(select(c.merged_into).where(c.profile_id == current)).first()
                if row is None:
                    return None
                if row.merged_into is None:
                    return current
                current = row.merged_into
        return None

    def live_profiles(self) -> dict[str, str]:
        """Every issued profile id -> its live profile (alias links followed; one read)."""
        c = profile_registry.c
        with self._store.read() as conn:
            merged = {str(p): m for p, m in conn.execute(select(c.profile_id, c.merged_into))}
        live: dict[str, str] = {}
        for start in merged:
            path: list[str] = []
            current, end = start, None
            while current not in live:
                if current not in merged or current in path:
                    break  # never issued, or a loop of aliases: no live profile
                path.append(current)
                following = merged[current]
                if following is None:
                    end = current
                    break
                current = str(following)
            else:
                end = live[current]
            for profile in path:
                if end is not None:
                    live[profile] = end
        return live

    def lookup_many(self, id_type: str, values: Sequence[str]) -> dict[str, str]:
        """Identifier value -> the profile holding it (as :meth:`lookup`, before alias links:
        the smallest profile id when several records hold it), for the values found."""
        i, r = identity_identifiers.c, identity_records.c
        base = (
            select(i.value, func.min(r.profile_id))
            .join_from(identity_identifiers, identity_records, i.record_id == r.record_id)
            .where(i.id_type == id_type, r.profile_id.is_not(None))
            .group_by(i.value)
        )
        return {str(v): str(p) for v, p in self._select_in(base, i.value, values)}

    def lookup(self, id_type: str, value: str) -> str | None:
        """The live profile holding identifier ``id_type:value``, or ``None``."""
        i, r = identity_identifiers.c, identity_records.c
        query = (
            select(r.profile_id)
            .join_from(identity_identifiers, identity_records, i.record_id == r.record_id)
            .where(i.id_type == id_type, i.value == value, r.profile_id.is_not(None))
            .order_by(r.profile_id)
            .limit(1)
        )
        with self._store.read() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else str(found)

    def profile_stats(
        self, profile_ids: Sequence[str] | None
    ) -> dict[str, tuple[int, datetime | None, datetime | None]]:
        """profile -> (records, first seen, last seen), aggregated in the store."""
        c = identity_records.c
        base = (
            select(c.profile_id, func.count(), func.min(c.first_seen), func.max(c.last_seen))
            .where(c.profile_id.is_not(None))
            .group_by(c.profile_id)
        )
        rows = self._select_in(base, c.profile_id, profile_ids)
        return {str(p): (int(n), first, last) for p, n, first, last in rows}

    def identifier_rows(
        self, profile_ids: Sequence[str] | None, batch: int = 100_000
    ) -> Iterator[list[tuple[Any, ...]]]:
        """(profile, type, value, source, record, first seen, last seen) of every identifier
        of the given profiles (all when ``None``), in batches of about ``batch`` rows."""
        i, r = identity_identifiers.c, identity_records.c
        base = (
            select(r.profile_id, i.id_type, i.value, r.source, i.record_id, r.first_seen,
                   r.last_seen)
            .join_from(identity_identifiers, identity_records, i.record_id == r.record_id)
            .where(r.profile_id.is_not(None))
        )  # fmt: skip
        if profile_ids is not None:
            rows = [tuple(row) for row in self._select_in(base, r.profile_id, profile_ids)]
            for start in range(0, len(rows), batch):
                yield rows[start : start + batch]
            return
        with self._store.read() as conn:
            for part in conn.execution_options(yield_per=batch).execute(base).partitions():
                yield [tuple(row) for row in part]

    def profile_by_identifier(self, id_type: str, value: str) -> ProfileEntry | None:
        """The registry row of the profile holding ``id_type:value`` in one indexed read (the
        row of an alias when the profile was merged: follow ``merged_into``)."""
        i, r, g = identity_identifiers.c, identity_records.c, profile_registry.c
        query = (
            select(g.profile_id, g.created_at, g.merged_into, g.record_count, g.traits,
                   g.updated_at)
            .join_from(identity_identifiers, identity_records, i.record_id == r.record_id)
            .join(profile_registry, g.profile_id == r.profile_id)
            .where(i.id_type == id_type, i.value == value)
            .order_by(g.profile_id)
            .limit(1)
        )  # fmt: skip
        with self._store.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else ProfileEntry(**row._mapping)

    # -- helpers ------------------------------------------------------------------------

    def _select_in(self, base: Any, column: Any, values: Sequence[str] | None) -> list[Any]:
        with self._store.read() as conn:
            if values is None:
                return list(conn.execute(base))
            out: list[Any] = []
            for chunk in _chunks(sorted(set(values))):
                out.extend(conn.execute(base.where(column.in_(chunk))))
            return out

    def _upsert(
        self, table: Table, key: str, keep: Sequence[str], rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Insert rows, or update ``keep`` columns of existing keys (executemany, one statement)."""
        if not rows:
            return
        with self._store.begin() as conn:
            stmt = self._insert(conn, table)
            stmt = stmt.on_conflict_do_update(
                index_elements=[key], set_={name: stmt.excluded[name] for name in keep}
            )
            for part in _chunks(rows, 5000):
                conn.execute(stmt, list(part))

    @staticmethod
    def _insert(conn: Connection, table: Table) -> Any:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)
