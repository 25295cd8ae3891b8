"""Collector tracking plans (``custodia plan``), the quarantine and lineage through the HTTP API.

Events sent to ``/v1/batch`` are checked against the source's plan when the loader moves them
into ``events``; counts per rule and source, the entries and the replay are served to data
stewards and admins; lineage of every load is served per table and column.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import Settings, load_settings
from custodia.workspace import Workspace

PLAN = {"events": {"Signed Up": {"properties": {"plan": {"enum": ["free", "pro"]}}}}}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path / "ws", loader_interval_seconds=0)


@pytest.fixture
def tokens(settings: Settings) -> dict[str, str]:
    ws, admin = Workspace.create(settings)
    with ws:
        steward = issue_token(ws.store, "steward", Role.DATA_STEWARD, created_by="test")
        analyst = issue_token(ws.store, "analyst", Role.ANALYST, created_by="test")
    return {"admin": admin.token, "steward": steward.token, "analyst": analyst.token}


@pytest.fixture
def api(settings: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _basic(write_key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}


def _write_plan(tmp_path: Path, name: str, plan: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    return path


def test_plan_commands(
    cli: Any, settings: Settings, tokens: dict[str, str], tmp_path: Path
) -> None:
    home = settings.home
    assert cli("--home", home, "source", "create", "web", "--json").code == 0
    plan_file = _write_plan(tmp_path, "plan.json", {**PLAN, "unplanned_events": "block"})
    result = cli("--home", home, "plan", "set", "web", plan_file, "--json")
    assert result.code == 0, result
    assert result.json()["events"] == ["Signed Up"]
    shown = cli("--home", home, "plan", "show", "web")
    assert shown.json()["unplanned_events"] == "block"
    missing = cli("--home", home, "plan", "show", "app")
    assert missing.code == 1 and "no collector source 'app'" in missing.stderr
    bad = _write_plan(tmp_path, "bad.json", {"events": {"X": {"type": 7}}})
    refused = cli("--home", home, "plan", "set", "web", bad)
    assert refused.code == 1 and "events.X" in refused.stderr
    assert cli("--home", home, "plan", "clear", "web").code == 0
    assert cli("--home", home, "plan", "show", "web").code == 1


def test_http_events_are_checked_and_replayed_after_the_plan_is_fixed(
    cli: Any, settings: Settings, tokens: dict[str, str], api: TestClient, tmp_path: Path
) -> None:
    home = settings.home
    write_key = cli("--home", home, "source", "create", "web", "--json").json()["write_key"]
    strict = {**PLAN, "unplanned_events": "block", "unplanned_properties": "flag"}
    assert (
        cli("--home", home, "plan", "set", "web", _write_plan(tmp_path, "p.json", strict)).code == 0
    )
    batch = {
        "batch": [
            {"type": "track", "event": "Signed Up", "userId": "u1", "messageId": "h1",
             "properties": {"plan": "pro", "渠道": "小程序"}},
            {"type": "track", "event": "Coupon Used", "userId": "u2", "messageId": "h2"},
            {"type": "track", "event": "Signed Up", "userId": "u3", "messageId": "h3",
             "properties": {"plan": "enterprise"}},
        ],
        "context": {"library": {"name": "analytics-python", "version": "2.3.3"}},
    }  # fmt: skip
    assert api.post("/v1/batch", json=batch, headers=_basic(write_key)).status_code == 200
    assert cli("--home", home, "load", "--json").code == 0
    stored = cli("--home", home, "sql", "select message_id from events", "-f", "json").json()
    assert [r["message_id"] for r in stored] == ["h1"]

    steward = _bearer(tokens["steward"])
    summary = api.get("/v1/quarantine/summary", params={"source": "web"}, headers=steward)
    assert summary.status_code == 200
    counts = {(r["rule"], r["status"]): r["entries"] for r in summary.json()}
    assert counts == {
        ("plan_unplanned_event", "open"): 1,
        ("plan_schema", "open"): 1,
        ("plan_unplanned_property", "flagged"): 1,
    }
    entries = api.get("/v1/quarantine", params={"rule": "plan_schema"}, headers=steward).json()
    assert entries[0]["field"] == "properties.plan" and "payload" not in entries[0]
    with_payload = api.get(
        "/v1/quarantine", params={"rule": "plan_schema", "include_payload": True}, headers=steward
    ).json()
    assert json.loads(with_payload[0]["payload"])["messageId"] == "h3"
    as_admin = api.get(
        "/v1/quarantine",
        params={"rule": "plan_schema", "include_payload": True},
        headers=_bearer(tokens["admin"]),
    ).json()
    assert as_admin[0]["payload"] == "****"  # L3: masked for admins, clear for data stewards
    assert api.get("/v1/quarantine", headers=_bearer(tokens["analyst"])).status_code == 403

    relaxed = {"events": {"Signed Up": {}, "Coupon Used": {}}, "unplanned_events": "block"}
    assert (
        cli("--home", home, "plan", "set", "web", _write_plan(tmp_path, "r.json", relaxed)).code
        == 0
    )
    replay = api.post(
        "/v1/quarantine/replay", json={"source": "web"}, headers=_bearer(tokens["admin"])
    )
    assert replay.status_code == 200, replay.text
    assert (replay.json()["replayed"], replay.json()["still_open"]) == (2, 0)
    stored = cli(
        "--home", home, "sql", "select message_id, context from events order by 1", "-f", "json"
    ).json()
    assert [r["message_id"] for r in stored] == ["h1", "h2", "h3"]
    assert all("analytics-python" in r["context"] for r in stored)


MAPPING = """\
sources:
  - name: shop
    format: jsonl
    entity: orders
    targets:
      - table: orders
        key: order_id
        columns:
          channel: "'online'"
          customer_ref: coalesce(member_id, buyer_phone)
          total_amount: {field: 实付金额, cast: "decimal(14,2)"}
"""


def test_lineage_of_a_table_and_a_column(
    cli: Any, settings: Settings, tokens: dict[str, str], api: TestClient, tmp_path: Path
) -> None:
    home = settings.home
    data = tmp_path / "orders_2026-03.jsonl"
    data.write_text(
        '{"order_id": "O1", "member_id": "M1", "实付金额": "¥1,299.00"}\n'
        '{"order_id": "O2", "buyer_phone": "13800000000", "实付金额": "399"}\n',
        encoding="utf-8",
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    load = cli(
        "--home", home, "ingest", "file", data, "--source", "shop", "--mapping", mapping, "--json"
    )
    assert load.code == 0, load
    run_id = load.json()["run_id"]

    view = cli("--home", home, "lineage", "show", "orders.customer_ref", "--json").json()
    assert view["dataset"] == "staged.orders"
    [origin] = view["columns"]["customer_ref"]
    assert origin["expression"] == "coalesce(member_id, buyer_phone)"
    assert origin["input_fields"] == ["member_id", "buyer_phone"] and origin["run_id"] == run_id
    [upstream] = view["upstream"]
    assert (upstream["source"], upstream["files"]) == ("shop", ["orders_2026-03.jsonl"])
    assert view["runs"][0]["status"] == "completed" and view["runs"][0]["rows_written"] == 2
    assert view["values"] == [{"source": "shop", "run_id": run_id, "rows": 2, "non_null": 2}]
    human = cli("--home", home, "lineage", "show", "orders")
    assert human.code == 0 and "coalesce(member_id, buyer_phone)" in human.stdout

    mapping.write_text(MAPPING.replace("coalesce(member_id, buyer_phone)", "no_such(x"), "utf-8")
    assert (
        cli("--home", home, "ingest", "file", data, "--source", "shop", "--mapping", mapping).code
        == 1
    )
    response = api.get("/v1/lineage/orders.total_amount", headers=_bearer(tokens["analyst"]))
    assert response.status_code == 200
    body = response.json()
    assert [r["status"] for r in body["runs"]] == ["failed", "completed"]
    assert body["runs"][0]["error"]
    [amount] = body["columns"]["total_amount"]
    assert amount["input_fields"] == ["实付金额"] and "decimal(14,2)" in amount["expression"]
    raw = api.get("/v1/lineage/source_records_raw", headers=_bearer(tokens["admin"])).json()
    assert raw["upstream"][0]["source"] == "shop"
    assert api.get("/v1/lineage/orders.nope", headers=_bearer(tokens["admin"])).status_code == 400
    assert api.get("/v1/lineage/orders").status_code == 401
