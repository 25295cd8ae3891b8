"""``/v1/tables`` (the catalog) and ``/v1/query`` (read-only SQL)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from custodia.api.deps import AdminDep, CallerDep, WorkspaceDep
from custodia.catalog import TableInfo, describe_tables
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
def run_query(body: QueryRequest, ws: WorkspaceDep, _caller: AdminDep) -> QueryResult:
    """Read-only SQL over the canonical tables (same rules as `custodia sql`).

    Admin tokens only: results are unmasked until role-based masking arrives.
    """
    table = ws.query(body.sql)
    return QueryResult(columns=table.column_names, rows=rows_as_json(table))
