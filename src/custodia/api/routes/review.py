"""``/v1/review``: the data stewards' queue of anomalies on high-value customers.

Routes (roles admin and data_steward)::

    GET  /v1/review/tasks?status=pending&rule=&table=   tasks, newest first
    GET  /v1/review/tasks/{task_id}                     one task with the record's current value
    POST /v1/review/tasks/{task_id}/decision            {"decision": "approve" | "correct" |
                                                         "reject", "value": ..., "note": ...}

A task's current value is shown in clear only when the masking policy gives the caller's role
that column in clear (data stewards for L2 under the shipped policy), masked (``138****5678``)
otherwise: admins run the workspace but are not data readers. The decision's actor is the
token's name.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from custodia.api.deps import STORE_INT_MAX, WorkspaceDep, require_role
from custodia.api.masking_deps import PolicyDep
from custodia.pipeline.review_decisions import DecisionResult, decide_task, task_view
from custodia.pipeline.review_records import jsonable
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord
from custodia.storage.store_review import ReviewQueue

router = APIRouter(tags=["review"])

StewardDep = Annotated[TokenRecord, Depends(require_role(Role.ADMIN, Role.DATA_STEWARD))]
Status = Literal["pending", "approved", "corrected", "rejected", "all"]


class DecisionBody(BaseModel):
    """A steward's decision; ``value`` only with ``correct`` (``null`` clears the cell)."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "correct", "reject"]
    value: str | int | float | bool | None = None
    note: str | None = Field(default=None, max_length=2000)


@router.get("/review/tasks")
def tasks(
    ws: WorkspaceDep,
    _caller: StewardDep,
    status: Annotated[Status, Query()] = "pending",
    rule: Annotated[str | None, Query()] = None,
    table: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=STORE_INT_MAX)] = 0,
) -> list[dict[str, Any]]:
    rows = ReviewQueue(ws.store).tasks(
        status=None if status == "all" else status, rule=rule, table=table, limit=limit,
        offset=offset,
    )  # fmt: skip
    return [{k: jsonable(v) for k, v in row.items()} for row in rows]


@router.get("/review/tasks/{task_id}")
def task(task_id: str, ws: WorkspaceDep, caller: StewardDep, policy: PolicyDep) -> dict[str, Any]:
    found = ReviewQueue(ws.store).task(task_id)
    reveal = found is not None and policy.masker(caller.role).in_clear(
        found["table_name"], found["column_name"]
    )
    return task_view(ws, task_id, reveal=reveal)


@router.post("/review/tasks/{task_id}/decision")
def decision(
    task_id: str, body: DecisionBody, ws: WorkspaceDep, caller: StewardDep
) -> DecisionResult:
    value = {"value": body.value} if "value" in body.model_fields_set else {}
    return decide_task(
        ws, task_id, body.decision, actor=f"token:{caller.name}", note=body.note, **value
    )
