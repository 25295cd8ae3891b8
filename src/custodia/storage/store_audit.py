"""The tamper-evident audit log: an append-only, SHA-256 hash-chained table.

Each entry's ``hash`` is SHA-256 over the canonical JSON of the entry (``seq``, ``at``, ``actor``,
``action``, ``resource``, ``subject_ref``, ``details``) together with ``prev_hash``, the hash of
the entry before it (64 zeros for the first). Changing, deleting, inserting or reordering any
row breaks the chain at that row, which :meth:`AuditLog.verify` reports.

Deleting the newest entries leaves a shorter chain that is still valid. To catch that, keep the
head hash returned by :meth:`AuditLog.verify` (or :meth:`AuditLog.append`) somewhere the database
cannot rewrite - a signed report, a lakehouse commit, an external log - and pass it back as
``expected_head``.

Appends are serialised so two writers never chain onto the same predecessor: ``BEGIN IMMEDIATE``
on SQLite (from :meth:`OperationalStore.begin`) and a table lock on PostgreSQL that conflicts with
itself but not with readers.

Example::

    audit = AuditLog(store)
    audit.append("admin@example.com", "token.issue", "api_tokens", details={"role": "analyst"})
    report = audit.verify()
    assert report.ok, report.fault
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Row, select
from sqlalchemy.engine import Connection

from custodia.core.clock import Clock, SystemClock
from custodia.storage.store_schema import (
    JsonValue,
    audit_log,
    canonical_json,
    check_fits,
    to_json_value,
)

if TYPE_CHECKING:
    from custodia.storage.store import OperationalStore

GENESIS_HASH: Final = "0" * 64
"""``prev_hash`` of the first entry."""

_VERIFY_BATCH: Final = 1000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit log entry as stored. ``subject_ref`` is a surrogate key, never a raw identifier."""

    seq: int
    at: datetime
    actor: str
    action: str
    resource: str
    subject_ref: str | None
    details: JsonValue
    prev_hash: str
    hash: str


class AuditFault(StrEnum):
    """Why verification stopped at an entry."""

    SEQ_GAP = "seq_gap"
    """An entry is missing (or was inserted): sequence numbers are not 1, 2, 3, ..."""
    PREV_HASH_MISMATCH = "prev_hash_mismatch"
    """An entry does not point at the hash of the entry before it."""
    HASH_MISMATCH = "hash_mismatch"
    """An entry's content no longer matches its hash: it was modified."""
    HEAD_MISMATCH = "head_mismatch"
    """The chain is intact but does not end at the expected head: newest entries are gone."""


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """Outcome of :meth:`AuditLog.verify`.

    ``checked`` counts the entries that passed; ``head_hash`` is the hash of the last of them.
    On failure ``fault`` says why and ``fault_seq`` names the first bad entry (``None`` for a
    head mismatch).
    """

    ok: bool
    checked: int
    head_hash: str | None
    fault: AuditFault | None = None
    fault_seq: int | None = None


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    resource: str,
    subject_ref: str | None,
    details: JsonValue,
    prev_hash: str,
) -> str:
    """The SHA-256 hex digest that seals one entry onto the chain after ``prev_hash``."""
    payload = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "resource": resource,
        "subject_ref": subject_ref,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


class AuditLog:
    """Append to, verify and read the audit chain."""

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock or SystemClock()

    def append(
        self,
        actor: str,
        action: str,
        resource: str,
        *,
        subject_ref: str | None = None,
        details: object = None,
        conn: Connection | None = None,
    ) -> AuditEntry:
        """Seal a new entry onto the chain and return it.

        Pass ``conn`` (from :meth:`OperationalStore.begin`) to make the entry part of a larger
        write, so the audited change and its entry commit or roll back together.
        """
        _check_entry_fields(actor, action, resource, subject_ref)
        clean_details = to_json_value("details", details)
        if conn is not None:
            return self._append(conn, actor, action, resource, subject_ref, clean_details)
        with self._store.begin() as own:
            return self._append(own, actor, action, resource, subject_ref, clean_details)

    def verify(self, *, expected_head: str | None = None) -> AuditVerification:
        """Recompute the whole chain in one snapshot and report the first broken entry."""
        query = select(audit_log).order_by(audit_log.c.seq)
        # The result (a server-side cursor on PostgreSQL) is closed before its connection goes
        # back to the pool, also when verification stops early.
        with (
            self._store.read() as conn,
            conn.execute(query, execution_options={"yield_per": _VERIFY_BATCH}) as rows,
        ):
            return _verify_entries((_entry(row) for row in rows), expected_head)

    def tail(self, limit: int = 20) -> list[AuditEntry]:
        """The newest ``limit`` entries, oldest of them first."""
        query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
        with self._store.read() as conn:
            entries = [_entry(row) for row in conn.execute(query)]
        return entries[::-1]

    def _append(
        self,
        conn: Connection,
        actor: str,
        action: str,
        resource: str,
        subject_ref: str | None,
        details: JsonValue,
    ) -> AuditEntry:
        _lock_chain(conn)
        last = conn.execute(
            select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
        ).first()
        seq, prev_hash = (1, GENESIS_HASH) if last is None else (last.seq + 1, last.hash)
        entry = _seal(
            seq=seq,
            at=self._clock.now().astimezone(UTC),
            actor=actor,
            action=action,
            resource=resource,
            subject_ref=subject_ref,
            details=details,
            prev_hash=prev_hash,
        )
        conn.execute(audit_log.insert().values(asdict(entry)))
        return entry


def _seal(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    resource: str,
    subject_ref: str | None,
    details: JsonValue,
    prev_hash: str,
) -> AuditEntry:
    digest = entry_hash(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        resource=resource,
        subject_ref=subject_ref,
        details=details,
        prev_hash=prev_hash,
    )
    return AuditEntry(seq, at, actor, action, resource, subject_ref, details, prev_hash, digest)


def _check_entry_fields(actor: str, action: str, resource: str, subject_ref: str | None) -> None:
    check_fits(audit_log.c.actor, actor)
    check_fits(audit_log.c.action, action)
    check_fits(audit_log.c.resource, resource)
    if subject_ref is not None:
        check_fits(audit_log.c.subject_ref, subject_ref)


def _lock_chain(conn: Connection) -> None:
    """Make this transaction the only appender until it ends.

    SQLite needs nothing here: the write transaction already holds the database's single write
    lock (``BEGIN IMMEDIATE``). PostgreSQL's SHARE ROW EXCLUSIVE conflicts with itself and with
    plain writes, never with readers.
    """
    if conn.dialect.name == "postgresql":
        table = conn.dialect.identifier_preparer.format_table(audit_log)
        conn.exec_driver_sql(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")


def _verify_entries(entries: Iterable[AuditEntry], expected_head: str | None) -> AuditVerification:
    checked, prev_hash = 0, GENESIS_HASH
    for entry in entries:
        fault = _entry_fault(entry, checked + 1, prev_hash)
        if fault is not None:
            head = None if checked == 0 else prev_hash
            return AuditVerification(False, checked, head, fault, entry.seq)
        checked, prev_hash = checked + 1, entry.hash
    head = None if checked == 0 else prev_hash
    if expected_head is not None and head != expected_head:
        return AuditVerification(False, checked, head, AuditFault.HEAD_MISMATCH)
    return AuditVerification(True, checked, head)


def _entry_fault(entry: AuditEntry, expected_seq: int, prev_hash: str) -> AuditFault | None:
    if entry.seq != expected_seq:
        return AuditFault.SEQ_GAP
    if entry.prev_hash != prev_hash:
        return AuditFault.PREV_HASH_MISMATCH
    recomputed = entry_hash(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        resource=entry.resource,
        subject_ref=entry.subject_ref,
        details=entry.details,
        prev_hash=entry.prev_hash,
    )
    return None if recomputed == entry.hash else AuditFault.HASH_MISMATCH


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(**row._asdict())
