"""The hash-chained audit log: appends, tamper detection and concurrent writers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from custodia.core.clock import FrozenClock
from custodia.core.errors import ValidationError
from custodia.storage.audit_anchor import FileAuditAnchor
from custodia.storage.store import AuditFault, AuditLog, OperationalStore
from custodia.storage.store_audit import GENESIS_HASH, entry_hash
from custodia.storage.store_schema import audit_log

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _fill(store: OperationalStore, count: int) -> AuditLog:
    clock = FrozenClock(T0)
    audit = AuditLog(store, clock)
    for number in range(count):
        audit.append(
            "steward@example.com",
            "profile.merge",
            "profiles",
            subject_ref=f"prof_{number}",
            details={"rule": "手机号一致", "score": 0.97, "n": number},
        )
        clock.advance(timedelta(seconds=1))
    return audit


def test_appends_form_a_chain(operational_store: OperationalStore) -> None:
    audit = _fill(operational_store, 3)
    first, second, third = audit.tail()
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert first.details == {"rule": "手机号一致", "score": 0.97, "n": 0}
    assert first.at == T0
    assert second.at == T0 + timedelta(seconds=1)

    report = audit.verify(expected_head=third.hash)
    assert (report.ok, report.checked, report.head_hash, report.fault) == (
        True,
        3,
        third.hash,
        None,
    )


def test_hash_covers_content_and_predecessor() -> None:
    fields = {
        "seq": 1,
        "at": T0,
        "actor": "a",
        "action": "x",
        "resource": "r",
        "subject_ref": None,
        "details": {"k": "值"},
        "prev_hash": GENESIS_HASH,
    }
    base = entry_hash(**fields)  # type: ignore[arg-type]
    assert len(base) == 64
    for name, changed in [("actor", "b"), ("details", {"k": "值2"}), ("prev_hash", "1" * 64)]:
        assert entry_hash(**{**fields, name: changed}) != base  # type: ignore[arg-type]


def test_empty_log_verifies(operational_store: OperationalStore) -> None:
    report = AuditLog(operational_store).verify()
    assert (report.ok, report.checked, report.head_hash) == (True, 0, None)


def test_verify_detects_a_modified_row(operational_store: OperationalStore) -> None:
    audit = _fill(operational_store, 5)
    with operational_store.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(actor="someone else"))

    report = audit.verify()
    assert (report.ok, report.fault, report.fault_seq, report.checked) == (
        False, AuditFault.HASH_MISMATCH, 3, 2,
    )  # fmt: skip


def test_verify_detects_modified_details(operational_store: OperationalStore) -> None:
    audit = _fill(operational_store, 3)
    with operational_store.begin() as conn:
        tampered = {"rule": "手机号一致", "score": 0.5, "n": 0}
        conn.execute(update(audit_log).where(audit_log.c.seq == 1).values(details=tampered))

    report = audit.verify()
    assert (report.fault, report.fault_seq) == (AuditFault.HASH_MISMATCH, 1)


def test_verify_detects_a_rewritten_and_resealed_row(operational_store: OperationalStore) -> None:
    audit = _fill(operational_store, 4)
    (victim,) = [entry for entry in audit.tail() if entry.seq == 2]
    forged = {
        "seq": 2,
        "at": victim.at,
        "actor": "forger",
        "action": victim.action,
        "resource": victim.resource,
        "subject_ref": victim.subject_ref,
        "details": victim.details,
        "prev_hash": victim.prev_hash,
    }
    with operational_store.begin() as conn:
        resealed = entry_hash(**forged)  # type: ignore[arg-type]
        conn.execute(
            update(audit_log).where(audit_log.c.seq == 2).values(actor="forger", hash=resealed)
        )

    report = audit.verify()
    assert (report.fault, report.fault_seq) == (AuditFault.PREV_HASH_MISMATCH, 3)


def test_verify_detects_a_deleted_row(operational_store: OperationalStore) -> None:
    audit = _fill(operational_store, 5)
    with operational_store.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 2))

    report = audit.verify()
    assert (report.ok, report.fault, report.fault_seq, report.checked) == (
        False, AuditFault.SEQ_GAP, 3, 1,
    )  # fmt: skip


def test_verify_detects_deleted_newest_rows_given_the_head(
    operational_store: OperationalStore,
) -> None:
    audit = _fill(operational_store, 4)
    head = audit.verify().head_hash
    with operational_store.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq >= 3))

    assert audit.verify().ok  # a truncated chain is still a valid chain...
    report = audit.verify(expected_head=head)  # ...but it no longer ends where it did
    assert (report.ok, report.fault, report.checked) == (False, AuditFault.HEAD_MISMATCH, 2)


def test_append_inside_a_transaction_rolls_back_with_it(
    operational_store: OperationalStore,
) -> None:
    audit = AuditLog(operational_store)
    with pytest.raises(RuntimeError), operational_store.begin() as conn:
        audit.append("admin", "token.issue", "api_tokens", conn=conn)
        raise RuntimeError("the audited change failed")
    assert audit.tail() == []
    entry = audit.append("admin", "token.issue", "api_tokens")
    assert (entry.seq, entry.prev_hash) == (1, GENESIS_HASH)


def test_bad_entries_are_refused(operational_store: OperationalStore) -> None:
    audit = AuditLog(operational_store)
    with pytest.raises(ValidationError) as caught:
        audit.append("admin", "x", "r", details={"values": {1, 2}})
    assert caught.value.field == "details"
    with pytest.raises(ValidationError) as caught:
        audit.append("admin", "a" * 101, "r")
    assert caught.value.field == "action"
    assert audit.tail() == []


def test_tail_returns_the_newest_entries_oldest_first(
    operational_store: OperationalStore,
) -> None:
    audit = _fill(operational_store, 5)
    assert [entry.seq for entry in audit.tail(2)] == [4, 5]


def test_concurrent_writers_keep_the_chain_intact(
    operational_store: OperationalStore, tmp_path: Path
) -> None:
    writers, per_writer = 4, 25
    anchor = FileAuditAnchor(tmp_path / "anchor.jsonl", key=lambda: b"k" * 32)
    audit = AuditLog(operational_store, anchor=anchor)
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            start.wait()
            for number in range(per_writer):
                audit.append(f"writer-{writer}", "test.append", "audit_log", details={"n": number})
        except BaseException as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    report = audit.verify()
    assert (report.ok, report.checked) == (True, writers * per_writer)
    assert report.anchored_seq == writers * per_writer  # every entry anchored after its commit
    assert sorted(anchor.read().heads) == list(range(1, writers * per_writer + 1))
    with operational_store.read() as conn:
        seqs = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq)).scalars().all()
    assert seqs == list(range(1, writers * per_writer + 1))
