"""The table catalog: every canonical table with its zone, size, version and classified columns.

``custodia tables`` prints it; ``GET /v1/tables`` returns it. The quality and lineage columns of the
full catalog (issue: Govern) extend these records.

Example::

    for table in describe_tables(ws):
        print(table.name, table.zone, table.rows, table.version)
"""

from __future__ import annotations

from pydantic import BaseModel

from custodia.core.tables import TABLES, TableSpec
from custodia.core.types import Home
from custodia.workspace import Workspace


class ColumnInfo(BaseModel):
    """One column as the catalog shows it."""

    name: str
    type: str
    tier: str
    personal: bool
    nullable: bool
    description: str


class TableInfo(BaseModel):
    """One table as the catalog shows it. ``rows``/``version`` are None for store tables."""

    name: str
    zone: str
    home: str
    domain: str
    description: str
    key: list[str]
    partition_by: list[str]
    rows: int | None
    version: int | None
    columns: list[ColumnInfo]


def describe_tables(ws: Workspace, names: list[str] | None = None) -> list[TableInfo]:
    """Catalog records for all canonical tables, or for the named ones (unknown names raise)."""
    specs = [spec for spec in TABLES if names is None or spec.name in names]
    if names:
        from custodia.core.tables import table_spec

        for name in names:
            table_spec(name)
    return [_describe(ws, spec) for spec in specs]


def _describe(ws: Workspace, spec: TableSpec) -> TableInfo:
    rows = version = None
    if spec.home is Home.LAKE and ws.lake.exists(spec.zone.value, spec.name):
        rows = ws.lake.row_count(spec.zone.value, spec.name)
        version = ws.lake.version(spec.zone.value, spec.name)
    return TableInfo(
        name=spec.name,
        zone=spec.zone.value,
        home=spec.home.value,
        domain=spec.domain.value,
        description=spec.description,
        key=list(spec.key),
        partition_by=list(spec.partition_by),
        rows=rows,
        version=version,
        columns=[
            ColumnInfo(
                name=c.name,
                type=str(c.type),
                tier=c.tier.value,
                personal=c.personal,
                nullable=c.nullable,
                description=c.description,
            )
            for c in spec.columns
        ],
    )
