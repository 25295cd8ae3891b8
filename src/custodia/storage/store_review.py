"""Persistence of the review queue: tasks waiting for a data steward and the corrections they made.

Two tables (see :mod:`custodia.storage.store_schema`): ``review_tasks`` (one row per anomaly on a
record, ``pending`` until a steward decides) and ``quality_corrections`` (values a steward set by
hand; the pipeline re-applies the active ones after every load, so a re-delivered source row does
not undo them).

Deciding a task is one transaction: the task leaves ``pending`` (a second decision is refused)
and, for a correction, the new value is stored and any earlier active correction of the same
table, record and column is retired, so exactly one value is in force per cell.

Opening tasks is idempotent: a record that already has a ``pending`` task for the rule, or whose
flagged value a steward ``approved`` as right, gets no new task.

Example::

    queue = ReviewQueue(store)
    queue.open_tasks([{"rule": "phone_format", "table_name": "customer_records",
                       "record_key": "crm:9a1f...", "column_name": "phone", "profile_id": "prof_1",
                       "reason": "rule phone_format failed on column phone", "run_id": run_id}],
                     at=now)
    queue.decide(task_id, "correct", actor="steward", at=now, value="13812345678")
    queue.corrections(table="customer_records")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import Connection, Row, and_, func, select, tuple_, update

from custodia.core.errors import NotFoundError, ValidationError
from custodia.core.ids import new_id
from custodia.storage.store import OperationalStore
from custodia.storage.store_schema import (
    JsonValue,
    check_fits,
    quality_corrections,
    review_tasks,
    to_json_value,
)

__all__ = ["DECISIONS", "TASK_STATUSES", "Decision", "DecisionRecord", "ReviewQueue"]

Decision = Literal["approve", "correct", "reject"]
DECISIONS: Final[dict[str, str]] = {
    "approve": "approved",
    "correct": "corrected",
    "reject": "rejected",
}
"""Decision -> the status it leaves the task in."""
TASK_STATUSES: Final = ("pending", "approved", "corrected", "rejected")
_BLOCKING: Final = ("pending", "approved")
"""Statuses that keep a new task for the same rule and record from opening."""
_TASK_FIELDS: Final = ("rule", "table_name", "record_key", "column_name", "profile_id", "reason",
                       "run_id", "alert_id")  # fmt: skip
_CHUNK: Final = 400


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """What one decision changed: the task as it is now and the correction it stored, if any."""

    task: dict[str, Any]
    correction_id: str | None
    retired: int
    """Earlier active corrections of the same cell that this one replaced."""


class ReviewQueue:
    """Review tasks and stewards' corrections of one workspace."""

    def __init__(self, store: OperationalStore) -> None:
        self._store = store

    # -- tasks -------------------------------------------------------------------------------
    def open_tasks(self, rows: Sequence[Mapping[str, Any]], *, at: datetime) -> list[str]:
        """Insert a ``pending`` task per row unless one is pending or approved already.

        Rows repeating a rule, table and record among themselves open one task. Returns the new
        task ids in row order.
        """
        wanted = _distinct(rows)
        if not wanted:
            return []
        with self._store.begin() as conn:
            taken = _blocked_keys(conn, list(wanted))
            values = [
                {**{f: row.get(f) for f in _TASK_FIELDS}, "task_id": new_id("rt"),
                 "status": "pending", "created_at": at}
                for key, row in wanted.items() if key not in taken
            ]  # fmt: skip
            for value in values:
                _check_lengths(value)
            if values:
                conn.execute(review_tasks.insert(), values)
        return [str(v["task_id"]) for v in values]

    def tasks(
        self,
        *,
        status: str | None = None,
        rule: str | None = None,
        table: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Tasks newest first, optionally of one status, rule or table."""
        c = review_tasks.c
        query = select(review_tasks).order_by(c.created_at.desc(), c.task_id).limit(limit)
        for column, wanted in ((c.status, status), (c.rule, rule), (c.table_name, table)):
            if wanted is not None:
                query = query.where(column == wanted)
        with self._store.read() as conn:
            return [_plain(row) for row in conn.execute(query.offset(offset))]

    def task(self, task_id: str) -> dict[str, Any] | None:
        query = select(review_tasks).where(review_tasks.c.task_id == task_id)
        with self._store.read() as conn:
            row = conn.execute(query).one_or_none()
        return None if row is None else _plain(row)

    def count(self, *, status: str | None = None) -> int:
        query = select(func.count()).select_from(review_tasks)
        if status is not None:
            query = query.where(review_tasks.c.status == status)
        with self._store.read() as conn:
            return int(conn.execute(query).scalar_one())

    def decide(
        self,
        task_id: str,
        decision: Decision,
        *,
        actor: str,
        at: datetime,
        note: str | None = None,
        value: object = None,
    ) -> DecisionRecord:
        """Close a pending task; ``correct`` also stores ``value`` as the cell's active correction.

        Raises NotFoundError for an unknown task and ValidationError for an unknown decision or a
        task that was already decided.
        """
        if decision not in DECISIONS:
            raise ValidationError("decision", "one_of", "decision: approve, correct or reject")
        check_fits(review_tasks.c.decided_by, actor)
        stored = to_json_value("value", value) if decision == "correct" else None
        with self._store.begin() as conn:
            task = _pending_task(conn, task_id)
            conn.execute(
                update(review_tasks)
                .where(review_tasks.c.task_id == task_id)
                .values(status=DECISIONS[decision], decided_at=at, decided_by=actor, note=note)
            )
            correction_id, retired = None, 0
            if decision == "correct":
                correction_id, retired = _store_correction(conn, task, stored, actor, at)
            now = conn.execute(select(review_tasks).where(review_tasks.c.task_id == task_id)).one()
        return DecisionRecord(_plain(now), correction_id, retired)

    # -- corrections -------------------------------------------------------------------------
    def corrections(
        self, *, table: str | None = None, active: bool | None = True
    ) -> list[dict[str, Any]]:
        """Corrections oldest first (active ones by default), optionally of one table."""
        c = quality_corrections.c
        query = select(quality_corrections).order_by(c.created_at, c.correction_id)
        if table is not None:
            query = query.where(c.table_name == table)
        if active is not None:
            query = query.where(c.active.is_(active))
        with self._store.read() as conn:
            return [_plain(row) for row in conn.execute(query)]

    def corrected_tables(self) -> list[str]:
        """Tables that have at least one active correction."""
        c = quality_corrections.c
        query = select(c.table_name).where(c.active.is_(True)).distinct().order_by(c.table_name)
        with self._store.read() as conn:
            return [str(name) for name in conn.execute(query).scalars()]


def _distinct(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str, str], Mapping[str, Any]]:
    out: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for row in rows:
        out.setdefault((row["rule"], row["table_name"], row["record_key"]), row)
    return out


def _blocked_keys(conn: Connection, keys: list[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Keys among ``keys`` that have a pending or approved task."""
    c = review_tasks.c
    found: set[tuple[str, str, str]] = set()
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        query = select(c.rule, c.table_name, c.record_key).where(
            and_(tuple_(c.rule, c.table_name, c.record_key).in_(chunk), c.status.in_(_BLOCKING))
        )
        found.update((r.rule, r.table_name, r.record_key) for r in conn.execute(query))
    return found


def _check_lengths(values: Mapping[str, Any]) -> None:
    for name in ("rule", "table_name", "record_key", "column_name", "run_id"):
        check_fits(review_tasks.c[name], str(values[name]))


def _pending_task(conn: Connection, task_id: str) -> Row[Any]:
    row = conn.execute(
        select(review_tasks).where(review_tasks.c.task_id == task_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"review task {task_id} not found")
    if row.status != "pending":
        raise ValidationError("task", "pending", f"task: already decided ({row.status})")
    return row


def _store_correction(
    conn: Connection, task: Row[Any], value: JsonValue, actor: str, at: datetime
) -> tuple[str, int]:
    c = quality_corrections.c
    cell = and_(c.table_name == task.table_name, c.record_key == task.record_key,
                c.column_name == task.column_name, c.active.is_(True))  # fmt: skip
    retired = conn.execute(update(quality_corrections).where(cell).values(active=False)).rowcount
    correction_id = new_id("qc")
    conn.execute(
        quality_corrections.insert().values(
            correction_id=correction_id, table_name=task.table_name, record_key=task.record_key,
            column_name=task.column_name, value=value, task_id=task.task_id, created_at=at,
            created_by=actor, active=True,
        )
    )  # fmt: skip
    return correction_id, int(retired or 0)


def _plain(row: Row[Any]) -> dict[str, Any]:
    return dict(row._mapping)
