"""``/v1/quality``: run the rules, read the scorecard, the score history and the alerts.

Routes::

    POST /v1/quality/runs                       run every rule in force now (admin, data_steward)
    GET  /v1/quality/scores?table=&by=          the latest run's scores
    GET  /v1/quality/scores/history?table=      one scope's score per run (a time series)
    GET  /v1/quality/alerts?status=open         alerts (open, resolved or all)
    GET  /v1/quality/alerts/{alert_id}          one alert with its deliveries
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from custodia.api.deps import WorkspaceDep, require_role
from custodia.core.errors import NotFoundError
from custodia.pipeline.quality_run import QualityReport, run_quality
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord
from custodia.quality.scores import breakdown_of
from custodia.storage.store_quality import QualityLedger

router = APIRouter(tags=["quality"])

QualityReaderDep = Annotated[
    TokenRecord,
    Depends(require_role(Role.ADMIN, Role.DATA_STEWARD, Role.ANALYST, Role.AUDITOR)),
]
QualityRunnerDep = Annotated[TokenRecord, Depends(require_role(Role.ADMIN, Role.DATA_STEWARD))]
Breakdown = Literal["table", "column", "source", "day"]


@router.post("/quality/runs")
def run(ws: WorkspaceDep, _caller: QualityRunnerDep) -> QualityReport:
    """Run every rule in force; the run is also listed in ``/v1/runs`` (kind ``quality``)."""
    return run_quality(ws)


@router.get("/quality/scores")
def scores(
    ws: WorkspaceDep,
    _caller: QualityReaderDep,
    table: Annotated[str | None, Query()] = None,
    by: Annotated[Breakdown, Query()] = "table",
) -> dict[str, Any]:
    """The latest run's scores: per table (default), or broken down by column, source or day."""
    ledger = QualityLedger(ws.store)
    run_id = ledger.latest_run_id()
    rows = [] if run_id is None else ledger.scores(run_id, table=table, per_day=by == "day")
    kept = [r for r in rows if breakdown_of(r["column_name"], r["source"], r["day"]) == by]
    return {"run_id": run_id, "scores": kept}


@router.get("/quality/scores/history")
def history(
    ws: WorkspaceDep,
    _caller: QualityReaderDep,
    table: Annotated[str, Query()] = "*",
    dimension: Annotated[str, Query()] = "overall",
    column: Annotated[str, Query()] = "",
    source: Annotated[str, Query()] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """A scope's score in each quality run, oldest first (``*`` is the whole workspace)."""
    return QualityLedger(ws.store).score_history(
        table=table, dimension=dimension, column=column, source=source, limit=limit
    )


@router.get("/quality/alerts")
def alerts(
    ws: WorkspaceDep,
    _caller: QualityReaderDep,
    status: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    return QualityLedger(ws.store).alerts(status=None if status == "all" else status, limit=limit)


@router.get("/quality/alerts/{alert_id}")
def alert(alert_id: str, ws: WorkspaceDep, _caller: QualityReaderDep) -> dict[str, Any]:
    found = QualityLedger(ws.store).alert(alert_id)
    if found is None:
        raise NotFoundError(f"no quality alert {alert_id}")
    return found
