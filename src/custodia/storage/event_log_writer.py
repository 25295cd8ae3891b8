"""Group commit for the SQLite event log: many appends, one transaction, one fsync.

Callers hand rows to :meth:`GroupCommitWriter.submit` and get a future. One writer thread takes
the first queued request, then everything else queued behind it (up to ``max_group_bytes``),
inserts all of it in one ``BEGIN IMMEDIATE ... COMMIT`` and resolves every future with its
offsets, or with the error. While a commit is being flushed to disk, new requests queue up and
form the next group, so the fsync cost is shared by however many requests arrive meanwhile.

Example::

    writer = GroupCommitWriter(path, max_group_bytes=16 << 20)
    offsets = writer.submit([(entry_id, source, kind, received_us, 1, 0, body)]).result()
    writer.close()
"""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from custodia.core.errors import StorageError

_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS log_entries (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        entry_id TEXT NOT NULL,
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        received_at_us INTEGER NOT NULL,
        events INTEGER NOT NULL,
        invalid INTEGER NOT NULL,
        payload BLOB NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS consumer_offsets (
        consumer TEXT PRIMARY KEY,
        committed INTEGER NOT NULL,
        updated_at_us INTEGER NOT NULL
    )""",
)
_INSERT_HEAD: Final = (
    "INSERT INTO log_entries (entry_id, source, kind, received_at_us, events, invalid, payload) "
    "VALUES "
)
_ROWS_PER_STATEMENT: Final = 256
_LAST_SEQ: Final = "SELECT seq FROM sqlite_sequence WHERE name = 'log_entries'"
BUSY_TIMEOUT_MS: Final = 30_000
PAGE_SIZE: Final = 16_384
"""Bytes per page of a new log file. A batch of 100 events (about 40 KB) fills three pages
instead of ten: each append writes fewer WAL frames (two system calls each) and each
checkpoint copies fewer pages, about a third less CPU per batch logged. A file keeps the page
size it was created with."""
Row = tuple[object, ...]


def open_log_connection(path: Path) -> sqlite3.Connection:
    """A connection to the log file: WAL, ``synchronous=FULL`` (fsync at every commit),
    explicit transactions, usable from any thread (callers serialise access)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,
        cached_statements=512,  # one multi-row INSERT per group size
    )
    conn.execute(f"PRAGMA page_size={PAGE_SIZE:d}")  # no effect once the file has pages
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS:d}")
    # Checkpoint every ~32 MB of WAL instead of every 4 MB: fewer, larger copies into the file.
    conn.execute("PRAGMA wal_autocheckpoint=8192")
    conn.execute("PRAGMA journal_size_limit=268435456")
    for statement in _SCHEMA:
        conn.execute(statement)
    return conn


@dataclass(slots=True)
class _Request:
    rows: Sequence[Row]
    future: Future[list[int]]
    size: int


_STOP: Final = object()


class GroupCommitWriter:
    """One thread that owns the write connection and commits queued appends in groups."""

    def __init__(self, path: Path, max_group_bytes: int) -> None:
        self._conn = open_log_connection(path)
        self._conn.execute("PRAGMA busy_timeout=0")  # _begin polls instead
        # Checkpoints (copying the WAL into the database file) would run inside a commit and
        # hold up every request of the group; a thread of its own does them instead.
        self._conn.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer = _Checkpointer(path)
        self._queue: queue.SimpleQueue[_Request | object] = queue.SimpleQueue()
        self._max_group_bytes = max_group_bytes
        self._stopped = threading.Event()
        self._submit_lock = threading.Lock()
        self.commits = 0
        """Transactions committed so far (each one fsync): fewer than appends under load."""
        self._thread = threading.Thread(target=self._run, name="event-log-writer", daemon=True)
        self._thread.start()

    def submit(self, rows: Sequence[Row]) -> Future[list[int]]:
        """Queue rows for the next group; the future gets their offsets once committed."""
        future: Future[list[int]] = Future()
        if not rows:
            future.set_result([])
            return future
        size = sum(len(row[-1]) for row in rows if isinstance(row[-1], bytes))
        with self._submit_lock:
            if self._stopped.is_set():
                future.set_exception(StorageError("event log writer is stopped"))
            else:
                self._queue.put(_Request(rows, future, size))
        return future

    def close(self) -> None:
        """Commit what is queued, then stop the thread and close the connection."""
        if self._stopped.is_set():
            return
        self._queue.put(_STOP)
        self._thread.join()
        self._checkpointer.stop()
        self._conn.close()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                break
            assert isinstance(first, _Request)
            group, stop = self._gather(first)
            self._commit(group)
            if stop:
                break
        with self._submit_lock:
            self._stopped.set()
        self._fail_leftovers()

    def _gather(self, first: _Request) -> tuple[list[_Request], bool]:
        """The first request plus whatever else is queued, up to the group size limit."""
        group, size = [first], first.size
        while size < self._max_group_bytes:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return group, True
            assert isinstance(item, _Request)
            group.append(item)
            size += item.size
        return group, False

    def _commit(self, group: list[_Request]) -> None:
        rows = [row for request in group for row in request.rows]
        try:
            last = self._insert(rows)
        except Exception as exc:  # every waiting request must hear about it, whatever it is
            error = StorageError(f"event log append failed: {type(exc).__name__}: {exc}")
            for request in group:
                request.future.set_exception(error)
            return
        self._resolve(group, first_offset=last - len(rows) + 1)

    def _insert(self, rows: list[Row]) -> int:
        """Insert in one transaction; returns the last offset. Offsets of one transaction are
        consecutive because the transaction holds SQLite's only write lock."""
        self._begin()
        try:
            for start in range(0, len(rows), _ROWS_PER_STATEMENT):
                self._insert_statement(rows[start : start + _ROWS_PER_STATEMENT])
            last = int(self._conn.execute(_LAST_SEQ).fetchone()[0])
            self._conn.execute("COMMIT")
            self.commits += 1
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        return last

    def _insert_statement(self, rows: list[Row]) -> None:
        """One multi-row INSERT: SQLite runs it in one step, so this thread gives up the
        interpreter lock once per statement instead of once per row (``executemany``), and does
        not have to win it back from a busy event loop for every row."""
        values = ",".join(["(?,?,?,?,?,?,?)"] * len(rows))
        self._conn.execute(_INSERT_HEAD + values, [value for row in rows for value in row])

    def _begin(self) -> None:
        """Take the write lock, polling every fraction of a millisecond while another process
        holds it. SQLite's own busy handler sleeps up to 100 ms between tries, which would turn
        two server processes sharing the log into 100 ms latency spikes."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = 0.0001
        while True:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.002)

    @staticmethod
    def _resolve(group: list[_Request], first_offset: int) -> None:
        offset = first_offset
        for request in group:
            count = len(request.rows)
            request.future.set_result(list(range(offset, offset + count)))
            offset += count

    def _fail_leftovers(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Request):
                item.future.set_exception(StorageError("event log writer is stopped"))


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class _Checkpointer:
    """Copies the WAL into the database file every ``interval`` seconds, off the commit path.

    ``PASSIVE`` checkpoints never wait for writers or readers: they copy what they can, and
    SQLite starts the WAL over once everything in it has been copied.
    """

    def __init__(self, path: Path, interval: float = 0.5) -> None:
        self._conn = open_log_connection(path)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-log-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._conn.close()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:  # busy or the like: the next round tries again
                continue
