"""Erasing one person from the operational store, and making the deletion physical.

A ``DELETE`` in SQLite leaves the old row bytes in free pages of ``store.db`` and in the WAL
file until they happen to be reused; an erasure has to leave nothing readable. So
:func:`delete_person_rows` deletes with ``secure_delete`` on (freed content is zeroed) and
:func:`compact_store` then checkpoints the WAL into the database, rebuilds the file (``VACUUM``)
and truncates the WAL. On PostgreSQL the rows are deleted and ``VACUUM`` is left to autovacuum
(dead tuples are not reachable through SQL; a ``VACUUM FULL`` is an operator's decision).

Which rows belong to the person is declared in :data:`PERSON_ROWS`: a table, the column that
holds a profile id or a record id, and which of the two it is. Tables another feature has not
created yet are skipped.

Example::

    counts = delete_person_rows(store, profile_ids=["prof_1"], record_ids=["crm:9ab1"])
    compact_store(store)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

from sqlalchemy import Connection, delete, or_, select, text

from custodia.storage.store import OperationalStore
from custodia.storage.store_schema import METADATA

__all__ = ["PERSON_ROWS", "compact_store", "delete_person_rows", "person_rows"]

KeyKind = Literal["profile", "record"]

PERSON_ROWS: Final[tuple[tuple[str, str, KeyKind], ...]] = (
    ("identity_identifiers", "record_id", "record"),
    ("identity_edges", "left_record", "record"),
    ("identity_edges", "right_record", "record"),
    ("identity_records", "record_id", "record"),
    ("quality_corrections", "record_key", "record"),
    ("review_tasks", "record_key", "record"),
    ("review_tasks", "profile_id", "profile"),
    ("profile_registry", "profile_id", "profile"),
    ("consents", "profile_id", "profile"),
    ("blind_indexes", "customer_id", "profile"),
    ("unmask_requests", "profile_id", "profile"),
    ("portal_tokens", "profile_id", "profile"),
    ("user_expiries", "profile_id", "profile"),
)
"""(table, column, kind) of every store row that belongs to one person. ``data_keys`` is not
here: the key ring shreds the key (the row stays as proof, without key material)."""

_CHUNK: Final = 500


def delete_person_rows(
    store: OperationalStore, *, profile_ids: Sequence[str], record_ids: Sequence[str]
) -> dict[str, int]:
    """Delete the person's rows in one transaction; returns rows deleted per table.

    Corrections attached to a deleted review task go too (they may hold a value the steward
    typed for this person).
    """
    keys: dict[KeyKind, Sequence[str]] = {"profile": profile_ids, "record": record_ids}
    counts: dict[str, int] = {}
    with store.begin() as conn:
        _secure_delete(conn, store)
        counts["quality_corrections"] = _delete_task_corrections(conn, profile_ids, record_ids)
        for name, column, kind in PERSON_ROWS:
            table = METADATA.tables.get(name)
            if table is None:
                continue
            deleted = _delete_in(conn, table, column, keys[kind])
            counts[name] = counts.get(name, 0) + deleted
    return {name: n for name, n in counts.items() if n}


def compact_store(store: OperationalStore) -> None:
    """Rewrite the SQLite file so no freed page or WAL frame keeps erased bytes."""
    if store.backend != "sqlite":
        return
    with store.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.execute("VACUUM")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _secure_delete(conn: Connection, store: OperationalStore) -> None:
    if store.backend == "sqlite":
        conn.execute(text("PRAGMA secure_delete = ON"))


def _delete_in(conn: Connection, table: object, column: str, values: Sequence[str]) -> int:
    deleted = 0
    col = table.c[column]  # type: ignore[attr-defined]
    for start in range(0, len(values), _CHUNK):
        chunk = list(values[start : start + _CHUNK])
        deleted += conn.execute(delete(table).where(col.in_(chunk))).rowcount  # type: ignore[arg-type]
    return deleted


def _delete_task_corrections(
    conn: Connection, profile_ids: Sequence[str], record_ids: Sequence[str]
) -> int:
    tasks = METADATA.tables["review_tasks"]
    corrections = METADATA.tables["quality_corrections"]
    if not profile_ids and not record_ids:
        return 0
    task_ids = select(tasks.c.task_id).where(
        or_(tasks.c.profile_id.in_(list(profile_ids)), tasks.c.record_key.in_(list(record_ids)))
    )
    return conn.execute(delete(corrections).where(corrections.c.task_id.in_(task_ids))).rowcount


def person_rows(
    store: OperationalStore, *, profile_ids: Sequence[str], record_ids: Sequence[str]
) -> dict[str, list[dict[str, object]]]:
    """The person's store rows per table (for an access request), same scope as the delete.

    Identity edges are returned only when both records are the person's: an edge to someone
    else's record (a refused family match) would disclose that record.
    """
    keys: dict[KeyKind, set[str]] = {"profile": set(profile_ids), "record": set(record_ids)}
    out: dict[str, list[dict[str, object]]] = {}
    with store.read() as conn:
        for name, column, kind in PERSON_ROWS:
            table = METADATA.tables.get(name)
            if table is None or not keys[kind]:
                continue
            query = select(table).where(table.c[column].in_(sorted(keys[kind])))
            rows = [dict(row._mapping) for row in conn.execute(query)]
            if name == "identity_edges":
                rows = [r for r in rows if {r["left_record"], r["right_record"]} <= keys["record"]]
            known = out.setdefault(name, [])
            known += [r for r in rows if r not in known]
    return {name: rows for name, rows in out.items() if rows}
