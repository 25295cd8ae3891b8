"""Stewards' corrections on a real workspace: typed values, records that are not loaded yet,
idempotent re-application, refused columns and values (errors name the column, never the value),
and masking of personal values on the steward's screen.

Fixtures: tests/data/quality/customers.csv (10 CRM members, see PROVENANCE.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from custodia.core.errors import ValidationError
from custodia.core.tables import table_spec
from custodia.pipeline.review_corrections import apply_corrections
from custodia.pipeline.review_decisions import decide_task, task_view
from custodia.pipeline.review_records import shown_value
from custodia.settings import load_settings
from custodia.storage.store_review import ReviewQueue
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "data" / "quality"


@pytest.fixture
def ws(cli: Any, workspace_home: Path) -> Iterator[Workspace]:
    result = cli(
        "--home", workspace_home, "ingest", "file", DATA / "customers.csv", "--source", "crm",
        "--mapping", DATA / "mapping.yaml", "--json",
    )  # fmt: skip
    assert result.code == 0, result
    with Workspace.open(load_settings(home=workspace_home)) as opened:
        yield opened


def record_of(ws: Workspace, member: str) -> str:
    rows = ws.query(f"select record_id from customer_records where member_id = '{member}'")
    return str(rows.column("record_id")[0].as_py())


def open_task(ws: Workspace, record: str, column: str, table: str = "customer_records") -> str:
    row = {"rule": f"check_{column}", "table_name": table, "record_key": record,
           "column_name": column, "profile_id": None, "reason": f"check {column}",
           "run_id": "run_test"}  # fmt: skip
    (task_id,) = ReviewQueue(ws.store).open_tasks([row], at=ws.clock.now())
    return task_id


def test_typed_corrections_wait_for_missing_records_and_reapply_idempotently(
    ws: Workspace,
) -> None:
    c02 = record_of(ws, "C02")
    done = decide_task(ws, open_task(ws, c02, "birthday"), "correct", actor="amy",
                       value="1990-01-02")  # fmt: skip
    assert done.applied is not None and done.applied.rows_changed == 1
    assert done.rule_passes is None  # check_birthday is not a rule in force
    birthday = ws.query(f"select birthday from customer_records where record_id = '{c02}'")
    assert birthday.column("birthday")[0].as_py() == date(1990, 1, 2)

    waiting = decide_task(ws, open_task(ws, "crm:not_loaded_yet", "email"), "correct",
                          actor="amy", value="a@example.com")  # fmt: skip
    assert waiting.applied is not None
    assert (waiting.applied.missing, waiting.applied.rows_changed) == (1, 0)

    again = apply_corrections(ws)
    (table,) = again.tables
    assert (table.corrections, table.rows_found, table.rows_changed) == (2, 1, 0)
    assert table.table_version is None  # nothing differed: no commit
    run = RunLog(ws.store).get_run(again.run_id)
    assert run is not None and run.kind == "corrections"


def test_refused_values_and_columns_name_the_column_not_the_value(ws: Workspace) -> None:
    c03 = record_of(ws, "C03")
    task_id = open_task(ws, c03, "birthday")
    with pytest.raises(ValidationError, match="birthday: the value is not a valid date32") as exc:
        decide_task(ws, task_id, "correct", actor="amy", value="第三天 not a date")
    assert "第三天" not in str(exc.value)
    with pytest.raises(ValidationError, match="value: give it only to correct"):
        decide_task(ws, task_id, "approve", actor="amy", value="1990-01-01")
    with pytest.raises(ValidationError, match="a correction needs the right value"):
        decide_task(ws, task_id, "correct", actor="amy")
    assert ReviewQueue(ws.store).task(task_id)["status"] == "pending"  # type: ignore[index]

    for column in ("record_id", "source", "run_id"):
        with pytest.raises(ValidationError, match="cannot be corrected by hand"):
            decide_task(ws, open_task(ws, c03, column), "correct", actor="amy", value="x")
    profile_task = open_task(ws, "prof_1", "phone", table="profiles")
    with pytest.raises(ValidationError, match="correct the record there"):
        decide_task(ws, profile_task, "correct", actor="amy", value="13812345678")


def test_personal_values_are_masked_unless_revealed(ws: Workspace) -> None:
    c04 = record_of(ws, "C04")
    phone = task_view(ws, open_task(ws, c04, "phone"), reveal=False)
    assert (phone["current_value"], phone["masked"]) == ("138*****00", True)
    level = task_view(ws, open_task(ws, c04, "member_level"), reveal=False)
    assert (level["current_value"], level["masked"]) == ("银卡会员", False)  # not personal
    spec = table_spec("customer_records")
    assert shown_value(spec, "email", "liuyang@example.com", reveal=False) == "l***@example.com"
    assert shown_value(spec, "name", "刘洋", reveal=False) == "*洋"
    assert shown_value(spec, "name", "刘洋", reveal=True) == "刘洋"
