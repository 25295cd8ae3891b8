"""Customer portal routes: a customer, holding a portal token, sees and manages their own data.

- ``POST /v1/portal/tokens`` (staff: admin, privacy officer, service agent): issue a portal token
  for the person ``profile`` names (any identifier or a profile id); the plaintext is returned
  once. Everything else takes a **portal** token (``cpt_…``) and is about its profile only:
- ``GET /v1/portal/me``: the data held (by category, with sources), consents per purpose, the
  usage trail (who used which data for what, when), expiries and requests;
- ``PUT /v1/portal/consents``: grant or withdraw purposes (channel ``portal``, actor
  ``customer``); ``PUT /v1/portal/personalization``: the personalization switch;
- ``POST /v1/portal/expiry``: "delete after use" on fields or categories, for the retention job;
  ``DELETE /v1/portal/expiry/{id}`` cancels a pending one;
- ``POST /v1/portal/requests`` (``export`` or ``erasure``) and ``GET /v1/portal/requests``.

Staff side of the requests (privacy officers, admins; staff tokens): ``GET
/v1/portal/staff/requests?status=received`` (the queue) and ``POST
/v1/portal/staff/requests/{id}`` ``{"status": "completed", "receipt_id": "..."}``.

``Sec-GPC: 1`` on the consent and personalization PUTs is honoured as an opt-out of sharing.
Every call writes one audit entry (see :mod:`custodia.pipeline.portal`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, Field

from custodia.api.deps import WorkspaceDep, require_role
from custodia.api.portal_deps import PortalCallerDep
from custodia.pipeline.consent_subjects import consent_profile
from custodia.pipeline.portal import Portal, request_queue, settle_request
from custodia.privacy.portal_tokens import DEFAULT_PORTAL_TOKEN_LIFETIME, issue_portal_token
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord

router = APIRouter(prefix="/portal", tags=["portal"])

OfficerDep = Annotated[TokenRecord, Depends(require_role(Role.ADMIN, Role.PRIVACY_OFFICER))]
IssuerDep = Annotated[
    TokenRecord, Depends(require_role(Role.ADMIN, Role.PRIVACY_OFFICER, Role.SERVICE_AGENT))
]
GpcHeader = Annotated[
    str | None, Header(alias="Sec-GPC", description="Global Privacy Control: 1 opts out of sharing")
]


class PortalTokenRequest(BaseModel):
    """Whose portal token, and for how long (days; at most 90)."""

    profile: str = Field(min_length=1, max_length=200, description="ID_TYPE:VALUE or profile id")
    expires_in_days: int = Field(default=DEFAULT_PORTAL_TOKEN_LIFETIME.days, ge=1, le=90)


class ConsentChoiceBody(BaseModel):
    """One purpose granted (with the notice version shown) or withdrawn."""

    purpose: str = Field(max_length=32)
    status: str = Field(max_length=16, description="granted or withdrawn")
    notice_version: str | None = Field(default=None, max_length=64)


class ConsentsBody(BaseModel):
    """The choices to record, in order."""

    choices: list[ConsentChoiceBody] = Field(min_length=1, max_length=10)


class PersonalizationBody(BaseModel):
    """The personalization switch; turning it on needs the notice version shown."""

    on: bool
    notice_version: str | None = Field(default=None, max_length=64)


class ExpiryBody(BaseModel):
    """Exactly one of ``fields`` and ``categories``, and when the data expires."""

    fields: list[str] | None = Field(default=None, max_length=50)
    categories: list[str] | None = Field(default=None, max_length=50)
    expires_at: datetime


class SettleBody(BaseModel):
    """Where a customer's request stands now, and the receipt that fulfilled it."""

    status: Literal["in_progress", "completed", "rejected"]
    receipt_id: str | None = Field(default=None, max_length=40)


class RequestBody(BaseModel):
    """An access (export) or erasure request."""

    kind: Literal["export", "erasure"]


@router.post("/tokens", status_code=201)
def issue(body: PortalTokenRequest, ws: WorkspaceDep, caller: IssuerDep) -> dict[str, Any]:
    """Issue a portal token for one customer; the token is shown in this answer only."""
    pid = consent_profile(ws, body.profile)
    issued = issue_portal_token(
        ws.store, pid, f"token:{caller.name}",
        expires_in=timedelta(days=body.expires_in_days), clock=ws.clock,
    )  # fmt: skip
    record = issued.record
    return {
        "token": issued.token,
        "token_id": record.token_id,
        "profile_id": record.profile_id,
        "expires_at": record.expires_at.isoformat(),
    }


@router.get("/me")
def me(ws: WorkspaceDep, caller: PortalCallerDep) -> dict[str, Any]:
    """Everything held about the caller, where it came from, their consents and its uses."""
    return Portal(ws, caller).me()


@router.put("/consents")
def set_consents(
    body: ConsentsBody, ws: WorkspaceDep, caller: PortalCallerDep, sec_gpc: GpcHeader = None
) -> dict[str, Any]:
    """Grant or withdraw purposes; answers the consent state afterwards."""
    choices = [(c.purpose, c.status, c.notice_version) for c in body.choices]
    return Portal(ws, caller).set_consents(choices, gpc=sec_gpc)


@router.put("/personalization")
def set_personalization(
    body: PersonalizationBody, ws: WorkspaceDep, caller: PortalCallerDep, sec_gpc: GpcHeader = None
) -> dict[str, Any]:
    """Switch personalization on or off; answers the consent state afterwards."""
    portal = Portal(ws, caller)
    return portal.set_personalization(body.on, notice_version=body.notice_version, gpc=sec_gpc)


@router.post("/expiry", status_code=201)
def set_expiry(body: ExpiryBody, ws: WorkspaceDep, caller: PortalCallerDep) -> dict[str, Any]:
    """Record "delete after use" on fields or categories (``pending`` until enforced)."""
    return Portal(ws, caller).set_expiry(
        fields=body.fields, categories=body.categories, expires_at=body.expires_at
    )


@router.delete("/expiry/{expiry_id}")
def cancel_expiry(expiry_id: str, ws: WorkspaceDep, caller: PortalCallerDep) -> dict[str, Any]:
    """Cancel one of the caller's pending expiries; 404 if it is not theirs or not pending."""
    return Portal(ws, caller).cancel_expiry(expiry_id)


@router.post("/requests", status_code=201)
def submit_request(
    body: RequestBody, ws: WorkspaceDep, caller: PortalCallerDep, response: Response
) -> dict[str, Any]:
    """Ask for an export or an erasure; an open request of the same kind answers 200 as is."""
    row, created = Portal(ws, caller).request(body.kind)
    if not created:
        response.status_code = 200
    return row


@router.get("/requests")
def list_requests(ws: WorkspaceDep, caller: PortalCallerDep) -> list[dict[str, Any]]:
    """The caller's export and erasure requests with their status, newest first."""
    return Portal(ws, caller).requests()


@router.get("/staff/requests")
def queue(
    ws: WorkspaceDep,
    _caller: OfficerDep,
    status: Literal["received", "in_progress", "completed", "rejected"] = "received",
) -> list[dict[str, Any]]:
    """Customers' requests in one status, oldest first (privacy officers, admins)."""
    return request_queue(ws, status)


@router.post("/staff/requests/{request_id}")
def settle(
    request_id: str, body: SettleBody, ws: WorkspaceDep, caller: OfficerDep
) -> dict[str, Any]:
    """Move a customer's open request on (one audit entry); 404 if unknown or finished."""
    return settle_request(ws, request_id, body.status, actor=f"token:{caller.name}",
                          receipt_id=body.receipt_id)  # fmt: skip
