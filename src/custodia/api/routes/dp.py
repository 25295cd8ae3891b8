"""``/v1/dp``: differentially private aggregates and the caller's privacy budget.

Routes (roles analyst and admin)::

    POST /v1/dp/query     {"table": "orders", "aggregate": "count" | "sum" | "mean",
                           "measure": null, "group_by": ["channel"], "epsilon": 0.5}
    GET  /v1/dp/budget    the caller's budget; an admin may ask for ?analyst=NAME

The analyst is the caller's token name, so every token has its own budget. A refused query
(sensitive, near-unique, unknown or undeclared column) is 400 naming the field and rule; a query
past the budget is 403; both are audited and release nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from custodia.api.deps import WorkspaceDep, require_role
from custodia.core.errors import PermissionDeniedError
from custodia.pipeline.dp_workspace import budget_json, dp_budget, dp_query, release_json
from custodia.privacy.dp_query import DpQuery
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord

router = APIRouter(tags=["differential privacy"])

AnalystDep = Annotated[TokenRecord, Depends(require_role(Role.ANALYST, Role.ADMIN))]


@router.post("/dp/query")
def post_dp_query(query: DpQuery, ws: WorkspaceDep, caller: AnalystDep) -> dict[str, Any]:
    """Release noisy aggregates per declared group, debiting the caller's epsilon budget."""
    return release_json(dp_query(ws, query, analyst=caller.name))


@router.get("/dp/budget")
def get_dp_budget(
    ws: WorkspaceDep,
    caller: AnalystDep,
    analyst: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """The caller's budget (total, spent, remaining); admins may read any analyst's."""
    if analyst is not None and analyst != caller.name and caller.role is not Role.ADMIN:
        raise PermissionDeniedError("only an admin may read another analyst's budget")
    return budget_json(dp_budget(ws, analyst or caller.name))
