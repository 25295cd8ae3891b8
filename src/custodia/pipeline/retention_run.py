"""The retention job: customers' due expiries and the policy's age limits, in one recorded run.

Order of work (each step by surrogate key, as an erasure):

1. every due ``user_expiries`` row (:meth:`UserExpiryTable.due`) is enforced
   (:mod:`custodia.pipeline.retention_expiry`);
2. the age limits of the retention policy in force are applied
   (:mod:`custodia.pipeline.retention_age`);
3. every lake table written is vacuumed and its log cleaned in a child process (retention 0,
   as after an erasure), and the SQLite store is compacted, so removed values are gone from
   disk, not only from the live tables;
4. the receipt (counts per table and field, never a value) is stored as the run's stats (run
   kind ``retention``), each expiry is marked ``enforced`` with the receipt id, and the audit
   trail gets one ``privacy.expire`` entry per enforced expiry and one ``privacy.retention``
   entry for the run.

A dry run does steps 1 and 2 without writing, records the run with the counts that would go,
and writes no audit entry (nothing was done to anyone's data). Running again removes nothing
more: enforced expiries are not due any more and old rows are already gone.

Example::

    receipt = run_retention(ws, actor="cli:dpo")
    receipt.counts["lake.events"], receipt.expiries[0].expiry_id
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from custodia.core.errors import NotFoundError
from custodia.core.ids import new_id
from custodia.pipeline.file_in_force import FileInForce, InForce
from custodia.pipeline.privacy_erasure import clean_lake_in_child
from custodia.pipeline.retention_age import AgeOutcome, apply_age_limits
from custodia.pipeline.retention_expiry import enforce_expiry
from custodia.pipeline.retention_writes import LakeEdits
from custodia.privacy.audit_events import PrivacyAction, PrivacyEvent, record_privacy_event
from custodia.privacy.policy_audit import PolicyChangeAudit
from custodia.privacy.retention import (
    RETENTION_PATH,
    RetentionPolicy,
    load_retention_file,
    parse_retention_policy,
    shipped_retention_text,
)
from custodia.privacy.user_expiry import expiry_coverage
from custodia.storage.store import AuditLog
from custodia.storage.store_erasure import compact_store
from custodia.storage.store_portal import UserExpiryTable
from custodia.storage.store_runs import RunLog, RunStatus
from custodia.workspace import Workspace

__all__ = [
    "RUN_KIND",
    "ExpiryOutcome",
    "RetentionReceipt",
    "install_retention_policy",
    "retention_policy_in_force",
    "retention_receipt",
    "retention_runs",
    "run_retention",
]

RUN_KIND = "retention"
Progress = Callable[[str, int, int], None]


class ExpiryOutcome(BaseModel):
    """One enforced expiry: whose (profile id), what it named, and what went."""

    expiry_id: str
    profile_id: str
    fields: list[str]
    tables: list[str]
    counts: dict[str, int]


class RetentionReceipt(BaseModel):
    """What one run removed (or, dry, would remove): counts per place, never values."""

    receipt_id: str
    run_id: str
    dry_run: bool
    at: datetime
    actor: str
    policy: str
    """The policy in force: ``retention.yaml``, ``retention.active.yaml`` or ``shipped``."""
    policy_error: str | None = None
    """Why ``HOME/privacy/retention.yaml`` is not in force, when it is not."""
    expiries: list[ExpiryOutcome] = []
    age_limits: list[AgeOutcome] = []
    counts: dict[str, int] = {}


def run_retention(
    ws: Workspace, *, actor: str, dry_run: bool = False, progress: Progress | None = None
) -> RetentionReceipt:
    """Enforce due expiries and age limits in one recorded run; returns the receipt."""
    in_force = retention_policy_in_force(ws)
    if not dry_run:
        _audit_policy_version(ws, in_force)
    runs = RunLog(ws.store, ws.clock)
    run_id = runs.start_run(RUN_KIND, {"dry_run": dry_run, "policy": in_force.origin})
    try:
        receipt = _run(ws, in_force, run_id, actor, dry_run, progress or _silent)
    except Exception as exc:
        runs.fail_run(run_id, exc)
        raise
    runs.finish_run(run_id, RunStatus.SUCCEEDED, stats=receipt.model_dump(mode="json"))
    return receipt


def _run(
    ws: Workspace,
    in_force: InForce[RetentionPolicy],
    run_id: str,
    actor: str,
    dry_run: bool,
    progress: Progress,
) -> RetentionReceipt:
    now = ws.clock.now()
    receipt = RetentionReceipt(
        receipt_id=new_id("rcpt"), run_id=run_id, dry_run=dry_run, at=now, actor=actor,
        policy=in_force.origin, policy_error=in_force.error,
    )  # fmt: skip
    touched: set[tuple[str, str]] = set()
    due = UserExpiryTable(ws.store, ws.clock).due(at=now)
    for done, expiry in enumerate(due):
        progress("expiries", done, len(due))
        edits = LakeEdits(ws, apply=not dry_run)
        counts = enforce_expiry(ws, edits, expiry)
        receipt.expiries.append(_outcome(expiry, counts))
        touched |= edits.touched
    ages = LakeEdits(ws, apply=not dry_run)
    receipt.age_limits = apply_age_limits(ws, in_force.value, ages, now=now, progress=progress)
    touched |= ages.touched
    receipt.counts = _totals(receipt, ages.counts)
    if not dry_run:
        receipt.counts |= _clean(ws, touched)
        _record(ws, receipt)
    progress("done", 1, 1)
    return receipt


def _outcome(expiry: dict[str, Any], counts: dict[str, int]) -> ExpiryOutcome:
    fields, tables = expiry_coverage(str(expiry["scope"]), list(expiry["names"]))
    return ExpiryOutcome(
        expiry_id=expiry["expiry_id"], profile_id=expiry["profile_id"], fields=list(fields),
        tables=list(tables), counts=dict(sorted(counts.items())),
    )  # fmt: skip


def _totals(receipt: RetentionReceipt, age_counts: dict[str, int]) -> dict[str, int]:
    totals = dict(age_counts)
    for outcome in receipt.expiries:
        for place, n in outcome.counts.items():
            totals[place] = totals.get(place, 0) + n
    return dict(sorted(totals.items()))


def _clean(ws: Workspace, touched: set[tuple[str, str]]) -> dict[str, int]:
    """Vacuum and clean the logs of the tables written; compact the store."""
    compact_store(ws.store)
    if not touched:
        return {}
    counts = clean_lake_in_child(ws.lake.root, sorted(touched))
    return {k: v for k, v in counts.items() if v}


def _record(ws: Workspace, receipt: RetentionReceipt) -> None:
    """Mark the expiries enforced and write their audit entries, then the run's one entry."""
    expiries = UserExpiryTable(ws.store, ws.clock)
    audit = AuditLog(ws.store, ws.clock)
    refs = {"receipt_id": receipt.receipt_id, "run_id": receipt.run_id}
    for outcome in receipt.expiries:
        if not expiries.mark_enforced(
            outcome.expiry_id, at=receipt.at, receipt_id=refs["receipt_id"]
        ):
            continue  # enforced or cancelled meanwhile by someone else
        event = PrivacyEvent(
            PrivacyAction.EXPIRE.value, "user_expiries", subject_ref=outcome.profile_id,
            fields=tuple(outcome.fields), refs={"expiry_id": outcome.expiry_id, **refs},
            counts=_audit_counts(outcome.counts),
        )  # fmt: skip
        record_privacy_event(audit, receipt.actor, event)
    summary = PrivacyEvent(
        PrivacyAction.RETENTION.value, "retention", refs=refs,
        counts={"expiries": len(receipt.expiries), **_audit_counts(receipt.counts)},
    )  # fmt: skip
    record_privacy_event(audit, receipt.actor, summary)


def _audit_counts(counts: dict[str, int]) -> dict[str, int]:
    return {place.replace(".", "_"): n for place, n in counts.items()}


def _policy_file(ws: Workspace) -> FileInForce[RetentionPolicy]:
    return FileInForce(
        ws.home / RETENTION_PATH, shipped_retention_text,
        lambda text, origin: parse_retention_policy(text, origin=origin), load_retention_file,
    )  # fmt: skip


def retention_policy_in_force(ws: Workspace) -> InForce[RetentionPolicy]:
    """The policy a run uses now: the workspace file if valid, else its last valid copy, else
    the shipped policy (``error`` says why the file is not in force)."""
    return _policy_file(ws).in_force()


def install_retention_policy(
    ws: Workspace, text: str, *, origin: str, actor: str
) -> RetentionPolicy:
    """Check ``text`` and, only if valid, make it ``HOME/privacy/retention.yaml``; one
    ``policy.change`` audit entry for the new version."""
    policy = _policy_file(ws).install(text, origin=origin)
    PolicyChangeAudit(ws.store, ws.clock)(str(RETENTION_PATH), text)
    return policy


def _audit_policy_version(ws: Workspace, in_force: InForce[RetentionPolicy]) -> None:
    """A hand-edited file in force for the first time is recorded (once per version)."""
    if in_force.origin != "shipped":
        text = (ws.home / RETENTION_PATH).with_name(in_force.origin).read_text("utf-8")
        PolicyChangeAudit(ws.store, ws.clock)(str(RETENTION_PATH), text)


def retention_runs(ws: Workspace, *, limit: int = 20) -> list[dict[str, Any]]:
    """The newest retention runs with their receipts (stats), newest first."""
    return [
        {"run_id": r.run_id, "status": r.status.value, "started_at": r.started_at.isoformat(),
         "finished_at": r.finished_at and r.finished_at.isoformat(), "params": r.params,
         "receipt": r.stats, "error": r.error}
        for r in RunLog(ws.store, ws.clock).list_runs(limit=limit, kind=RUN_KIND)
    ]  # fmt: skip


def retention_receipt(ws: Workspace, receipt_id: str, *, look_back: int = 1000) -> dict[str, Any]:
    """One receipt by id (e.g. an expiry's ``receipt_id``); NotFoundError if unknown."""
    for run in RunLog(ws.store, ws.clock).list_runs(limit=look_back, kind=RUN_KIND):
        if isinstance(run.stats, dict) and run.stats.get("receipt_id") == receipt_id:
            return run.stats
    raise NotFoundError(f"retention receipt {receipt_id} not found")


def _silent(_step: str, _done: int, _total: int) -> None:
    return None
