"""Entry validation at the HTTP collector: quality rules marked ``at_entry`` on ``events``
refuse single calls (400 naming field and rule), keep bad batch items out without sinking the
batch, flag what is stored anyway, and a replay loads what passes the rules now in force."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.pipeline.quality_rules_file import install_rules
from custodia.settings import load_settings
from custodia.workspace import Workspace

Cli = Callable[..., Any]

BASE_RULES = "version: 1\nrules:\n"
"""No other rules: the shipped ones check identify phones too, which would blur the counts."""
EVENT_RULES = """
  - name: identify_phone_format
    table: events
    column: traits.phone
    check: format
    format: cn_mobile
    at_entry: {action: reject}
  - name: event_total_not_negative
    table: events
    column: properties.total
    check: range
    min: 0
    at_entry: {action: quarantine}
  - name: event_channel_values
    table: events
    column: context.channel
    check: accepted_values
    values: [web, app, mini_program]
    at_entry: {action: flag}
"""


class Api:
    def __init__(self, client: TestClient, home: Path, admin: str, cli: Cli) -> None:
        self.client, self.home, self.admin, self.cli = client, home, admin, cli

    def source(self, name: str) -> str:
        reply = self.client.post(
            "/v1/sources", json={"name": name}, headers={"Authorization": f"Bearer {self.admin}"}
        )
        assert reply.status_code == 201, reply.text
        return str(reply.json()["write_key"])

    def post(self, route: str, body: Any, key: str) -> Any:
        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        return self.client.post(
            f"/v1/{route}",
            content=json.dumps(body, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", "Authorization": auth},
        )

    def run(self, *args: str) -> Any:
        result = self.cli("--home", self.home, *args, "--json")
        assert result.code == 0, result
        return result.json()

    def stored(self) -> list[str]:
        query = "select message_id from events order by 1"
        result = self.cli("--home", self.home, "sql", query, "--format", "json")
        assert result.code == 0, result
        return [row["message_id"] for row in result.json()]


@pytest.fixture
def api(tmp_path: Path, cli: Cli) -> Iterator[Api]:
    settings = load_settings(home=tmp_path / "ws", loader_interval_seconds=0)
    ws, token = Workspace.create(settings)
    install_rules(ws, BASE_RULES + EVENT_RULES)  # in force before the server starts
    ws.close()
    with TestClient(create_app(settings)) as client:
        yield Api(client, settings.home, token.token, cli)


def test_a_single_call_breaking_a_reject_rule_is_a_400_naming_field_and_rule(api: Api) -> None:
    key = api.source("web")
    bad = {"userId": "u1", "messageId": "i1", "traits": {"phone": "1380013800", "name": "张伟"}}
    reply = api.post("identify", bad, key)
    assert reply.status_code == 400
    assert reply.json() == {
        "code": "rule_violation",
        "message": "traits.phone: violates rule identify_phone_format (not in format cn_mobile)",
    }
    assert "1380013800" not in reply.text
    # RudderStack sends identify traits in context.traits: judged the same way
    nested = {"userId": "u1", "context": {"traits": {"phone": "12"}}}
    assert api.post("identify", nested, key).status_code == 400
    good = {"userId": "u1", "messageId": "i2", "traits": {"phone": "13800138000"}}
    assert api.post("identify", good, key).json()["accepted"] == 1
    # quarantine and flag rules do not refuse a single call: the loader applies them
    negative = {"userId": "u1", "messageId": "t1", "event": "Order Completed",
                "properties": {"total": -5}}  # fmt: skip
    assert api.post("track", negative, key).json() == {
        "success": True, "received": 1, "accepted": 0, "quarantined": 1, "rejected": 0,
        "flagged": 0,
    }  # fmt: skip
    loaded = api.run("load")
    assert (loaded["inserted"], loaded["quarantined"]) == (1, 1)
    assert api.stored() == ["i2"]


def test_bad_batch_items_do_not_sink_the_batch_and_replay_loads_them_once_rules_allow(
    api: Api,
) -> None:
    key = api.source("web")
    batch = {"batch": [
        {"type": "identify", "userId": "u1", "messageId": "b1", "traits": {"phone": "13800138000"}},
        {"type": "identify", "userId": "u2", "messageId": "b2", "traits": {"phone": "555-0100"}},
        {"type": "track", "userId": "u3", "messageId": "b3", "event": "Order Completed",
         "properties": {"total": -1}},
        {"type": "track", "userId": "u4", "messageId": "b4", "event": "Viewed",
         "context": {"channel": "tv"}},
        {"type": "track", "userId": "u5", "messageId": "b5"},  # no event: breaks the spec
    ]}  # fmt: skip
    reply = api.post("batch", batch, key)
    assert reply.status_code == 200
    assert reply.json() == {
        "success": True, "received": 5, "accepted": 2, "quarantined": 3, "rejected": 1,
        "flagged": 1,
    }  # fmt: skip
    loaded = api.run("load")
    assert loaded["inserted"] == 2
    assert api.stored() == ["b1", "b4"]
    listed = api.run("quarantine", "list", "--summary")
    counts = {(r["rule"], r["status"]): r["entries"] for r in listed}
    assert counts == {
        ("identify_phone_format", "open"): 1,
        ("event_total_not_negative", "open"): 1,
        ("event_channel_values", "flagged"): 1,
        ("required", "open"): 1,
    }
    entries = api.run("quarantine", "list", "--rule", "identify_phone_format")
    assert entries[0]["field"] == "traits.phone"
    assert "555-0100" not in json.dumps(entries)

    still = api.run("quarantine", "replay")  # the same rules: still kept out
    assert (still["replayed"], still["still_open"]) == (0, 3)
    ws = Workspace.open(load_settings(home=api.home))
    install_rules(ws, "version: 1\nrules: []\n")  # the team drops the event rules
    ws.close()
    report = api.run("quarantine", "replay")
    assert (report["replayed"], report["still_open"], report["events_stored"]) == (2, 1, 2)
    assert api.stored() == ["b1", "b2", "b3", "b4"]
