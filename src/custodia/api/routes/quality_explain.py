"""``/v1/quality/explain``: from a metric that moved to the source files and load runs behind it.

Routes::

    GET /v1/quality/explain                 the metrics and volume rules that can be explained
    GET /v1/quality/explain/{metric}        the explanation (see ``custodia quality explain``)

Readers: admin, data_steward, analyst, auditor. Both only read (the metric file is not written).
"""

from __future__ import annotations

from fastapi import APIRouter

from custodia.api.deps import WorkspaceDep
from custodia.api.routes.quality import QualityReaderDep
from custodia.pipeline.quality_explain import Explanation, explain_metric, explainable_names

router = APIRouter(tags=["quality"])


@router.get("/quality/explain")
def explainable(ws: WorkspaceDep, _caller: QualityReaderDep) -> dict[str, str]:
    """Name -> description of every metric and volume rule ``explain`` follows."""
    return explainable_names(ws)


@router.get("/quality/explain/{metric}")
def explain(metric: str, ws: WorkspaceDep, _caller: QualityReaderDep) -> Explanation:
    """Where the metric moved, the groups of rows behind the move, their files and runs."""
    return explain_metric(ws, metric)
