"""Persistence of lineage run events in the operational store (the ``lineage_events`` table).

Each row is one OpenLineage-shaped run event (START, COMPLETE or FAIL) of one pipeline run, kept
whole as JSON; the columns beside it (run, job, type, time) are what lookups filter on. Building
the events is :mod:`custodia.lineage`'s job; this module only writes and reads rows.

Example::

    log = LineageLog(store)
    log.record(run_id="run_1", job="load", event_type="START", event_time=now, payload={...})
    [r.event_type for r in log.for_run("run_1")]   # ['START']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from custodia.storage.store import OperationalStore
from custodia.storage.store_schema import check_fits, lineage_events, to_json_value

__all__ = ["LineageLog", "LineageRecord"]


@dataclass(frozen=True, slots=True)
class LineageRecord:
    """One stored run event."""

    event_id: int
    run_id: str
    job: str
    event_type: str
    event_time: datetime
    payload: dict[str, Any]


class LineageLog:
    """Append run events and read them back, newest first or by run."""

    def __init__(self, store: OperationalStore) -> None:
        self._store = store

    def record(
        self,
        *,
        run_id: str,
        job: str,
        event_type: str,
        event_time: datetime,
        payload: dict[str, Any],
    ) -> int:
        """Store one event; returns its id. The payload must be JSON (no datetimes)."""
        values = {
            "run_id": check_fits(lineage_events.c.run_id, run_id),
            "job": check_fits(lineage_events.c.job, job),
            "event_type": check_fits(lineage_events.c.event_type, event_type),
            "event_time": event_time,
            "payload": to_json_value("payload", payload),
        }
        with self._store.begin() as conn:
            result = conn.execute(lineage_events.insert().values(values))
            key = result.inserted_primary_key
        return int(key[0]) if key else 0

    def for_run(self, run_id: str) -> list[LineageRecord]:
        """The events of one run, in the order they were recorded."""
        query = (
            select(lineage_events)
            .where(lineage_events.c.run_id == run_id)
            .order_by(lineage_events.c.event_id)
        )
        with self._store.read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def recent(
        self, *, limit: int = 200, event_types: Sequence[str] | None = None
    ) -> list[LineageRecord]:
        """The newest events first, optionally only some types."""
        query = select(lineage_events).order_by(lineage_events.c.event_id.desc()).limit(limit)
        if event_types:
            query = query.where(lineage_events.c.event_type.in_(list(event_types)))
        with self._store.read() as conn:
            return [_record(row) for row in conn.execute(query)]


def _record(row: Row[Any]) -> LineageRecord:
    return LineageRecord(
        event_id=int(row.event_id),
        run_id=row.run_id,
        job=row.job,
        event_type=row.event_type,
        event_time=row.event_time,
        payload=row.payload if isinstance(row.payload, dict) else {},
    )
