"""The event log between the HTTP collector and its consumers: durable first, processed later.

The collector appends what it accepted and answers ``200`` only once :meth:`EventLog.append`'s
future has resolved, i.e. once the entries are on disk. Consumers (the lakehouse loader today, a
real-time processor later) each read from their own committed offset and commit a new offset only
after their own output is durable. A crash at any moment therefore loses no acknowledged entry:
it is either still after the consumer's offset (and is read again) or already consumed.

:class:`EventLog` is the protocol; :class:`SqliteEventLog` is the embedded backend, a SQLite file
(``HOME/eventlog.db``) in WAL mode with ``synchronous=FULL``. Redis Streams or NATS JetStream
consumer groups can implement the same protocol for a scaled-out deployment. With several
server workers the log is one such file per worker (:mod:`custodia.storage.event_log_shards`).

Appends use group commit (:mod:`custodia.storage.event_log_writer`): one writer thread takes
everything queued since its last commit and writes it in one transaction with one fsync, so many
concurrent requests share the cost of one disk flush.

Example::

    log = SqliteEventLog(home / "eventlog.db")
    offsets = log.append([LogEntry.new("web", "batch", body, received_at=now)]).result()
    for logged in log.read("lake-loader", limit=100):
        ...
    log.commit("lake-loader", logged.offset)
    log.close()
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, Protocol

from custodia.core.errors import StorageError, ValidationError
from custodia.storage.event_log_writer import GroupCommitWriter, open_log_connection

__all__ = [
    "EventLog",
    "LogEntry",
    "LogStatus",
    "LoggedEntry",
    "SqliteEventLog",
]

DEFAULT_READ_BYTES: Final = 64 * 1024 * 1024
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One accepted request as it will be kept: the raw body and how it arrived.

    ``entry_id`` is random and unique; ids generated for messages that arrived without a
    ``messageId`` derive from it, so re-reading an entry yields the same ids. ``events`` and
    ``invalid`` are the collector's validation counts (informational; consumers re-validate).

    The id is 128 bits from :mod:`random` (seeded from the operating system in every process,
    and again in a forked child), not from ``os.urandom``: that system call lets go of the
    interpreter lock on every request, and under load the event loop then waited for the
    log's writer thread to hand it back. The id only has to be unique, not secret.
    """

    source: str
    kind: str
    payload: bytes = field(repr=False)
    received_at: datetime
    entry_id: str
    events: int = 0
    invalid: int = 0

    @classmethod
    def new(
        cls,
        source: str,
        kind: str,
        payload: bytes,
        *,
        received_at: datetime,
        events: int = 0,
        invalid: int = 0,
    ) -> LogEntry:
        """An entry with a fresh random ``entry_id``.

        >>> LogEntry.new("web", "track", b"{}", received_at=datetime.now(UTC)).kind
        'track'
        """
        if received_at.tzinfo is None:
            raise ValidationError("received_at", "aware", "received_at: needs a time zone")
        entry_id = f"{random.getrandbits(128):032x}"
        return cls(source, kind, payload, received_at, entry_id, events, invalid)


@dataclass(frozen=True, slots=True)
class LoggedEntry:
    """An entry read back from the log, with its offset (strictly increasing, never reused)."""

    offset: int
    entry: LogEntry


@dataclass(frozen=True, slots=True)
class LogStatus:
    """How far one consumer is behind the head of the log."""

    consumer: str
    head: int
    committed: int
    pending_entries: int
    pending_events: int
    oldest_pending_at: datetime | None


class EventLog(Protocol):
    """What the collector and the consumers need from a durable log."""

    def append(self, entries: Sequence[LogEntry]) -> Future[list[int]]:
        """Queue entries; the future resolves to their offsets once they are durable."""
        ...

    def read(
        self, consumer: str, *, limit: int, max_bytes: int = DEFAULT_READ_BYTES
    ) -> list[LoggedEntry]:
        """Entries after ``consumer``'s committed offset, oldest first (at least one if any)."""
        ...

    def committed(self, consumer: str) -> int:
        """The consumer's committed offset (0 before its first commit)."""
        ...

    def commit(self, consumer: str, offset: int) -> None:
        """Durably record that ``consumer`` has processed everything up to ``offset``."""
        ...

    def status(self, consumer: str) -> LogStatus:
        """Head, committed offset and what is still pending for ``consumer``."""
        ...

    def close(self) -> None:
        """Finish queued appends and release the log."""
        ...


class SqliteEventLog:
    """The embedded event log: a SQLite file in WAL mode, fsync on every commit.

    Several processes may open the same file (SQLite serialises writers; each process's
    group-commit writer polls for the lock), but server workers each append to a file of their
    own (:class:`~custodia.storage.event_log_shards.EventLogShards`), so they never wait for one
    another. Opening creates the file and its tables; no thread starts until the first append.
    """

    def __init__(self, path: Path, *, max_group_bytes: int = 16 * 1024 * 1024) -> None:
        self._path = path
        self._max_group_bytes = max_group_bytes
        self._lock = threading.Lock()
        self._writer: GroupCommitWriter | None = None
        self._closed = False
        with self._errors("open"):
            self._reader = open_log_connection(path)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def commits(self) -> int:
        """Append transactions this process has committed (group commit: fewer than appends)."""
        writer = self._writer
        return 0 if writer is None else writer.commits

    def append(self, entries: Sequence[LogEntry]) -> Future[list[int]]:
        with self._lock:
            if self._closed:
                raise StorageError("event log is closed")
            if self._writer is None:
                self._writer = GroupCommitWriter(self._path, self._max_group_bytes)
            writer = self._writer
        return writer.submit([_entry_row(entry) for entry in entries])

    def read(
        self, consumer: str, *, limit: int, max_bytes: int = DEFAULT_READ_BYTES
    ) -> list[LoggedEntry]:
        after = self.committed(consumer)
        return self.read_after(after, limit=limit, max_bytes=max_bytes)

    def read_after(
        self, offset: int, *, limit: int, max_bytes: int = DEFAULT_READ_BYTES
    ) -> list[LoggedEntry]:
        """Entries with an offset greater than ``offset``, up to ``limit`` entries or about
        ``max_bytes`` of payload (always at least one entry when there is one)."""
        query = (
            "SELECT seq, entry_id, source, kind, received_at_us, events, invalid, payload "
            "FROM log_entries WHERE seq > ? ORDER BY seq LIMIT ?"
        )
        found: list[LoggedEntry] = []
        size = 0
        with self._errors("read"), self._reading() as conn:
            for row in conn.execute(query, (offset, max(limit, 1))):
                found.append(_logged(row))
                size += len(row[7])
                if size >= max_bytes:
                    break
        return found

    def committed(self, consumer: str) -> int:
        query = "SELECT committed FROM consumer_offsets WHERE consumer = ?"
        with self._errors("read"), self._reading() as conn:
            row = conn.execute(query, (consumer,)).fetchone()
        return int(row[0]) if row else 0

    def commit(self, consumer: str, offset: int) -> None:
        if offset < 0:
            raise ValidationError("offset", "non_negative", "offset: must not be negative")
        statement = (
            "INSERT INTO consumer_offsets (consumer, committed, updated_at_us) VALUES (?, ?, ?) "
            "ON CONFLICT (consumer) DO UPDATE SET committed = excluded.committed, "
            "updated_at_us = excluded.updated_at_us"
        )
        with self._errors("commit"), self._writing() as conn:
            conn.execute(statement, (consumer, offset, _micros(datetime.now(UTC))))

    def head(self) -> int:
        """The offset of the newest entry ever appended (0 for an empty log)."""
        query = "SELECT seq FROM sqlite_sequence WHERE name = 'log_entries'"
        with self._errors("read"), self._reading() as conn:
            row = conn.execute(query).fetchone()
        return int(row[0]) if row else 0

    def status(self, consumer: str) -> LogStatus:
        committed = self.committed(consumer)
        query = (
            "SELECT count(*), coalesce(sum(events), 0), min(received_at_us) "
            "FROM log_entries WHERE seq > ?"
        )
        with self._errors("read"), self._reading() as conn:
            count, events, oldest = conn.execute(query, (committed,)).fetchone()
        return LogStatus(
            consumer=consumer,
            head=self.head(),
            committed=committed,
            pending_entries=int(count),
            pending_events=int(events),
            oldest_pending_at=None if oldest is None else _from_micros(int(oldest)),
        )

    def prune(self, *, through: int, received_before: datetime, batch: int = 2000) -> int:
        """Delete entries up to offset ``through`` received before ``received_before``.

        Never deletes what any consumer has not committed yet: ``through`` is capped at the
        lowest committed offset of all consumers. Deletes in small transactions so appends never
        wait long for the write lock. Returns how many entries were deleted. Offsets are never
        reused afterwards (AUTOINCREMENT).
        """
        with self._errors("read"), self._reading() as conn:
            lowest = conn.execute("SELECT min(committed) FROM consumer_offsets").fetchone()[0]
        if lowest is not None:
            through = min(through, int(lowest))
        statement = (
            "DELETE FROM log_entries WHERE seq IN (SELECT seq FROM log_entries "
            "WHERE seq <= ? AND received_at_us < ? ORDER BY seq LIMIT ?)"
        )
        deleted = 0
        while True:
            with self._errors("prune"), self._writing() as conn:
                removed = conn.execute(
                    statement, (through, _micros(received_before), batch)
                ).rowcount
            deleted += removed
            if removed < batch:
                return deleted

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        with self._lock:
            self._reader.close()

    def __enter__(self) -> SqliteEventLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise StorageError("event log is closed")
            self._reader.execute("BEGIN DEFERRED")
            try:
                yield self._reader
            finally:
                self._reader.execute("COMMIT")

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise StorageError("event log is closed")
            self._reader.execute("BEGIN IMMEDIATE")
            try:
                yield self._reader
            except BaseException:
                self._reader.execute("ROLLBACK")
                raise
            self._reader.execute("COMMIT")

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StorageError(f"event log {self._path.name}: {action} failed: {exc}") from None


def _entry_row(entry: LogEntry) -> tuple[object, ...]:
    return (
        entry.entry_id,
        entry.source,
        entry.kind,
        _micros(entry.received_at),
        entry.events,
        entry.invalid,
        entry.payload,
    )


def _logged(row: tuple[int, str, str, str, int, int, int, bytes]) -> LoggedEntry:
    seq, entry_id, source, kind, received, events, invalid, payload = row
    entry = LogEntry(
        source=source,
        kind=kind,
        payload=bytes(payload),
        received_at=_from_micros(received),
        entry_id=entry_id,
        events=events,
        invalid=invalid,
    )
    return LoggedEntry(offset=seq, entry=entry)


def _micros(at: datetime) -> int:
    delta = at.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)
