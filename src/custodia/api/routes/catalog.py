"""``/v1/catalog``: every table with owner, classification, size, freshness, quality and lineage
links; ``/v1/catalog/{table}`` adds how each source sets each column and the recent load runs.

Readers: admin, data steward, analyst and auditor tokens. The catalog holds metadata only (names,
counts, times, scores), never a value of the data.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from custodia.api.deps import WorkspaceDep, require_role
from custodia.catalog import Catalog, CatalogTable, catalog_overview, catalog_table
from custodia.privacy.roles import Role
from custodia.privacy.tokens import TokenRecord

router = APIRouter(tags=["catalog"])

CatalogReaderDep = Annotated[
    TokenRecord,
    Depends(require_role(Role.ADMIN, Role.DATA_STEWARD, Role.ANALYST, Role.AUDITOR)),
]


@router.get("/catalog")
def get_catalog(ws: WorkspaceDep, _caller: CatalogReaderDep) -> Catalog:
    """All tables with their columns; ``overrides_error`` says why ``catalog.yaml`` was not used."""
    return catalog_overview(ws)


@router.get("/catalog/{table}")
def get_catalog_table(table: str, ws: WorkspaceDep, _caller: CatalogReaderDep) -> CatalogTable:
    """One table in detail; an unknown table is a 404 listing the known ones."""
    return catalog_table(ws, table)
