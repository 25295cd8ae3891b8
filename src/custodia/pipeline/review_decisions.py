"""A data steward's side of the review queue: look at a task, then approve, correct or reject it.

- ``approve``: the flagged value is right as it is (a genuine exception); the task closes and the
  rule opens no new task for that record.
- ``correct``: the value is wrong and the steward knows the right one; it is stored as the cell's
  active correction and merged into the table at once and after every later load
  (:mod:`custodia.pipeline.review_corrections`), so re-delivering the source does not undo it.
- ``reject``: the value is wrong but cannot be fixed here (e.g. it must be fixed at the source);
  the task closes and a later scan may open a new one while the row still fails.

Every decision is audited (action ``quality.review.decide``, subject the task id) with the rule,
table, column and record key: no value and no note, which may hold personal data.

A task's view shows the record's current value masked (``138****5678``) unless the caller may
see personal data (``reveal``; the API reveals it to data stewards).

Example::

    view = task_view(ws, "rt_1a2b", reveal=False)
    result = decide_task(ws, "rt_1a2b", "correct", actor="amy", value="13812345678")
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from custodia.core.errors import NotFoundError, ValidationError
from custodia.core.sql_text import quote_ident, quote_literal
from custodia.pipeline.quality_rules_file import rules_in_force, rules_path
from custodia.pipeline.review_corrections import TableCorrections, apply_corrections
from custodia.pipeline.review_records import (
    cell_value,
    correctable_column,
    jsonable,
    key_column,
    reviewable_table,
    rows_by_key,
    shown_value,
)
from custodia.pipeline.review_tasks import failing_keys
from custodia.storage.store import AuditLog
from custodia.storage.store_review import Decision, ReviewQueue
from custodia.workspace import Workspace

__all__ = ["AUDIT_ACTION", "DecisionResult", "decide_task", "task_view"]

AUDIT_ACTION = "quality.review.decide"
_NO_VALUE = object()


class DecisionResult(BaseModel):
    """The decided task, and for a correction what applying it changed."""

    task: dict[str, Any]
    correction_id: str | None = None
    corrections_replaced: int = 0
    applied: TableCorrections | None = None
    rule_passes: bool | None = None
    """After a correction: whether the record now passes the task's rule (None: the rule is no
    longer in force). A correction that still fails is kept; a new task may follow."""


def task_view(ws: Workspace, task_id: str, *, reveal: bool) -> dict[str, Any]:
    """The task with the record's current value and active correction (masked unless reveal),
    and whether the record passes the task's rule now (a fix at the source makes a task moot)."""
    queue = ReviewQueue(ws.store)
    task = _task(queue, task_id)
    spec = reviewable_table(task["table_name"])
    column, key = task["column_name"], task["record_key"]
    row = rows_by_key(ws, spec, [key], [column]).get(key)
    active = [
        c for c in queue.corrections(table=spec.name)
        if c["record_key"] == key and c["column_name"] == column
    ]  # fmt: skip
    return {
        **{k: jsonable(v) for k, v in task.items()},
        "record_found": row is not None,
        "current_value": None if row is None else shown_value(spec, column, row[column],
                                                               reveal=reveal),
        "correction": None if not active else shown_value(spec, column, active[-1]["value"],
                                                           reveal=reveal),
        "masked": not reveal and spec.column(column).personal,
        "rule_passes": None if row is None else _passes(ws, task),
    }  # fmt: skip


def decide_task(
    ws: Workspace,
    task_id: str,
    decision: Decision,
    *,
    actor: str,
    note: str | None = None,
    value: Any = _NO_VALUE,
) -> DecisionResult:
    """Decide a pending task; ``correct`` needs ``value`` (``None`` clears the cell)."""
    queue = ReviewQueue(ws.store)
    task = _task(queue, task_id)
    stored: Any = None
    if decision == "correct":
        stored = _checked_value(task, value)
    elif value is not _NO_VALUE:
        raise ValidationError("value", "only_for_correct", "value: give it only to correct")
    record = queue.decide(task_id, decision, actor=actor, at=ws.clock.now(), note=note,
                          value=stored)  # fmt: skip
    _audit(ws, actor, decision, task, record.correction_id)
    result = DecisionResult(
        task={k: jsonable(v) for k, v in record.task.items()},
        correction_id=record.correction_id, corrections_replaced=record.retired,
    )  # fmt: skip
    if record.correction_id is None:
        return result
    report = apply_corrections(ws, [task["table_name"]])
    return result.model_copy(update={"applied": report.tables[0] if report.tables else None,
                                     "rule_passes": _passes(ws, task)})  # fmt: skip


def _passes(ws: Workspace, task: dict[str, Any]) -> bool | None:
    """Whether the task's record passes its rule now (None when the rule is gone)."""
    if not rules_path(ws).exists():  # no rule file yet: do not install one from a read
        return None
    try:
        rule = rules_in_force(ws).ruleset.rule(task["rule"])
    except KeyError:
        return None
    key = key_column(reviewable_table(task["table_name"]))
    scope = f"{quote_ident(key)} = {quote_literal(task['record_key'])}"
    return not failing_keys(ws, rule, scope=scope, limit=1)


def _task(queue: ReviewQueue, task_id: str) -> dict[str, Any]:
    task = queue.task(task_id)
    if task is None:
        raise NotFoundError(f"review task {task_id} not found")
    return task


def _checked_value(task: dict[str, Any], value: Any) -> Any:
    """The correction as it will be stored: of the column's type, written as JSON."""
    if value is _NO_VALUE:
        raise ValidationError("value", "required", "value: a correction needs the right value")
    spec = reviewable_table(task["table_name"])
    column = correctable_column(spec, task["column_name"])
    return jsonable(cell_value(spec, column, value))


def _audit(
    ws: Workspace, actor: str, decision: str, task: dict[str, Any], correction_id: str | None
) -> None:
    AuditLog(ws.store, ws.clock).append(
        actor,
        AUDIT_ACTION,
        "review_tasks",
        subject_ref=task["task_id"],
        details={
            "decision": decision, "rule": task["rule"], "table": task["table_name"],
            "column": task["column_name"], "record_key": task["record_key"],
            "correction_id": correction_id,
        },
    )  # fmt: skip
