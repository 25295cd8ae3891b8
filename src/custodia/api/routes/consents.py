"""Consent routes: read a person's consents and record a choice on their behalf.

- ``GET /v1/profiles/{ref}/consents`` (``?at=`` for an earlier time, ``?history=true`` for every
  record): each purpose with allowed/reason and the record behind it, the minor flag and the
  personalization switch. Admins, privacy officers, service agents and auditors.
- ``POST /v1/profiles/{ref}/consents``: record one grant or withdrawal. Admins, privacy officers
  and service agents, who record on the person's behalf: ``actor`` says whose choice it was
  (customer, guardian or agent:WHO) and the audit entry names the token that recorded it.

``Sec-GPC: 1`` on a POST is honoured as the person opting out of third-party sharing: after the
choice in the body, a withdrawal of ``sharing`` (channel ``gpc``) is recorded unless sharing is
already withdrawn, so the browser signal wins over a sharing grant in the same request.

An unknown purpose, status, channel or actor is a 400 naming the field (the value is never
echoed) and is audited as one refused ``consent.change`` entry with the field and rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field

from custodia.api.deps import WorkspaceDep, require_role
from custodia.pipeline.consent_subjects import (
    consent_ledger,
    consent_profile,
    consent_record_view,
    consent_state_view,
)
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord

router = APIRouter(tags=["consents"])

ConsentReaderDep = Annotated[
    TokenRecord,
    Depends(require_role(Role.ADMIN, Role.PRIVACY_OFFICER, Role.SERVICE_AGENT, Role.AUDITOR)),
]
ConsentRecorderDep = Annotated[
    TokenRecord, Depends(require_role(Role.ADMIN, Role.PRIVACY_OFFICER, Role.SERVICE_AGENT))
]
GpcHeader = Annotated[
    str | None, Header(alias="Sec-GPC", description="Global Privacy Control: 1 opts out of sharing")
]


class ConsentRequest(BaseModel):
    """One choice: grant (needs ``notice_version``) or withdraw one purpose."""

    purpose: str = Field(max_length=32, description="marketing, personalization, analytics, "
                         "risk, sharing or sensitive")  # fmt: skip
    status: str = Field(max_length=16, description="granted or withdrawn")
    channel: str = Field(max_length=32, description="web, app, store, portal, ...")
    notice_version: str | None = Field(default=None, max_length=64)
    actor: str = Field(default="customer", max_length=200, description="customer, guardian or "
                       "agent:WHO")  # fmt: skip
    expires_at: datetime | None = Field(default=None, description="When a grant lapses")


@router.get("/profiles/{ref}/consents")
def consents(
    ref: str,
    ws: WorkspaceDep,
    _caller: ConsentReaderDep,
    at: Annotated[datetime | None, Query(description="As of this time; default now")] = None,
    history: Annotated[bool, Query(description="Include every record, oldest first")] = False,
) -> dict[str, Any]:
    """The person's consent per purpose, read from the ledger (never cached)."""
    pid = consent_profile(ws, ref)
    ledger = consent_ledger(ws)
    view = consent_state_view(ledger.state(pid, at))
    if history:
        view["history"] = [consent_record_view(row) for row in ledger.history(pid)]
    return view


@router.post("/profiles/{ref}/consents", status_code=201)
def record_consent(
    ref: str,
    body: ConsentRequest,
    ws: WorkspaceDep,
    caller: ConsentRecorderDep,
    sec_gpc: GpcHeader = None,
) -> dict[str, Any]:
    """Record the choice (one ledger row, one audit entry) and honour ``Sec-GPC: 1``."""
    pid = consent_profile(ws, ref)
    recorded_by = f"token:{caller.name}"
    ledger = consent_ledger(ws)
    row = ledger.submit(
        pid, status=body.status, purpose=body.purpose, channel=body.channel,
        notice_version=body.notice_version, actor=body.actor, expires_at=body.expires_at,
        recorded_by=recorded_by,
    )  # fmt: skip
    gpc = ledger.honour_gpc(pid, sec_gpc, recorded_by=recorded_by)
    return {
        "record": consent_record_view(row),
        "gpc_withdrawal": None if gpc is None else consent_record_view(gpc),
    }
