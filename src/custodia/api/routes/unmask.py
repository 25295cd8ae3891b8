"""``/v1/unmask-requests``: ask to see masked fields of one customer, and approve or reject.

Routes::

    POST /v1/unmask-requests                 {"profile": "phone:138…", "fields": ["phone"],
                                              "purpose": "complaint_callback", "hours": 2}
    GET  /v1/unmask-requests?status=pending  approvers: all requests; others: their own
    GET  /v1/unmask-requests/{id}
    POST /v1/unmask-requests/{id}/approve    approvers (policy ``unmask.approvers``), never the
    POST /v1/unmask-requests/{id}/reject     requester; L3 fields need two distinct approvals

An approved request is used by reading ``/v1/profiles/{ref}…?unmask={id}`` with the requester's
token, for that customer only, until it expires. Rules: :mod:`custodia.privacy.unmask`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from custodia.api.deps import CallerDep, WorkspaceDep
from custodia.api.masking_deps import PolicyDep
from custodia.pipeline.profile_view import ProfileView
from custodia.pipeline.review_records import jsonable
from custodia.privacy.masking_policy import MaskingPolicy
from custodia.privacy.tokens import TokenRecord
from custodia.privacy.unmask import Decision, UnmaskDesk
from custodia.workspace import Workspace

router = APIRouter(tags=["privacy"])


class UnmaskRequestBody(BaseModel):
    """Whose data (any identifier of the customer), which fields, why, and for how long."""

    model_config = ConfigDict(extra="forbid")

    profile: str = Field(min_length=3, max_length=400, description="ID_TYPE:VALUE of the customer")
    fields: list[str] = Field(min_length=1, max_length=20)
    purpose: str = Field(description="A short purpose code, e.g. credit_review")
    justification: str | None = Field(default=None, max_length=2000)
    hours: float | None = Field(default=None, gt=0, description="Defaults to the policy maximum")


def _desk(ws: Workspace, policy: MaskingPolicy) -> UnmaskDesk:
    return UnmaskDesk(ws.store, policy.unmask, ws.clock)


def _shown(request: dict[str, Any]) -> dict[str, Any]:
    hidden = {"requester_token_id", "decisions"}
    out = {k: jsonable(v) for k, v in request.items() if k not in hidden}
    out["decisions"] = [
        {k: jsonable(v) for k, v in d.items() if k not in ("request_id", "approver_token_id")}
        for d in request.get("decisions", [])
    ]
    return out


@router.post("/unmask-requests", status_code=201)
def create(
    body: UnmaskRequestBody, ws: WorkspaceDep, caller: CallerDep, policy: PolicyDep
) -> dict[str, Any]:
    """File a request; pending until approved."""
    profile_id = ProfileView(ws).find(body.profile)
    request = _desk(ws, policy).request(
        caller, profile_id, body.fields, purpose=body.purpose,
        justification=body.justification, hours=body.hours,
    )  # fmt: skip
    return _shown(request)


@router.get("/unmask-requests")
def list_requests(
    ws: WorkspaceDep,
    caller: CallerDep,
    policy: PolicyDep,
    status: Annotated[Literal["pending", "approved", "rejected"] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Newest first: every request for approvers, one's own for everyone else."""
    return [_shown(r) for r in _desk(ws, policy).list(caller, status=status)]


@router.get("/unmask-requests/{request_id}")
def get_request(
    request_id: str, ws: WorkspaceDep, caller: CallerDep, policy: PolicyDep
) -> dict[str, Any]:
    return _shown(_desk(ws, policy).get(request_id, caller))


def _decide(
    request_id: str, ws: Workspace, caller: TokenRecord, policy: MaskingPolicy, decision: Decision
) -> dict[str, Any]:
    return _shown(_desk(ws, policy).decide(request_id, caller, decision))


@router.post("/unmask-requests/{request_id}/approve")
def approve(
    request_id: str, ws: WorkspaceDep, caller: CallerDep, policy: PolicyDep
) -> dict[str, Any]:
    """One approval; the request is approved once enough distinct approvers agree."""
    return _decide(request_id, ws, caller, policy, "approve")


@router.post("/unmask-requests/{request_id}/reject")
def reject(
    request_id: str, ws: WorkspaceDep, caller: CallerDep, policy: PolicyDep
) -> dict[str, Any]:
    """One rejection rejects the request."""
    return _decide(request_id, ws, caller, policy, "reject")
