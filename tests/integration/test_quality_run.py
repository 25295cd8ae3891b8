"""``custodia quality``: rules over loaded data, the scorecard, alerts that open, continue and
resolve with a webhook, the last valid rule file kept in force, and the HTTP API.

Fixtures: tests/data/quality (see PROVENANCE.md): 10 CRM members and 6 shop orders with planted
problems; the expected counts below are worked out from those files.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import load_settings
from custodia.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "data" / "quality"

EXPECTED = {  # rule: (checked, failed, status)
    "phone_present": (10, 1, "fail"),  # C05
    "phone_format": (9, 2, "breach"),  # C03 full-width digits, C04 ten digits; 22% > 10%
    "email_format": (8, 1, "fail"),  # C06; C02 and C09 have none
    "level_values": (10, 1, "fail"),  # C07 "VIP"
    "member_unique": (10, 0, "pass"),
    "order_member_exists": (6, 1, "fail"),  # O5 -> C99
    "order_total_not_negative": (6, 1, "fail"),  # O6
    "order_status_values": (5, 0, "pass"),  # O6 (total <= 0) is outside the rule's where
    "orders_fresh": (1, 0, "pass"),  # one source, loaded just now
    "gold_members_spend": (2, 1, "fail"),  # C06's only order was refunded
}


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return None


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: ClassVar[list[dict[str, Any]]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def ingest(cli: Any, home: Path, name: str, source: str) -> None:
    result = cli(
        "--home", home, "ingest", "file", DATA / name, "--source", source,
        "--mapping", DATA / "mapping.yaml", "--json",
    )  # fmt: skip
    assert result.code == 0, result


@pytest.fixture
def loaded(cli: Any, workspace_home: Path, tmp_path: Path, webhook: Any) -> Path:
    ingest(cli, workspace_home, "customers.csv", "crm")
    ingest(cli, workspace_home, "orders.csv", "shop")
    rules = tmp_path / "rules.yaml"
    text = (DATA / "rules.yaml").read_text(encoding="utf-8")
    rules.write_text(text.replace("version: 1", f"version: 1\nalerts:\n  webhook: {webhook[0]}"))
    result = cli("--home", workspace_home, "quality", "rules", "--set", rules)
    assert result.code == 0, result
    return workspace_home


def quality_run(cli: Any, home: Path) -> dict[str, Any]:
    result = cli("--home", home, "quality", "run", "--json")
    assert result.code == 0, result
    report: dict[str, Any] = result.json()
    return report


def test_rules_count_exactly_the_planted_problems(cli: Any, loaded: Path) -> None:
    report = quality_run(cli, loaded)
    got = {r["rule"]: (r["checked"], r["failed"], r["status"]) for r in report["rules"]}
    assert got == EXPECTED
    assert report["queries"] == 5  # 2 fused row scans (customers, orders) + unique, fresh, sql
    scores = {(s["table"], s["dimension"]): s["score"] for s in report["scores"]}
    # completeness of customer_records is phone_present alone: 9 of 10
    assert scores[("customer_records", "completeness")] == pytest.approx(0.9)
    # validity: mean of phone_format 7/9, email_format 7/8, level_values 9/10
    assert scores[("customer_records", "validity")] == pytest.approx((7 / 9 + 7 / 8 + 9 / 10) / 3)
    assert scores[("orders", "overall")] < 1.0 and scores[("*", "overall")] < 1.0


def test_alert_opens_once_continues_and_resolves_when_fixed(
    cli: Any, loaded: Path, webhook: Any
) -> None:
    _url, received = webhook
    first = quality_run(cli, loaded)
    assert [a["rule"] for a in first["alerts_opened"]] == ["phone_format"]
    second = quality_run(cli, loaded)
    assert second["alerts_opened"] == []
    assert [a["rule"] for a in second["alerts_continued"]] == ["phone_format"]
    listed = cli("--home", loaded, "quality", "alerts", "--json").json()
    assert len(listed) == 1 and listed[0]["occurrences"] == 2
    assert listed[0]["deliveries"][0]["status"] == "delivered"

    ingest(cli, loaded, "customers_fixed.csv", "crm")  # C03 and C04 corrected at the source
    third = quality_run(cli, loaded)
    assert [a["rule"] for a in third["alerts_resolved"]] == ["phone_format"]
    assert {r["rule"]: r["failed"] for r in third["rules"]}["phone_format"] == 0
    assert cli("--home", loaded, "quality", "alerts", "--json").json() == []
    assert [m["event"] for m in received] == ["alert.opened", "alert.resolved"]
    body = received[0]["alert"]
    assert body["rule"] == "phone_format" and body["failed"] == 2 and body["checked"] == 9
    # an alert carries counts, never values
    assert "1381234000" not in json.dumps(received, ensure_ascii=False)


def test_a_broken_rule_file_leaves_the_previous_rules_in_force(cli: Any, loaded: Path) -> None:
    path = loaded / "quality" / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    # the installed file has three alert lines on top of tests/data/quality/rules.yaml
    path.write_text(text.replace("column: email", "column: e_mail"), encoding="utf-8")
    report = quality_run(cli, loaded)
    assert report["rules_origin"] == "rules.active.yaml"
    assert "rules.yaml line 15, rule email_format" in report["rules_error"]
    assert "'e_mail' is not a column of customer_records" in report["rules_error"]
    assert {r["rule"] for r in report["rules"]} == set(EXPECTED)
    checked = cli("--home", loaded, "quality", "rules", "--check", path)
    assert checked.code != 0 and "line 15" in checked.stderr


def test_scores_by_source_and_day_and_the_api(cli: Any, loaded: Path) -> None:
    quality_run(cli, loaded)
    by_source = cli("--home", loaded, "quality", "scores", "--by", "source", "--json").json()
    sources = {(s["table_name"], s["source"]) for s in by_source["scores"]}
    assert sources == {("customer_records", "crm"), ("orders", "shop")}
    by_day = cli("--home", loaded, "quality", "scores", "--by", "day", "--json").json()
    assert {s["day"] for s in by_day["scores"] if s["table_name"] == "orders"} >= {"2026-11-15"}

    settings = load_settings(home=loaded)
    with Workspace.open(settings) as ws:
        steward = issue_token(ws.store, "steward", Role.DATA_STEWARD, created_by="test").token
        agent = issue_token(ws.store, "agent", Role.SERVICE_AGENT, created_by="test").token
    with TestClient(create_app(settings)) as api:
        auth = {"Authorization": f"Bearer {steward}"}
        ran = api.post("/v1/quality/runs", headers=auth)
        assert ran.status_code == 200, ran.text
        scores = api.get("/v1/quality/scores", params={"table": "orders"}, headers=auth).json()
        assert {s["dimension"] for s in scores["scores"]} >= {"validity", "overall"}
        history = api.get("/v1/quality/scores/history", params={"table": "*"}, headers=auth).json()
        assert len(history) == 2  # two runs, oldest first
        alerts = api.get("/v1/quality/alerts", headers=auth).json()
        assert [a["rule"] for a in alerts] == ["phone_format"]
        one = api.get(f"/v1/quality/alerts/{alerts[0]['alert_id']}", headers=auth)
        assert one.status_code == 200
        assert api.get("/v1/quality/alerts/qa_nope", headers=auth).status_code == 404
        denied = api.get("/v1/quality/scores", headers={"Authorization": f"Bearer {agent}"})
        assert denied.status_code == 403


def test_with_no_valid_copy_left_the_shipped_rules_are_in_force(cli: Any, loaded: Path) -> None:
    for name in ("rules.yaml", "rules.active.yaml"):
        (loaded / "quality" / name).write_text("rules: [oops", encoding="utf-8")
    report = quality_run(cli, loaded)
    assert report["rules_origin"] == "shipped"
    assert "rules.yaml line 1" in report["rules_error"]
    assert "customer_phone_format" in {r["rule"] for r in report["rules"]}
