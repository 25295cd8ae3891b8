"""The declared tables: every canonical table with its zone, size, version and classified columns.

``custodia tables`` prints these records and ``GET /v1/tables`` returns them; the full catalog
(:mod:`custodia.catalog.build`) adds owner, freshness, quality and lineage on top of the same facts.

Example::

    for table in describe_tables(ws):
        print(table.name, table.zone, table.rows, table.version)
"""

from __future__ import annotations

from pydantic import BaseModel

from custodia.core.tables import TABLES, ColumnSpec, TableSpec, table_spec
from custodia.core.types import Home
from custodia.workspace import Workspace

__all__ = [
    "ColumnInfo",
    "TableFacts",
    "TableInfo",
    "column_info",
    "describe_tables",
    "lake_size",
    "pick_specs",
    "table_facts",
]


class ColumnInfo(BaseModel):
    """One column as the catalog shows it."""

    name: str
    type: str
    tier: str
    personal: bool
    nullable: bool
    description: str


class TableFacts(BaseModel):
    """What every catalog view says about a table. ``rows``/``version`` are None when unknown."""

    name: str
    zone: str
    home: str
    domain: str
    description: str
    key: list[str]
    partition_by: list[str]
    rows: int | None
    version: int | None


class TableInfo(TableFacts):
    """One table with its declared columns (``custodia tables``)."""

    columns: list[ColumnInfo]


def pick_specs(names: list[str] | None = None) -> list[TableSpec]:
    """All canonical tables, or the named ones in model order (an unknown name raises)."""
    if not names:
        return list(TABLES)
    wanted = {table_spec(name).name for name in names}
    return [spec for spec in TABLES if spec.name in wanted]


def describe_tables(ws: Workspace, names: list[str] | None = None) -> list[TableInfo]:
    """Catalog records for all canonical tables, or for the named ones (unknown names raise)."""
    return [_describe(ws, spec) for spec in pick_specs(names)]


def lake_size(ws: Workspace, spec: TableSpec) -> tuple[int | None, int | None]:
    """Rows and Delta version of a lakehouse table (from the log); Nones for store tables."""
    if spec.home is not Home.LAKE or not ws.lake.exists(spec.zone.value, spec.name):
        return None, None
    return (
        ws.lake.row_count(spec.zone.value, spec.name),
        ws.lake.version(spec.zone.value, spec.name),
    )


def table_facts(spec: TableSpec, rows: int | None, version: int | None) -> TableFacts:
    """The facts every view of ``spec`` starts from (``model_dump()`` them into a subclass)."""
    return TableFacts(
        name=spec.name,
        zone=spec.zone.value,
        home=spec.home.value,
        domain=spec.domain.value,
        description=spec.description,
        key=list(spec.key),
        partition_by=list(spec.partition_by),
        rows=rows,
        version=version,
    )


def column_info(column: ColumnSpec) -> ColumnInfo:
    """A declared column as the catalog shows it."""
    return ColumnInfo(
        name=column.name,
        type=str(column.type),
        tier=column.tier.value,
        personal=column.personal,
        nullable=column.nullable,
        description=column.description,
    )


def _describe(ws: Workspace, spec: TableSpec) -> TableInfo:
    rows, version = lake_size(ws, spec)
    facts = table_facts(spec, rows, version)
    return TableInfo(**facts.model_dump(), columns=[column_info(c) for c in spec.columns])
