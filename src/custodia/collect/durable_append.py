"""Group commit on the event loop: one log append, and one thread hand-off, per group.

The event log's writer thread already puts whatever is queued into one transaction. Handing it
every request separately would still cost each request a cross-thread future and a wake-up of
the event loop. :class:`LoopAppender` gathers the entries of concurrent requests on the loop
instead: while one group is being written, new entries wait in the next group; when the write
finishes, one callback resolves every request of the group and sends the next group off.

Example::

    appender = LoopAppender(event_log)
    await appender.append(entry)      # returns once the entry is durable
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future

from custodia.storage.event_log import EventLog, LogEntry


class LoopAppender:
    """Appends entries durably, in groups, from coroutines of one event loop (per process)."""

    def __init__(self, log: EventLog, *, max_group: int = 4096) -> None:
        self._log = log
        self._max_group = max_group
        self._waiting: list[tuple[LogEntry, asyncio.Future[None]]] = []
        self._in_flight = False

    async def append(self, entry: LogEntry) -> None:
        """Return once ``entry`` is durable; raise the log's error if the write failed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((entry, done))
        if not self._in_flight:
            self._send()
        await done

    def _send(self) -> None:
        group, self._waiting = (
            self._waiting[: self._max_group],
            self._waiting[self._max_group :],
        )
        self._in_flight = True
        loop = asyncio.get_running_loop()
        try:
            written = self._log.append([entry for entry, _ in group])
        except Exception as exc:  # the log refused at once (closed): fail this group only
            self._finish(group, exc)
            return
        written.add_done_callback(
            lambda future: loop.call_soon_threadsafe(self._written, group, future)
        )

    def _written(
        self, group: list[tuple[LogEntry, asyncio.Future[None]]], written: Future[list[int]]
    ) -> None:
        self._finish(group, written.exception())

    def _finish(
        self, group: list[tuple[LogEntry, asyncio.Future[None]]], error: BaseException | None
    ) -> None:
        for _, done in group:
            if done.done():  # the request was cancelled (client gone)
                continue
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)
        self._in_flight = False
        if self._waiting:
            self._send()
