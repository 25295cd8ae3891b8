"""Lineage as the catalog shows it: each table's upstream sources and load runs, and where to
follow them up (``/v1/lineage/{table}``, ``custodia lineage show``).

The stored run events are read once for the whole catalog and assembled per table by
:func:`custodia.lineage.lineage_view.table_lineage`, the same code behind ``lineage show``; the
catalog keeps names, counts and runs, and links to the full view instead of repeating it.

Example::

    view = table_view("orders", recent_lineage(ws), detail=False)
    links = lineage_links(view, detail=False)
    links.sources, links.last_run.status, links.path   # ['shop'], 'completed', '/v1/lineage/orders'
"""

from __future__ import annotations

from collections.abc import Sequence

from custodia.catalog.models import LineageLinks, UpstreamLink
from custodia.lineage.lineage_view import (
    ColumnSource,
    TableLineage,
    UpstreamSource,
    table_lineage,
)
from custodia.storage.store_lineage import LineageLog, LineageRecord
from custodia.workspace import Workspace

__all__ = [
    "DETAIL_RUNS",
    "EVENT_LOOKBACK",
    "column_origins",
    "lineage_links",
    "lineage_path",
    "recent_lineage",
    "table_view",
]

EVENT_LOOKBACK = 300  # run events read for the whole catalog (newest first)
DETAIL_RUNS = 10  # recent runs listed in a table's detail


def recent_lineage(ws: Workspace) -> list[LineageRecord]:
    """The newest run events, shared by every table of one catalog view."""
    return LineageLog(ws.store).recent(limit=EVENT_LOOKBACK)


def lineage_path(table: str, column: str | None = None) -> str:
    """The API path of the full lineage of a table or column."""
    return f"/v1/lineage/{table}" + (f".{column}" if column else "")


def table_view(table: str, records: Sequence[LineageRecord], *, detail: bool) -> TableLineage:
    """The lineage view of ``table`` from ``records`` (the runs kept only for the detail)."""
    return table_lineage(table, None, records, max_runs=DETAIL_RUNS if detail else 1)


def lineage_links(view: TableLineage, *, detail: bool) -> LineageLinks:
    """Names, last run and links; with ``detail`` also each source and the recent runs."""
    return LineageLinks(
        path=lineage_path(view.table),
        command=f"custodia lineage show {view.table}",
        sources=[src.source for src in view.upstream],
        last_run=view.runs[0] if view.runs else None,
        upstream=[_upstream_link(src) for src in view.upstream] if detail else [],
        runs=list(view.runs) if detail else [],
    )


def column_origins(view: TableLineage, column: str) -> list[ColumnSource]:
    """How each source sets ``column``, as of the newest run that wrote it."""
    return list(view.columns.get(column, []))


def _upstream_link(src: UpstreamSource) -> UpstreamLink:
    return UpstreamLink(**src.model_dump(exclude={"files", "location"}), files=len(src.files))
