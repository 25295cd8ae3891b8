"""Customer 360 and identity review routes.

- ``GET /v1/profiles/{ref}`` where ``ref`` is ``ID_TYPE:VALUE`` (any identifier of the person, or
  ``profile_id:…``), and its sub-resources ``/traits``, ``/identities``, ``/events``, ``/orders``,
  ``/interactions`` and ``/tags`` (paged with ``limit``/``offset``);
- ``GET /v1/identity/profiles/{profile_id}/explain`` and
  ``POST /v1/identity/profiles/{profile_id}/unmerge`` for data stewards;
- ``POST /v1/identity/resolve`` runs a resolution (admins and data stewards).

Every answer is masked server-side by the caller's role (``HOME/privacy/policy.yaml``, see
:mod:`custodia.pipeline.profile_disclosure`); ``?unmask=<request id>`` (or the
``X-Custodia-Unmask`` header) shows the fields of an approved unmask request in clear, for that
customer only, and is audited.

The lookups are ``async`` routes: each is a few indexed reads in the operational store (about a
millisecond on SQLite), cheaper than a hop to the thread pool. The sub-resources that scan the
lakehouse (events, orders, interactions, tags) run in the thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from custodia.api.deps import STORE_INT_MAX, WorkspaceDep, current_token, require_role
from custodia.api.masking_deps import PolicyDep, UnmaskDep
from custodia.pipeline.identity_resolve import ResolveReport, resolve_identities
from custodia.pipeline.identity_review import (
    Explanation,
    UnmergeResult,
    explain_profile,
    unmerge_record,
)
from custodia.pipeline.profile_disclosure import (
    VIEWS,
    disclose_profile,
    disclose_traits,
    paged_view,
)
from custodia.pipeline.profile_view import MAX_PAGE
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord

router = APIRouter(tags=["profiles"])

ProfileReaderDep = Annotated[TokenRecord, Depends(current_token)]
"""Any caller; the masking policy decides what each role sees (roles it does not list: 403)."""
StewardDep = Annotated[TokenRecord, Depends(require_role(Role.ADMIN, Role.DATA_STEWARD))]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=STORE_INT_MAX)]


@router.get("/profiles/{ref}")
def profile(
    ref: str, ws: WorkspaceDep, caller: ProfileReaderDep, policy: PolicyDep, unmask: UnmaskDep
) -> dict[str, Any]:
    """The 360 summary: golden traits, identities and the latest activity of each kind."""
    return disclose_profile(ws, policy, caller, ref, "summary", VIEWS["summary"], unmask=unmask)


@router.get("/profiles/{ref}/traits")
async def traits(
    ref: str, ws: WorkspaceDep, caller: ProfileReaderDep, policy: PolicyDep, unmask: UnmaskDep
) -> dict[str, Any]:
    """Golden attributes with the source that won and the conflicting values."""
    return disclose_traits(ws, policy, caller, ref, unmask)


@router.get("/profiles/{ref}/identities")
async def identities(
    ref: str, ws: WorkspaceDep, caller: ProfileReaderDep, policy: PolicyDep,
    unmask: UnmaskDep, limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:  # fmt: skip
    """Every identifier of the person with the record and source carrying it."""
    read = paged_view("identities", limit, offset)
    return disclose_profile(ws, policy, caller, ref, "identities", read, unmask=unmask)


@router.get("/profiles/{ref}/events")
def events(
    ref: str, ws: WorkspaceDep, caller: ProfileReaderDep, policy: PolicyDep,
    unmask: UnmaskDep, limit: Limit = 50, offset: Offset = 0,
) -> dict[str, Any]:  # fmt: skip
    """Behavioural events of all the person's user and anonymous ids, newest first."""
    read = paged_view("events", limit, offset)
    return disclose_profile(ws, policy, caller, ref, "events", read, unmask=unmask)


@router.get("/profiles/{ref}/orders")
def orders(
    ref: str, ws: WorkspaceDep, caller: ProfileReaderDep, policy: PolicyDep,
    unmask: UnmaskDep, limit: Limit = 50, offset: Offset = 0,
) -> dict[str, Any]:  # fmt: skip
    """Online orders and store receipts, newest first."""
    read = paged_view("orders", limit, offset)
    return disclose_profile(ws, policy, caller, ref, "orders", read, unmask=unmask)


@router.get("/profiles/{ref}/interactions")
def interactions(
    ref: str, ws: WorkspaceDep, caller: ProfileReaderDep, policy: PolicyDep,
    unmask: UnmaskDep, limit: Limit = 50, offset: Offset = 0,
) -> dict[str, Any]:  # fmt: skip
    """Tickets, chats and reviews with complaint type and sentiment, newest first."""
    read = paged_view("interactions", limit, offset)
    return disclose_profile(ws, policy, caller, ref, "interactions", read, unmask=unmask)


@router.get("/profiles/{ref}/tags")
def tags(ref: str, ws: WorkspaceDep, caller: ProfileReaderDep, policy: PolicyDep) -> dict[str, Any]:
    """Derived tags of the person with their counts."""
    return disclose_profile(ws, policy, caller, ref, "tags", VIEWS["tags"])


@router.get("/identity/profiles/{profile_id}/explain")
def explain(profile_id: str, ws: WorkspaceDep, _caller: StewardDep) -> Explanation:
    """Records, identifiers (masked) and edges of a profile, with each decision's reason."""
    return explain_profile(ws, profile_id)


class UnmergeRequest(BaseModel):
    """Which record to split out, and why (kept in the audit log)."""

    record_id: str = Field(min_length=1, max_length=64)
    reason: str | None = Field(default=None, max_length=500)


@router.post("/identity/profiles/{profile_id}/unmerge")
def unmerge(
    profile_id: str, body: UnmergeRequest, ws: WorkspaceDep, caller: StewardDep
) -> UnmergeResult:
    """Split a record out of a profile; later resolutions keep it apart."""
    actor = f"token:{caller.name}"
    return unmerge_record(ws, profile_id, record_id=body.record_id, actor=actor, reason=body.reason)


@router.post("/identity/resolve")
def resolve(
    ws: WorkspaceDep, caller: StewardDep, full: Annotated[bool, Query()] = False
) -> ResolveReport:
    """Run identity resolution now (incremental unless ``full``); the run is in ``/v1/runs``."""
    return resolve_identities(ws, full=full, actor=f"token:{caller.name}")
