"""The analyses over HTTP (issue 8): shared roles and the stored results of any analysis.

Each analysis adds its own route module ``analyses_<kind>.py`` with ``POST /v1/analyses/<kind>``
(run it; the answer is the run with its summary) using the dependencies here, and is listed in
``api/app.py``. Stored results of every analysis are read here:

- ``GET /v1/analyses/results/{table}?name=...&limit=...&offset=...``: rows of one result table
  (``analysis_rfm``, ...), newest run of each name.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from custodia.api.deps import WorkspaceDep, require_role
from custodia.core.analysis_tables import ANALYSIS_TABLES
from custodia.core.errors import NotFoundError, TableNotFoundError, ValidationError
from custodia.pipeline.analysis_runs import check_analysis_name
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord
from custodia.storage.engine import rows_as_json
from custodia.workspace import Workspace

router = APIRouter(tags=["analyses"])

ANALYST_ROLES = (Role.ADMIN, Role.ANALYST, Role.MARKETER, Role.DATA_STEWARD)
AnalystDep = Annotated[TokenRecord, Depends(require_role(*ANALYST_ROLES))]
MAX_PAGE = 1000


def api_engine(ws: Workspace, engine: str) -> str:
    """The engine an API call may use: Spark only where the settings allow it (``api_spark``),
    since each call would start or join a Spark session."""
    if engine == "spark" and not ws.settings.api_spark:
        raise ValidationError(
            "engine", "not_enabled", "engine: spark is not enabled for the API (api_spark)"
        )
    return engine


@router.get("/analyses/results/{table}")
def results(
    table: str,
    ws: WorkspaceDep,
    _caller: AnalystDep,
    name: Annotated[str | None, Query(max_length=63)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> dict[str, Any]:
    """Stored rows of an analysis result table, optionally of one analysis name."""
    known = {spec.name: spec for spec in ANALYSIS_TABLES}
    spec = known.get(table)
    if spec is None:
        raise NotFoundError(f"no analysis table {table!r}; known: {', '.join(sorted(known))}")
    where, params = "", []
    if name is not None:
        where, params = "WHERE analysis_name = ?", [check_analysis_name(name)]
    order = ", ".join(spec.key)
    sql = f"SELECT * FROM {table} {where} ORDER BY {order} LIMIT {limit + 1} OFFSET {offset}"
    try:
        rows = ws.query_engine().query(sql, params)
    except TableNotFoundError:
        raise NotFoundError(f"{table}: no analysis has stored results yet") from None
    items = rows_as_json(rows.slice(0, limit))
    return {"items": items, "limit": limit, "offset": offset, "has_more": rows.num_rows > limit}
