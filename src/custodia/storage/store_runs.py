"""Pipeline run history in the operational store: one row per run, one per recorded step.

The pipeline layer starts a run, records each step's row counts as it completes and finishes
the run as succeeded or failed; the API, CLI and console read the history back.

Example::

    runs = RunLog(store)
    run_id = runs.start_run("ingest", params={"sources": ["crm"]})
    runs.record_step(run_id, "load", source="crm", rows_in=10, rows_stored=9, rows_rejected=1)
    runs.finish_run(run_id, RunStatus.SUCCEEDED, stats={"rows": 9})
    runs.get_run(run_id).status  # RunStatus.SUCCEEDED
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, select
from sqlalchemy.engine import Connection

from custodia.core.clock import Clock, SystemClock
from custodia.core.errors import CustodiaError, StorageError, ValidationError
from custodia.core.ids import new_id
from custodia.storage.store_schema import (
    JsonValue,
    check_fits,
    pipeline_runs,
    run_steps,
    to_json_value,
)

if TYPE_CHECKING:
    from custodia.storage.store import OperationalStore


class RunStatus(StrEnum):
    """Lifecycle of a pipeline run; a run leaves ``running`` exactly once."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One pipeline run as stored."""

    run_id: str
    kind: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    params: JsonValue
    stats: JsonValue
    error: str | None


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One completed step of a run, with its row counts."""

    run_id: str
    step: str
    source: str | None
    rows_in: int
    rows_stored: int
    rows_rejected: int
    started_at: datetime
    finished_at: datetime | None
    detail: JsonValue


class RunLog:
    """Start, record and finish pipeline runs, and read their history back."""

    def __init__(self, store: OperationalStore, clock: Clock | None = None) -> None:
        self._store = store
        self._clock = clock or SystemClock()

    def start_run(self, kind: str, params: object = None, *, run_id: str | None = None) -> str:
        """Record a new ``running`` run and return its id (``run_<hex>`` unless given)."""
        chosen = run_id or new_id("run")
        check_fits(pipeline_runs.c.run_id, chosen)
        check_fits(pipeline_runs.c.kind, kind)
        values = {
            "run_id": chosen,
            "kind": kind,
            "status": RunStatus.RUNNING.value,
            "started_at": self._clock.now(),
            "params": to_json_value("params", params),
        }
        with self._store.begin() as conn:
            conn.execute(pipeline_runs.insert().values(values))
        return chosen

    def record_step(
        self,
        run_id: str,
        step: str,
        *,
        source: str | None = None,
        rows_in: int = 0,
        rows_stored: int = 0,
        rows_rejected: int = 0,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        detail: object = None,
    ) -> StepRecord:
        """Record one step of a running run; times default to now (a step that just ended)."""
        now = self._clock.now()
        record = StepRecord(
            run_id=run_id,
            step=check_fits(run_steps.c.step, step),
            source=None if source is None else check_fits(run_steps.c.source, source),
            rows_in=_count("rows_in", rows_in),
            rows_stored=_count("rows_stored", rows_stored),
            rows_rejected=_count("rows_rejected", rows_rejected),
            started_at=started_at or now,
            finished_at=finished_at or now,
            detail=to_json_value("detail", detail),
        )
        with self._store.begin() as conn:
            _require_running(conn, run_id)
            conn.execute(run_steps.insert().values(_step_values(record)))
        return record

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        stats: object = None,
        error: str | None = None,
    ) -> None:
        """Close a running run as succeeded or failed; a run can be finished only once."""
        if status is RunStatus.RUNNING:
            raise ValidationError(
                "status", "finished_status", "status: must be succeeded or failed"
            )
        values = {
            "status": status.value,
            "finished_at": self._clock.now(),
            "stats": to_json_value("stats", stats),
            "error": error,
        }
        with self._store.begin() as conn:
            _require_running(conn, run_id)
            conn.execute(
                pipeline_runs.update().where(pipeline_runs.c.run_id == run_id).values(values)
            )

    def fail_run(self, run_id: str, exc: BaseException) -> str:
        """Finish a run as failed because of ``exc``; returns the reason recorded.

        A :class:`CustodiaError` message is written as is (our errors never carry personal
        data); any other exception is recorded by its type only, since its text might.
        """
        reason = failure_reason(exc)
        self.finish_run(run_id, RunStatus.FAILED, error=reason)
        return reason

    def get_run(self, run_id: str) -> RunRecord | None:
        with self._store.read() as conn:
            query = select(pipeline_runs).where(pipeline_runs.c.run_id == run_id)
            row = conn.execute(query).first()
            return None if row is None else _run_record(row)

    def list_runs(
        self, *, limit: int = 50, kind: str | None = None, status: RunStatus | None = None
    ) -> list[RunRecord]:
        """The newest runs first, optionally only one kind or status."""
        query = select(pipeline_runs).order_by(
            pipeline_runs.c.started_at.desc(), pipeline_runs.c.run_id.desc()
        )
        if kind is not None:
            query = query.where(pipeline_runs.c.kind == kind)
        if status is not None:
            query = query.where(pipeline_runs.c.status == status.value)
        with self._store.read() as conn:
            return [_run_record(row) for row in conn.execute(query.limit(limit))]

    def list_steps(self, run_id: str) -> list[StepRecord]:
        """The steps of one run in the order they were recorded."""
        query = select(run_steps).where(run_steps.c.run_id == run_id).order_by(run_steps.c.step_id)
        with self._store.read() as conn:
            return [_step_record(row) for row in conn.execute(query)]


def failure_reason(exc: BaseException) -> str:
    """The one-line reason a run failed: our error's message, or a foreign exception's type."""
    return str(exc) if isinstance(exc, CustodiaError) else type(exc).__name__


def _count(field: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(field, "non_negative_int")
    return value


def _require_running(conn: Connection, run_id: str) -> None:
    query = select(pipeline_runs.c.status).where(pipeline_runs.c.run_id == run_id)
    status = conn.execute(query).scalar_one_or_none()
    if status is None:
        raise StorageError(f"pipeline run {run_id!r} does not exist")
    if status != RunStatus.RUNNING.value:
        raise StorageError(f"pipeline run {run_id!r} is already {status}")


def _step_values(record: StepRecord) -> dict[str, object]:
    return {
        "run_id": record.run_id,
        "step": record.step,
        "source": record.source,
        "rows_in": record.rows_in,
        "rows_stored": record.rows_stored,
        "rows_rejected": record.rows_rejected,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "detail": record.detail,
    }


def _run_record(row: Row[Any]) -> RunRecord:
    return RunRecord(
        run_id=row.run_id,
        kind=row.kind,
        status=RunStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        params=row.params,
        stats=row.stats,
        error=row.error,
    )


def _step_record(row: Row[Any]) -> StepRecord:
    values = row._asdict()
    del values["step_id"]
    return StepRecord(**values)
