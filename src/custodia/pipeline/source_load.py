"""Batch load: read each mapped source, land it raw, stage it into the canonical tables.

One run per call, recorded in the run log with a step per source and target (rows in, rows
stored, rows rejected and why). Every step is a Delta commit; staging merges by surrogate key, so
loading the same files again stores nothing twice (a re-uploaded POS file adds no orders).

Stages:
1. **land**: every record goes to ``source_records_raw`` as it arrived (JSON payload), or, for
   Segment batch files, to ``events`` after validation against the tracking spec, the source's
   tracking plan and the ``events`` quality rules marked ``at_entry``.
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

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from custodia.collect.mapping_spec import MappingFile, SourceFormat, SourceMapping
from custodia.collect.mapping_transforms import LookupTable
from custodia.collect.plan_quarantine import violation_entries
from custodia.collect.quarantine import Quarantine, QuarantineEntry
from custodia.collect.readers import ReadProblem, SegmentBatch, read_segment_batches
from custodia.collect.segment import normalize_message
from custodia.collect.tracking_plan import TrackingPlan, check_event, is_blocked
from custodia.core.errors import ValidationError
from custodia.core.tables import EVENTS
from custodia.pipeline.entry_validation import entry_validators_in_force, event_entries
from custodia.pipeline.load_lineage import LoadLineage
from custodia.pipeline.load_report import LoadReport, SourceResult, TargetResult
from custodia.pipeline.review_corrections import apply_corrections
from custodia.pipeline.source_batch import load_batch_source
from custodia.pipeline.source_context import mapping_plan
from custodia.pipeline.source_landing import problem_entry as _problem_entry
from custodia.quality.entry import EntryValidator
from custodia.storage.store_runs import RunLog, RunStatus
from custodia.workspace import Workspace

__all__ = ["LoadReport", "SourceResult", "TargetResult", "load_sources"]

Progress = Callable[[str, int, int], None]
EVENT_CHUNK = 200_000


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
        return _load_segment_batches(ws, runs, run_id, source, root, ws.clock.now())
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


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass
class _EventLoad:
    """Counters and pending rows of one Segment batch source."""

    source: SourceMapping
    run_id: str
    started: datetime
    total: int = 0
    valid: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    pending: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[QuarantineEntry] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    plan: TrackingPlan | None = None
    flagged: Counter[str] = field(default_factory=Counter)
    entry_rules: EntryValidator | None = None

    def problem(self, problem: ReadProblem) -> None:
        self.total += 1
        self.rejected[problem.rule] += 1
        self.quarantined.append(_problem_entry(self.source, problem, self.run_id, self.started))

    def batch(self, batch: SegmentBatch) -> None:
        received = _batch_received_at(batch, self.started)
        for position, message in enumerate(batch.messages, start=1):
            self.total += 1
            self._message(batch, message, received, position)

    def _message(
        self, batch: SegmentBatch, message: Any, received: datetime, position: int
    ) -> None:
        try:
            row = normalize_message(
                message,
                received_at=received,
                source=self.source.name,
                batch_context=batch.context,
                batch_integrations=batch.integrations,
                batch_sent_at=batch.sent_at,
            )
        except ValidationError as exc:
            self.rejected[f"{exc.field}:{exc.rule}"] += 1
            self.quarantined.append(
                QuarantineEntry(
                    source=self.source.name,
                    kind="event",
                    entity=self.source.entity,
                    rule=exc.rule,
                    field=exc.field,
                    reason=str(exc),
                    payload=_json(_with_batch_fields(message, batch)),
                    received_at=received,
                    run_id=self.run_id,
                    source_file=batch.source_file,
                    position=position,
                )
            )
            return
        if self.plan is not None and self._blocked_by_plan(row, message, batch, position):
            return
        if self.entry_rules is not None and self._held_by_rules(row, message, batch, position):
            return
        if row["message_id"] in self.seen:
            self.duplicates += 1  # a retry of a message already in this load: stored once
            return
        self.seen.add(row["message_id"])
        row.update(run_id=self.run_id, loaded_at=self.started)
        self.pending.append(row)

    def _blocked_by_plan(
        self, row: dict[str, Any], message: Any, batch: SegmentBatch, position: int
    ) -> bool:
        """Check the tracking plan: violations are quarantined (open when the event is
        blocked, flagged when it is stored anyway); True when the event must not be stored."""
        assert self.plan is not None
        violations = check_event(row, self.plan)
        if not violations:
            return False
        entries = violation_entries(
            violations,
            payload=_json(_with_batch_fields(message, batch)),
            source=self.source.name,
            entity=self.source.entity,
            received_at=row["received_at"],
            run_id=self.run_id,
            source_file=batch.source_file,
            position=position,
        )
        self.quarantined += entries
        blocked = is_blocked(violations)
        counts = self.rejected if blocked else self.flagged
        counts[f"{entries[0].field}:{entries[0].rule}"] += 1  # one per event
        return blocked

    def _held_by_rules(
        self, row: dict[str, Any], message: Any, batch: SegmentBatch, position: int
    ) -> bool:
        """Check the ``at_entry`` quality rules, like :meth:`_blocked_by_plan` does the plan."""
        assert self.entry_rules is not None
        violations = self.entry_rules.check(row)
        if not violations:
            return False
        self.quarantined += event_entries(
            violations, payload=_json(_with_batch_fields(message, batch)),
            source=self.source.name, entity=self.source.entity, received_at=row["received_at"],
            run_id=self.run_id, source_file=batch.source_file, position=position,
        )  # fmt: skip
        held = any(v.blocks for v in violations)
        counts = self.rejected if held else self.flagged
        counts[f"{violations[0].field}:{violations[0].rule}"] += 1  # one per event
        return held


def _load_segment_batches(
    ws: Workspace,
    runs: RunLog,
    run_id: str,
    source: SourceMapping,
    root: Path,
    started: datetime,
) -> SourceResult:
    """Validate every message, store the new ones in ``events`` in bounded chunks, and
    quarantine the invalid ones with their reason."""
    load = _EventLoad(source, run_id, started, plan=mapping_plan(ws, source, root))
    load.entry_rules = entry_validators_in_force(ws).get(EVENTS.name)
    if not source.path:
        raise ValidationError("path", "required", f"source {source.name}: no file path given")
    for item in read_segment_batches(root, source.path):
        if isinstance(item, ReadProblem):
            load.problem(item)
        else:
            load.batch(item)
        if len(load.pending) >= EVENT_CHUNK:
            _flush_events(ws, load)
    _flush_events(ws, load)
    quarantined = Quarantine(ws.lake).add(load.quarantined, loaded_at=started)
    runs.record_step(
        run_id,
        "land",
        source=source.name,
        rows_in=load.total,
        rows_stored=load.inserted,
        rows_rejected=sum(load.rejected.values()),
        started_at=started,
        detail={
            "rejected_by_rule": dict(load.rejected),
            "table": EVENTS.name,
            "valid": load.valid,
            "duplicates": load.duplicates,
            "quarantined": quarantined,
            "flagged_by_rule": dict(load.flagged),
        },
    )
    return SourceResult(
        source=source.name,
        entity=source.entity,
        format=source.format.value,
        rows_in=load.total,
        rows_landed=load.valid,
        rows_rejected=sum(load.rejected.values()),
        rows_duplicate=load.duplicates,
        rejected_by_rule=dict(load.rejected),
        targets=[
            TargetResult(
                table=EVENTS.name,
                rows_mapped=load.valid,
                rows_inserted=load.inserted,
                rows_updated=0,
                table_version=ws.lake.version(EVENTS.zone.value, EVENTS.name),
            )
        ],
    )


def _flush_events(ws: Workspace, load: _EventLoad) -> None:
    """Insert the pending events whose message_id is not stored yet."""
    if not load.pending:
        return
    table = pa.Table.from_pylist(load.pending, schema=EVENTS.arrow_schema())
    load.valid += table.num_rows
    load.inserted += ws.lake.append_new(
        EVENTS.zone.value, EVENTS.name, table, "message_id"
    ).inserted
    load.pending = []


def _with_batch_fields(message: Any, batch: SegmentBatch) -> Any:
    """The message with the batch-level context, integrations and sentAt it came with, so a
    quarantined message can be replayed on its own."""
    if not isinstance(message, dict):
        return message
    whole = dict(message)
    for key, shared in (("context", batch.context), ("integrations", batch.integrations)):
        own = message.get(key)
        if shared and (own is None or isinstance(own, dict)):
            whole[key] = {**shared, **(own or {})}
    if batch.sent_at and "sentAt" not in message:
        whole["sentAt"] = batch.sent_at
    return whole


def _batch_received_at(batch: SegmentBatch, loaded_at: datetime) -> datetime:
    if batch.sent_at is None:
        return loaded_at
    try:
        return datetime.fromisoformat(batch.sent_at.replace("Z", "+00:00"))
    except ValueError:
        return loaded_at
