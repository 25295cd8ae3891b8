"""The retention job over HTTP (privacy officer and admin only).

- ``POST /v1/privacy/retention/runs`` ``{"dry_run": false}``: enforce due customer expiries and
  the policy's age limits now; returns the receipt (counts per table and field, no values);
- ``GET /v1/privacy/retention/runs``: past runs, newest first, each with its receipt;
- ``GET /v1/privacy/retention/receipts/{receipt_id}``: one receipt (an expiry's ``receipt_id``);
- ``GET /v1/privacy/retention/policy``: the policy in force and, if the workspace file is
  broken, why (the last valid copy stays in force).

A run is synchronous, like an erasure: the answer comes when the data is gone from disk.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from custodia.api.deps import WorkspaceDep, require_role
from custodia.pipeline.retention_run import (
    retention_policy_in_force,
    retention_receipt,
    retention_runs,
    run_retention,
)
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord

router = APIRouter(prefix="/privacy/retention", tags=["privacy"])

PrivacyOfficerDep = Annotated[TokenRecord, Depends(require_role(Role.ADMIN, Role.PRIVACY_OFFICER))]


class RunRequest(BaseModel):
    dry_run: bool = Field(default=False, description="Count what would go; change nothing.")


@router.post("/runs")
def start_run(body: RunRequest, ws: WorkspaceDep, caller: PrivacyOfficerDep) -> dict[str, Any]:
    """Run the retention job now; one ``privacy.retention`` audit entry (none for a dry run)."""
    receipt = run_retention(ws, actor=f"token:{caller.name}", dry_run=body.dry_run)
    return receipt.model_dump(mode="json")


@router.get("/runs")
def list_runs(
    ws: WorkspaceDep, _caller: PrivacyOfficerDep, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> list[dict[str, Any]]:
    """Past retention runs, newest first, with their receipts."""
    return retention_runs(ws, limit=limit)


@router.get("/receipts/{receipt_id}")
def get_receipt(receipt_id: str, ws: WorkspaceDep, _caller: PrivacyOfficerDep) -> dict[str, Any]:
    """One receipt by id; 404 if no retention run issued it."""
    return retention_receipt(ws, receipt_id)


@router.get("/policy")
def get_policy(ws: WorkspaceDep, _caller: PrivacyOfficerDep) -> dict[str, Any]:
    """The retention rules in force and where they come from."""
    in_force = retention_policy_in_force(ws)
    return {"origin": in_force.origin, "error": in_force.error, "rules": in_force.value.as_rows()}
