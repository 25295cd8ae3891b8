"""RunLog, Watermarks and WorkspaceInfo on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custodia.core.clock import FrozenClock
from custodia.core.errors import StorageError, ValidationError
from custodia.storage.store import (
    OperationalStore,
    RunLog,
    RunStatus,
    Watermark,
    Watermarks,
    WorkspaceInfo,
)

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


def test_run_lifecycle(operational_store: OperationalStore, clock: FrozenClock) -> None:
    runs = RunLog(operational_store, clock)
    run_id = runs.start_run("ingest", params={"sources": ["crm", "门店"], "full": False})
    clock.advance(timedelta(seconds=5))
    runs.record_step(
        run_id, "load", source="crm", rows_in=10, rows_stored=9, rows_rejected=1,
        started_at=T0, detail={"rejected_rules": {"phone_format": 1}},
    )  # fmt: skip
    runs.record_step(run_id, "dedupe", rows_in=9, rows_stored=9)
    clock.advance(timedelta(seconds=1))
    runs.finish_run(run_id, RunStatus.SUCCEEDED, stats={"rows": 9})

    run = runs.get_run(run_id)
    assert run is not None
    assert (run.kind, run.status, run.error) == ("ingest", RunStatus.SUCCEEDED, None)
    assert run.params == {"sources": ["crm", "门店"], "full": False}
    assert run.stats == {"rows": 9}
    assert (run.started_at, run.finished_at) == (T0, T0 + timedelta(seconds=6))

    load, dedupe = runs.list_steps(run_id)
    assert (load.step, load.source, load.rows_in, load.rows_stored, load.rows_rejected) == (
        "load", "crm", 10, 9, 1,
    )  # fmt: skip
    assert load.detail == {"rejected_rules": {"phone_format": 1}}
    assert (load.started_at, load.finished_at) == (T0, T0 + timedelta(seconds=5))
    assert (dedupe.step, dedupe.source, dedupe.detail) == ("dedupe", None, None)


def test_failed_run_keeps_its_error(operational_store: OperationalStore) -> None:
    runs = RunLog(operational_store)
    run_id = runs.start_run("identity")
    runs.finish_run(run_id, RunStatus.FAILED, error="CommitConflictError: table profiles")
    run = runs.get_run(run_id)
    assert run is not None
    assert run.status is RunStatus.FAILED
    assert run.error == "CommitConflictError: table profiles"
    assert run.finished_at is not None


def test_runs_are_listed_newest_first_and_filtered(
    operational_store: OperationalStore, clock: FrozenClock
) -> None:
    runs = RunLog(operational_store, clock)
    ids = []
    for kind in ("ingest", "identity", "ingest"):
        ids.append(runs.start_run(kind))
        clock.advance(timedelta(minutes=1))
    runs.finish_run(ids[0], RunStatus.SUCCEEDED)

    assert [run.run_id for run in runs.list_runs()] == ids[::-1]
    assert [run.run_id for run in runs.list_runs(kind="ingest")] == [ids[2], ids[0]]
    assert [run.run_id for run in runs.list_runs(status=RunStatus.RUNNING)] == [ids[2], ids[1]]
    assert [run.run_id for run in runs.list_runs(limit=1)] == [ids[2]]


def test_a_run_finishes_only_once(operational_store: OperationalStore) -> None:
    runs = RunLog(operational_store)
    run_id = runs.start_run("ingest")
    runs.finish_run(run_id, RunStatus.SUCCEEDED)
    with pytest.raises(StorageError, match="already succeeded"):
        runs.finish_run(run_id, RunStatus.FAILED)
    with pytest.raises(StorageError, match="already succeeded"):
        runs.record_step(run_id, "late")


def test_unknown_runs_are_refused(operational_store: OperationalStore) -> None:
    runs = RunLog(operational_store)
    assert runs.get_run("run_nope") is None
    with pytest.raises(StorageError, match="does not exist"):
        runs.record_step("run_nope", "load")
    with pytest.raises(StorageError, match="does not exist"):
        runs.finish_run("run_nope", RunStatus.FAILED)


def test_bad_run_input_is_refused(operational_store: OperationalStore) -> None:
    runs = RunLog(operational_store)
    with pytest.raises(ValidationError) as caught:
        runs.start_run("ingest", params={"since": datetime(2026, 1, 1, tzinfo=UTC)})
    assert caught.value.field == "params"
    run_id = runs.start_run("ingest")
    with pytest.raises(ValidationError) as caught:
        runs.record_step(run_id, "load", rows_in=-1)
    assert caught.value.field == "rows_in"
    with pytest.raises(ValidationError) as caught:
        runs.finish_run(run_id, RunStatus.RUNNING)
    assert caught.value.field == "status"
    assert runs.list_steps(run_id) == []


def test_watermarks_upsert(operational_store: OperationalStore, clock: FrozenClock) -> None:
    marks = Watermarks(operational_store, clock)
    assert marks.get("crm", "members") is None
    marks.set("crm", "members", "2026-10-31T00:00:00Z")
    clock.advance(timedelta(hours=1))
    marks.set("crm", "members", "2026-11-01T00:00:00Z")
    marks.set("pos", "订单", "lsn:42")

    assert marks.get("crm", "members") == "2026-11-01T00:00:00Z"
    assert marks.get("pos", "订单") == "lsn:42"
    assert marks.all() == [
        Watermark("crm", "members", "2026-11-01T00:00:00Z", T0 + timedelta(hours=1)),
        Watermark("pos", "订单", "lsn:42", T0 + timedelta(hours=1)),
    ]


def test_workspace_info_get_set_ensure(operational_store: OperationalStore) -> None:
    info = WorkspaceInfo(operational_store)
    assert info.get("workspace_id") is None
    assert info.ensure("workspace_id", "ws_first") == "ws_first"
    assert info.ensure("workspace_id", "ws_second") == "ws_first"
    info.set("display_name", "华东零售")
    info.set("display_name", "East China Retail")
    assert info.as_dict() == {"workspace_id": "ws_first", "display_name": "East China Retail"}
