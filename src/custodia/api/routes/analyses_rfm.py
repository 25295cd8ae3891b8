"""RFM and clusters over HTTP (analysts, marketers, data stewards, admins).

- ``POST /v1/analyses/rfm`` ``{"window_days": 365, "as_of": "2026-10-31", "tiers": [...],
  "name": "rfm", "engine": "duckdb"}`` (every field optional): run it; the answer is the run
  with its per-tier summary. ``tiers`` (a list, as in the tier file) overrides the workspace's
  tier file for this run.
- ``POST /v1/analyses/clusters`` ``{"k": 4}`` or ``{"k_min": 2, "k_max": 8, "features": ["rfm"]}``
  plus the RFM fields: K-means clusters on scaled RFM (and traits), labels stable between runs
  of a name; the answer is the run with each cluster's size, mean RFM, typical tier and typical
  tags (from the traits run; see docs/analytics-clusters.md).
- ``GET /v1/analyses/rfm/tiers``: the workspace's tiers in force, where they come from and, if
  the workspace file is broken, why.

Per-profile rows: ``GET /v1/analyses/results/analysis_rfm?name=rfm`` (``analysis_clusters``).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from custodia.analytics.clusters import ClusterParams
from custodia.analytics.rfm import RfmParams
from custodia.api.deps import WorkspaceDep
from custodia.api.routes.analyses import AnalystDep, api_engine
from custodia.pipeline.analysis_clusters import run_clusters
from custodia.pipeline.analysis_rfm import run_rfm, tiers_in_force

router = APIRouter(prefix="/analyses", tags=["analyses"])


class RfmRequest(RfmParams):
    """RFM parameters plus the run's name and engine."""

    name: str = Field(default="rfm", max_length=63, description="Analysis name")
    engine: Literal["duckdb", "spark"] = Field(default="duckdb", description="Engine")


@router.post("/rfm")
def post_rfm(body: RfmRequest, ws: WorkspaceDep, _caller: AnalystDep) -> dict[str, Any]:
    """Run RFM now; returns the run (parameters resolved, tiers with counts and value)."""
    params = RfmParams.model_validate(body.model_dump(exclude={"name", "engine"}))
    return run_rfm(ws, params, name=body.name, engine=api_engine(ws, body.engine)).as_dict()


class ClustersRequest(ClusterParams):
    """Cluster parameters plus the run's name and engine."""

    name: str = Field(default="clusters", max_length=63, description="Analysis name")
    engine: Literal["duckdb", "spark"] = Field(default="duckdb", description="Engine")


@router.post("/clusters")
def post_clusters(body: ClustersRequest, ws: WorkspaceDep, _caller: AnalystDep) -> dict[str, Any]:
    """Cluster the profiles now; returns the run (k, silhouettes, clusters)."""
    params = ClusterParams.model_validate(body.model_dump(exclude={"name", "engine"}))
    return run_clusters(ws, params, name=body.name, engine=api_engine(ws, body.engine)).as_dict()


@router.get("/rfm/tiers")
def get_tiers(ws: WorkspaceDep, _caller: AnalystDep) -> dict[str, Any]:
    """The tiers a run without ``tiers`` uses."""
    found = tiers_in_force(ws)
    return {
        "tiers": found.value.model_dump(mode="json")["tiers"],
        "origin": found.origin,
        "error": found.error,
    }
