"""The embedded event log: durable appends with group commit, consumer offsets, pruning."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from custodia.core.errors import StorageError, ValidationError
from custodia.storage.event_log import LogEntry, SqliteEventLog

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _entry(n: int, at: datetime = AT) -> LogEntry:
    return LogEntry.new("web", "track", f'{{"n": {n}, "事件": "下单"}}'.encode(), received_at=at,
                        events=1)  # fmt: skip


@pytest.fixture
def log(tmp_path: Path) -> Iterator[SqliteEventLog]:
    event_log = SqliteEventLog(tmp_path / "eventlog.db")
    yield event_log
    event_log.close()


def test_append_returns_durable_offsets_and_read_returns_the_entries(log: SqliteEventLog) -> None:
    first = log.append([_entry(1), _entry(2)]).result(timeout=10)
    second = log.append([_entry(3)]).result(timeout=10)
    assert first == [1, 2] and second == [3]
    read = log.read("loader", limit=10)
    assert [r.offset for r in read] == [1, 2, 3]
    assert read[0].entry.payload == '{"n": 1, "事件": "下单"}'.encode()
    assert read[0].entry.received_at == AT and read[0].entry.source == "web"
    assert len({r.entry.entry_id for r in read}) == 3


def test_entries_survive_reopening_and_offsets_are_per_consumer(tmp_path: Path) -> None:
    with SqliteEventLog(tmp_path / "log.db") as log:
        log.append([_entry(n) for n in range(5)]).result(timeout=10)
        log.commit("loader", 3)
    with SqliteEventLog(tmp_path / "log.db") as reopened:
        assert reopened.committed("loader") == 3 and reopened.committed("realtime") == 0
        assert [r.offset for r in reopened.read("loader", limit=10)] == [4, 5]
        assert [r.offset for r in reopened.read("realtime", limit=2)] == [1, 2]
        status = reopened.status("loader")
        assert (status.head, status.pending_entries, status.pending_events) == (5, 2, 2)
        assert status.oldest_pending_at == AT


def test_a_new_log_has_16k_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    with SqliteEventLog(tmp_path / "new.db") as log:
        log.append([_entry(1)]).result(timeout=10)
    old = sqlite3.connect(tmp_path / "old.db")
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("CREATE TABLE t (x)")
    old.close()
    with SqliteEventLog(tmp_path / "old.db") as log:
        log.append([_entry(2)]).result(timeout=10)
        assert [r.entry.payload for r in log.read("c", limit=5)] == [_entry(2).payload]
    sizes = {}
    for name in ("new.db", "old.db"):
        conn = sqlite3.connect(tmp_path / name)
        sizes[name] = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.close()
    assert sizes == {"new.db": 16384, "old.db": 4096}


def test_read_stops_at_the_byte_budget_but_returns_at_least_one(log: SqliteEventLog) -> None:
    log.append([_entry(n) for n in range(10)]).result(timeout=10)
    assert len(log.read("c", limit=10, max_bytes=1)) == 1
    assert len(log.read("c", limit=3)) == 3


def test_concurrent_appends_share_commits(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    log = SqliteEventLog(path)
    log.append([_entry(0)]).result(timeout=10)  # starts the writer
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # hold the write lock: appends pile up meanwhile
    futures = [log.append([_entry(n)]) for n in range(200)]
    blocker.execute("COMMIT")
    offsets = sorted(o for f in futures for o in f.result(timeout=30))
    assert offsets == list(range(2, 202))
    assert log.commits <= 3, "200 queued appends are written by very few transactions"
    log.close()
    blocker.close()


def test_appends_from_many_threads_get_unique_offsets(log: SqliteEventLog) -> None:
    def send(n: int) -> list[int]:
        return log.append([_entry(n), _entry(n)]).result(timeout=30)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(send, range(300)))
    flat = [o for pair in results for o in pair]
    assert sorted(flat) == list(range(1, 601))
    assert all(b == a + 1 for a, b in results), "one request's entries are consecutive"


def test_prune_deletes_only_loaded_old_entries_and_never_reuses_offsets(
    log: SqliteEventLog,
) -> None:
    old, new = AT - timedelta(days=2), AT
    log.append([_entry(n, old) for n in range(4)] + [_entry(9, new)]).result(timeout=10)
    log.commit("loader", 3)
    assert log.prune(through=3, received_before=AT - timedelta(days=1), batch=2) == 3
    assert [r.offset for r in log.read_after(0, limit=10)] == [4, 5]
    log.commit("loader", 5)
    log.prune(through=5, received_before=AT + timedelta(days=1))
    assert log.read_after(0, limit=10) == []
    assert log.append([_entry(10)]).result(timeout=10) == [6]


def test_prune_keeps_what_a_slower_consumer_has_not_read(log: SqliteEventLog) -> None:
    log.append([_entry(n) for n in range(4)]).result(timeout=10)
    log.commit("loader", 4)
    log.commit("realtime", 1)
    log.prune(through=4, received_before=AT + timedelta(days=1))
    assert [r.offset for r in log.read("realtime", limit=10)] == [2, 3, 4]


def test_closed_log_refuses_work(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "log.db")
    pending = log.append([_entry(1)])
    log.close()
    assert pending.result(timeout=10) == [1], "close commits what was queued"
    with pytest.raises(StorageError):
        log.append([_entry(2)])
    with pytest.raises(StorageError):
        log.read("c", limit=1)


def test_a_failing_disk_fails_the_waiting_appends(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    log = SqliteEventLog(path)
    log.append([_entry(1)]).result(timeout=10)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE log_entries")
    failed = log.append([_entry(2)])
    with pytest.raises(StorageError, match="append failed"):
        failed.result(timeout=10)
    log.close()


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError, match="received_at"):
        LogEntry.new("web", "track", b"{}", received_at=datetime(2026, 1, 1))


def test_entries_reach_the_log_from_other_threads_while_reading(log: SqliteEventLog) -> None:
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            log.append([_entry(n)]).result(timeout=10)
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    seen: list[int] = []
    while len(seen) < 50:
        batch = log.read("c", limit=10)
        if batch:
            seen.extend(r.offset for r in batch)
            log.commit("c", batch[-1].offset)
    stop.set()
    thread.join()
    assert seen == list(range(1, len(seen) + 1))


def test_entry_ids_are_128_bit_and_a_forked_process_draws_other_ones() -> None:
    ids = {_entry(n).entry_id for n in range(10_000)}
    assert len(ids) == 10_000 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the child: one id down the pipe, then leave without pytest's cleanup
        os.write(writer, _entry(0).entry_id.encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    with os.fdopen(reader, "rb") as pipe:
        from_child = pipe.read().decode()
    assert len(from_child) == 32 and from_child != _entry(0).entry_id
