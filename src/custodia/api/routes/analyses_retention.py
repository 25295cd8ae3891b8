"""Cohort retention and repurchase cycles over HTTP (analysts, marketers, data stewards, admins).

- ``POST /v1/analyses/retention`` ``{"cohort": "first", "period": "week", "cumulative": false,
  "event": null, "periods": 12, "since": null, "until": null, "name": "retention",
  "engine": "duckdb"}`` (every field optional; ``event`` null means orders).
- ``POST /v1/analyses/repurchase`` ``{"by": "member_level", "bucket": "month",
  "recent_months": 6, "baseline": "previous_year", "as_of": null, "limited_prefixes": [...],
  "rfm_name": "rfm", "horizon_days": 150, "name": "repurchase", "engine": "duckdb"}``
  (``horizon_days``: the cap of the Kaplan-Meier restricted mean gap).

Both answer with the run and its summary; rows: ``GET /v1/analyses/results/analysis_retention``,
``.../analysis_repurchase`` and ``.../analysis_repurchase_interests``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from custodia.analytics.repurchase import RepurchaseParams
from custodia.analytics.retention import RetentionParams
from custodia.api.deps import WorkspaceDep
from custodia.api.routes.analyses import AnalystDep, api_engine
from custodia.pipeline.analysis_retention import run_repurchase, run_retention

router = APIRouter(prefix="/analyses", tags=["analyses"])

_RUN_FIELDS = {"name", "engine"}


class RetentionRequest(RetentionParams):
    """Retention parameters plus the run's name and engine."""

    name: str = Field(default="retention", max_length=63, description="Analysis name")
    engine: Literal["duckdb", "spark"] = Field(default="duckdb", description="Engine")


class RepurchaseRequest(RepurchaseParams):
    """Repurchase parameters plus the run's name and engine."""

    name: str = Field(default="repurchase", max_length=63, description="Analysis name")
    engine: Literal["duckdb", "spark"] = Field(default="duckdb", description="Engine")


@router.post("/retention")
def post_retention(body: RetentionRequest, ws: WorkspaceDep, _caller: AnalystDep) -> dict[str, Any]:
    """Run cohort retention now; returns the run with the average curve."""
    params = RetentionParams.model_validate(body.model_dump(exclude=_RUN_FIELDS))
    return run_retention(ws, params, name=body.name, engine=api_engine(ws, body.engine)).as_dict()


@router.post("/repurchase")
def post_repurchase(
    body: RepurchaseRequest, ws: WorkspaceDep, _caller: AnalystDep
) -> dict[str, Any]:
    """Run the repurchase analysis now; returns the run with gaps and interest drops."""
    params = RepurchaseParams.model_validate(body.model_dump(exclude=_RUN_FIELDS))
    return run_repurchase(ws, params, name=body.name, engine=api_engine(ws, body.engine)).as_dict()
