"""Paths and heatmaps over HTTP (analysts, marketers, data stewards, admins).

- ``POST /v1/analyses/paths`` ``{"start_event": "Home" | "end_event": "Order Completed",
  "steps": 5, "session_minutes": 30, "clean": ["^Product Detail$=Product"], "top": 20,
  "from": ..., "to": ..., "name": "paths", "engine": "duckdb"}``: Sankey nodes and links by step
  and the top paths (rows: ``GET /v1/analyses/results/analysis_paths?name=paths``).
- ``POST /v1/analyses/heatmap`` ``{"page": "/p/*", "timezone": "Asia/Shanghai", "from": ...,
  "to": ..., "name": "heatmap"}``: clicks per element and views/clicks by weekday x hour (rows:
  ``GET /v1/analyses/results/analysis_heatmap?name=heatmap``).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from custodia.analytics.heatmaps import HeatmapParams
from custodia.analytics.paths import PathParams
from custodia.api.deps import WorkspaceDep
from custodia.api.routes.analyses import AnalystDep, api_engine
from custodia.pipeline.analysis_heatmap import run_heatmap
from custodia.pipeline.analysis_paths import run_paths

router = APIRouter(prefix="/analyses", tags=["analyses"])


class PathsRequest(PathParams):
    """Path parameters plus the run's name and engine."""

    name: str = Field(default="paths", max_length=63, description="Analysis name")
    engine: Literal["duckdb", "spark"] = Field(default="duckdb", description="Engine")


class HeatmapRequest(HeatmapParams):
    """Heatmap parameters plus the run's name and engine."""

    name: str = Field(default="heatmap", max_length=63, description="Analysis name")
    engine: Literal["duckdb", "spark"] = Field(default="duckdb", description="Engine")


@router.post("/paths")
def post_paths(body: PathsRequest, ws: WorkspaceDep, _caller: AnalystDep) -> dict[str, Any]:
    """Run a path analysis now; returns the run with its top paths and transitions."""
    params = PathParams.model_validate(body.model_dump(exclude={"name", "engine"}))
    return run_paths(ws, params, name=body.name, engine=api_engine(ws, body.engine)).as_dict()


@router.post("/heatmap")
def post_heatmap(body: HeatmapRequest, ws: WorkspaceDep, _caller: AnalystDep) -> dict[str, Any]:
    """Run a heatmap now; returns the run with its top elements and busiest hour."""
    params = HeatmapParams.model_validate(body.model_dump(exclude={"name", "engine"}))
    return run_heatmap(ws, params, name=body.name, engine=api_engine(ws, body.engine)).as_dict()
