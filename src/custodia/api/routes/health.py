"""``GET /health``: liveness without authentication (load balancers and `make demo` poll it)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from custodia import __version__
from custodia.api.deps import WorkspaceDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str
    workspace_id: str


@router.get("/health")
def health(ws: WorkspaceDep) -> Health:
    return Health(status="ok", version=__version__, workspace_id=ws.info.workspace_id)
