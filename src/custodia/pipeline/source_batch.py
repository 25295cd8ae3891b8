"""Load one batch source (files or a database table): read, land raw, stage, keep the watermark.

The steps of one source inside a load run (see :func:`custodia.pipeline.source_load.load_sources`
for the run around them): records are read in columnar chunks, landed raw with read problems
quarantined, staged through the source's mapping targets with unmappable rows quarantined, and,
for incremental database sources, the new watermark is stored last.

Example::

    result = load_batch_source(ws, runs, run_id, source, root=root, lookups=mappings.lookups)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from custodia.collect.mapping_spec import SourceMapping
from custodia.collect.mapping_transforms import LookupTable
from custodia.core.tables import SOURCE_RECORDS_RAW
from custodia.pipeline.load_report import SourceResult
from custodia.pipeline.source_landing import land_records
from custodia.pipeline.source_reading import open_source
from custodia.pipeline.source_staging import stage_targets
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace

__all__ = ["load_batch_source"]


def load_batch_source(
    ws: Workspace,
    runs: RunLog,
    run_id: str,
    source: SourceMapping,
    *,
    root: Path,
    lookups: dict[str, LookupTable],
    database_url: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> SourceResult:
    """Read, land and stage ``source``; ``progress`` gets the number of rows read so far."""
    started = ws.clock.now()
    read = open_source(ws, source, root=root, database_url=database_url)
    landing = land_records(
        ws, run_id, source, read.items, started, keep=bool(source.targets), progress=progress
    )
    rejected = sum(landing.rejected.values())
    runs.record_step(
        run_id,
        "land",
        source=source.name,
        rows_in=landing.rows_in,
        rows_stored=landing.landed,
        rows_rejected=rejected,
        started_at=started,
        detail={
            "rejected_by_rule": dict(landing.rejected),
            "table": SOURCE_RECORDS_RAW.name,
            "rows_skipped": read.rows_skipped,
        },
    )
    relation = landing.relation
    targets = (
        stage_targets(ws, runs, run_id, source, lookups, relation, started)
        if relation is not None
        else []
    )
    watermark = read.commit()
    return SourceResult(
        source=source.name,
        entity=source.entity,
        format=source.format.value,
        rows_in=landing.rows_in,
        rows_landed=landing.landed,
        rows_rejected=rejected,
        rejected_by_rule=dict(landing.rejected),
        targets=targets,
        rows_unmapped=sum(t.rows_unmapped for t in targets),
        rows_skipped=read.rows_skipped,
        watermark=watermark,
    )
