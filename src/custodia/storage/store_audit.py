"""The tamper-evident audit log: an append-only, SHA-256 hash-chained table.

Each entry's ``hash`` is SHA-256 over the canonical JSON of the entry (``seq``, ``at``, ``actor``,
``action``, ``resource``, ``subject_ref``, ``details``) together with ``prev_hash``, the hash of
the entry before it (64 zeros for the first). Changing, deleting, inserting or reordering any
row breaks the chain at that row, which :meth:`AuditLog.verify` reports.

Deleting the newest entries leaves a shorter chain that is still valid, and the hashes are
unkeyed, so whoever can write the table can also re-seal every entry after an edit. Both are
caught by the anchor (:mod:`custodia.storage.audit_anchor`): after each committed append the new
head is recorded outside the store (``store.audit_anchor``, set by the workspace), and
:meth:`AuditLog.verify` checks the chain against every anchored head:

- an entry whose hash differs from the one anchored for its seq (re-sealed or replaced);
- anchored entries missing from the end of the chain (truncation);
- entries after the newest anchored head (inserted outside Custodia, or a crash between the
  commit and the anchor write: ``custodia audit anchor`` re-anchors after a review);
- anchor lines whose signature fails (the anchor itself was edited).

The report names the first broken entry. Without an anchor, keep the head hash returned by
:meth:`AuditLog.verify` somewhere the database cannot rewrite and pass it back as
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
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Row, select
from sqlalchemy.engine import Connection

from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import StorageError
from custodia.storage.audit_anchor import AnchorHead, AnchorReading, AuditAnchor
from custodia.storage.store_commit import after_commit
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
_log = logging.getLogger(__name__)


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
    ANCHOR_MISMATCH = "anchor_mismatch"
    """An entry's hash differs from the one anchored for its seq: re-sealed or replaced."""
    TRUNCATED = "truncated"
    """Entries the anchor vouches for are missing from the end of the chain."""
    UNANCHORED = "unanchored"
    """Entries after the newest anchored head: inserted outside Custodia, or never anchored."""
    ANCHOR_FORGED = "anchor_forged"
    """A line of the anchor fails its signature or cannot be read: the anchor was edited."""


_FAULT_TEXT: Final = {
    AuditFault.SEQ_GAP: "an entry before it is missing, or it was inserted",
    AuditFault.PREV_HASH_MISMATCH: "it does not point at the hash of the entry before it",
    AuditFault.HASH_MISMATCH: "its content no longer matches its hash (modified)",
    AuditFault.HEAD_MISMATCH: "the chain does not end at the expected head",
    AuditFault.ANCHOR_MISMATCH: "its hash differs from the anchored one (re-sealed or replaced)",
    AuditFault.TRUNCATED: "it and every later anchored entry are gone (truncated)",
    AuditFault.UNANCHORED: "it and later entries were never anchored (inserted, or not anchored)",
    AuditFault.ANCHOR_FORGED: "its anchor line fails the signature (the anchor was edited)",
}


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """Outcome of :meth:`AuditLog.verify`.

    ``checked`` counts the entries that passed; ``head_hash`` is the hash of the last of them.
    On failure ``fault`` says why and ``fault_seq`` names the first bad entry (``None`` for a
    head mismatch; for a truncation, the first missing one). ``anchored_seq`` is the newest
    anchored sequence number (``None`` without an anchor or before the first anchored append);
    ``anchor_line`` names the anchor line of an ``anchor_forged`` fault.
    """

    ok: bool
    checked: int
    head_hash: str | None
    fault: AuditFault | None = None
    fault_seq: int | None = None
    anchored_seq: int | None = None
    anchor_line: int | None = None

    @property
    def summary(self) -> str:
        """One line for people: intact, or the first broken entry and why."""
        if self.ok:
            return f"audit chain intact: {self.checked} entries, anchored up to {self.anchored_seq}"
        where = "the chain's end" if self.fault_seq is None else f"entry {self.fault_seq}"
        line = "" if self.anchor_line is None else f" (anchor line {self.anchor_line})"
        assert self.fault is not None
        return f"audit chain broken at {where}{line}: {_FAULT_TEXT[self.fault]}"


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

    def __init__(
        self,
        store: OperationalStore,
        clock: Clock | None = None,
        *,
        anchor: AuditAnchor | None = None,
    ) -> None:
        self._store = store
        self._clock = clock or SystemClock()
        self._anchor = anchor if anchor is not None else store.audit_anchor

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
        """Recompute the whole chain in one snapshot, check it against the anchor, and report
        the first broken entry.

        The anchor is read before the snapshot (what it vouches for was committed by then, so
        a missing anchored entry is a truncation) and again after it (an append that committed
        during the scan has anchored itself by then, so it is not taken for an insertion).
        """
        before = self._anchor.read() if self._anchor is not None else None
        with self._entries() as entries:
            report, last_seq = _verify_entries(entries, expected_head, before)
        if before is None:
            return report
        after = self._anchor.read() if self._anchor is not None else before
        return _check_anchor(report, last_seq, before, after)

    def anchor_head(self) -> AnchorHead | None:
        """Record the current head in the anchor (after a crash left entries unanchored, or
        to adopt entries written before the anchor existed); returns it, or ``None`` when
        the log is empty. Only call it after verifying that the entries are genuine."""
        if self._anchor is None:
            raise StorageError("audit anchor: none is configured for this store")
        query = select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc())
        with self._store.read() as conn:
            last = conn.execute(query.limit(1)).first()
        if last is None:
            return None
        head = AnchorHead(last.seq, last.hash)
        self._anchor.record(head)
        return head

    def entries(
        self,
        *,
        subject_refs: Iterable[str] | None = None,
        actions: Iterable[str] | None = None,
        limit: int = 100,
        before_seq: int | None = None,
    ) -> list[AuditEntry]:
        """Entries newest first, optionally only of some subjects or actions; page backwards
        with ``before_seq`` (the smallest seq of the previous page)."""
        query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
        if subject_refs is not None:
            query = query.where(audit_log.c.subject_ref.in_(list(subject_refs)))
        if actions is not None:
            query = query.where(audit_log.c.action.in_(list(actions)))
        if before_seq is not None:
            query = query.where(audit_log.c.seq < before_seq)
        with self._store.read() as conn:
            return [_entry(row) for row in conn.execute(query)]

    @contextmanager
    def _entries(self) -> Iterator[Iterator[AuditEntry]]:
        query = select(audit_log).order_by(audit_log.c.seq)
        # The result (a server-side cursor on PostgreSQL) is closed before its connection goes
        # back to the pool, also when verification stops early.
        with (
            self._store.read() as conn,
            conn.execute(query, execution_options={"yield_per": _VERIFY_BATCH}) as rows,
        ):
            yield (_entry(row) for row in rows)

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
        if self._anchor is not None:
            after_commit(conn, lambda: _record_head(self._anchor, entry))
        return entry


def _record_head(anchor: AuditAnchor | None, entry: AuditEntry) -> None:
    """Anchor a committed entry. A failure must not undo or fail the committed operation; it
    leaves the entry unanchored, which the next append covers and the verifier reports."""
    if anchor is None:
        return
    try:
        anchor.record(AnchorHead(entry.seq, entry.hash))
    except StorageError as exc:
        _log.warning("audit entry %s not anchored: %s", entry.seq, exc)


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


def _verify_entries(
    entries: Iterable[AuditEntry], expected_head: str | None, anchor: AnchorReading | None
) -> tuple[AuditVerification, int | None]:
    """The chain's report, and the last seq read (``None`` when it stopped at a fault)."""
    anchored: Mapping[int, str] = {} if anchor is None else anchor.heads
    checked, prev_hash = 0, GENESIS_HASH
    for entry in entries:
        fault = _entry_fault(entry, checked + 1, prev_hash, anchored)
        if fault is not None:
            head = None if checked == 0 else prev_hash
            return AuditVerification(False, checked, head, fault, entry.seq), None
        checked, prev_hash = checked + 1, entry.hash
    head = None if checked == 0 else prev_hash
    if expected_head is not None and head != expected_head:
        return AuditVerification(False, checked, head, AuditFault.HEAD_MISMATCH), checked
    return AuditVerification(True, checked, head), checked


def _check_anchor(
    report: AuditVerification, last_seq: int | None, before: AnchorReading, after: AnchorReading
) -> AuditVerification:
    """Add what only the anchor shows, keeping the fault at the lowest seq."""
    newest = max(before.newest_seq or 0, after.newest_seq or 0) or None
    faults: list[tuple[int, AuditFault, int | None]] = []
    if report.fault is not None and report.fault_seq is not None:
        faults.append((report.fault_seq, report.fault, None))
    faults += [(bad.seq or 0, AuditFault.ANCHOR_FORGED, bad.line) for bad in before.bad_lines]
    if last_seq is not None:
        if (before.newest_seq or 0) > last_seq:
            faults.append((last_seq + 1, AuditFault.TRUNCATED, None))
        elif last_seq > (newest or 0):
            faults.append(((newest or 0) + 1, AuditFault.UNANCHORED, None))
    if not faults:
        return replace(report, anchored_seq=newest)
    seq, fault, line = min(faults, key=lambda f: f[0])
    checked = report.checked if not report.ok else min(report.checked, max(seq - 1, 0))
    return AuditVerification(False, checked, report.head_hash, fault, seq or None, newest, line)


def _entry_fault(
    entry: AuditEntry, expected_seq: int, prev_hash: str, anchored: Mapping[int, str]
) -> AuditFault | None:
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
    if recomputed != entry.hash:
        return AuditFault.HASH_MISMATCH
    expected = anchored.get(entry.seq)
    return None if expected is None or expected == entry.hash else AuditFault.ANCHOR_MISMATCH


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(**row._asdict())
