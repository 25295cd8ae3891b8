"""Access and erasure requests over HTTP (privacy officer and admin only).

- ``POST /v1/privacy/export`` ``{"ref": "member_id:M1"}``: writes the bundle under
  ``HOME/privacy/exports`` (JSON + CSV per table, ``schema.json``) and returns its manifest with
  the rows of each table inline;
- ``POST /v1/privacy/erase`` ``{"ref": "...", "reason": "..."}``: erases the person everywhere and
  returns the receipt (counts per table, no values).

The reference travels in the body, not the path, so identifiers stay out of access logs.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from custodia.api.deps import WorkspaceDep, require_role
from custodia.pipeline.privacy_erasure import erase_person
from custodia.pipeline.privacy_export import export_person
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord

router = APIRouter(tags=["privacy"])

PrivacyOfficerDep = Annotated[TokenRecord, Depends(require_role(Role.ADMIN, Role.PRIVACY_OFFICER))]


class ExportRequest(BaseModel):
    ref: str = Field(max_length=400, description="ID_TYPE:VALUE of the person.")


class ErasureRequest(ExportRequest):
    reason: str = Field(min_length=1, max_length=500, description="Request number, legal basis.")


@router.post("/privacy/export")
def export(body: ExportRequest, ws: WorkspaceDep, caller: PrivacyOfficerDep) -> dict[str, Any]:
    """Export everything about the person; one ``privacy.export`` audit entry."""
    bundle = export_person(ws, body.ref, actor=f"token:{caller.name}")
    doc = bundle.as_dict()
    doc["data"] = {
        name: json.loads((bundle.path / "json" / f"{name}.json").read_text("utf-8"))
        for name in bundle.files
    }
    return doc


@router.post("/privacy/erase")
def erase(body: ErasureRequest, ws: WorkspaceDep, caller: PrivacyOfficerDep) -> dict[str, Any]:
    """Erase the person everywhere; one ``privacy.erase`` audit entry; returns the receipt."""
    receipt = erase_person(ws, body.ref, actor=f"token:{caller.name}", reason=body.reason)
    return receipt.as_dict()
