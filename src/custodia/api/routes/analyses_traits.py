"""Computed traits and tags over HTTP (analysts, marketers, data stewards, admins).

- ``POST /v1/analyses/traits`` ``{"as_of": "2026-11-01", "full": false, "name": "traits",
  "engine": "duckdb"}`` (every field optional): compute the traits of the profiles due (every
  profile with ``full``); the answer is the run with its summary (mode, profiles computed and
  removed, profiles per tag).

Per-profile rows: ``GET /v1/analyses/results/analysis_profile_traits?name=traits``; one
profile's traits and tags are also in its 360 view (``GET /v1/profiles/{ref}``).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from custodia.analytics.traits_spec import TraitsParams
from custodia.api.deps import WorkspaceDep
from custodia.api.routes.analyses import AnalystDep, api_engine
from custodia.pipeline.analysis_traits import run_traits

router = APIRouter(prefix="/analyses", tags=["analyses"])


class TraitsRequest(TraitsParams):
    """Traits parameters plus the run's name and engine."""

    name: str = Field(default="traits", max_length=63, description="Analysis name")
    engine: Literal["duckdb", "spark"] = Field(default="duckdb", description="Engine")


@router.post("/traits")
def post_traits(body: TraitsRequest, ws: WorkspaceDep, _caller: AnalystDep) -> dict[str, Any]:
    """Compute the traits now (incrementally unless ``full``); returns the run."""
    params = TraitsParams.model_validate(body.model_dump(exclude={"name", "engine"}))
    return run_traits(ws, params, name=body.name, engine=api_engine(ws, body.engine)).as_dict()
