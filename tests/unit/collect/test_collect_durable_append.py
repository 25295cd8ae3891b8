"""Group commit on the event loop: concurrent requests share log appends; errors reach them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from custodia.collect.durable_append import LoopAppender
from custodia.core.errors import StorageError
from custodia.storage.event_log import LogEntry, SqliteEventLog

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _entry(n: int) -> LogEntry:
    return LogEntry.new("web", "track", f'{{"n": {n}}}'.encode(), received_at=AT, events=1)


def test_concurrent_appends_are_durable_and_grouped(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "log.db")
    appender = LoopAppender(log)

    async def send_all() -> None:
        await asyncio.gather(*(appender.append(_entry(n)) for n in range(300)))

    asyncio.run(send_all())
    stored = log.read_after(0, limit=1000)
    assert sorted(r.entry.payload for r in stored) == sorted(
        f'{{"n": {n}}}'.encode() for n in range(300)
    )
    assert log.commits <= 3, "one group in flight, the rest wait for the next group"
    log.close()


def test_a_closed_log_fails_every_waiting_request(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "log.db")
    log.close()
    appender = LoopAppender(log)

    async def send() -> list[BaseException | None]:
        results = await asyncio.gather(
            *(appender.append(_entry(n)) for n in range(3)), return_exceptions=True
        )
        return list(results)

    errors = asyncio.run(send())
    assert all(isinstance(e, StorageError) for e in errors)


def test_groups_respect_their_size_limit(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "log.db")
    appender = LoopAppender(log, max_group=10)

    async def send_all() -> None:
        await asyncio.gather(*(appender.append(_entry(n)) for n in range(35)))

    asyncio.run(send_all())
    assert len(log.read_after(0, limit=100)) == 35
    assert log.commits >= 4
    log.close()


def test_a_cancelled_request_does_not_break_the_group(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "log.db")
    appender = LoopAppender(log)

    async def scenario() -> None:
        first = asyncio.create_task(appender.append(_entry(1)))
        second = asyncio.create_task(appender.append(_entry(2)))
        await asyncio.sleep(0)
        first.cancel()  # the client went away while its entry was being written
        await second
        await asyncio.gather(first, return_exceptions=True)
        await appender.append(_entry(3))

    asyncio.run(scenario())
    assert len(log.read_after(0, limit=10)) == 3, "a cancelled request's entry is still kept"
    log.close()
