"""Batch load: read each mapped source, land it raw, stage it into the canonical tables.

One run per call, recorded in the run log with a step per source and target (rows in, rows
stored, rows rejected and why). Every step is a Delta commit; staging merges by surrogate key, so
loading the same files again stores nothing twice (a re-uploaded POS file adds no orders).

Stages:
1. **land**: every record goes to ``source_records_raw`` as it arrived (JSON payload), or, for
   Segment batch files (:mod:`custodia.pipeline.segment_files`), to ``events`` after validation
   against the tracking spec, the source's tracking plan and the ``events`` quality rules marked
   ``at_entry``.
2. **stage**: each mapping target compiles to SQL over the landed records, its rows are judged
   by the target table's ``at_entry`` rules (:mod:`custodia.pipeline.entry_validation`), and
   the rows kept in are merged into its canonical table.
3. **corrections**: data stewards' active corrections of the loaded tables are merged back
   (:mod:`custodia.pipeline.review_corrections`), so a re-load does not undo them.

Example::

    report = load_sources(ws, mappings, root=ws.sources_dir, progress=print_progress)
    for src in report.sources: print(src.source, src.rows_in, src.rows_landed)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from custodia.collect.mapping_spec import MappingFile, SourceFormat, SourceMapping
from custodia.collect.mapping_transforms import LookupTable
from custodia.pipeline.load_lineage import LoadLineage
from custodia.pipeline.load_report import LoadReport, SourceResult, TargetResult
from custodia.pipeline.review_corrections import apply_corrections
from custodia.pipeline.segment_files import load_segment_files
from custodia.pipeline.source_batch import load_batch_source
from custodia.storage.store_runs import RunLog, RunStatus
from custodia.workspace import Workspace

__all__ = ["LoadReport", "SourceResult", "TargetResult", "load_sources"]

Progress = Callable[[str, int, int], None]


def load_sources(
    ws: Workspace,
    mappings: MappingFile,
    *,
    root: Path,
    only: Iterable[str] | None = None,
    progress: Progress | None = None,
    kind: str = "load",
    database_urls: Mapping[str, str] | None = None,
) -> LoadReport:
    """Load the mapped sources under ``root`` in one recorded run.

    ``database_urls`` gives the SQLAlchemy URL of ``format: sql`` sources by source name (URLs
    carry credentials, so they are never in mapping files).
    """
    selected = [s for s in mappings.sources if only is None or s.name in set(only)]
    runs = RunLog(ws.store, ws.clock)
    run_id = runs.start_run(kind, {"sources": [s.name for s in selected], "root": str(root)})
    lineage = LoadLineage(
        ws, run_id, kind=kind, sources=selected, root=root, lookups=mappings.lookups
    )
    lineage.start()
    results: list[SourceResult] = []
    try:
        for index, source in enumerate(selected):
            if progress:
                progress(f"loading {source.name}", index, len(selected))
            rows = _rows_progress(progress, source.name, index, len(selected))
            url = (database_urls or {}).get(source.name)
            results.append(_load_one(ws, runs, run_id, source, root, mappings.lookups, url, rows))
        if progress:
            progress("loaded", len(selected), len(selected))
        # a steward's corrections outlive the source's values the load just merged back
        apply_corrections(ws, {t.table for r in results for t in r.targets}, run_id=run_id)
    except Exception as exc:
        lineage.fail(results, runs.fail_run(run_id, exc))
        raise
    runs.finish_run(run_id, RunStatus.SUCCEEDED, stats=_run_stats(results))
    lineage.complete(results, stats=_run_stats(results))
    return LoadReport(run_id=run_id, sources=results)


def _run_stats(results: list[SourceResult]) -> dict[str, int]:
    return {
        "rows_in": sum(r.rows_in for r in results),
        "rows_landed": sum(r.rows_landed for r in results),
        "rows_rejected": sum(r.rows_rejected for r in results),
    }


def _rows_progress(
    progress: Progress | None, name: str, index: int, total: int
) -> Callable[[int], None] | None:
    if progress is None:
        return None
    report = progress

    def rows_read(rows: int) -> None:
        report(f"loading {name}: {rows:,} rows", index, total)

    return rows_read


def _load_one(
    ws: Workspace,
    runs: RunLog,
    run_id: str,
    source: SourceMapping,
    root: Path,
    lookups: dict[str, LookupTable],
    database_url: str | None,
    progress: Callable[[int], None] | None,
) -> SourceResult:
    if source.format is SourceFormat.SEGMENT_BATCH:
        return load_segment_files(ws, runs, run_id, source, root, ws.clock.now(), progress)
    return load_batch_source(
        ws,
        runs,
        run_id,
        source,
        root=root,
        lookups=lookups,
        database_url=database_url,
        progress=progress,
    )
