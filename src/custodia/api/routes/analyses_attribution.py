"""Attribution over HTTP (analysts, marketers, data stewards, admins).

- ``POST /v1/analyses/attribution`` ``{"models": ["last", "markov"], "markov_order": 2,
  "lookback": "30d", "half_life": "7d", "name": "attribution", "engine": "duckdb"}`` (every
  field optional): run it; the answer is the run with the journeys summary and the credit per
  model and channel.

Rows: ``GET /v1/analyses/results/analysis_attribution?name=attribution`` and
``.../analysis_attribution_lift``. See docs/analytics-attribution.md.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from custodia.analytics.attribution import AttributionParams
from custodia.api.deps import WorkspaceDep
from custodia.api.routes.analyses import AnalystDep, api_engine
from custodia.pipeline.analysis_attribution import run_attribution

router = APIRouter(prefix="/analyses", tags=["analyses"])


class AttributionRequest(AttributionParams):
    """Attribution parameters plus the run's name and engine."""

    name: str = Field(default="attribution", max_length=63, description="Analysis name")
    engine: Literal["duckdb", "spark"] = Field(default="duckdb", description="Engine")


@router.post("/attribution")
def post_attribution(
    body: AttributionRequest, ws: WorkspaceDep, _caller: AnalystDep
) -> dict[str, Any]:
    """Run attribution now; returns the run (parameters, journeys, credit per model)."""
    params = AttributionParams.model_validate(body.model_dump(exclude={"name", "engine"}))
    return run_attribution(ws, params, name=body.name, engine=api_engine(ws, body.engine)).as_dict()
