"""Persistence of collector sources in the operational store (the ``collector_sources`` table).

Only the SHA-256 digest of a write key is stored, with a short prefix to recognise it in lists.
Key format and policy live in :mod:`custodia.collect.sources`; this module only reads and writes
rows, and writes the audit entry of a change in the same transaction.

Example::

    table = SourceTable(store)
    table.insert({"name": "web", "write_key_prefix": "wk_1a2b", ...}, key_hash, actor="admin")
    table.find_by_hash(key_hash)   # the source's public values, or None
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from custodia.core.clock import Clock
from custodia.core.errors import ValidationError
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import check_fits, collector_sources

# Every column except the digest: rows handed out never carry it.
PUBLIC_COLUMNS = tuple(c.name for c in collector_sources.c if c.name != "write_key_hash")
_PUBLIC = tuple(collector_sources.c[name] for name in PUBLIC_COLUMNS)


class SourceTable:
    """Rows of ``collector_sources``: insert, find by key digest or name, list, disable."""

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock

    @staticmethod
    def fits(column: str, value: str) -> str:
        """Refuse a value longer than the column allows (a ValidationError naming the column)."""
        return check_fits(collector_sources.c[column], value)

    def insert(self, values: Mapping[str, Any], key_hash: str, *, actor: str) -> None:
        """Store a new source and its ``source.create`` audit entry, atomically.

        A name that exists already is a :class:`ValidationError` (rule ``unique``).
        """
        name = str(values["name"])
        try:
            with self._store.begin() as conn:
                conn.execute(collector_sources.insert().values(**values, write_key_hash=key_hash))
                AuditLog(self._store, self._clock).append(
                    actor, "source.create", "collector_sources", subject_ref=name, conn=conn
                )
        except IntegrityError:
            raise ValidationError(
                "name", "unique", f"name: a source called '{name}' exists already"
            ) from None

    def find_by_hash(self, key_hash: str) -> dict[str, Any] | None:
        """The public values of the source whose write key has this digest, if any."""
        query = select(*_PUBLIC).where(collector_sources.c.write_key_hash == key_hash)
        with self._store.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else dict(row._mapping)

    def find_by_name(self, name: str) -> dict[str, Any] | None:
        query = select(*_PUBLIC).where(collector_sources.c.name == name)
        with self._store.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else dict(row._mapping)

    def all_with_hashes(self) -> list[tuple[dict[str, Any], str]]:
        """Every source with its digest: for the collector's in-memory key cache only."""
        query = select(*_PUBLIC, collector_sources.c.write_key_hash).order_by(
            collector_sources.c.name
        )
        with self._store.read() as conn:
            rows = conn.execute(query).all()
        return [
            ({name: getattr(row, name) for name in PUBLIC_COLUMNS}, str(row.write_key_hash))
            for row in rows
        ]

    def list(self) -> list[dict[str, Any]]:
        """Every source's public values, by name."""
        with self._store.read() as conn:
            rows = conn.execute(select(*_PUBLIC).order_by(collector_sources.c.name)).all()
        return [dict(row._mapping) for row in rows]

    def disable(self, name: str, at: datetime, *, actor: str) -> bool:
        """Set ``disabled_at`` once, with its audit entry; False if nothing changed."""
        statement = (
            update(collector_sources)
            .where(collector_sources.c.name == name, collector_sources.c.disabled_at.is_(None))
            .values(disabled_at=at)
        )
        with self._store.begin() as conn:
            if conn.execute(statement).rowcount != 1:
                return False
            AuditLog(self._store, self._clock).append(
                actor, "source.disable", "collector_sources", subject_ref=name, conn=conn
            )
        return True
