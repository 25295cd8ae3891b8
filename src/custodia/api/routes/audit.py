"""Audit routes: a person's data-usage trail, the audit log, and the chain's verification.

- ``GET /v1/profiles/{ref}/usage``: who used which data of the person, for what and when, newest
  first (``limit``, ``before_seq`` to page back). ``ref`` is ``ID_TYPE:VALUE`` or a profile id;
  the trail covers every profile id merged into the person's, and an erased profile id still
  finds its entries.
- ``GET /v1/audit/log``: entries newest first (``subject``, ``action``, ``limit``,
  ``before_seq``).
- ``GET /v1/audit/verify``: the chain checked against its anchor; ``ok`` false names the first
  broken entry (a scan of the whole log, so it runs in the thread pool).

Readers: admins, privacy officers and auditors. Entries hold names and surrogate keys, never
personal values, so nothing is masked here.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from custodia.api.deps import STORE_INT_MAX, WorkspaceDep, require_role
from custodia.pipeline.data_usage import customer_usage, profile_ids_of
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord
from custodia.privacy.usage_trail import MAX_TRAIL_PAGE, UsageTrail
from custodia.storage.store import AuditLog

router = APIRouter(tags=["audit"])

AuditReaderDep = Annotated[
    TokenRecord, Depends(require_role(Role.ADMIN, Role.PRIVACY_OFFICER, Role.AUDITOR))
]
Limit = Annotated[int, Query(ge=1, le=MAX_TRAIL_PAGE)]
BeforeSeq = Annotated[
    int | None, Query(ge=1, le=STORE_INT_MAX, description="Only entries older than this seq.")
]


@router.get("/profiles/{ref}/usage")
def usage(
    ref: str,
    ws: WorkspaceDep,
    _caller: AuditReaderDep,
    limit: Limit = 100,
    before_seq: BeforeSeq = None,
) -> UsageTrail:
    """The person's data-usage trail: actor, action, purpose, fields and outcome of each use."""
    return customer_usage(ws, ref, limit=limit, before_seq=before_seq)


@router.get("/audit/log")
def audit_log(
    ws: WorkspaceDep,
    _caller: AuditReaderDep,
    subject: Annotated[str | None, Query(description="ID_TYPE:VALUE or profile id")] = None,
    action: Annotated[list[str] | None, Query()] = None,
    limit: Limit = 100,
    before_seq: BeforeSeq = None,
) -> list[dict[str, Any]]:
    """Audit entries newest first, optionally of one person or some actions."""
    subjects = None if subject is None else profile_ids_of(ws, subject)
    entries = AuditLog(ws.store, ws.clock).entries(
        subject_refs=subjects, actions=action or None, limit=limit, before_seq=before_seq
    )
    return [asdict(entry) for entry in entries]


@router.get("/audit/verify")
def audit_verify(ws: WorkspaceDep, _caller: AuditReaderDep) -> dict[str, Any]:
    """Recompute the chain and check it against the anchor."""
    report = AuditLog(ws.store, ws.clock).verify()
    return {**asdict(report), "summary": report.summary}
