"""``/v1/sources``: collector sources and their write keys (admins only).

``POST /v1/sources`` creates a source and returns its write key, once; ``GET /v1/sources``
lists sources without key material.

Example::

    curl -H "Authorization: Bearer $ADMIN" -d '{"name": "web", "rate_limit_per_second": 5000}' \\
         -H 'content-type: application/json' localhost:8000/v1/sources
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from custodia.api.deps import AdminDep, WorkspaceDep
from custodia.collect.sources import SourceRegistry


class SourceCreate(BaseModel):
    name: str = Field(description="1-64 characters of a-z, 0-9, '_' and '-'.")
    rate_limit_per_second: int | None = Field(
        default=None, ge=1, description="Events per second the collector accepts; none: no limit."
    )


router = APIRouter(tags=["sources"])


def _registry(request: Request, ws: WorkspaceDep) -> SourceRegistry:
    """The running collector's registry (so its key cache learns at once), else a new one."""
    runtime = getattr(request.app.state, "collector", None)
    if runtime is not None:
        registry: SourceRegistry = runtime.sources
        return registry
    return SourceRegistry(ws.store, ws.clock)


@router.post("/sources", status_code=201)
def create_source(
    spec: SourceCreate, request: Request, ws: WorkspaceDep, caller: AdminDep
) -> dict[str, Any]:
    """Create a source; the answer holds its write key, which is not shown again."""
    created = _registry(request, ws).create(
        spec.name,
        created_by=f"token:{caller.token_id}",
        rate_limit_per_second=spec.rate_limit_per_second,
    )
    return {**created.source.as_json(), "write_key": created.write_key}


@router.get("/sources")
def list_sources(request: Request, ws: WorkspaceDep, _caller: AdminDep) -> list[dict[str, Any]]:
    """Every source, without key material."""
    return [source.as_json() for source in _registry(request, ws).list()]
