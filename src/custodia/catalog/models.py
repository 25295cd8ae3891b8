"""The records of the full catalog: tables and columns with owner, classification, freshness,
quality and lineage links.

They extend the declared facts of :mod:`custodia.catalog.tables` (so ``custodia tables`` and
``custodia catalog`` agree on names, zones, sizes and tiers) with what the workspace knows about
the data now. Everything here is metadata: counts, times, scores and names, never a value.

Example::

    entry = catalog_table(ws, "orders")
    entry.freshness.newest, entry.quality.overall, entry.lineage.sources
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from custodia.catalog.tables import ColumnInfo, TableFacts
from custodia.lineage.lineage_view import ColumnSource, LineageRun

__all__ = [
    "Catalog",
    "CatalogColumn",
    "CatalogTable",
    "Classification",
    "Freshness",
    "LineageLinks",
    "QualitySummary",
    "UpstreamLink",
]


class Classification(BaseModel):
    """How sensitive a table is: its highest column tier and how many columns of each tier."""

    tier: str = Field(description="Highest tier of its columns: L1 | L2 | L3")
    tier_label: str = Field(description="The tier in words, English and Chinese")
    tiers: dict[str, int] = Field(description="Columns per tier")
    personal: bool = Field(description="Whether any column relates to a person")
    personal_columns: list[str] = Field(default_factory=list)


class Freshness(BaseModel):
    """How recent the data is: the newest fact time and the newest load, and their ages."""

    time_column: str | None = Field(description="The column saying when a row's fact happened")
    newest: datetime | None = Field(default=None, description="Newest value of time_column")
    newest_loaded_at: datetime | None = Field(default=None, description="Newest loaded_at")
    age_seconds: float | None = Field(default=None, description="Now minus newest")
    loaded_age_seconds: float | None = Field(default=None, description="Now minus newest load")


class QualitySummary(BaseModel):
    """Scores (0..1) of the latest quality run in one scope: a table or one of its columns."""

    overall: float | None = None
    dimensions: dict[str, float] = Field(default_factory=dict)
    rules: int = Field(0, description="Rules measuring the scope (summed over dimensions)")
    checked: int = 0
    failed: int = 0


class TableQuality(QualitySummary):
    """A table's scores with the run they come from and its open alerts."""

    run_id: str | None = None
    measured_at: datetime | None = None
    open_alerts: int = 0


class UpstreamLink(BaseModel):
    """A source that fed the table, as the lineage store last saw it."""

    source: str
    format: str | None = None
    entity: str | None = None
    files: int = Field(0, description="Files or source tables read in its newest run")
    runs: int = Field(description="Recorded runs of this source that touched the table")
    last_run_id: str
    last_run_at: datetime
    last_rows: int | None = None


class LineageLinks(BaseModel):
    """Where a table's data comes from, and where to follow it up."""

    path: str = Field(description="API path with the full lineage, e.g. /v1/lineage/orders")
    command: str = Field(description="The same from the CLI")
    sources: list[str] = Field(default_factory=list)
    last_run: LineageRun | None = None
    upstream: list[UpstreamLink] = Field(default_factory=list)
    runs: list[LineageRun] = Field(default_factory=list, description="Recent runs (detail only)")


class CatalogColumn(ColumnInfo):
    """A column with its tier in words, its quality scores and how each source sets it."""

    tier_label: str
    quality: QualitySummary | None = None
    origins: list[ColumnSource] = Field(default_factory=list)
    lineage_path: str


class CatalogTable(TableFacts):
    """One table of the catalog. ``columns`` is filled in the table detail only."""

    owner: str
    tags: list[str] = Field(default_factory=list)
    described_by: str = Field(description="model (core.tables) | catalog.yaml")
    classification: Classification
    freshness: Freshness
    quality: TableQuality | None = None
    lineage: LineageLinks
    column_count: int
    columns: list[CatalogColumn] = Field(default_factory=list)


class Catalog(BaseModel):
    """Every table of the workspace, with the workspace-wide quality score."""

    generated_at: datetime
    overrides_file: str | None = Field(None, description="HOME/catalog.yaml when it exists")
    overrides_error: str | None = Field(
        None, description="Why catalog.yaml was not applied (the model's values are shown)"
    )
    quality: TableQuality | None = Field(None, description="Workspace-wide scores (table '*')")
    tables: list[CatalogTable]
