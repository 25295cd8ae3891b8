"""Persistence of customers' wrapped data keys and blind-index digests (``data_keys``,
``blind_indexes``).

This module only reads and writes rows, and writes the audit entry of a key operation in the same
transaction as the change. Cryptography (wrapping, unwrapping, HMAC) lives in
:mod:`custodia.privacy`; nothing here ever sees an unwrapped key or a plaintext identifier.

Crypto-shredding is one transaction: the customer's wrapped key is set to NULL (the only copy of
the data key is gone, so every ciphertext under it is noise), the shred is recorded on the row
(time and actor), their blind-index digests are deleted, and one ``key.shred`` audit entry is
written that counts what went, with no personal data.

Example::

    keys = DataKeyTable(store)
    keys.insert_missing([NewDataKey("dk_…", "prf_1", "kek-1", "base64…")], actor="loader")
    keys.for_customers(["prf_1"])["prf_1"].kek_id      # 'kek-1'
    keys.shred("prf_1", actor="privacy-officer")
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Final, TypeVar

from sqlalchemy import Row, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from custodia.core.clock import Clock, SystemClock
from custodia.storage.store import AuditLog, OperationalStore
from custodia.storage.store_schema import blind_indexes, check_fits, data_keys

__all__ = [
    "BlindIndexTable",
    "DataKeyRow",
    "DataKeyTable",
    "NewDataKey",
    "ShredRecord",
]

_CHUNK: Final = 500
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class NewDataKey:
    """A data key about to be stored: id, owner, KEK version and the wrapped bytes (base64)."""

    key_id: str
    customer_id: str
    kek_id: str
    wrapped_key: str


@dataclass(frozen=True, slots=True)
class DataKeyRow:
    """One stored data key; ``wrapped_key`` is None once it has been shredded."""

    key_id: str
    customer_id: str
    kek_id: str
    wrapped_key: str | None
    created_at: datetime
    rewrapped_at: datetime | None
    shredded_at: datetime | None
    shredded_by: str | None


@dataclass(frozen=True, slots=True)
class ShredRecord:
    """What a shred destroyed: how many keys and blind-index digests, when and by whom."""

    customer_id: str
    keys_shredded: int
    blind_indexes_deleted: int
    at: datetime
    actor: str


_REWRAP: Final = (
    update(data_keys)
    .where(
        data_keys.c.key_id == bindparam("k"),
        data_keys.c.kek_id == bindparam("old_kek"),
        data_keys.c.wrapped_key == bindparam("old"),
    )
    .values(wrapped_key=bindparam("new"))
)


class DataKeyTable:
    """Rows of ``data_keys``: create, look up, re-wrap on rotation, shred."""

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock or SystemClock()

    @staticmethod
    def check_customer_id(customer_id: str) -> str:
        """Refuse a customer id that does not fit the column (a ValidationError naming it)."""
        return check_fits(data_keys.c.customer_id, customer_id)

    def insert_missing(self, keys: Sequence[NewDataKey], *, actor: str) -> int:
        """Store keys of customers who have none yet; returns how many were stored.

        A customer who got a key from a concurrent writer keeps that one (the unique constraint
        on ``customer_id`` decides), so callers re-read with :meth:`for_customers` afterwards.
        One ``key.create`` audit entry counts the keys stored, in the same transaction.
        """
        if not keys:
            return 0
        now = self._clock.now()
        rows = [{**asdict(key), "created_at": now} for key in keys]
        stored = 0
        with self._store.begin() as conn:
            statement = _insert(conn, data_keys).on_conflict_do_nothing()
            for part in _chunks(rows, _CHUNK):
                conn.execute(statement, list(part))
                ours = [row["key_id"] for row in part]
                count = select(func.count()).where(data_keys.c.key_id.in_(ours))
                stored += int(conn.execute(count).scalar_one())
            if stored:
                AuditLog(self._store, self._clock).append(
                    actor, "key.create", "data_keys", details={"keys": stored}, conn=conn
                )
        return stored

    def for_customers(self, customer_ids: Sequence[str]) -> dict[str, DataKeyRow]:
        """The stored key of each customer that has one (shredded ones included)."""
        return self._lookup(data_keys.c.customer_id, customer_ids, "customer_id")

    def by_key_ids(self, key_ids: Sequence[str]) -> dict[str, DataKeyRow]:
        """Stored keys by key id; ids nobody stored are simply absent."""
        return self._lookup(data_keys.c.key_id, key_ids, "key_id")

    def wrapped_not_under(self, kek_id: str, *, after: str, limit: int) -> list[DataKeyRow]:
        """Live keys wrapped under another KEK than ``kek_id``, in key id order after ``after``."""
        query = (
            select(data_keys)
            .where(
                data_keys.c.kek_id != kek_id,
                data_keys.c.wrapped_key.is_not(None),
                data_keys.c.key_id > after,
            )
            .order_by(data_keys.c.key_id)
            .limit(limit)
        )
        with self._store.read() as conn:
            return [_row(row) for row in conn.execute(query)]

    def rewrap(self, kek_id: str, rewrapped: Sequence[tuple[DataKeyRow, str]]) -> int:
        """Put keys under the KEK version ``kek_id``: (row as read, new wrapped key) each.

        A row changed meanwhile (shredded, or re-wrapped by someone else) is left alone: the
        update matches the KEK version and wrapped value that were read. Returns how many of
        the rows are under ``kek_id`` afterwards.
        """
        now = self._clock.now()
        params = [
            {"k": old.key_id, "old_kek": old.kek_id, "old": old.wrapped_key, "new": wrapped}
            for old, wrapped in rewrapped
        ]
        key_ids = [old.key_id for old, _ in rewrapped]
        under = 0
        with self._store.begin() as conn:
            for part in _chunks(params, _CHUNK):
                conn.execute(_REWRAP.values(kek_id=kek_id, rewrapped_at=now), list(part))
            for ids in _chunks(key_ids, _CHUNK):
                count = select(func.count()).where(
                    data_keys.c.key_id.in_(ids), data_keys.c.kek_id == kek_id
                )
                under += int(conn.execute(count).scalar_one())
        return under

    def live_keys_per_kek(self) -> dict[str, int]:
        """How many unshredded data keys each KEK version wraps."""
        query = (
            select(data_keys.c.kek_id, func.count())
            .where(data_keys.c.wrapped_key.is_not(None))
            .group_by(data_keys.c.kek_id)
        )
        with self._store.read() as conn:
            return {str(kek): int(count) for kek, count in conn.execute(query)}

    def shredded_count(self) -> int:
        """How many data keys were shredded (erased subjects)."""
        query = select(func.count()).where(data_keys.c.wrapped_key.is_(None))
        with self._store.read() as conn:
            return int(conn.execute(query).scalar_one())

    def audit(self, actor: str, action: str, details: object) -> None:
        """One audit entry for a key operation done outside this table (e.g. a rotation)."""
        AuditLog(self._store, self._clock).append(actor, action, "data_keys", details=details)

    def shred(self, customer_id: str, *, actor: str) -> ShredRecord:
        """Destroy the customer's data key and delete their blind indexes, with one audit entry.

        Shredding twice is harmless: the second call destroys nothing and still records itself.
        """
        now = self._clock.now()
        with self._store.begin() as conn:
            keys = conn.execute(
                update(data_keys)
                .where(data_keys.c.customer_id == customer_id, data_keys.c.wrapped_key.is_not(None))
                .values(wrapped_key=None, shredded_at=now, shredded_by=actor)
            ).rowcount
            digests = conn.execute(
                delete(blind_indexes).where(blind_indexes.c.customer_id == customer_id)
            ).rowcount
            details = {"keys": keys, "blind_indexes": digests}
            AuditLog(self._store, self._clock).append(
                actor, "key.shred", "data_keys", subject_ref=customer_id, details=details, conn=conn
            )
        return ShredRecord(customer_id, keys, digests, now, actor)

    def _lookup(self, column: Any, values: Sequence[str], key: str) -> dict[str, DataKeyRow]:
        found: dict[str, DataKeyRow] = {}
        with self._store.read() as conn:
            for part in _chunks(sorted(set(values)), _CHUNK):
                for row in conn.execute(select(data_keys).where(column.in_(part))):
                    found[getattr(row, key)] = _row(row)
        return found


class BlindIndexTable:
    """Rows of ``blind_indexes``: which customer holds which keyed digest of which identifier type.

    Identity resolution matches on these digests exactly as it would on normalized values.

    Example::

        table = BlindIndexTable(store)
        table.add([("prf_1", "phone", "bi1_…")])
        table.customers_with("phone", ["bi1_…"])     # {'bi1_…': ['prf_1']}
    """

    def __init__(self, store: OperationalStore) -> None:
        self._store = store

    def add(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Store (customer, id_type, digest) rows; ones already stored are skipped."""
        payload = [{"customer_id": c, "id_type": t, "digest": d} for c, t, d in rows]
        if not payload:
            return
        with self._store.begin() as conn:
            statement = _insert(conn, blind_indexes).on_conflict_do_nothing()
            for part in _chunks(payload, 5000):
                conn.execute(statement, list(part))

    def customers_with(self, id_type: str, digests: Sequence[str]) -> dict[str, list[str]]:
        """digest → customers holding it, for the digests anyone holds."""
        found: dict[str, list[str]] = {}
        table = blind_indexes
        with self._store.read() as conn:
            for part in _chunks(sorted(set(digests)), _CHUNK):
                query = (
                    select(table.c.digest, table.c.customer_id)
                    .where(table.c.id_type == id_type, table.c.digest.in_(part))
                    .order_by(table.c.digest, table.c.customer_id)
                )
                for digest, customer in conn.execute(query):
                    found.setdefault(digest, []).append(customer)
        return found

    def of_customer(self, customer_id: str) -> list[tuple[str, str]]:
        """(id_type, digest) pairs held for one customer."""
        table = blind_indexes
        query = (
            select(table.c.id_type, table.c.digest)
            .where(table.c.customer_id == customer_id)
            .order_by(table.c.id_type, table.c.digest)
        )
        with self._store.read() as conn:
            return [(str(t), str(d)) for t, d in conn.execute(query)]


def _row(row: Row[Any]) -> DataKeyRow:
    return DataKeyRow(**row._asdict())


def _insert(conn: Connection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _chunks(values: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
