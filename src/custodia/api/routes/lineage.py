"""``/v1/lineage/{target}``: the sources, mappings and runs behind a table or a column."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from custodia.api.deps import WorkspaceDep, require_role
from custodia.lineage.lineage_view import TableLineage
from custodia.pipeline.lineage_report import lineage_report
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord

router = APIRouter(tags=["lineage"])

LineageReaderDep = Annotated[
    TokenRecord,
    Depends(require_role(Role.ADMIN, Role.DATA_STEWARD, Role.ANALYST, Role.AUDITOR)),
]


@router.get("/lineage/{target}")
def lineage(
    target: str,
    ws: WorkspaceDep,
    _caller: LineageReaderDep,
    runs: Annotated[int, Query(ge=1, le=200)] = 20,
) -> TableLineage:
    """``target`` is ``TABLE`` or ``TABLE.COLUMN`` (e.g. ``orders.total_amount``)."""
    return lineage_report(ws, target, max_runs=runs)
