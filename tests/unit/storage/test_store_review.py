"""The review queue in the store: deduplicated tasks, one decision per task, one active correction
per cell; the same test bodies on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custodia.core.errors import NotFoundError, ValidationError
from custodia.storage.store import OperationalStore
from custodia.storage.store_review import ReviewQueue

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _row(record: str, rule: str = "phone_format", column: str = "phone") -> dict[str, object]:
    return {
        "rule": rule,
        "table_name": "customer_records",
        "record_key": record,
        "column_name": column,
        "profile_id": f"prof_{record}",
        "reason": f"rule {rule} failed on column {column}",
        "run_id": "run_1",
        "alert_id": "qa_1",
    }


def test_open_tasks_deduplicates_pending_and_approved(operational_store: OperationalStore) -> None:
    queue = ReviewQueue(operational_store)
    first = queue.open_tasks([_row("r1"), _row("r2"), _row("r1")], at=T0)
    assert len(first) == 2
    assert queue.open_tasks([_row("r1"), _row("r2")], at=T0) == []  # both still pending
    other_rule = queue.open_tasks([_row("r1", rule="phone_present")], at=T0)
    assert len(other_rule) == 1  # another rule on the same record is another task

    tasks = {t["record_key"]: t for t in queue.tasks(rule="phone_format")}
    queue.decide(tasks["r1"]["task_id"], "approve", actor="amy", at=T0)
    queue.decide(tasks["r2"]["task_id"], "reject", actor="amy", at=T0)
    again = queue.open_tasks([_row("r1"), _row("r2")], at=T0 + timedelta(days=1))
    # r1's value was approved as right: no new task; r2 was rejected: it may come back
    assert [queue.task(t)["record_key"] for t in again] == ["r2"]  # type: ignore[index]
    assert queue.count(status="pending") == 2
    assert {t["status"] for t in queue.tasks(status="approved")} == {"approved"}


def test_decide_once_and_corrections_replace_each_other(
    operational_store: OperationalStore,
) -> None:
    queue = ReviewQueue(operational_store)
    (task_id,) = queue.open_tasks([_row("r1")], at=T0)
    done = queue.decide(task_id, "correct", actor="amy", at=T0, note="called her", value="138")
    assert done.task["status"] == "corrected" and done.task["decided_by"] == "amy"
    assert done.task["note"] == "called her" and done.correction_id and done.retired == 0
    with pytest.raises(ValidationError, match=r"already decided \(corrected\)"):
        queue.decide(task_id, "approve", actor="amy", at=T0)

    (second,) = queue.open_tasks([_row("r1")], at=T0 + timedelta(hours=1))
    later = queue.decide(second, "correct", actor="bob", at=T0 + timedelta(hours=1), value="139")
    assert later.retired == 1
    active = queue.corrections(table="customer_records")
    assert [(c["record_key"], c["column_name"], c["value"]) for c in active] == [
        ("r1", "phone", "139")
    ]
    assert len(queue.corrections(active=None)) == 2
    assert queue.corrected_tables() == ["customer_records"]


def test_unknown_task_and_decision_are_refused(operational_store: OperationalStore) -> None:
    queue = ReviewQueue(operational_store)
    with pytest.raises(NotFoundError, match="rt_nope"):
        queue.decide("rt_nope", "approve", actor="amy", at=T0)
    (task_id,) = queue.open_tasks([_row("r1")], at=T0)
    with pytest.raises(ValidationError, match="decision"):
        queue.decide(task_id, "delete", actor="amy", at=T0)  # type: ignore[arg-type]
    assert queue.task(task_id)["status"] == "pending"  # type: ignore[index]
    assert queue.task("rt_nope") is None
