"""Event log shards: each appending process claims a file of its own; readers see every shard."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from custodia.storage.event_log import LogEntry, SqliteEventLog
from custodia.storage.event_log_shards import EventLogShards

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _entry(n: int, at: datetime = AT) -> LogEntry:
    body = f'{{"n": {n}, "事件": "下单"}}'.encode()
    return LogEntry.new("web", "track", body, received_at=at, events=1)


def test_each_claim_gets_a_shard_nobody_holds_and_a_released_one_is_taken_again(
    tmp_path: Path,
) -> None:
    first, second = (
        EventLogShards(tmp_path / "eventlog.db"),
        EventLogShards(tmp_path / "eventlog.db"),
    )
    assert first.claim().path == tmp_path / "eventlog.db"
    assert second.claim().path == tmp_path / "eventlog.1.db"
    assert first.claim() is first.claim()  # held for the life of the object
    second.close()
    with EventLogShards(tmp_path / "eventlog.db") as third:
        assert third.claim().path == tmp_path / "eventlog.1.db"
    first.close()


def test_a_claim_held_by_another_process_is_skipped(tmp_path: Path) -> None:
    holder = (
        "import sys; from pathlib import Path\n"
        "from custodia.storage.event_log_shards import EventLogShards\n"
        "shards = EventLogShards(Path(sys.argv[1]))\n"
        "print(shards.claim().path.name, flush=True)\n"
        "sys.stdin.read()\n"
    )
    command = [sys.executable, "-c", holder, str(tmp_path / "eventlog.db")]
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "eventlog.db"
        with EventLogShards(tmp_path / "eventlog.db") as mine:
            assert mine.claim().path.name == "eventlog.1.db"
        proc.stdin.close()  # the holder exits, and with it its claim
        proc.wait(timeout=30)
    with EventLogShards(tmp_path / "eventlog.db") as after:  # the process is gone: free again
        assert after.claim().path.name == "eventlog.db"


def test_readers_see_every_shard_on_disk_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "eventlog.ids.db").write_bytes(b"")  # the message id index is a neighbour
    (tmp_path / "eventlog.01.db").write_bytes(b"")  # not a name a shard gets
    with EventLogShards(tmp_path / "eventlog.db") as reader:
        assert list(reader.logs()) == [0]
        with SqliteEventLog(tmp_path / "eventlog.2.db"):
            pass
        assert {n: log.path.name for n, log in reader.logs().items()} == {
            0: "eventlog.db", 2: "eventlog.2.db"
        }  # fmt: skip


def test_status_sums_the_shards(tmp_path: Path) -> None:
    with (
        EventLogShards(tmp_path / "eventlog.db") as one,
        EventLogShards(tmp_path / "eventlog.db") as two,
    ):
        one.claim().append([_entry(1), _entry(2)]).result(timeout=10)
        two.claim().append([_entry(3, AT - timedelta(minutes=5))]).result(timeout=10)
        one.claim().commit("loader", 1)
        status = one.status("loader")
        assert (status.head, status.committed) == (3, 1)
        assert (status.pending_entries, status.pending_events) == (2, 2)
        assert status.oldest_pending_at == AT - timedelta(minutes=5)
        assert one.status("other").pending_entries == 3
