"""Loading Segment batch files (``format: segment_batch``) into ``events``.

Each file is one ``POST /v1/batch`` body. Its messages become ``events`` rows through the same
row builder the HTTP collector's loader uses (:func:`custodia.collect.segment_rows.entry_events`:
one msgspec decode per message, the row ``normalize_message`` would make), so a file loads at
the loader's speed and the two paths store the same rows. A file's ``sentAt`` stands for the
time it was received (a file has no request), so each event keeps its own timestamp; a message
without ``messageId`` gets one derived from the file's name and its position, so loading the
same file again stores nothing twice. Unlike an HTTP request, a file may hold any number of
messages.

Then, as for the collector: the source's tracking plan and the ``events`` rules marked
``at_entry`` screen the rows (violations go to the quarantine, blocked events are not stored),
the first copy of a ``messageId`` in the load is kept, and rows whose ``message_id`` the table
holds are skipped (insert if absent). A file that is not JSON, or whose ``batch`` is not an
array, is one quarantine entry; an invalid message is one entry with its reason, and the rest
of the file loads.

Example::

    result = load_segment_files(ws, runs, run_id, source, root, started, progress=print)
    result.rows_landed, result.rejected_by_rule
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

from custodia.collect.mapping_spec import SourceMapping
from custodia.collect.quarantine import Quarantine, QuarantineEntry
from custodia.collect.readers import ReadProblem, SegmentFile, read_segment_files
from custodia.collect.segment_rows import EventTuple, entry_events
from custodia.collect.tracking_plan import TrackingPlan
from custodia.core.errors import ValidationError
from custodia.core.tables import EVENTS
from custodia.pipeline.entry_validation import entry_validators_in_force, screen_loaded_events
from custodia.pipeline.event_loader import events_table
from custodia.pipeline.load_report import SourceResult, TargetResult
from custodia.pipeline.source_context import mapping_plan
from custodia.pipeline.source_landing import problem_entry
from custodia.quality.entry import EntryValidator
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace

__all__ = ["EVENT_CHUNK", "load_segment_files"]

EVENT_CHUNK: Final = 200_000
"""Rows gathered before one append to ``events`` (one Delta commit)."""


@dataclass
class _EventLoad:
    """Counters and pending rows of one Segment batch source."""

    source: SourceMapping
    run_id: str
    started: datetime
    plan: TrackingPlan | None = None
    entry_rules: EntryValidator | None = None
    total: int = 0
    valid: int = 0
    inserted: int = 0
    duplicates: int = 0
    kept_out: int = 0
    """Messages not stored: invalid, blocked by the plan or kept out by a rule."""
    rejected: Counter[str] = field(default_factory=Counter)
    flagged: Counter[str] = field(default_factory=Counter)
    pending: list[EventTuple] = field(default_factory=list)
    quarantined: list[QuarantineEntry] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def problem(self, problem: ReadProblem) -> None:
        self.total += 1
        self.kept_out += 1
        self.rejected[problem.rule] += 1
        self.quarantined.append(problem_entry(self.source, problem, self.run_id, self.started))

    def file(self, item: SegmentFile) -> None:
        received = _received_at(item.sent_at, self.started)
        result = entry_events(
            kind="batch", payload=item.payload, source=self.source.name, received_at=received,
            entry_id=f"file:{self.source.name}:{item.source_file}", max_events=None,
        )  # fmt: skip
        self.total += len(result.rows) + len(result.rejected)
        self.kept_out += len(result.rejected)
        for bad in result.rejected:
            self.rejected[f"{bad.error.field}:{bad.error.rule}"] += 1
            self.quarantined.append(
                QuarantineEntry(
                    source=self.source.name,
                    kind="event",
                    entity=self.source.entity,
                    rule=bad.error.rule,
                    field=bad.error.field,
                    reason=str(bad.error),
                    payload=bad.payload,
                    received_at=received,
                    run_id=self.run_id,
                    source_file=item.source_file,
                    position=bad.position,
                )
            )
        screened = screen_loaded_events(
            result.rows, self.plan, self.entry_rules, run_id=self.run_id,
            source_file=item.source_file,
        )  # fmt: skip
        self.kept_out += len(result.rows) - len(screened.kept)
        self.quarantined += screened.entries
        for entry in screened.entries:  # open: the event was kept out; flagged: stored anyway
            counts = self.rejected if entry.status == "open" else self.flagged
            counts[f"{entry.field}:{entry.rule}"] += 1
        for row in screened.kept:
            message_id = row[0]  # EVENT_COLUMNS starts with message_id
            if message_id in self.seen:
                self.duplicates += 1  # a retry of a message already in this load: stored once
                continue
            self.seen.add(message_id)
            self.pending.append(row)

    def flush(self, ws: Workspace) -> None:
        """Insert the pending events whose message_id is not stored yet."""
        if not self.pending:
            return
        table = events_table(self.pending, run_id=self.run_id, loaded_at=self.started)
        self.valid += table.num_rows
        self.inserted += ws.lake.append_new(
            EVENTS.zone.value, EVENTS.name, table, "message_id"
        ).inserted
        self.pending = []


def load_segment_files(
    ws: Workspace,
    runs: RunLog,
    run_id: str,
    source: SourceMapping,
    root: Path,
    started: datetime,
    progress: Callable[[int], None] | None = None,
) -> SourceResult:
    """Validate every message of the source's files, store the new ones in ``events`` in
    bounded chunks, and quarantine the invalid ones with their reason."""
    if not source.path:
        raise ValidationError("path", "required", f"source {source.name}: no file path given")
    load = _EventLoad(source, run_id, started, plan=mapping_plan(ws, source, root))
    load.entry_rules = entry_validators_in_force(ws).get(EVENTS.name)
    for item in read_segment_files(root, source.path):
        if isinstance(item, ReadProblem):
            load.problem(item)
        else:
            load.file(item)
        if len(load.pending) >= EVENT_CHUNK:
            load.flush(ws)
        if progress is not None:
            progress(load.total)
    load.flush(ws)
    quarantined = Quarantine(ws.lake).add(load.quarantined, loaded_at=started)
    rejected = load.kept_out
    runs.record_step(
        run_id, "land", source=source.name, rows_in=load.total, rows_stored=load.inserted,
        rows_rejected=rejected, started_at=started,
        detail={
            "rejected_by_rule": dict(load.rejected), "table": EVENTS.name, "valid": load.valid,
            "duplicates": load.duplicates, "quarantined": quarantined,
            "flagged_by_rule": dict(load.flagged),
        },
    )  # fmt: skip
    return SourceResult(
        source=source.name,
        entity=source.entity,
        format=source.format.value,
        rows_in=load.total,
        rows_landed=load.valid,
        rows_rejected=rejected,
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


def _received_at(sent_at: str | None, loaded_at: datetime) -> datetime:
    """A file's ``sentAt`` (else the load's start): the time its events count as received."""
    if sent_at is None:
        return loaded_at
    try:
        return datetime.fromisoformat(sent_at.replace("Z", "+00:00"))
    except ValueError:
        return loaded_at
