"""Funnels over HTTP (analysts, marketers, data stewards, admins).

- ``POST /v1/analyses/funnel`` ``{"steps": ["Product Viewed", {"event": "Product Added",
  "where": {"category": "连衣裙"}}, "Order Completed"], "mode": "sequential", "window": "14d",
  "exclude": [], "by": "profile.member_level", "from": "2026-01-01", "to": "2026-06-30",
  "name": "funnel", "engine": "duckdb"}``: run it; the answer is the run with the per-step
  summary. An unknown event or property is a 400 naming the field and the closest known names.

Rows per segment and step: ``GET /v1/analyses/results/analysis_funnel?name=funnel``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from custodia.analytics.funnels import FunnelParams
from custodia.api.deps import WorkspaceDep
from custodia.api.routes.analyses import AnalystDep, api_engine
from custodia.pipeline.analysis_funnel import run_funnel

router = APIRouter(prefix="/analyses", tags=["analyses"])


class FunnelRequest(FunnelParams):
    """Funnel parameters plus the run's name and engine."""

    name: str = Field(default="funnel", max_length=63, description="Analysis name")
    engine: Literal["duckdb", "spark"] = Field(default="duckdb", description="Engine")


@router.post("/funnel")
def post_funnel(body: FunnelRequest, ws: WorkspaceDep, _caller: AnalystDep) -> dict[str, Any]:
    """Run a funnel now; returns the run (steps, conversion, largest drop-off)."""
    params = FunnelParams.model_validate(body.model_dump(exclude={"name", "engine"}))
    return run_funnel(ws, params, name=body.name, engine=api_engine(ws, body.engine)).as_dict()
