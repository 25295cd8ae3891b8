"""The anchored audit chain: every kind of tampering is reported at its first broken entry.

Each scenario runs on SQLite and on PostgreSQL (the ``operational_store`` fixture), with the anchor
in a file outside the store, as a workspace has it.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, update

from custodia.core.clock import FrozenClock
from custodia.core.errors import StorageError
from custodia.storage.audit_anchor import AnchorHead, FileAuditAnchor, anchor_key
from custodia.storage.store import AuditEntry, AuditFault, AuditLog, OperationalStore
from custodia.storage.store_audit import entry_hash
from custodia.storage.store_schema import audit_log

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
KEY = anchor_key(b"workspace-secret-for-tests-0123456789")


@pytest.fixture
def anchor(tmp_path: Path) -> FileAuditAnchor:
    return FileAuditAnchor(tmp_path / "audit" / "anchor.jsonl", key=lambda: KEY)


@pytest.fixture
def store(operational_store: OperationalStore, anchor: FileAuditAnchor) -> OperationalStore:
    operational_store.audit_anchor = anchor
    return operational_store


def _fill(store: OperationalStore, count: int) -> AuditLog:
    clock = FrozenClock(T0)
    audit = AuditLog(store, clock)
    for number in range(count):
        audit.append("officer", "data.unmask", "profiles", subject_ref=f"prof_{number}")
        clock.advance(timedelta(seconds=1))
    return audit


def _fault(audit: AuditLog) -> tuple[AuditFault | None, int | None]:
    report = audit.verify()
    assert report.ok is (report.fault is None)
    return report.fault, report.fault_seq


def _entry(audit: AuditLog, seq: int) -> AuditEntry:
    (found,) = [e for e in audit.tail(100) if e.seq == seq]
    return found


def _reseal_from(store: OperationalStore, audit: AuditLog, seq: int, **changes: object) -> None:
    """What a forger with write access does: change one entry and re-seal it and all later."""
    entries = [e for e in audit.tail(100) if e.seq >= seq]
    prev = _entry(audit, seq - 1).hash if seq > 1 else "0" * 64
    with store.begin() as conn:
        for entry in entries:
            fields = {
                "seq": entry.seq,
                "at": entry.at,
                "actor": entry.actor,
                "action": entry.action,
                "resource": entry.resource,
                "subject_ref": entry.subject_ref,
                "details": entry.details,
                **(changes if entry.seq == seq else {}),
                "prev_hash": prev,
            }
            prev = entry_hash(**fields)  # type: ignore[arg-type]
            values = {**fields, "hash": prev}
            conn.execute(update(audit_log).where(audit_log.c.seq == entry.seq).values(values))


def _anchor_lines(anchor: FileAuditAnchor) -> list[str]:
    return anchor.path.read_text().splitlines()


def _write_anchor_lines(anchor: FileAuditAnchor, lines: list[str]) -> None:
    anchor.path.write_text("\n".join(lines) + "\n")


def test_every_append_is_anchored_and_verifies(
    store: OperationalStore, anchor: FileAuditAnchor
) -> None:
    audit = _fill(store, 4)
    reading = anchor.read()
    assert reading.heads == {e.seq: e.hash for e in audit.tail()}
    assert reading.bad_lines == ()
    report = audit.verify()
    assert (report.ok, report.checked, report.anchored_seq) == (True, 4, 4)
    assert "intact" in report.summary
    assert anchor.path.stat().st_mode & 0o777 == 0o600


def test_an_edited_row_is_reported_at_its_seq(store: OperationalStore) -> None:
    audit = _fill(store, 6)
    with store.begin() as conn:
        details = {"fields": ["phone"], "purpose": "marketing"}
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(details=details))
    assert _fault(audit) == (AuditFault.HASH_MISMATCH, 3)


def test_an_edited_and_resealed_chain_is_caught_by_the_anchor(store: OperationalStore) -> None:
    audit = _fill(store, 6)
    _reseal_from(store, audit, 3, actor="someone else")
    assert _fault(audit) == (AuditFault.ANCHOR_MISMATCH, 3)


def test_a_deleted_middle_row_is_reported_at_the_entry_after_the_gap(
    store: OperationalStore,
) -> None:
    audit = _fill(store, 6)
    with store.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 3))
    report = audit.verify()
    assert (report.fault, report.fault_seq, report.checked) == (AuditFault.SEQ_GAP, 4, 2)
    assert "entry 4" in report.summary and "missing" in report.summary


def test_a_deleted_row_hidden_by_renumbering_is_caught_by_the_anchor(
    store: OperationalStore,
) -> None:
    audit = _fill(store, 6)
    with store.begin() as conn:  # delete 3, move 4..6 down one and re-seal them
        conn.execute(delete(audit_log).where(audit_log.c.seq == 3))
        for seq in (4, 5, 6):
            conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(seq=seq - 1))
    _reseal_from(store, audit, 3)
    assert _fault(audit) == (AuditFault.ANCHOR_MISMATCH, 3)


def test_deleted_newest_rows_are_a_truncation(store: OperationalStore) -> None:
    audit = _fill(store, 6)
    with store.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq >= 5))
    report = audit.verify()
    assert (report.fault, report.fault_seq, report.checked) == (AuditFault.TRUNCATED, 5, 4)


def test_an_inserted_row_at_the_end_is_unanchored(store: OperationalStore) -> None:
    audit = _fill(store, 4)
    last = _entry(audit, 4)
    forged = {
        "seq": 5,
        "at": last.at,
        "actor": "forger",
        "action": "data.unmask",
        "resource": "profiles",
        "subject_ref": None,
        "details": None,
        "prev_hash": last.hash,
    }
    with store.begin() as conn:  # correctly chained: only the anchor can tell
        conn.execute(insert(audit_log).values(**forged, hash=entry_hash(**forged)))  # type: ignore[arg-type]
    assert _fault(audit) == (AuditFault.UNANCHORED, 5)


def test_a_row_inserted_in_the_middle_is_reported_at_its_seq(store: OperationalStore) -> None:
    audit = _fill(store, 5)
    with store.begin() as conn:  # make room: 5 -> 6, 4 -> 5, 3 -> 4
        for seq in (5, 4, 3):
            conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(seq=seq + 1))
    prev = _entry(audit, 2)
    forged = {
        "seq": 3,
        "at": prev.at,
        "actor": "forger",
        "action": "consent.change",
        "resource": "consents",
        "subject_ref": "prof_9",
        "details": None,
        "prev_hash": prev.hash,
    }
    with store.begin() as conn:
        conn.execute(insert(audit_log).values(**forged, hash=entry_hash(**forged)))  # type: ignore[arg-type]
    _reseal_from(store, audit, 4)  # chain the moved entries onto the forged one
    assert _fault(audit) == (AuditFault.ANCHOR_MISMATCH, 3)


def test_an_edited_anchor_line_fails_its_signature(
    store: OperationalStore, anchor: FileAuditAnchor
) -> None:
    audit = _fill(store, 5)
    lines = _anchor_lines(anchor)
    lines[3] = json.dumps({**json.loads(lines[3]), "hash": "f" * 64})
    _write_anchor_lines(anchor, lines)
    report = audit.verify()
    assert (report.fault, report.fault_seq, report.anchor_line) == (AuditFault.ANCHOR_FORGED, 4, 4)
    assert "anchor line 4" in report.summary


def test_a_garbled_anchor_line_is_reported(
    store: OperationalStore, anchor: FileAuditAnchor
) -> None:
    audit = _fill(store, 3)
    _write_anchor_lines(anchor, ["not json", *_anchor_lines(anchor)])
    report = audit.verify()
    assert (report.fault, report.fault_seq, report.anchor_line) == (
        AuditFault.ANCHOR_FORGED, None, 1,
    )  # fmt: skip


def test_anchor_lines_signed_with_another_key_are_forged(
    store: OperationalStore, anchor: FileAuditAnchor
) -> None:
    audit = _fill(store, 2)
    other = FileAuditAnchor(anchor.path, key=lambda: anchor_key(b"another-secret-0123456789abcdef"))
    other.record(AnchorHead(3, "a" * 64))
    assert _fault(audit) == (AuditFault.ANCHOR_FORGED, 3)


def test_deleted_anchor_lines_leave_entries_unanchored(
    store: OperationalStore, anchor: FileAuditAnchor
) -> None:
    audit = _fill(store, 5)
    _write_anchor_lines(anchor, _anchor_lines(anchor)[:3])
    assert _fault(audit) == (AuditFault.UNANCHORED, 4)


def test_a_torn_last_line_is_ignored_and_cut_before_the_next_write(
    store: OperationalStore, anchor: FileAuditAnchor
) -> None:
    audit = _fill(store, 3)
    with anchor.path.open("ab") as fh:
        fh.write(b'{"format":"custodia-audit-anc')  # a crash in the middle of a write
    assert anchor.read().bad_lines == ()
    audit.append("officer", "data.export", "profiles", subject_ref="prof_1")
    reading = anchor.read()
    assert (sorted(reading.heads), reading.bad_lines) == ([1, 2, 3, 4], ())
    assert audit.verify().ok


def test_a_rolled_back_append_is_not_anchored(
    store: OperationalStore, anchor: FileAuditAnchor
) -> None:
    audit = AuditLog(store)
    with pytest.raises(RuntimeError), store.begin() as conn:
        audit.append("officer", "privacy.erase", "profiles", subject_ref="prof_1", conn=conn)
        raise RuntimeError("the erasure failed")
    assert anchor.read().heads == {}
    assert audit.verify().ok


def test_an_append_inside_a_transaction_is_anchored_after_its_commit(
    store: OperationalStore, anchor: FileAuditAnchor
) -> None:
    audit = AuditLog(store)
    with store.begin() as conn:
        entry = audit.append("officer", "privacy.erase", "profiles", conn=conn)
        assert anchor.read().heads == {}  # not yet committed: nothing vouched for
    assert anchor.read().heads == {1: entry.hash}


def test_a_failed_anchor_write_keeps_the_entry_and_is_repaired_by_anchor_head(
    store: OperationalStore,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    audit = _fill(store, 2)
    blocked = FileAuditAnchor(tmp_path / "file" / "anchor.jsonl", key=lambda: KEY)
    (tmp_path / "file").write_text("a file where the directory should be")
    with caplog.at_level(logging.WARNING):
        AuditLog(store, anchor=blocked).append("officer", "key.rotate", "data_keys")
    assert "audit entry 3 not anchored" in caplog.text
    assert _fault(audit) == (AuditFault.UNANCHORED, 3)
    head = audit.anchor_head()
    assert head is not None and head.seq == 3
    assert audit.verify().ok


def test_anchor_head_needs_an_anchor(operational_store: OperationalStore) -> None:
    with pytest.raises(StorageError, match="no"):
        AuditLog(operational_store).anchor_head()


def test_a_missing_anchor_after_entries_exist_is_unanchored(
    store: OperationalStore, anchor: FileAuditAnchor
) -> None:
    audit = _fill(store, 2)
    anchor.path.unlink()
    assert _fault(audit) == (AuditFault.UNANCHORED, 1)
