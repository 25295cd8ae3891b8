"""Run the last load of a source again, exactly as it ran: the ``rerun_load`` alert action.

Why: a quality alert such as a store's receipts dropping to zero is often a partial upload that
has since been completed (the missing file arrived late). Loading the source again picks up what
is in its folder now; staging merges by key, so rows loaded before are stored once.

How the last load ran is read from lineage: every load (kinds ``load``, ``ingest``, ``demo``,
``rerun_load``) records a START event whose input for each source holds the source's mapping
document as used (for ``custodia ingest file``, with the path it was given), the lookups and the
folder its paths are relative to. The rerun is its own recorded run (kind ``rerun_load``) with
the original run's id in its parameters. A database source is not re-run: its URL holds
credentials and is never recorded, so ``custodia ingest db`` must be run again.

Example::

    report, of_run = rerun_last_load(ws, "pos_receipts")
    report.run_id, report.sources[0].rows_in
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from custodia.collect.mapping_spec import MappingFile, SourceMapping
from custodia.core.errors import CustodiaError, NotFoundError
from custodia.pipeline.load_report import LoadReport
from custodia.pipeline.source_load import load_sources
from custodia.quality.models import ActionSpec
from custodia.storage.store_lineage import LineageLog
from custodia.workspace import Workspace

__all__ = ["RERUN_KIND", "rerun_last_load", "rerun_load_action"]

RERUN_KIND = "rerun_load"
LOAD_JOBS = frozenset({"load", "ingest", "demo", RERUN_KIND})
EVENT_LOOKBACK = 500


def rerun_last_load(ws: Workspace, source: str) -> tuple[LoadReport, str]:
    """Load ``source`` again as its newest recorded load did; (the new load, the old run id)."""
    run_id, facet = _last_load(ws, source)
    mapping = SourceMapping.model_validate(facet["mapping"])
    if mapping.format.is_database:
        raise CustodiaError(
            f"source {source} reads a database whose URL is never recorded; "
            "run `custodia ingest db` again"
        )
    root = Path(str(facet.get("location") or ""))
    if not root.is_dir():
        raise CustodiaError(f"source {source}: folder of the last load is gone ({root.name})")
    mappings = MappingFile(lookups=facet.get("lookups") or {}, sources=[mapping])
    report = load_sources(ws, mappings, root=root, kind=RERUN_KIND)
    return report, run_id


def rerun_load_action(
    ws: Workspace, action: ActionSpec, rule: Any, alert: Mapping[str, Any], run_id: str
) -> dict[str, Any]:
    """Alert action ``rerun_load``: the outcome recorded on the alert (no personal data)."""
    report, of_run = rerun_last_load(ws, action.source or "")
    result = report.sources[0] if report.sources else None
    return {
        "source": action.source,
        "load_run_id": report.run_id,
        "rerun_of": of_run,
        "rows_in": result.rows_in if result else 0,
        "rows_landed": result.rows_landed if result else 0,
        "rows_rejected": result.rows_rejected if result else 0,
        "rows_stored": sum(t.rows_inserted for t in result.targets) if result else 0,
    }


def _last_load(ws: Workspace, source: str) -> tuple[str, Mapping[str, Any]]:
    """The newest load START event that read ``source`` with its mapping: (run id, facet)."""
    for record in LineageLog(ws.store).recent(limit=EVENT_LOOKBACK, event_types=["START"]):
        if record.job not in LOAD_JOBS:
            continue
        for dataset in record.payload.get("inputs", []):
            facet = dataset.get("facets", {}).get("custodia_source", {})
            if dataset.get("name") == source and isinstance(facet.get("mapping"), dict):
                return record.run_id, facet
    raise NotFoundError(f"no recorded load of source {source} to run again")
