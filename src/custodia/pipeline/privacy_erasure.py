"""Erasure requests: remove one person from every place the workspace keeps data, with a receipt.

Order of work, each step by surrogate key (see :mod:`custodia.pipeline.privacy_scope` for how
the person's rows are found, and why identifiers shared with someone else are left alone):

1. lake tables: :meth:`Lakehouse.delete_by_keys` (no value reaches the commit log), then in a
   child process a vacuum with retention 0 and a checkpoint plus log cleanup with retention 0, so
   no old data file, commit or statistic still holds the values (delta-rs can abort at
   interpreter exit after heavy maintenance, delta-rs #2184: the child takes that risk, not the
   caller);
2. operational store: identity records, identifiers and edges, profile registry (golden traits),
   consents, review tasks and corrections, unmask requests, portal tokens, expiries; the data key
   is shredded and blind indexes deleted; then the SQLite file is rebuilt (``VACUUM``) so freed
   pages and the WAL keep nothing;
3. event log files: consumed request bodies holding the person's ids;
4. earlier exports of the person under ``HOME/privacy/exports``.

The receipt lists counts per place, never values; one ``privacy.erase`` audit event records it.
The message-id index keeps erased ids on purpose (a retried message is not stored again).

Example::

    receipt = erase_person(ws, "phone:13812340001", actor="cli:dpo", reason="GDPR art. 17")
    receipt.counts["lake.customer_records"]
"""

from __future__ import annotations

import multiprocessing
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from custodia.core.ids import new_id
from custodia.pipeline.privacy_scope import PersonScope, person_scope
from custodia.privacy.audit_events import PrivacyAction, PrivacyEvent, record_privacy_event
from custodia.privacy.column_sealing import subject_ids_of
from custodia.storage.event_log_erasure import erase_log_entries, event_log_files
from custodia.storage.lake import Lakehouse
from custodia.storage.store import AuditLog
from custodia.storage.store_erasure import compact_store, delete_person_rows
from custodia.storage.store_keys import DataKeyTable
from custodia.workspace import Workspace

__all__ = ["ErasureReceipt", "clean_lake_in_child", "clean_tables", "erase_person", "exports_dir"]


@dataclass(frozen=True)
class ErasureReceipt:
    """What an erasure removed: counts per place (``lake.orders``, ``store.consents``...)."""

    receipt_id: str
    profile_id: str
    erased_at: datetime
    actor: str
    reason: str
    counts: dict[str, int] = field(default_factory=dict)
    shared_identifiers_kept: int = 0
    pending_log_entries: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "receipt_id": self.receipt_id,
            "profile_id": self.profile_id,
            "erased_at": self.erased_at.isoformat(),
            "actor": self.actor,
            "reason": self.reason,
            "counts": dict(sorted(self.counts.items())),
            "shared_identifiers_kept": self.shared_identifiers_kept,
            "pending_log_entries": self.pending_log_entries,
        }


def exports_dir(ws: Workspace) -> Path:
    """Where exports are written by default; erasure removes the person's ones from here."""
    return ws.home / "privacy" / "exports"


def erase_person(ws: Workspace, ref: str, *, actor: str, reason: str) -> ErasureReceipt:
    """Erase the person ``ref`` finds (``ID_TYPE:VALUE``) everywhere; returns the receipt."""
    scope = person_scope(ws, ref)
    counts: dict[str, int] = {}
    counts.update(_erase_lake(ws, scope))
    counts.update(_erase_store(ws, scope, actor))
    pending = _erase_event_logs(ws, scope, counts)
    counts["exports"] = _erase_exports(ws, scope)
    receipt = ErasureReceipt(
        receipt_id=new_id("rcpt"),
        profile_id=scope.profile_id,
        erased_at=ws.clock.now(),
        actor=actor,
        reason=reason,
        counts={k: v for k, v in counts.items() if v},
        shared_identifiers_kept=len(scope.shared),
        pending_log_entries=pending,
    )
    _audit(ws, receipt)
    return receipt


def _erase_lake(ws: Workspace, scope: PersonScope) -> dict[str, int]:
    counts: dict[str, int] = {}
    touched: list[tuple[str, str]] = []
    for keys in scope.lake_keys.values():
        result = ws.lake.delete_by_keys(
            keys.zone,  # type: ignore[arg-type]
            keys.table,
            keys.column,
            list(keys.keys),
            commit_info={"custodia_action": "privacy.erase"},
        )
        counts[f"lake.{keys.table}"] = result.deleted
        touched.append((keys.zone, keys.table))
    if touched:
        counts.update(clean_lake_in_child(ws.lake.root, touched))
    return counts


def clean_lake_in_child(root: Path, tables: list[tuple[str, str]]) -> dict[str, int]:
    """Vacuum and log cleanup in a spawned process (see the module docstring)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        files, logs = pool.apply(clean_tables, (str(root), tables))
    return {"lake_files_removed": files, "lake_log_files_removed": logs}


def clean_tables(root: str, tables: list[tuple[str, str]]) -> tuple[int, int]:
    """Vacuum (retention 0, safety check off) and clean the log (retention 0) of ``tables``."""
    lake = Lakehouse(Path(root))
    files = logs = 0
    for zone, name in tables:
        files += lake.vacuum(zone, name, retention_hours=0, enforce=False)  # type: ignore[arg-type]
        logs += lake.clean_log(zone, name, log_retention_hours=0)  # type: ignore[arg-type]
    return files, logs


def _erase_store(ws: Workspace, scope: PersonScope, actor: str) -> dict[str, int]:
    keys = DataKeyTable(ws.store, ws.clock)
    shredded = 0
    subjects = subject_ids_of(profile_ids=scope.profile_ids, record_ids=scope.record_ids)
    for customer_id in keys.for_customers(subjects):
        shredded += keys.shred(customer_id, actor=actor).keys_shredded
    rows = delete_person_rows(ws.store, profile_ids=scope.profile_ids, record_ids=scope.record_ids)
    compact_store(ws.store)
    return {"store.data_keys_shredded": shredded, **{f"store.{t}": n for t, n in rows.items()}}


def _erase_event_logs(ws: Workspace, scope: PersonScope, counts: dict[str, int]) -> int:
    ids = scope.own("user_id") + scope.own("anonymous_id")
    needles = [f'"{value}"'.encode() for value in ids]
    pending = 0
    for path in event_log_files(ws.home) if needles else []:
        erased, waiting = erase_log_entries(path, needles)
        counts["event_log_entries"] = counts.get("event_log_entries", 0) + erased
        pending += waiting
    return pending


def _erase_exports(ws: Workspace, scope: PersonScope) -> int:
    root = exports_dir(ws)
    removed = 0
    for profile_id in scope.profile_ids:
        for path in sorted(root.glob(f"{profile_id}*")) if root.is_dir() else []:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed += 1
    return removed


def _audit(ws: Workspace, receipt: ErasureReceipt) -> None:
    event = PrivacyEvent(
        PrivacyAction.ERASE.value,
        "profiles",
        subject_ref=receipt.profile_id,
        refs={"receipt_id": receipt.receipt_id},
        counts={k.replace(".", "_"): v for k, v in receipt.counts.items()},
    )
    record_privacy_event(AuditLog(ws.store, ws.clock), receipt.actor, event)
