"""The event loader: moves what the collector logged into the lakehouse ``events`` table.

One chunk at a time, from the loader's committed offset in each shard of the event log
(:class:`~custodia.storage.event_log_shards.EventLogShards`: one file per server worker; the
loader takes a chunk from each shard in turn, so no worker's entries wait for another's):

1. read up to ``max_entries`` logged requests (or ``max_bytes`` of bodies);
2. turn every message into an ``events`` row (:func:`custodia.collect.segment_rows.entry_events`),
   keeping the first copy of a ``messageId`` the chunk repeats;
3. append the rows whose ``message_id`` the table does not hold yet (insert if absent, no time
   window), partitioned by event date and source, in one Delta commit. Which ids it holds comes
   from :class:`~custodia.storage.event_log_ids.MessageIdIndex` (``HOME/eventlog.ids.db``),
   caught up with every commit of the table before the chunk, so the check costs what the chunk
   costs, not what the table holds;
4. put invalid messages in the quarantine with their reason, and those a tracking plan or a
   quality rule marked ``at_entry`` keeps out (:mod:`custodia.pipeline.entry_validation`; flagged
   ones are stored and get a ``flagged`` entry);
5. only then commit the offset.

A crash between 3 and 5 re-reads the chunk; steps 3 and 4 store nothing twice, so the retry is
harmless. Only one loader works on a workspace at a time (a file lock next to the event log), so
``custodia load`` and the loader inside ``custodia serve`` take turns.

Each :meth:`EventLoader.load` is one run in the run log (kind ``event_load``) with a step per
chunk; the continuous loader records a run only when there was something to load. Each chunk's
commit also writes one lineage run event (:func:`chunk_lineage`), like file and database loads
do: job ``event_load``, the collector sources read (with the log offsets), ``raw.events`` and
the quarantine with their row counts, and the status.

Example::

    with EventLogShards(ws.settings.event_log_path) as shards:
        report = EventLoader(ws, shards).load()
    report.inserted, report.quarantined
"""

from __future__ import annotations

import dataclasses
import fcntl
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import pyarrow as pa
from pydantic import BaseModel, Field

from custodia.collect.quarantine import Quarantine, QuarantineEntry
from custodia.collect.segment_rows import (
    EVENT_COLUMNS,
    JSON_COLUMNS,
    EntryEvents,
    EventTuple,
    RejectedMessage,
    entry_events,
)
from custodia.collect.tracking_plan import TrackingPlan
from custodia.core.errors import CustodiaError
from custodia.core.tables import EVENTS
from custodia.pipeline.entry_validation import entry_validators_in_force, screen_loaded_events
from custodia.pipeline.load_lineage import COLLECTOR_FORMAT, LoadLineage, collector_input
from custodia.pipeline.load_report import SourceResult, TargetResult
from custodia.pipeline.source_context import collector_plans
from custodia.quality.entry import EntryValidator
from custodia.storage.event_log import LoggedEntry, SqliteEventLog
from custodia.storage.event_log_ids import MessageIdIndex
from custodia.storage.event_log_shards import EventLogShards
from custodia.storage.store_runs import RunLog, RunStatus
from custodia.workspace import Workspace

LOADER_CONSUMER: Final = "lake-loader"
RUN_KIND: Final = "event_load"
LOCK_NAME: Final = "eventlog.loader.lock"
ID_INDEX_NAME: Final = "eventlog.ids.db"
_SHARED_TIMES: Final = frozenset({"received_at", "sent_at"})
_SOURCE: Final = EVENT_COLUMNS.index("source")

Progress = Callable[[str, int, int], None]
log = logging.getLogger(__name__)


class ChunkReport(BaseModel):
    """What one chunk of the log became."""

    shard: int = Field(default=0, description="The event log shard read (0: eventlog.db).")
    first_offset: int
    last_offset: int
    entries: int
    messages: int
    inserted: int = Field(description="New rows in events.")
    duplicates: int = Field(description="Messages whose messageId was stored already.")
    quarantined: int = Field(description="Invalid messages put in the quarantine.")
    max_lag_seconds: float = Field(description="Oldest entry's age when the chunk committed.")


class EventLoadReport(BaseModel):
    """The outcome of one load run."""

    run_id: str | None
    chunks: list[ChunkReport] = Field(default_factory=list)

    @property
    def entries(self) -> int:
        return sum(c.entries for c in self.chunks)

    @property
    def messages(self) -> int:
        return sum(c.messages for c in self.chunks)

    @property
    def inserted(self) -> int:
        return sum(c.inserted for c in self.chunks)

    @property
    def duplicates(self) -> int:
        return sum(c.duplicates for c in self.chunks)

    @property
    def quarantined(self) -> int:
        return sum(c.quarantined for c in self.chunks)

    def summary(self) -> dict[str, object]:
        """Totals for people and for ``--json``."""
        return {
            "run_id": self.run_id,
            "entries": self.entries,
            "messages": self.messages,
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "chunks": len(self.chunks),
            "max_lag_seconds": max((c.max_lag_seconds for c in self.chunks), default=0.0),
        }


@contextmanager
def loader_lock(home: Path, *, wait: bool) -> Iterator[bool]:
    """Hold the workspace's loader lock; yields False (without waiting) when ``wait`` is false
    and another loader holds it."""
    path = home / LOCK_NAME
    with path.open("a") as handle:
        flags = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
        try:
            fcntl.flock(handle, flags)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class _Chunk:
    """Rows and rejects of one chunk, before they are written."""

    logged: list[LoggedEntry]
    rows: list[EventTuple] = field(default_factory=list)
    rejected: list[QuarantineEntry] = field(default_factory=list)
    messages: int = 0
    duplicates: int = 0
    by_source: Counter[str] = field(default_factory=Counter)
    """Messages read per source."""


class EventLoader:
    """Loads the event log into ``events`` (and the quarantine) for one workspace."""

    def __init__(
        self,
        ws: Workspace,
        shards: EventLogShards,
        *,
        consumer: str = LOADER_CONSUMER,
        max_entries: int = 5_000,
        max_bytes: int = 48 * 1024 * 1024,
        retention: timedelta | None = None,
    ) -> None:
        self._ws = ws
        self._shards = shards
        self._consumer = consumer
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._retention = retention
        self._plans: dict[str, TrackingPlan] = {}
        self._entry_rules: EntryValidator | None = None
        self._ids: MessageIdIndex | None = None

    def pending(self) -> int:
        """Entries not loaded yet (all shards)."""
        return self._shards.status(self._consumer).pending_entries

    def load(
        self,
        *,
        progress: Progress | None = None,
        wait: bool = True,
        stop: threading.Event | None = None,
    ) -> EventLoadReport:
        """Load everything logged so far, chunk by chunk, as one recorded run.

        With ``wait=False`` it returns at once (``run_id=None``) when another loader is busy;
        ``stop`` ends the run after the chunk in progress.
        """
        with loader_lock(self._ws.home, wait=wait) as locked:
            if not locked:
                return EventLoadReport(run_id=None)
            with MessageIdIndex(self._ws.home / ID_INDEX_NAME) as self._ids:
                return self._load_locked(progress, stop or threading.Event())

    def _load_locked(self, progress: Progress | None, stop: threading.Event) -> EventLoadReport:
        total = self.pending()
        report = EventLoadReport(run_id=None)
        if total == 0:
            return report
        runs = RunLog(self._ws.store, self._ws.clock)
        report.run_id = runs.start_run(RUN_KIND, {"consumer": self._consumer, "pending": total})
        self._plans = collector_plans(self._ws)  # tracking plans as they are when the run starts
        self._entry_rules = entry_validators_in_force(self._ws).get(EVENTS.name)
        try:
            for chunk in self._chunks(runs, report.run_id, stop):
                report.chunks.append(chunk)
                if progress:
                    progress("loading events", report.entries, max(total, report.entries))
        except Exception as exc:
            runs.fail_run(report.run_id, exc)
            raise
        runs.finish_run(report.run_id, RunStatus.SUCCEEDED, stats=report.summary())
        self._prune()
        return report

    def _chunks(self, runs: RunLog, run_id: str, stop: threading.Event) -> Iterator[ChunkReport]:
        """Load one chunk from each shard in turn until every shard is drained (or ``stop``)."""
        drained: set[int] = set()
        while not stop.is_set():
            shards = {n: log for n, log in self._shards.logs().items() if n not in drained}
            if not shards:
                return
            for number, log in shards.items():
                logged = log.read(
                    self._consumer, limit=self._max_entries, max_bytes=self._max_bytes
                )
                if not logged:
                    drained.add(number)
                    continue
                yield self._load_chunk(runs, run_id, (number, log), logged)
                if stop.is_set():
                    return

    def _load_chunk(
        self,
        runs: RunLog,
        run_id: str,
        shard: tuple[int, SqliteEventLog],
        logged: list[LoggedEntry],
    ) -> ChunkReport:
        started = self._ws.clock.now()
        number, log = shard
        lineage = ChunkLineage(self._ws, run_id, logged, log.path.name, number)
        try:
            chunk = self._build(logged, run_id, started)
            fresh, version = self._append_events(chunk.rows, run_id, started)
            quarantined = Quarantine(self._ws.lake).add(chunk.rejected, loaded_at=started)
            log.commit(self._consumer, logged[-1].offset)
        except Exception as exc:
            lineage.fail(str(exc) if isinstance(exc, CustodiaError) else type(exc).__name__)
            raise
        done = self._ws.clock.now()
        oldest = min(item.entry.received_at for item in logged)
        report = ChunkReport(
            shard=number,
            first_offset=logged[0].offset,
            last_offset=logged[-1].offset,
            entries=len(logged),
            messages=chunk.messages,
            inserted=len(fresh),
            duplicates=chunk.duplicates + (len(chunk.rows) - len(fresh)),
            quarantined=len(chunk.rejected),
            max_lag_seconds=round((done - oldest).total_seconds(), 3),
        )
        runs.record_step(
            run_id, "load:events", rows_in=chunk.messages, rows_stored=len(fresh),
            rows_rejected=len(chunk.rejected), started_at=started, finished_at=done,
            detail={**report.model_dump(), "quarantine_new": quarantined},
        )  # fmt: skip
        lineage.complete(chunk, fresh, version, report)
        return report

    def _build(self, logged: list[LoggedEntry], run_id: str, at: datetime) -> _Chunk:
        chunk = _Chunk(logged)
        seen: set[str] = set()
        for item in logged:
            entry = item.entry
            result = entry_events(
                kind=entry.kind, payload=entry.payload, source=entry.source,
                received_at=entry.received_at, entry_id=entry.entry_id,
                validated=entry.events > 0 and entry.invalid == 0,
            )  # fmt: skip
            chunk.messages += len(result.rows) + len(result.rejected)
            chunk.by_source[entry.source] += len(result.rows) + len(result.rejected)
            screened = screen_loaded_events(
                result.rows, self._plans.get(entry.source), self._entry_rules, run_id=run_id,
                source_file=f"eventlog:{entry.entry_id}",
            )  # fmt: skip
            result.rows = screened.kept  # kept out: waits in the quarantine
            chunk.rejected.extend(screened.entries)
            self._keep_first(chunk, result, seen)
            chunk.rejected.extend(_quarantined(item, r, run_id) for r in result.rejected)
        return chunk

    @staticmethod
    def _keep_first(chunk: _Chunk, result: EntryEvents, seen: set[str]) -> None:
        for row in result.rows:
            message_id = row[0]  # EVENT_COLUMNS starts with message_id
            if message_id in seen:
                chunk.duplicates += 1
                continue
            seen.add(message_id)
            chunk.rows.append(row)

    def _append_events(
        self, rows: list[EventTuple], run_id: str, at: datetime
    ) -> tuple[list[EventTuple], int | None]:
        """Append the rows whose message_id ``events`` does not hold (rows start with it);
        returns them and the table version after the chunk (``None``: nothing to look at)."""
        if not rows or self._ids is None:
            return [], None
        synced = self._ids.sync(self._ws.lake, EVENTS.zone.value, EVENTS.name)
        stored = self._ids.stored([row[0] for row in rows])
        fresh = [row for row in rows if row[0] not in stored] if stored else rows
        if not fresh:
            return [], synced.covered
        table = events_table(fresh, run_id=run_id, loaded_at=at)
        commit = self._ws.lake.append(
            EVENTS.zone.value, EVENTS.name, table,
            commit_info={"run_id": run_id, "job": RUN_KIND},
        )  # fmt: skip
        self._ids.add([row[0] for row in fresh], version=commit.version)
        return fresh, commit.version

    def _prune(self) -> None:
        if self._retention is None:
            return
        before = self._ws.clock.now() - self._retention
        for log in self._shards.logs().values():
            log.prune(through=log.committed(self._consumer), received_before=before)


class ChunkLineage:
    """The lineage run event of one loader chunk (one per Delta commit, not per event).

    Its run id is the loader run's id and the chunk's first log offset (``run_….<offset>``,
    ``run_….<shard>.<offset>`` past shard 0), so each commit is a run of its own in ``lineage
    show`` and the rows' ``run_id`` still names the loader run; inputs are the collector sources
    the chunk read, with the log file and the offsets.
    """

    def __init__(
        self,
        ws: Workspace,
        run_id: str,
        logged: Sequence[LoggedEntry],
        log_file: str = "eventlog.db",
        shard: int = 0,
    ) -> None:
        self._ws = ws
        self._run_id = run_id
        self._first, self._last = logged[0].offset, logged[-1].offset
        self._sources = sorted({item.entry.source for item in logged})
        self._log_file = log_file
        self._position = f"{self._first}" if shard == 0 else f"{shard}.{self._first}"

    def complete(
        self, chunk: _Chunk, fresh: Sequence[EventTuple], version: int | None, report: ChunkReport
    ) -> None:
        inserted = Counter(row[_SOURCE] for row in fresh)
        rejected: dict[str, Counter[str]] = {}
        for entry in chunk.rejected:
            rejected.setdefault(entry.source, Counter())[entry.rule] += 1
        results = [
            _source_result(
                name, chunk.by_source[name], inserted[name], rejected.get(name, Counter()), version
            )
            for name in self._sources
        ]
        stats = {"event_load_run_id": self._run_id, **report.model_dump()}
        self._lineage(chunk.by_source).complete(results, stats=stats)

    def fail(self, error: str) -> None:
        self._lineage(Counter()).fail([], error)

    def _lineage(self, read: Counter[str]) -> LoadLineage:
        files = (f"{self._log_file}#{self._first}-{self._last}",)
        inputs = [
            dataclasses.replace(
                collector_input(name),
                path=self._log_file,
                location=str(self._ws.home),
                files=files,
                rows_read=read.get(name),
            )
            for name in self._sources
        ]
        chunk_run = f"{self._run_id}.{self._position}"
        return LoadLineage(
            self._ws, chunk_run, kind=RUN_KIND, sources=(), root=self._ws.home,
            extra_inputs=inputs,
        )  # fmt: skip


def _source_result(
    name: str, read: int, inserted: int, rejected: Counter[str], version: int | None
) -> SourceResult:
    targets = []
    if version is not None:
        target = TargetResult(
            table=EVENTS.name, rows_mapped=max(read - rejected.total(), 0), rows_inserted=inserted,
            rows_updated=0, table_version=version,
        )  # fmt: skip
        targets.append(target)
    return SourceResult(
        source=name, entity=EVENTS.name, format=COLLECTOR_FORMAT, rows_in=read,
        rows_landed=inserted, rows_rejected=rejected.total(), rejected_by_rule=dict(rejected),
        targets=targets,
    )  # fmt: skip


def events_table(rows: list[EventTuple], *, run_id: str, loaded_at: datetime) -> pa.Table:
    """Rows as an Arrow table in the ``events`` schema, transposed to columns in C.

    JSON columns arrive as UTF-8 bytes and are only validated, not re-encoded. Times shared by a
    whole request (``received_at``, usually ``sent_at``) are converted once per distinct value.
    """
    schema = EVENTS.arrow_schema()
    columns = dict(zip(EVENT_COLUMNS, zip(*rows, strict=True), strict=True))
    arrays = []
    for column in schema:
        if column.name == "run_id":
            arrays.append(pa.repeat(pa.scalar(run_id, column.type), len(rows)))
        elif column.name == "loaded_at":
            arrays.append(pa.repeat(pa.scalar(loaded_at, column.type), len(rows)))
        elif column.name in _SHARED_TIMES:
            arrays.append(_few_distinct(columns[column.name], column.type))
        elif column.name in JSON_COLUMNS:
            arrays.append(pa.array(columns[column.name], pa.large_binary()).cast(column.type))
        elif pa.types.is_timestamp(column.type):  # naive UTC values: tag the zone once
            arrays.append(pa.array(columns[column.name], pa.timestamp("us")).cast(column.type))
        else:
            arrays.append(pa.array(columns[column.name], column.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _few_distinct(values: Sequence[object], kind: pa.DataType) -> pa.Array:
    positions: dict[object, int] = {}
    indices = [positions.setdefault(value, len(positions)) for value in values]
    distinct = pa.array(list(positions), pa.timestamp("us")).cast(kind)
    return distinct.take(pa.array(indices, pa.int32()))


def _quarantined(item: LoggedEntry, rejected: RejectedMessage, run_id: str) -> QuarantineEntry:
    entry = item.entry
    return QuarantineEntry(
        source=entry.source,
        kind="event",
        entity=EVENTS.name,
        rule=rejected.error.rule,
        field=rejected.error.field,
        reason=str(rejected.error),
        payload=rejected.payload,
        received_at=entry.received_at,
        run_id=run_id,
        source_file=f"eventlog:{entry.entry_id}",
        position=rejected.position,
    )


class ContinuousLoader:
    """Runs :meth:`EventLoader.load` every ``interval`` seconds in a background thread.

    Used by ``custodia serve``: when several server processes run, the first to take the
    loader lock in a cycle loads and the others skip that cycle. Errors are logged and retried
    at the next cycle (the offset is only committed after a successful chunk).
    """

    def __init__(self, loader: EventLoader, interval: float) -> None:
        self._loader = loader
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-loader", daemon=True)
        self.last_report: EventLoadReport | None = None
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to finish its current chunk and stop."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                report = self._loader.load(wait=False, stop=self._stop)
            except Exception:  # keep serving; the next cycle retries from the committed offset
                self.failures += 1
                log.exception("event loader cycle failed; retrying next cycle")
                continue
            if report.run_id is not None:
                self.last_report = report
