"""The review queue end to end: a quality alert opens tasks for high-value customers only, a
steward corrects, approves or rejects through the CLI and the API, every decision is audited
without values, and a correction survives re-loading the source.

Fixtures: tests/data/quality (see PROVENANCE.md). High value here means silver or gold members:
C04 (silver, 10-digit phone) is one, C03 (regular member, full-width phone) is not; orders O3 and
O4 belong to gold members C01 and C06, O6 to regular member C08.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import load_settings
from custodia.storage.store import AuditLog
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "data" / "quality"

RULES = """\
version: 1
high_value:
  table: profiles
  where: "member_level IN ('银卡会员', '金卡会员')"
rules:
  - name: phone_format
    table: customer_records
    column: phone
    check: format
    format: cn_mobile
    threshold: {max_failure_rate: 0.1}
    actions: [{type: review}]
  - name: order_completed
    table: orders
    column: status
    check: accepted_values
    values: [completed]
  - name: orders_fresh
    table: orders
    check: freshness
    column: loaded_at
    max_age: 1d
"""


def ingest(cli: Any, home: Path, name: str, source: str) -> dict[str, Any]:
    result = cli(
        "--home", home, "ingest", "file", DATA / name, "--source", source,
        "--mapping", DATA / "mapping.yaml", "--json",
    )  # fmt: skip
    assert result.code == 0, result
    report: dict[str, Any] = result.json()
    return report


def run_json(cli: Any, *args: Any) -> Any:
    result = cli(*args, "--json")
    assert result.code == 0, result
    return result.json()


def phone_of(cli: Any, home: Path, member: str) -> str:
    sql = f"select phone from customer_records where member_id = '{member}'"
    result = cli("--home", home, "sql", sql, "--format", "json")
    assert result.code == 0, result
    phone: str = result.json()[0]["phone"]
    return phone


@pytest.fixture
def resolved(cli: Any, workspace_home: Path, tmp_path: Path) -> Path:
    ingest(cli, workspace_home, "customers.csv", "crm")
    ingest(cli, workspace_home, "orders.csv", "shop")
    assert cli("--home", workspace_home, "identity", "resolve", "--json").code == 0
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    assert cli("--home", workspace_home, "quality", "rules", "--set", rules).code == 0
    return workspace_home


def test_alert_opens_tasks_for_high_value_customers_and_a_correction_survives_reloads(
    cli: Any, resolved: Path
) -> None:
    home = resolved
    report = run_json(cli, "--home", home, "quality", "run")
    assert [a["rule"] for a in report["alerts_opened"]] == ["phone_format"]
    alert = run_json(cli, "--home", home, "quality", "alerts")[0]
    review = [d for d in alert["deliveries"] if d["kind"] == "review"]
    assert review == [{"kind": "review", "status": "done", "failing_rows": 2, "high_value": 1,
                       "opened": 1, "at": review[0]["at"]}]  # fmt: skip

    (task,) = run_json(cli, "--home", home, "review", "list")
    assert (task["rule"], task["column_name"], task["alert_id"]) == (
        "phone_format", "phone", alert["alert_id"],
    )  # fmt: skip
    assert "phone" in task["reason"] and "1381234000" not in json.dumps(task, ensure_ascii=False)
    shown = run_json(cli, "--home", home, "review", "show", task["task_id"])
    assert shown["current_value"] == "138*****00" and shown["masked"] is True
    assert shown["rule_passes"] is False
    revealed = run_json(cli, "--home", home, "review", "show", task["task_id"], "--reveal")
    assert revealed["current_value"] == "1381234000"

    done = run_json(
        cli, "--home", home, "review", "correct", task["task_id"], "--value", "13812340044",
        "--note", "confirmed by phone", "--actor", "amy",
    )  # fmt: skip
    assert done["task"]["status"] == "corrected" and done["task"]["decided_by"] == "amy"
    assert done["applied"]["rows_changed"] == 1 and done["rule_passes"] is True
    assert phone_of(cli, home, "C04") == "13812340044"

    # the source delivers its old value again, then a new one: the steward's value stays
    reload = ingest(cli, home, "customers.csv", "crm")
    assert phone_of(cli, home, "C04") == "13812340044"
    with Workspace.open(load_settings(home=home)) as ws:
        steps = RunLog(ws.store).list_steps(reload["run_id"])
        audit = AuditLog(ws.store).tail(5)
    (step,) = [s for s in steps if s.step == "corrections"]
    assert (step.source, step.rows_in, step.rows_stored) == ("customer_records", 1, 1)
    ingest(cli, home, "customers_fixed.csv", "crm")
    assert phone_of(cli, home, "C04") == "13812340044"
    assert phone_of(cli, home, "C03") == "13812340003"  # uncorrected rows follow their source

    (entry,) = [e for e in audit if e.action == "quality.review.decide"]
    assert entry.actor == "amy" and entry.subject_ref == task["task_id"]
    assert entry.details["decision"] == "correct"  # type: ignore[index]
    text = json.dumps(entry.details, ensure_ascii=False)
    assert "13812340044" not in text and "confirmed" not in text

    corrections = run_json(cli, "--home", home, "review", "corrections")
    assert [(c["record_key"], c["value"]) for c in corrections] == [
        (task["record_key"], "138****0044")
    ]
    again = cli("--home", home, "review", "approve", task["task_id"])
    assert again.code == 1 and "already decided (corrected)" in again.stderr


def test_scan_by_reference_and_decisions_through_the_api(cli: Any, resolved: Path) -> None:
    home = resolved
    scan = run_json(cli, "--home", home, "review", "scan", "order_completed")
    # O3, O4 (gold members C01, C06) and O6 (regular member C08) are not completed
    assert (scan["failing_rows"], scan["with_profile"], scan["high_value"]) == (3, 3, 2)
    assert run_json(cli, "--home", home, "review", "scan", "order_completed")["opened"] == 0
    refused = cli("--home", home, "review", "scan", "orders_fresh")
    assert refused.code == 1 and "review needs a row rule" in refused.stderr

    settings = load_settings(home=home)
    with Workspace.open(settings) as ws:
        tokens = {
            role: issue_token(ws.store, role.value, role, created_by="test").token
            for role in (Role.DATA_STEWARD, Role.ADMIN, Role.ANALYST)
        }
    auth = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
    with TestClient(create_app(settings)) as api:
        listed = api.get("/v1/review/tasks", headers=auth[Role.DATA_STEWARD])
        assert listed.status_code == 200, listed.text
        first, second = sorted(listed.json(), key=lambda t: t["record_key"])
        assert api.get("/v1/review/tasks", headers=auth[Role.ANALYST]).status_code == 403

        url = f"/v1/review/tasks/{first['task_id']}"
        as_steward = api.get(url, headers=auth[Role.DATA_STEWARD]).json()
        as_admin = api.get(url, headers=auth[Role.ADMIN]).json()
        assert (
            as_steward["current_value"] == as_admin["current_value"] == "refunded"
        )  # not personal

        approve = {"decision": "approve", "note": "refund is legitimate"}
        ok = api.post(f"{url}/decision", json=approve, headers=auth[Role.DATA_STEWARD])
        assert ok.status_code == 200, ok.text
        assert ok.json()["task"]["decided_by"] == "token:data_steward"
        twice = api.post(f"{url}/decision", json=approve, headers=auth[Role.DATA_STEWARD])
        assert twice.status_code == 400 and "already decided" in twice.json()["message"]

        url2 = f"/v1/review/tasks/{second['task_id']}/decision"
        no_value = api.post(url2, json={"decision": "correct"}, headers=auth[Role.ADMIN])
        assert no_value.status_code == 400 and "value" in no_value.json()["message"]
        rejected = api.post(url2, json={"decision": "reject"}, headers=auth[Role.ADMIN])
        assert rejected.status_code == 200 and rejected.json()["task"]["status"] == "rejected"
        missing = api.get("/v1/review/tasks/rt_nope", headers=auth[Role.ADMIN])
        assert missing.status_code == 404

    # approved stays closed; the rejected order still fails and gets a new task
    rescan = run_json(cli, "--home", home, "review", "scan", "order_completed")
    assert rescan["opened"] == 1
    statuses = run_json(cli, "--home", home, "review", "list", "--status", "all")
    assert sorted(t["status"] for t in statuses) == ["approved", "pending", "rejected"]
