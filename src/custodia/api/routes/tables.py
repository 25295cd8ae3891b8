"""``/v1/tables`` (the catalog) and ``/v1/query`` (read-only SQL)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from custodia.api.deps import CallerDep, WorkspaceDep
from custodia.api.masking_deps import PolicyDep
from custodia.catalog import TableInfo, describe_tables
from custodia.privacy.query_disclosure import plan_disclosure
from custodia.storage.engine import rows_as_json

router = APIRouter(tags=["catalog"])


@router.get("/tables")
def list_tables(ws: WorkspaceDep, _caller: CallerDep) -> list[TableInfo]:
    """Every canonical table with zone, row count, Delta version and classified columns."""
    return describe_tables(ws)


@router.get("/tables/{name}")
def get_table(name: str, ws: WorkspaceDep, _caller: CallerDep) -> TableInfo:
    return describe_tables(ws, [name])[0]


class QueryRequest(BaseModel):
    sql: str = Field(description="A read-only SELECT; Delta time travel with VERSION AS OF n.")


class QueryResult(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]


@router.post("/query")
def run_query(
    body: QueryRequest, ws: WorkspaceDep, caller: CallerDep, policy: PolicyDep
) -> QueryResult:
    """Read-only SQL over the canonical tables (same rules as `custodia sql`), masked by role.

    Each result column is traced to the table columns it reads and masked like them; computed
    values over personal columns are refused unless the role's policy allows them (admins,
    audited). See :mod:`custodia.privacy.query_disclosure`.
    """
    masker = policy.masker(caller.role)
    table = ws.query(body.sql)
    plan = plan_disclosure(body.sql, table.column_names, masker)
    plan.record_in_clear(ws.store, f"token:{caller.name}", ws.clock)
    return QueryResult(columns=plan.visible, rows=plan.apply(rows_as_json(table)))
