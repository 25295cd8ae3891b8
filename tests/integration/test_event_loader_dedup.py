"""The event loader stores a messageId once however late the retry, whoever stored it first, and
whatever happened to the loader's messageId index in between."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from custodia.collect.segment import normalize_message
from custodia.core.tables import EVENTS
from custodia.pipeline.event_loader import ID_INDEX_NAME, EventLoader
from custodia.settings import load_settings
from custodia.storage.event_log import LogEntry, SqliteEventLog
from custodia.storage.event_log_ids import MessageIdIndex
from custodia.storage.event_log_shards import EventLogShards
from custodia.storage.store_lineage import LineageLog
from custodia.workspace import Workspace

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    settings = load_settings(home=tmp_path / "ws", loader_interval_seconds=0)
    Workspace.create(settings)[0].close()
    with Workspace.open(settings) as ws:
        yield ws


def _log(ws: Workspace, ids: list[str], received_at: datetime) -> None:
    body = {"batch": [{"type": "track", "event": "下单", "userId": "u1", "messageId": i}
                      for i in ids]}  # fmt: skip
    entry = LogEntry.new(
        "web", "batch", json.dumps(body).encode(), received_at=received_at, events=len(ids)
    )
    with SqliteEventLog(ws.settings.event_log_path) as log:
        log.append([entry]).result()


def _load(ws: Workspace) -> tuple[int, int]:
    with EventLogShards(ws.settings.event_log_path) as shards:
        report = EventLoader(ws, shards).load()
    return report.inserted, report.duplicates


def _stored(ws: Workspace) -> list[tuple[str, str]]:
    rows = ws.lake.snapshot(EVENTS.zone.value, EVENTS.name).dataset().to_table().to_pylist()
    return sorted((r["message_id"], str(r["event_date"])) for r in rows)


def test_a_retry_weeks_later_in_another_partition_is_not_stored_again(ws: Workspace) -> None:
    _log(ws, ["m1", "m2"], received_at=NOW - timedelta(days=30))
    assert _load(ws) == (2, 0)
    _log(ws, ["m1", "m3"], received_at=NOW)  # no originalTimestamp: today's event_date
    assert _load(ws) == (1, 1)
    stored = _stored(ws)
    assert [m for m, _ in stored] == ["m1", "m2", "m3"]
    assert dict(stored)["m1"] != dict(stored)["m3"], "the retry would land in another partition"


def test_a_lost_index_is_rebuilt_from_the_table(ws: Workspace) -> None:
    _log(ws, ["m1", "m2"], received_at=NOW)
    _load(ws)
    (ws.home / ID_INDEX_NAME).unlink()
    for suffix in ("-wal", "-shm"):
        (ws.home / f"{ID_INDEX_NAME}{suffix}").unlink(missing_ok=True)
    _log(ws, ["m2", "m4"], received_at=NOW)
    assert _load(ws) == (1, 1)
    assert [m for m, _ in _stored(ws)] == ["m1", "m2", "m4"]


def test_a_crash_after_the_delta_commit_stores_nothing_twice(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    _log(ws, ["m1"], received_at=NOW)
    _load(ws)
    _log(ws, ["m2", "m3"], received_at=NOW)

    def crash(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk gone")  # after the commit to events, before index and offset

    with monkeypatch.context() as patch:
        patch.setattr(MessageIdIndex, "add", crash)
        with pytest.raises(OSError):
            _load(ws)
    assert [m for m, _ in _stored(ws)] == ["m1", "m2", "m3"], "the commit happened"
    failed = [r for r in LineageLog(ws.store).recent(limit=10) if r.event_type == "FAIL"]
    assert [(r.job, r.payload["run"]["facets"]["errorMessage"]["message"]) for r in failed] == [
        ("event_load", "OSError")
    ], "the chunk's lineage says it failed, without the error's text"
    assert _load(ws) == (0, 2), "the chunk is read again; the index catches up first"
    assert len(_stored(ws)) == 3


def test_ids_stored_by_another_writer_are_not_stored_again(ws: Workspace) -> None:
    _log(ws, ["m1"], received_at=NOW)
    _load(ws)  # the index now covers the table
    replayed = normalize_message(
        {"type": "track", "event": "下单", "userId": "u1", "messageId": "late"},
        received_at=NOW, source="web",
    )  # fmt: skip
    ws.lake.append_new(
        EVENTS.zone.value, EVENTS.name,
        _as_table([{**replayed, "run_id": "run_replay", "loaded_at": NOW}]), "message_id",
    )  # fmt: skip  # e.g. a quarantine replay
    _log(ws, ["late", "m5"], received_at=NOW)
    assert _load(ws) == (1, 1)
    assert [m for m, _ in _stored(ws)] == ["late", "m1", "m5"]


def _as_table(rows: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=EVENTS.arrow_schema())


def test_every_shard_is_loaded_and_a_retry_in_another_shard_is_stored_once(
    ws: Workspace,
) -> None:
    def entry(ids: list[str]) -> LogEntry:
        body = {"batch": [{"type": "track", "event": "下单", "userId": "u1", "messageId": i}
                          for i in ids]}  # fmt: skip
        return LogEntry.new("web", "batch", json.dumps(body).encode(), received_at=NOW, events=2)

    path = ws.settings.event_log_path
    with EventLogShards(path) as worker_a, EventLogShards(path) as worker_b:  # two server workers
        worker_a.claim().append([entry(["m1", "m2"])]).result(timeout=10)
        worker_b.claim().append([entry(["m2", "m3"])]).result(timeout=10)  # m2 retried
        assert worker_b.claim().path.name == "eventlog.1.db"
    with EventLogShards(path) as shards:
        report = EventLoader(ws, shards).load()
        assert shards.status("lake-loader").pending_entries == 0
        assert [log.committed("lake-loader") for log in shards.logs().values()] == [1, 1]
    assert (report.inserted, report.duplicates) == (3, 1)
    assert sorted(chunk.shard for chunk in report.chunks) == [0, 1]
    assert [m for m, _ in _stored(ws)] == ["m1", "m2", "m3"]
    done = [r for r in LineageLog(ws.store).recent(limit=10) if r.event_type == "COMPLETE"]
    assert sorted(r.run_id for r in done) == [f"{report.run_id}.1", f"{report.run_id}.1.1"]
    assert any("eventlog.1.db#1-1" in json.dumps(r.payload) for r in done)
