"""Removing some fields of one person from the operational store (a customer's expiry).

An erasure deletes the person's rows (:mod:`custodia.storage.store_erasure`); an expiry keeps
the person and removes named fields: the identifiers of those types from the identity index
(``identity_identifiers``) and the blind indexes, and the golden traits of those names from the
profile registry. Deletes run with ``secure_delete``; the caller compacts the file afterwards
(:func:`~custodia.storage.store_erasure.compact_store`). With ``apply=False`` nothing is
written and the counts say what would change (a dry run).

Example::

    counts = remove_person_fields(store, profile_ids=["prof_1"], record_ids=["crm:9ab1"],
                                  fields=("email", "phone"), apply=True)
    counts["store.identity_identifiers"]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select, text, update

from custodia.storage.store import OperationalStore
from custodia.storage.store_schema import blind_indexes, identity_identifiers, profile_registry

__all__ = ["remove_person_fields"]


def remove_person_fields(
    store: OperationalStore,
    *,
    profile_ids: Sequence[str],
    record_ids: Sequence[str],
    fields: Sequence[str],
    apply: bool,
) -> dict[str, int]:
    """Identifiers of the types in ``fields`` and traits named in ``fields``; counts per place."""
    with store.begin() as conn:
        if apply and store.backend == "sqlite":
            conn.execute(text("PRAGMA secure_delete = ON"))
        counts = {
            "store.identity_identifiers": _identifiers(conn, record_ids, fields, apply),
            "store.blind_indexes": _blind_indexes(conn, profile_ids, fields, apply),
            "store.profile_registry.traits": _traits(conn, profile_ids, fields, apply),
        }
    return {place: n for place, n in counts.items() if n}


def _identifiers(
    conn: Connection, record_ids: Sequence[str], fields: Sequence[str], apply: bool
) -> int:
    c = identity_identifiers.c
    where = (c.record_id.in_(list(record_ids)), c.id_type.in_(list(fields)))
    return _delete_or_count(conn, identity_identifiers, where, apply)


def _blind_indexes(
    conn: Connection, profile_ids: Sequence[str], fields: Sequence[str], apply: bool
) -> int:
    c = blind_indexes.c
    where = (c.customer_id.in_(list(profile_ids)), c.id_type.in_(list(fields)))
    return _delete_or_count(conn, blind_indexes, where, apply)


def _delete_or_count(conn: Connection, table: Table, where: tuple[Any, ...], apply: bool) -> int:
    if not apply:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())
    return int(conn.execute(delete(table).where(*where)).rowcount or 0)


def _traits(
    conn: Connection, profile_ids: Sequence[str], fields: Sequence[str], apply: bool
) -> int:
    c = profile_registry.c
    rows = conn.execute(select(c.profile_id, c.traits).where(c.profile_id.in_(list(profile_ids))))
    removed = 0
    for profile_id, traits in rows.all():
        kept: dict[str, Any] = {k: v for k, v in (traits or {}).items() if k not in fields}
        if len(kept) == len(traits or {}):
            continue
        removed += len(traits) - len(kept)
        if apply:
            statement = update(profile_registry).where(c.profile_id == profile_id)
            conn.execute(statement.values(traits=kept))
    return removed
