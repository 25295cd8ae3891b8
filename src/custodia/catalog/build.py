"""The full catalog: every table and column with domain, owner, description, classification, row
count, Delta version, freshness, quality scores and lineage links.

The declared model (:mod:`custodia.core.tables`) gives names, domains, tiers and descriptions;
``HOME/catalog.yaml`` (:mod:`custodia.catalog.overrides`) may give owners, descriptions and tags;
the workspace gives sizes and versions (Delta log, store counts), freshness (one query over the
lakehouse), the latest quality run's scores and the lineage run events. Each source of facts is
read once per view, whatever the number of tables.

A broken ``catalog.yaml`` does not hide the catalog: the model's values are shown and
``Catalog.overrides_error`` says what to fix.

Example::

    catalog = catalog_overview(ws)
    [(t.name, t.owner, t.rows, t.quality and t.quality.overall) for t in catalog.tables]
    orders = catalog_table(ws, "orders")
    orders.columns[0].quality, orders.columns[0].origins, orders.lineage.runs
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from custodia.catalog.freshness import TableMeasures, measure_tables
from custodia.catalog.lineage_links import (
    column_origins,
    lineage_links,
    lineage_path,
    recent_lineage,
    table_view,
)
from custodia.catalog.models import Catalog, CatalogColumn, CatalogTable, Classification
from custodia.catalog.overrides import CATALOG_FILE, CatalogOverrides, TableOverride, load_overrides
from custodia.catalog.quality_view import QualitySnapshot, latest_quality
from custodia.catalog.tables import column_info, pick_specs, table_facts
from custodia.core.errors import ValidationError
from custodia.core.tables import ColumnSpec, TableSpec, table_spec
from custodia.core.types import Tier
from custodia.lineage.lineage_view import TableLineage
from custodia.quality.scores import ALL_TABLES
from custodia.storage.store_lineage import LineageRecord
from custodia.workspace import Workspace

__all__ = ["catalog_overview", "catalog_table", "classify", "read_overrides"]


@dataclass(frozen=True)
class _Facts:
    """What the workspace knows about the tables of one view, each read once."""

    overrides: CatalogOverrides
    measures: TableMeasures
    quality: QualitySnapshot
    lineage: list[LineageRecord]


def catalog_overview(ws: Workspace, names: list[str] | None = None) -> Catalog:
    """All tables (or the named ones) with their columns; column origins are left to the detail."""
    specs = pick_specs(names)
    overrides, error = read_overrides(ws)
    facts = _gather(ws, specs, overrides)
    return Catalog(
        generated_at=ws.clock.now(),
        overrides_file=CATALOG_FILE if (ws.home / CATALOG_FILE).exists() else None,
        overrides_error=error,
        quality=facts.quality.table(ALL_TABLES),
        tables=[_entry(spec, facts, detail=False) for spec in specs],
    )


def catalog_table(ws: Workspace, name: str) -> CatalogTable:
    """One table in detail: every column with its quality and how each source sets it, the
    upstream sources and the recent load runs."""
    spec = table_spec(name)
    overrides, _error = read_overrides(ws)
    return _entry(spec, _gather(ws, [spec], overrides), detail=True)


def read_overrides(ws: Workspace) -> tuple[CatalogOverrides, str | None]:
    """The workspace's ``catalog.yaml``, or none and the reason when it cannot be used."""
    try:
        return load_overrides(ws.home / CATALOG_FILE), None
    except ValidationError as exc:
        return CatalogOverrides(), str(exc)


def classify(spec: TableSpec) -> Classification:
    """The table's highest tier, columns per tier and personal columns."""
    tiers = Counter(c.tier for c in spec.columns)
    highest = max(tiers, key=lambda tier: int(tier.value[1:]), default=Tier.L1)
    personal = [c.name for c in spec.columns if c.personal]
    return Classification(
        tier=highest.value,
        tier_label=highest.label,
        tiers={tier.value: tiers.get(tier, 0) for tier in Tier},
        personal=bool(personal),
        personal_columns=personal,
    )


def _gather(ws: Workspace, specs: list[TableSpec], overrides: CatalogOverrides) -> _Facts:
    return _Facts(
        overrides=overrides,
        measures=measure_tables(ws, specs),
        quality=latest_quality(ws),
        lineage=recent_lineage(ws),
    )


def _entry(spec: TableSpec, facts: _Facts, *, detail: bool) -> CatalogTable:
    override = facts.overrides.tables.get(spec.name) or TableOverride()
    table = table_facts(spec, *facts.measures.sizes[spec.name])
    table.description = override.description or spec.description
    view = table_view(spec.name, facts.lineage, detail=detail)
    return CatalogTable(
        **table.model_dump(),
        owner=override.owner or spec.owner,
        tags=override.tags,
        described_by=CATALOG_FILE if override.description else "model",
        classification=classify(spec),
        freshness=facts.measures.freshness[spec.name],
        quality=facts.quality.table(spec.name),
        lineage=lineage_links(view, detail=detail),
        column_count=len(spec.columns),
        columns=[_column(spec, c, override, facts, view if detail else None) for c in spec.columns],
    )


def _column(
    spec: TableSpec,
    column: ColumnSpec,
    override: TableOverride,
    facts: _Facts,
    view: TableLineage | None,
) -> CatalogColumn:
    info = column_info(column)
    info.description = override.columns.get(column.name) or column.description
    return CatalogColumn(
        **info.model_dump(),
        tier_label=column.tier.label,
        quality=facts.quality.column(spec.name, column.name),
        origins=column_origins(view, column.name) if view is not None else [],
        lineage_path=lineage_path(spec.name, column.name),
    )
