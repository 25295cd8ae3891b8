"""The event log as one SQLite file per appending process, so server workers never queue for one
file's write lock.

With ``custodia serve --workers N`` every worker group-commits its requests, and a commit holds
the log file's only write lock through its fsync: the workers' commits queued behind one another
and each worker polled for the lock. Here every appending process claims a shard of its own for
as long as it runs: ``HOME/eventlog.db`` (shard 0, the only one with one worker),
``HOME/eventlog.1.db``, ``HOME/eventlog.2.db``... so the workers' commits and fsyncs run side by
side. The claim is an exclusive ``flock`` on ``<shard file>.claim``, taken without waiting on the
first shard nobody holds; the operating system drops it when the process ends, however it ends,
so a restarted worker takes a free shard again.

Each shard is a complete :class:`~custodia.storage.event_log.SqliteEventLog` with its own offsets:
consumers read and commit shard by shard. Correctness never depends on the claim: two processes
appending to one shard (a tool writing to ``eventlog.db`` while a server runs) are serialised by
SQLite as before. Order across shards is not kept (it never was across workers), and a retried
``messageId`` that lands in another shard is still stored once: the loader's id index decides.

Example::

    shards = EventLogShards(home / "eventlog.db")
    shards.claim().append([entry]).result()      # this process's shard
    for number, log in shards.logs().items():   # every shard on disk, shard 0 first
        logged = log.read("lake-loader", limit=100)
    shards.close()
"""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path
from typing import IO, Final

from custodia.storage.event_log import LogStatus, SqliteEventLog

__all__ = ["EventLogShards"]

MAX_SHARDS: Final = 64
"""Claims stop here; a process that finds every shard held appends to shard 0 (shared)."""


class EventLogShards:
    """The shards of one workspace's event log: claims one for appends, opens all for reading."""

    def __init__(self, first: Path) -> None:
        self._first = first
        self._logs: dict[int, SqliteEventLog] = {}
        self._claimed: SqliteEventLog | None = None
        self._claim_handle: IO[str] | None = None
        self._lock = threading.Lock()
        self._open(0)  # shard 0 always exists, so readers and old tools find the log

    @property
    def path(self) -> Path:
        """Shard 0's file; the others sit beside it."""
        return self._first

    def claim(self) -> SqliteEventLog:
        """The shard this process appends to, claimed on the first call, held until close."""
        with self._lock:
            if self._claimed is None:
                self._claimed = self._open(self._claim_free_shard())
            return self._claimed

    def logs(self) -> dict[int, SqliteEventLog]:
        """Every shard on disk now by number (new ones appear when workers start), 0 first."""
        with self._lock:
            for number in self._numbers_on_disk():
                self._open(number)
            return {number: self._logs[number] for number in sorted(self._logs)}

    def status(self, consumer: str) -> LogStatus:
        """``consumer``'s position summed over the shards: ``head`` and ``committed`` count
        entries ever appended and consumed, ``oldest_pending_at`` is the oldest of all."""
        statuses = [log.status(consumer) for log in self.logs().values()]
        oldest = [s.oldest_pending_at for s in statuses if s.oldest_pending_at is not None]
        return LogStatus(
            consumer=consumer,
            head=sum(s.head for s in statuses),
            committed=sum(s.committed for s in statuses),
            pending_entries=sum(s.pending_entries for s in statuses),
            pending_events=sum(s.pending_events for s in statuses),
            oldest_pending_at=min(oldest, default=None),
        )

    def close(self) -> None:
        """Finish every shard's queued appends, close them and give the claim up."""
        with self._lock:
            logs, self._logs, self._claimed = list(self._logs.values()), {}, None
            handle, self._claim_handle = self._claim_handle, None
        for log in logs:
            log.close()
        if handle is not None:
            handle.close()  # closing the file drops the flock

    def __enter__(self) -> EventLogShards:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def shard_path(self, number: int) -> Path:
        """``eventlog.db`` for shard 0, ``eventlog.<number>.db`` for the others."""
        if number == 0:
            return self._first
        return self._first.with_name(f"{self._first.stem}.{number}{self._first.suffix}")

    def _open(self, number: int) -> SqliteEventLog:
        log = self._logs.get(number)
        if log is None:
            log = self._logs[number] = SqliteEventLog(self.shard_path(number))
        return log

    def _claim_free_shard(self) -> int:
        for number in range(MAX_SHARDS):
            path = self.shard_path(number)
            handle = path.with_name(path.name + ".claim").open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            self._claim_handle = handle
            return number
        return 0

    def _numbers_on_disk(self) -> list[int]:
        """Shard numbers of the ``<stem>.<n><suffix>`` files beside shard 0 (``eventlog.ids.db``
        and other neighbours are not shards)."""
        stem, suffix = self._first.stem, self._first.suffix
        found = []
        for path in self._first.parent.glob(f"{stem}.*{suffix}"):
            middle = path.name[len(stem) + 1 : len(path.name) - len(suffix)]
            if middle.isascii() and middle.isdigit() and str(int(middle)) == middle != "0":
                found.append(int(middle))
        return found
