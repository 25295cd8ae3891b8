"""Batch load: read each mapped source, land it raw, stage it into the canonical tables.

One run per call, recorded in the run log with a step per source and target (rows in, rows
stored, rows rejected and why). Every step is a Delta commit; staging merges by surrogate key, so
loading the same files again stores nothing twice (a re-uploaded POS file adds no orders).

Stages:
1. **land**: every record goes to ``source_records_raw`` as it arrived (JSON payload), or, for
   Segment batch files, to ``events`` after validation against the tracking spec.
2. **stage**: each mapping target compiles to SQL over the landed records and is merged into its
   canonical table.

Example::

    report = load_sources(ws, mappings, root=ws.sources_dir, progress=print_progress)
    for src in report.sources: print(src.source, src.rows_in, src.rows_landed)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field

from custodia.collect.mapping_spec import MappingFile, SourceFormat, SourceMapping
from custodia.collect.mapping_sql import compile_target_sql, mapping_macros_sql
from custodia.collect.quarantine import Quarantine, QuarantineEntry
from custodia.collect.readers import (
    ReadProblem,
    SegmentBatch,
    SourceRecord,
    read_csv,
    read_jsonl,
    read_segment_batches,
)
from custodia.collect.segment import normalize_message
from custodia.core.errors import CustodiaError, QueryError, ValidationError
from custodia.core.ids import record_key
from custodia.core.tables import EVENTS, SOURCE_RECORDS_RAW, TableSpec, table_spec
from custodia.storage.sql_source import read_sql_table
from custodia.storage.store_runs import RunLog, RunStatus
from custodia.workspace import Workspace

Progress = Callable[[str, int, int], None]
LAND_CHUNK = 50_000
EVENT_CHUNK = 200_000


class TargetResult(BaseModel):
    """Rows one mapping target produced and how the table changed."""

    table: str
    rows_mapped: int
    rows_inserted: int = Field(description="New keys the merge inserted.")
    rows_updated: int = Field(description="Existing keys the merge replaced (e.g. a re-upload).")
    table_version: int


class SourceResult(BaseModel):
    """What happened to one source in a load."""

    source: str
    entity: str
    format: str
    rows_in: int
    rows_landed: int
    rows_rejected: int = Field(description="Rows quarantined with their reason.")
    rows_duplicate: int = Field(default=0, description="Retries of a message in the same load.")
    rejected_by_rule: dict[str, int]
    targets: list[TargetResult]


class LoadReport(BaseModel):
    """The outcome of one load run."""

    run_id: str
    sources: list[SourceResult]


def load_sources(
    ws: Workspace,
    mappings: MappingFile,
    *,
    root: Path,
    only: Iterable[str] | None = None,
    progress: Progress | None = None,
    kind: str = "load",
) -> LoadReport:
    """Load the mapped sources under ``root`` in one recorded run."""
    selected = [s for s in mappings.sources if only is None or s.name in set(only)]
    runs = RunLog(ws.store, ws.clock)
    run_id = runs.start_run(kind, {"sources": [s.name for s in selected], "root": str(root)})
    results: list[SourceResult] = []
    try:
        for index, source in enumerate(selected):
            if progress:
                progress(f"loading {source.name}", index, len(selected))
            results.append(_load_one(ws, runs, run_id, source, root))
        if progress:
            progress("loaded", len(selected), len(selected))
    except CustodiaError as exc:
        runs.finish_run(run_id, RunStatus.FAILED, error=str(exc))
        raise
    except Exception as exc:
        runs.finish_run(run_id, RunStatus.FAILED, error=type(exc).__name__)
        raise
    runs.finish_run(run_id, RunStatus.SUCCEEDED, stats=_run_stats(results))
    return LoadReport(run_id=run_id, sources=results)


def _run_stats(results: list[SourceResult]) -> dict[str, int]:
    return {
        "rows_in": sum(r.rows_in for r in results),
        "rows_landed": sum(r.rows_landed for r in results),
        "rows_rejected": sum(r.rows_rejected for r in results),
    }


def _load_one(
    ws: Workspace, runs: RunLog, run_id: str, source: SourceMapping, root: Path
) -> SourceResult:
    started = ws.clock.now()
    if source.format is SourceFormat.SEGMENT_BATCH:
        return _load_segment_batches(ws, runs, run_id, source, root, started)
    landing = _land_in_chunks(ws, run_id, source, _read(source, root), started)
    runs.record_step(
        run_id,
        "land",
        source=source.name,
        rows_in=landing.rows_in,
        rows_stored=landing.landed,
        rows_rejected=sum(landing.rejected.values()),
        started_at=started,
        detail={"rejected_by_rule": dict(landing.rejected), "table": SOURCE_RECORDS_RAW.name},
    )
    targets = _stage(ws, runs, run_id, source, landing.relation, started) if landing.chunks else []
    return SourceResult(
        source=source.name,
        entity=source.entity,
        format=source.format.value,
        rows_in=landing.rows_in,
        rows_landed=landing.landed,
        rows_rejected=sum(landing.rejected.values()),
        rejected_by_rule=dict(landing.rejected),
        targets=targets,
    )


def _read(source: SourceMapping, root: Path) -> Iterator[SourceRecord | ReadProblem]:
    if source.format is SourceFormat.CSV:
        return read_csv(root, source.path)
    if source.format is SourceFormat.JSONL:
        return read_jsonl(root, source.path)
    if source.format is SourceFormat.SQLITE:
        return _read_sqlite(source, root)
    raise ValidationError("format", "supported", f"source {source.name}: unsupported format")


def _read_sqlite(source: SourceMapping, root: Path) -> Iterator[SourceRecord]:
    if not source.table:
        raise ValidationError("table", "required", f"source {source.name}: `table` is required")
    path = root / source.path
    if not path.is_file():
        raise ValidationError("path", "exists", f"source {source.name}: {source.path} not found")
    for position, row in enumerate(read_sql_table(f"sqlite:///{path}", source.table), start=1):
        yield SourceRecord(row, f"{source.path}#{source.table}", position)


@dataclass
class _Landing:
    """What landing one source produced: counts, and its records as one Arrow relation."""

    rows_in: int = 0
    landed: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    chunks: list[pa.Table] = field(default_factory=list)

    @property
    def relation(self) -> pa.Table:
        return pa.concat_tables(self.chunks, promote_options="permissive")


def _land_in_chunks(
    ws: Workspace,
    run_id: str,
    source: SourceMapping,
    items: Iterable[SourceRecord | ReadProblem],
    at: datetime,
) -> _Landing:
    """Land records raw chunk by chunk, keeping them columnar (Arrow) for staging.

    Memory stays bounded by one chunk of Python objects plus the columnar relation.
    """
    landing = _Landing()
    for chunk in _batched(iter(items), LAND_CHUNK):
        records = [item for item in chunk if isinstance(item, SourceRecord)]
        problems = [item for item in chunk if isinstance(item, ReadProblem)]
        landing.rejected.update(problem.rule for problem in problems)
        entries = [_problem_entry(source, problem, run_id, at) for problem in problems]
        Quarantine(ws.lake).add(entries, loaded_at=at)
        landing.rows_in += len(chunk)
        landing.landed += _land_raw(ws, run_id, source, records, at)
        if records and source.targets:
            landing.chunks.append(_records_relation(records))
    return landing


def _batched(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """Lists of at most ``size`` items (``itertools.batched`` arrives in Python 3.12)."""
    while chunk := list(islice(items, size)):
        yield chunk


def _land_raw(
    ws: Workspace, run_id: str, source: SourceMapping, records: list[SourceRecord], at: datetime
) -> int:
    if not records:
        return 0
    rows = {
        "raw_id": [record_key(source.name, f"{r.source_file}#{r.position}") for r in records],
        "entity": [source.entity] * len(records),
        "source_file": [r.source_file for r in records],
        "position": [r.position for r in records],
        "payload": [_json(r.data) for r in records],
        "source": [source.name] * len(records),
        "run_id": [run_id] * len(records),
        "loaded_at": [at] * len(records),
    }
    table = pa.Table.from_pydict(rows, schema=SOURCE_RECORDS_RAW.arrow_schema())
    ws.lake.append(SOURCE_RECORDS_RAW.zone.value, SOURCE_RECORDS_RAW.name, table)
    return len(records)


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)


def _stage(
    ws: Workspace,
    runs: RunLog,
    run_id: str,
    source: SourceMapping,
    relation: pa.Table,
    loaded_at: datetime,
) -> list[TargetResult]:
    results = []
    for target in source.targets:
        started = ws.clock.now()
        spec = table_spec(target.table)
        sql = compile_target_sql(source, target, run_id=run_id, loaded_at=loaded_at)
        try:
            rows = ws.transform(
                _dedupe_by_key(sql, spec),
                relations={"records": relation},
                setup=mapping_macros_sql(source),
            )
        except QueryError as exc:
            raise QueryError(f"mapping {source.name} -> {spec.name}: {exc}") from None
        commit = ws.lake.merge(spec.zone.value, spec.name, rows, list(spec.key))
        version = ws.lake.version(spec.zone.value, spec.name)
        runs.record_step(
            run_id,
            f"stage:{spec.name}",
            source=source.name,
            rows_in=relation.num_rows,
            rows_stored=commit.inserted + commit.updated,
            started_at=started,
            detail={
                "rows_mapped": rows.num_rows,
                "inserted": commit.inserted,
                "updated": commit.updated,
                "table_version": version,
            },
        )
        results.append(
            TargetResult(
                table=spec.name,
                rows_mapped=rows.num_rows,
                rows_inserted=commit.inserted,
                rows_updated=commit.updated,
                table_version=version,
            )
        )
    return results


def _records_relation(records: list[SourceRecord]) -> pa.Table:
    """The records of one load as an Arrow table: the source's fields, plus ``_source_file`` and
    ``_position`` so mappings can order or de-duplicate by where a record came from."""
    table = pa.Table.from_pylist([r.data for r in records])
    table = table.append_column("_source_file", pa.array([r.source_file for r in records]))
    return table.append_column("_position", pa.array([r.position for r in records], pa.int64()))


def _dedupe_by_key(sql: str, spec: TableSpec) -> str:
    keys = ", ".join(f'"{k}"' for k in spec.key)
    return f"SELECT * FROM ({sql}) AS mapped QUALIFY row_number() OVER (PARTITION BY {keys}) = 1"


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
                    payload=_json(message),
                    received_at=received,
                    run_id=self.run_id,
                    source_file=batch.source_file,
                    position=position,
                )
            )
            return
        if row["message_id"] in self.seen:
            self.duplicates += 1  # a retry of a message already in this load: stored once
            return
        self.seen.add(row["message_id"])
        row.update(run_id=self.run_id, loaded_at=self.started)
        self.pending.append(row)


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
    load = _EventLoad(source, run_id, started)
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


def _problem_entry(
    source: SourceMapping, problem: ReadProblem, run_id: str, at: datetime
) -> QuarantineEntry:
    return QuarantineEntry(
        source=source.name,
        kind="line",
        entity=source.entity,
        rule=problem.rule,
        field=None,
        reason=problem.reason or problem.rule,
        payload=problem.raw,
        received_at=at,
        run_id=run_id,
        source_file=problem.source_file,
        position=problem.position,
    )


def _batch_received_at(batch: SegmentBatch, loaded_at: datetime) -> datetime:
    if batch.sent_at is None:
        return loaded_at
    try:
        return datetime.fromisoformat(batch.sent_at.replace("Z", "+00:00"))
    except ValueError:
        return loaded_at
