"""``/v1/runs``: pipeline run history (job status for long work)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from custodia.api.deps import CallerDep, WorkspaceDep
from custodia.core.errors import TableNotFoundError
from custodia.storage.store_runs import RunLog

router = APIRouter(tags=["runs"])


@router.get("/runs")
def list_runs(
    ws: WorkspaceDep, _caller: CallerDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    """Newest runs first, with status and row totals."""
    return [asdict(r) for r in RunLog(ws.store, ws.clock).list_runs(limit=limit)]


@router.get("/runs/{run_id}")
def get_run(run_id: str, ws: WorkspaceDep, _caller: CallerDep) -> dict[str, Any]:
    """One run and its steps (rows in, stored, rejected per source and table)."""
    log = RunLog(ws.store, ws.clock)
    record = log.get_run(run_id)
    if record is None:
        raise TableNotFoundError(f"no run '{run_id}'")
    return {**asdict(record), "steps": [asdict(s) for s in log.list_steps(run_id)]}
