"""``/v1/quarantine``: counts per rule and source, entries, and replay (data stewards, admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from custodia.api.deps import WorkspaceDep, require_role
from custodia.api.masking_deps import PolicyDep
from custodia.collect.quarantine_read import QuarantineFilter, list_quarantine, quarantine_summary
from custodia.core.tables import QUARANTINE
from custodia.pipeline.quarantine_replay import ReplayReport, replay_quarantine
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord

router = APIRouter(tags=["quarantine"])

StewardDep = Annotated[TokenRecord, Depends(require_role(Role.ADMIN, Role.DATA_STEWARD))]
SourceQ = Annotated[str | None, Query(description="Only this source.")]
RuleQ = Annotated[str | None, Query(description="Only this rule.")]
StatusQ = Annotated[str | None, Query(description="open | flagged | replayed | discarded")]


class ReplayRequest(BaseModel):
    """Which open entries to replay (none given: all of them)."""

    source: str | None = Field(default=None, description="Only this source.")
    rule: str | None = Field(default=None, description="Only this rule.")


@router.get("/quarantine/summary")
def summary(
    ws: WorkspaceDep,
    _caller: StewardDep,
    source: SourceQ = None,
    rule: RuleQ = None,
    status: StatusQ = None,
) -> list[dict[str, Any]]:
    """Entries per source, rule and status, most frequent first."""
    flt = QuarantineFilter(source=source, rule=rule, status=status)
    return quarantine_summary(ws.query_engine(), flt)


@router.get("/quarantine")
def entries(
    ws: WorkspaceDep,
    caller: StewardDep,
    policy: PolicyDep,
    source: SourceQ = None,
    rule: RuleQ = None,
    status: StatusQ = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    include_payload: Annotated[
        bool, Query(description="Include payloads (personal data).")
    ] = False,
) -> list[dict[str, Any]]:
    """The newest entries with rule, field and reason (payloads only when asked, masked by the
    caller's role: data stewards see them in clear under the shipped policy, admins do not)."""
    flt = QuarantineFilter(source=source, rule=rule, status=status)
    rows = list_quarantine(ws.query_engine(), flt, limit=limit, with_payload=include_payload)
    return policy.masker(caller.role).rows(QUARANTINE.name, rows)


@router.post("/quarantine/replay")
def replay(request: ReplayRequest, ws: WorkspaceDep, _caller: StewardDep) -> ReplayReport:
    """Re-validate open entries with the current plans and recorded mappings; load what passes."""
    return replay_quarantine(ws, source=request.source, rule=request.rule)
