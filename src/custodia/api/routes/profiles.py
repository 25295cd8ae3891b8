"""Customer 360 and identity review routes.

- ``GET /v1/profiles/{ref}`` where ``ref`` is ``ID_TYPE:VALUE`` (any identifier of the person, or
  ``profile_id:…``), and its sub-resources ``/traits``, ``/identities``, ``/events``, ``/orders``,
  ``/interactions`` and ``/tags`` (paged with ``limit``/``offset``);
- ``GET /v1/identity/profiles/{profile_id}/explain`` and
  ``POST /v1/identity/profiles/{profile_id}/unmerge`` for data stewards;
- ``POST /v1/identity/resolve`` runs a resolution (admins and data stewards).

Role-based masking of these responses arrives with the Protect work; until then only roles that
serve or govern individual customers may read them.

The lookups are ``async`` routes: each is a few indexed reads in the operational store (about a
millisecond on SQLite), cheaper than a hop to the thread pool. The sub-resources that scan the
lakehouse (events, orders, interactions, tags) run in the thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from custodia.api.deps import WorkspaceDep, require_role
from custodia.pipeline.identity_resolve import ResolveReport, resolve_identities
from custodia.pipeline.identity_review import (
    Explanation,
    UnmergeResult,
    explain_profile,
    unmerge_record,
)
from custodia.pipeline.profile_view import MAX_PAGE, ProfileView
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord

router = APIRouter(tags=["profiles"])

ProfileReaderDep = Annotated[
    TokenRecord,
    Depends(require_role(Role.ADMIN, Role.DATA_STEWARD, Role.SERVICE_AGENT, Role.PRIVACY_OFFICER)),
]
StewardDep = Annotated[TokenRecord, Depends(require_role(Role.ADMIN, Role.DATA_STEWARD))]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0)]


@router.get("/profiles/{ref}")
def profile(ref: str, ws: WorkspaceDep, _caller: ProfileReaderDep) -> dict[str, Any]:
    """The 360 summary: golden traits, identities and the latest activity of each kind."""
    view = ProfileView(ws)
    return view.summary(view.find(ref))


@router.get("/profiles/{ref}/traits")
async def traits(ref: str, ws: WorkspaceDep, _caller: ProfileReaderDep) -> dict[str, Any]:
    """Golden attributes with the source that won and the conflicting values."""
    return ProfileView(ws).traits_of(ref)


@router.get("/profiles/{ref}/identities")
async def identities(
    ref: str, ws: WorkspaceDep, _caller: ProfileReaderDep, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    """Every identifier of the person with the record and source carrying it."""
    view = ProfileView(ws)
    return view.identities(view.find(ref), limit=limit, offset=offset)


@router.get("/profiles/{ref}/events")
def events(
    ref: str, ws: WorkspaceDep, _caller: ProfileReaderDep, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    """Behavioural events of all the person's user and anonymous ids, newest first."""
    view = ProfileView(ws)
    return view.events(view.find(ref), limit=limit, offset=offset)


@router.get("/profiles/{ref}/orders")
def orders(
    ref: str, ws: WorkspaceDep, _caller: ProfileReaderDep, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    """Online orders and store receipts, newest first."""
    view = ProfileView(ws)
    return view.orders(view.find(ref), limit=limit, offset=offset)


@router.get("/profiles/{ref}/interactions")
def interactions(
    ref: str, ws: WorkspaceDep, _caller: ProfileReaderDep, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    """Tickets, chats and reviews with complaint type and sentiment, newest first."""
    view = ProfileView(ws)
    return view.interactions(view.find(ref), limit=limit, offset=offset)


@router.get("/profiles/{ref}/tags")
def tags(ref: str, ws: WorkspaceDep, _caller: ProfileReaderDep) -> dict[str, Any]:
    """Derived tags of the person with their counts."""
    view = ProfileView(ws)
    return view.tags(view.find(ref))


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
