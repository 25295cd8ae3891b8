"""Replay the quarantine: re-validate what was kept out, and load what now passes.

``custodia quarantine replay`` runs this after a tracking plan, a mapping or a source file was
fixed. It takes the *open* entries (optionally of one source and one rule) and, in one recorded
run (kind ``replay``, with its lineage):

- events are validated again against the Segment spec, the source's current tracking plan and
  the ``events`` quality rules marked ``at_entry`` in force; the ones that pass are stored in
  ``events`` (once per ``messageId``, as always), with their flag-mode violations kept as
  ``flagged`` entries;
- lines and records of batch sources are read again and mapped again through the source's
  mapping (:mod:`custodia.pipeline.replay_records`).

Entries whose payload now loads are marked ``replayed`` with ``resolved_at`` and
``resolved_run_id`` (one Delta merge on ``quarantine_id``); the others stay ``open``.

Example::

    report = replay_quarantine(ws, source="web", rule="plan_unplanned_event")
    report.replayed, report.still_open
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field

from custodia.collect.mapping_spec import MappingFile, SourceFormat
from custodia.collect.plan_quarantine import violation_entries
from custodia.collect.quarantine import Quarantine, QuarantineEntry
from custodia.collect.quarantine_read import QuarantineFilter, quarantine_rows
from custodia.collect.segment import normalize_message
from custodia.collect.tracking_plan import check_event, is_blocked
from custodia.core.errors import CustodiaError, ValidationError
from custodia.core.tables import EVENTS
from custodia.pipeline.entry_validation import entry_validators_in_force, event_entries
from custodia.pipeline.load_lineage import COLLECTOR_FORMAT, LoadLineage, collector_input
from custodia.pipeline.load_report import SourceResult, TargetResult
from custodia.pipeline.replay_records import replay_records
from custodia.pipeline.source_context import SourceContext, replay_context
from custodia.quality.entry import EntryValidator
from custodia.storage.store_runs import RunLog, RunStatus
from custodia.workspace import Workspace

__all__ = ["ReplayCount", "ReplayReport", "replay_quarantine"]


class ReplayCount(BaseModel):
    """Per source and rule: entries replayed and entries still open after the replay."""

    source: str
    rule: str
    replayed: int
    still_open: int


class ReplayReport(BaseModel):
    """What a replay did (``run_id`` is None when there was nothing open to replay)."""

    run_id: str | None
    examined: int = Field(description="Open entries the filters matched.")
    replayed: int = Field(description="Entries whose payload now loaded (marked replayed).")
    still_open: int
    events_stored: int = Field(default=0, description="New rows in `events`.")
    records_landed: int = Field(default=0, description="Re-read lines landed raw.")
    counts: list[ReplayCount] = Field(default_factory=list)


def replay_quarantine(
    ws: Workspace,
    *,
    source: str | None = None,
    rule: str | None = None,
    mappings: MappingFile | None = None,
    root: Path | None = None,
) -> ReplayReport:
    """Re-validate the open entries matching ``source``/``rule`` and load those that pass.

    ``mappings`` (with ``root``, the folder its paths are relative to) overrides the mappings
    recorded in lineage, e.g. a corrected mapping file.
    """
    flt = QuarantineFilter(source=source, rule=rule, status="open")
    entries = quarantine_rows(ws.query_engine(), flt).to_pylist()
    if not entries:
        return ReplayReport(run_id=None, examined=0, replayed=0, still_open=0)
    by_source: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_source.setdefault(str(entry["source"]), []).append(entry)
    contexts = {name: replay_context(ws, name, mappings=mappings, root=root) for name in by_source}
    replay = _Replay(ws, contexts, {"source": source, "rule": rule})
    replay.run(by_source)
    return replay.report(entries)


@dataclass
class _Replay:
    """One replay run: its run record, lineage, and what it resolved."""

    ws: Workspace
    contexts: dict[str, SourceContext]
    params: dict[str, Any]
    resolved: list[str] = field(default_factory=list)
    results: list[SourceResult] = field(default_factory=list)
    run_id: str = ""
    source_of: dict[str, str] = field(default_factory=dict)
    entry_rules: EntryValidator | None = None

    def run(self, by_source: Mapping[str, Sequence[dict[str, Any]]]) -> None:
        self.source_of = {str(e["quarantine_id"]): name for name, g in by_source.items() for e in g}
        runs = RunLog(self.ws.store, self.ws.clock)
        self.run_id = runs.start_run("replay", self.params)
        self.entry_rules = entry_validators_in_force(self.ws).get(EVENTS.name)
        lineage = self._lineage()
        lineage.start()
        at = self.ws.clock.now()
        try:
            for name, group in by_source.items():
                self._replay_source(runs, self.contexts[name], group, at)
            Quarantine(self.ws.lake).resolve(
                {qid: self.source_of[qid] for qid in self.resolved},
                status="replayed",
                run_id=self.run_id,
                at=at,
            )
        except Exception as exc:
            message = str(exc) if isinstance(exc, CustodiaError) else type(exc).__name__
            runs.finish_run(self.run_id, RunStatus.FAILED, error=message)
            lineage.fail(self.results, message)
            raise
        stats = {"replayed": len(self.resolved)}
        runs.finish_run(self.run_id, RunStatus.SUCCEEDED, stats=stats)
        lineage.complete(self.results, stats=stats)

    def _lineage(self) -> LoadLineage:
        mapped = [c for c in self.contexts.values() if c.mapping is not None and c.root]
        lookups: dict[str, Any] = {}
        for ctx in mapped:
            lookups.update(ctx.lookups)
        return LoadLineage(
            self.ws,
            self.run_id,
            kind="replay",
            sources=[c.mapping for c in mapped if c.mapping is not None],
            root={c.name: c.root for c in mapped if c.root is not None},
            lookups=lookups,
            extra_inputs=[
                collector_input(c.name) for c in self.contexts.values() if c.mapping is None
            ],
        )

    def _replay_source(
        self, runs: RunLog, ctx: SourceContext, group: Sequence[dict[str, Any]], at: datetime
    ) -> None:
        events = [e for e in group if e["kind"] == "event"]
        others = [e for e in group if e["kind"] != "event"]
        if events:
            self.results.append(self._replay_events(runs, ctx, events, at))
        if others:
            outcome = replay_records(self.ws, runs, self.run_id, ctx, others, at=at)
            self.resolved += outcome.resolved
            self.results.append(_records_result(ctx, others, outcome.landed, outcome.targets))

    def _replay_events(
        self, runs: RunLog, ctx: SourceContext, entries: Sequence[dict[str, Any]], at: datetime
    ) -> SourceResult:
        passed = _EventReplay(ctx, self.run_id, at, self.entry_rules)
        for (_source, _payload), group in _by_payload(entries).items():
            passed.add(group)
        inserted = 0
        if passed.rows:
            table = pa.Table.from_pylist(list(passed.rows.values()), schema=EVENTS.arrow_schema())
            inserted = self.ws.lake.append_new(
                EVENTS.zone.value, EVENTS.name, table, "message_id"
            ).inserted
        Quarantine(self.ws.lake).add(passed.flagged, loaded_at=at)
        self.resolved += passed.resolved
        runs.record_step(
            self.run_id,
            f"replay:{EVENTS.name}",
            source=ctx.name,
            rows_in=len(entries),
            rows_stored=inserted,
            started_at=at,
            detail={"events_passed": len(passed.rows), "flagged": len(passed.flagged)},
        )
        version = self.ws.lake.version(EVENTS.zone.value, EVENTS.name)
        target = TargetResult(
            table=EVENTS.name,
            rows_mapped=len(passed.rows),
            rows_inserted=inserted,
            rows_updated=0,
            table_version=version,
        )
        return SourceResult(
            source=ctx.name,
            entity=ctx.mapping.entity if ctx.mapping else "events",
            format=SourceFormat.SEGMENT_BATCH.value if ctx.mapping else COLLECTOR_FORMAT,
            rows_in=len(entries),
            rows_landed=inserted,
            rows_rejected=0,
            rejected_by_rule={},
            targets=[target],
        )

    def report(self, entries: Sequence[dict[str, Any]]) -> ReplayReport:
        done = set(self.resolved)
        replayed: Counter[tuple[str, str]] = Counter()
        still: Counter[tuple[str, str]] = Counter()
        for entry in entries:
            key = (str(entry["source"]), str(entry["rule"]))
            (replayed if entry["quarantine_id"] in done else still)[key] += 1
        counts = [
            ReplayCount(source=s, rule=r, replayed=replayed[(s, r)], still_open=still[(s, r)])
            for s, r in sorted(set(replayed) | set(still))
        ]
        events = sum(
            t.rows_inserted for r in self.results for t in r.targets if t.table == EVENTS.name
        )
        events_formats = {SourceFormat.SEGMENT_BATCH.value, COLLECTOR_FORMAT}
        landed = sum(r.rows_landed for r in self.results if r.format not in events_formats)
        return ReplayReport(
            run_id=self.run_id,
            examined=len(entries),
            replayed=sum(replayed.values()),
            still_open=sum(still.values()),
            events_stored=events,
            records_landed=landed,
            counts=counts,
        )


@dataclass
class _EventReplay:
    """Events of one source that pass now, the entries they resolve and their flags."""

    ctx: SourceContext
    run_id: str
    at: datetime
    entry_rules: EntryValidator | None = None
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    resolved: list[str] = field(default_factory=list)
    flagged: list[QuarantineEntry] = field(default_factory=list)

    def add(self, group: Sequence[dict[str, Any]]) -> None:
        first = group[0]
        try:
            message = json.loads(str(first["payload"]))
            row = normalize_message(message, received_at=first["received_at"], source=self.ctx.name)
        except (ValueError, RecursionError, ValidationError):
            return  # still not a valid Segment message: stays open
        violations = check_event(row, self.ctx.plan) if self.ctx.plan is not None else []
        if is_blocked(violations) or not self._passes_entry_rules(row, first):
            return
        self.flagged += violation_entries(
            violations,
            payload=str(first["payload"]),
            source=self.ctx.name,
            entity=str(first["entity"]),
            received_at=first["received_at"],
            run_id=self.run_id,
            source_file=first["source_file"],
            position=first["position"],
        )
        row.update(run_id=self.run_id, loaded_at=self.at)
        self.rows.setdefault(row["message_id"], row)
        self.resolved += [str(e["quarantine_id"]) for e in group]

    def _passes_entry_rules(self, row: Mapping[str, Any], first: Mapping[str, Any]) -> bool:
        """Whether no ``at_entry`` rule keeps the event out; flag violations are kept."""
        violations = self.entry_rules.check(row) if self.entry_rules is not None else []
        if any(v.blocks for v in violations):
            return False
        self.flagged += event_entries(
            violations, payload=str(first["payload"]), source=self.ctx.name,
            entity=str(first["entity"]), received_at=first["received_at"], run_id=self.run_id,
            source_file=first["source_file"], position=first["position"],
        )  # fmt: skip
        return True


def _by_payload(
    entries: Sequence[dict[str, Any]],
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Entries of the same message (one per broken rule) are replayed together."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in entries:
        groups.setdefault((str(entry["source"]), str(entry["payload"])), []).append(entry)
    return groups


def _records_result(
    ctx: SourceContext,
    entries: Sequence[dict[str, Any]],
    landed: int,
    targets: list[TargetResult],
) -> SourceResult:
    return SourceResult(
        source=ctx.name,
        entity=ctx.mapping.entity if ctx.mapping else str(entries[0]["entity"]),
        format=ctx.mapping.format.value if ctx.mapping else "unknown",
        rows_in=len(entries),
        rows_landed=landed,
        rows_rejected=0,
        rejected_by_rule={},
        targets=targets,
    )
