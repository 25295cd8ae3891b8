"""The Segment-compatible collector through the HTTP API: routes, auth, limits, status codes,
and what ``custodia load`` then stores in ``events`` and the quarantine."""

from __future__ import annotations

import base64
import gzip
import json
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import load_settings
from custodia.workspace import Workspace

Cli = Callable[..., Any]


class Api:
    """A TestClient on a fresh workspace (continuous loader off: tests load explicitly)."""

    def __init__(self, client: TestClient, home: Path, admin: str, cli: Cli) -> None:
        self.client, self.home, self.admin, self.cli = client, home, admin, cli

    def source(self, name: str, rate_limit: int | None = None) -> str:
        body: dict[str, Any] = {"name": name, "rate_limit_per_second": rate_limit}
        reply = self.client.post("/v1/sources", json=body, headers=self.bearer(self.admin))
        assert reply.status_code == 201, reply.text
        return str(reply.json()["write_key"])

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def load(self) -> dict[str, Any]:
        result = self.cli("--home", self.home, "load", "--json")
        assert result.code == 0, result
        return dict(result.json())

    def sql(self, query: str) -> list[dict[str, Any]]:
        result = self.cli("--home", self.home, "sql", query, "--format", "json")
        assert result.code == 0, result
        return list(result.json())


@pytest.fixture
def api(tmp_path: Path, cli: Cli) -> Iterator[Api]:
    settings = load_settings(home=tmp_path / "ws", loader_interval_seconds=0)
    ws, token = Workspace.create(settings)
    ws.close()
    with TestClient(create_app(settings)) as client:
        yield Api(client, settings.home, token.token, cli)


def basic(key: str, colon: bool = True) -> dict[str, str]:
    raw = f"{key}:" if colon else key
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def post(api: Api, route: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return api.client.post(
        f"/v1/{route}",
        content=content,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


ALL_TYPES: list[tuple[str, dict[str, Any]]] = [
    ("track", {"userId": "u1", "event": "Order Completed", "properties": {"total": 399.5}}),
    ("identify", {"userId": "u1", "traits": {"name": "张伟", "city": "上海"}}),
    ("page", {"anonymousId": "a1", "name": "首页", "properties": {"url": "https://x.cn/"}}),
    ("screen", {"anonymousId": "a1", "name": "Cart"}),
    ("group", {"userId": "u1", "groupId": "g1", "traits": {"name": "杭州示例"}}),
    ("alias", {"userId": "u1", "previousId": "a1"}),
]


def test_every_route_and_auth_form_is_accepted_and_loaded(api: Api) -> None:
    key = api.source("web")
    auths: list[tuple[dict[str, str], dict[str, Any]]] = [
        (basic(key), {}),
        (basic(key, colon=False), {}),
        ({}, {"writeKey": key}),
        (api.bearer("some-other-token"), {"writeKey": key}),
        (api.bearer(key), {}),
        (basic(key), {}),
    ]
    for index, ((route, message), (headers, extra)) in enumerate(
        zip(ALL_TYPES, auths, strict=True)
    ):
        body = {**message, **extra, "messageId": f"m-{index}"}
        reply = post(api, route, body, headers)
        assert reply.status_code == 200, (route, reply.text)
        assert reply.json() == {
            "success": True, "received": 1, "accepted": 1, "quarantined": 0, "rejected": 0,
            "flagged": 0,
        }  # fmt: skip
    batch = {"batch": [{"type": r, **m} for r, m in ALL_TYPES], "writeKey": key}
    assert post(api, "batch", batch).json()["accepted"] == 6
    assert post(api, "import", batch, basic(key)).status_code == 200
    summary = api.load()
    assert (summary["messages"], summary["inserted"], summary["quarantined"]) == (18, 18, 0)
    rows = api.sql("select type, count(*) as n from events group by type order by type")
    assert {r["type"]: r["n"] for r in rows} == {r: 3 for r, _ in ALL_TYPES}
    stored = api.sql("select traits, source from events where message_id = 'm-1'")[0]
    assert json.loads(stored["traits"]) == {"city": "上海", "name": "张伟"}
    assert stored["source"] == "web"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wk_nope"}, basic("wk_nope"), {"Authorization": "Basic ###"}],
)
def test_missing_or_unknown_keys_are_401(api: Api, headers: dict[str, str]) -> None:
    api.source("web")
    reply = post(api, "track", {"userId": "u1", "event": "e"}, headers)
    assert reply.status_code == 401
    assert reply.json()["code"] == "unauthorized"
    assert reply.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    ("route", "body", "field", "message"),
    [
        ("track", {"userId": "u1"}, "event", "event: is required for track"),
        ("track", {"event": "e"}, "userId", "userId or anonymousId: one of them is required"),
        ("group", {"userId": "u1"}, "groupId", "groupId: is required for group"),
        ("alias", {"userId": "u1"}, "previousId", "previousId: is required for alias"),
        ("alias", {"previousId": "a1"}, "userId", "userId: is required for alias"),
        ("identify", {"userId": ["u"]}, "userId", "userId: must be a string"),
        ("page", {"userId": "u", "timestamp": "yesterday"}, "timestamp", "timestamp: not an ISO"),
        ("track", {"userId": "u", "event": "e", "properties": [1]}, "properties", "properties:"),
        ("screen", {"userId": "u", "messageId": "m" * 101}, "messageId", "messageId: longer"),
        ("track", [1, 2], "message", "message: must be a JSON object"),
    ],
)
def test_invalid_single_messages_are_400_naming_the_field(
    api: Api, route: str, body: Any, field: str, message: str
) -> None:
    key = api.source("web")
    reply = post(api, route, body, basic(key))
    assert reply.status_code == 400
    assert reply.json()["code"] == "validation_error"
    assert reply.json()["message"].startswith(message)
    assert reply.json()["message"].split(":")[0].startswith(field.split()[0])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"userId": "u1", "event": ', "body: not valid JSON"),
        (b'{"userId": "\xff\xfe", "event": "e"}', "body: not valid UTF-8"),
        (b'{"userId": "u", "event": "e", "p": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "body:"),
        (b"   ", "body: is empty"),
    ],
)
def test_bad_json_is_400_and_the_server_keeps_serving(api: Api, body: bytes, message: str) -> None:
    key = api.source("web")
    reply = post(api, "track", body, basic(key))
    assert reply.status_code in (400, 413)
    assert reply.json()["message"].startswith(message)
    assert post(api, "track", {"userId": "u", "event": "e"}, basic(key)).status_code == 200


def test_size_limits_are_413(api: Api) -> None:
    key = api.source("web")
    big_event = {"userId": "u", "event": "e", "properties": {"blob": "x" * 33_000}}
    assert post(api, "track", big_event, basic(key)).status_code == 413
    big_request = {"batch": [{"type": "track", "userId": "u", "event": "e",
                              "properties": {"blob": "x" * 30_000}}] * 18}  # fmt: skip
    reply = post(api, "batch", big_request, basic(key))
    assert reply.status_code == 413 and reply.json()["code"] == "payload_too_large"
    many = {"batch": [{"type": "track", "userId": "u", "event": "e"}] * 2501}
    assert post(api, "batch", many, basic(key)).status_code == 413


def test_gzip_bodies_and_gzip_bombs(api: Api) -> None:
    key = api.source("web")
    batch = {"batch": [{"type": "track", "userId": "u", "event": "压缩", "messageId": "gz"}]}
    packed = gzip.compress(json.dumps(batch, ensure_ascii=False).encode())
    headers = {**basic(key), "Content-Encoding": "gzip"}
    assert post(api, "batch", packed, headers).status_code == 200
    bomb = gzip.compress(b'{"batch": [' + b" " * 50_000_000 + b"]}")
    assert len(bomb) < 500_000
    reply = post(api, "batch", bomb, headers)
    assert reply.status_code == 413
    assert reply.json()["message"].startswith("decompressed gzip body: larger than")
    assert post(api, "batch", b"\x1f\x8bnot really", headers).status_code == 400
    assert api.load()["inserted"] == 1


def test_bad_messages_in_a_batch_are_quarantined_and_the_rest_stored(api: Api) -> None:
    key = api.source("web")
    batch = {
        "batch": [
            {"type": "track", "userId": "u1", "event": "Good", "messageId": "ok-1"},
            {"type": "track", "userId": "u1", "messageId": "bad-1"},
            {"type": "group", "userId": "u1", "messageId": "bad-2"},
            "not an object",
            {"type": "page", "anonymousId": "a1", "messageId": "ok-2", "name": "首页"},
            {"type": "track", "userId": 1e400, "event": "e"},
        ],
        "context": {"ip": "10.0.0.1"},
        "sentAt": "2026-11-24T10:00:00Z",
    }
    raw = json.dumps(batch, ensure_ascii=False).replace("Infinity", "1e400").encode()
    reply = post(api, "batch", raw, basic(key))
    assert reply.status_code == 200
    assert reply.json() == {
        "success": True, "received": 6, "accepted": 2, "quarantined": 4, "rejected": 0,
        "flagged": 0,
    }  # fmt: skip
    summary = api.load()
    assert (summary["inserted"], summary["quarantined"]) == (2, 4)
    assert {r["message_id"] for r in api.sql("select message_id from events")} == {"ok-1", "ok-2"}
    found = api.sql("select rule, field, reason, payload, position, source from quarantine "
                    "order by position")  # fmt: skip
    assert [(q["rule"], q["field"], q["position"]) for q in found] == [
        ("required", "event", 2), ("required", "groupId", 3),
        ("must_be_object", "message", 4), ("number_range", "message", 6),
    ]  # fmt: skip
    assert all(q["source"] == "web" for q in found)
    assert found[0]["reason"] == "event: is required for track"
    kept = json.loads(found[0]["payload"])
    assert kept["messageId"] == "bad-1" and kept["context"] == {"ip": "10.0.0.1"}
    assert kept["sentAt"] == "2026-11-24T10:00:00Z", "the batch's fields travel with the message"


def test_retried_messages_are_stored_once_without_a_time_window(api: Api) -> None:
    key = api.source("web")
    batch = {"batch": [{"type": "track", "userId": "u", "event": "e", "messageId": f"r-{i}"}
                       for i in range(5)]}  # fmt: skip
    for _ in range(3):
        assert post(api, "batch", batch, basic(key)).status_code == 200
    first = api.load()
    assert (first["messages"], first["inserted"], first["duplicates"]) == (15, 5, 10)
    assert post(api, "batch", batch, basic(key)).status_code == 200
    assert api.load()["inserted"] == 0
    assert api.sql("select count(*) as n from events")[0]["n"] == 5
    no_ids = {"batch": [{"type": "track", "userId": "u", "event": "e"}] * 3}
    assert post(api, "batch", no_ids, basic(key)).status_code == 200
    assert api.load()["inserted"] == 3, "messages without messageId get distinct ids"


def test_timestamps_are_corrected_and_batch_context_merged(api: Api) -> None:
    key = api.source("web")
    batch = {
        "batch": [
            {"type": "track", "userId": "u", "event": "e", "messageId": "t-1",
             "timestamp": "2026-11-20T08:00:00+08:00", "context": {"page": {"path": "/a"}},
             "integrations": {"Webhooks": False}},
            {"type": "identify", "userId": "u", "messageId": "t-2",
             "context": {"ip": "own"}, "sentAt": "2026-11-20T00:00:30Z"},
        ],
        "sentAt": "2026-11-20T00:00:10Z",
        "context": {"ip": "batch", "library": {"name": "analytics-python"}},
        "integrations": {"All": True},
    }  # fmt: skip
    assert post(api, "batch", batch, basic(key)).status_code == 200
    api.load()
    rows = {r["message_id"]: r for r in api.sql("select * from events order by message_id")}
    first = rows["t-1"]
    received = datetime.fromisoformat(first["received_at"])
    assert datetime.fromisoformat(first["timestamp"]) == received - timedelta(seconds=10)
    assert json.loads(first["context"]) == {
        "ip": "batch", "library": {"name": "analytics-python"}, "page": {"path": "/a"},
    }  # fmt: skip
    assert json.loads(first["integrations"]) == {"All": True, "Webhooks": False}
    second = rows["t-2"]
    assert json.loads(second["context"])["ip"] == "own"
    assert second["timestamp"] == second["received_at"], "no originalTimestamp: receivedAt"
    assert first["event_date"] == datetime.fromisoformat(first["timestamp"]).date().isoformat()


def test_category_channel_and_context_traits_are_kept(api: Api) -> None:
    """Segment's page ``category``, RudderStack's ``channel`` and identify ``context.traits``,
    through a single route, a batch the collector validated whole (the loader's one-call fast
    path) and a batch with an invalid message (the message-by-message path): same rows."""
    key = api.source("web")
    messages = [
        {"type": "page", "userId": "u", "name": "连衣裙", "category": "女装", "channel": "web"},
        {"type": "identify", "userId": "u", "channel": "server", "traits": {"name": "张伟"},
         "context": {"traits": {"name": "Zhang", "email": "z@example.cn"}}},
    ]  # fmt: skip
    for index, message in enumerate(messages):
        single = {**message, "messageId": f"single-{index}"}
        assert post(api, str(message["type"]), single, basic(key)).status_code == 200
    valid = [{**m, "messageId": f"whole-{i}"} for i, m in enumerate(messages)]
    assert post(api, "batch", {"batch": valid}, basic(key)).json()["quarantined"] == 0
    mixed = [{**m, "messageId": f"mixed-{i}"} for i, m in enumerate(messages)]
    reply = post(api, "batch", {"batch": [*mixed, {"type": "track"}]}, basic(key))
    assert reply.json()["quarantined"] == 1
    assert api.load()["inserted"] == 6
    rows = api.sql("select message_id, traits, context from events order by message_id")
    by_index: dict[str, list[Any]] = {}
    for row in rows:
        index = row["message_id"].split("-")[1]
        value = (json.loads(row["traits"] or "null"), json.loads(row["context"]))
        by_index.setdefault(index, []).append(value)
    page, identify = by_index["0"], by_index["1"]
    assert page == [(None, {"top_level": {"category": "女装", "channel": "web"}})] * 3
    assert identify == [
        ({"name": "张伟", "email": "z@example.cn"},
         {"traits": {"name": "Zhang", "email": "z@example.cn"}, "top_level": {"channel": "server"}})
    ] * 3  # fmt: skip


def test_each_loader_commit_writes_a_lineage_run(api: Api) -> None:
    web, app = api.source("web"), api.source("app")
    batch = {"batch": [{"type": "track", "userId": "u", "event": "下单", "messageId": "l-1"},
                       {"type": "track", "userId": "u", "messageId": "l-bad"}]}  # fmt: skip
    assert post(api, "batch", batch, basic(web)).status_code == 200
    assert post(api, "track", {"userId": "u", "event": "e", "messageId": "l-2"}, basic(app))
    load = api.load()
    assert load["inserted"] == 2
    view = api.cli("--home", api.home, "lineage", "show", "events", "--json")
    assert view.code == 0, view
    lineage = view.json()
    upstream = {u["source"]: u for u in lineage["upstream"]}
    assert set(upstream) == {"web", "app"}
    assert upstream["web"]["format"] == "segment_http" and upstream["web"]["last_rows"] == 1
    assert upstream["web"]["files"][0].startswith("eventlog.db#")
    [run] = lineage["runs"]
    assert run["run_id"].startswith(load["run_id"] + ".") and run["job"] == "event_load"
    assert (run["status"], run["rows_written"], sorted(run["sources"])) == (
        "completed", 2, ["app", "web"],
    )  # fmt: skip
    quarantine = api.cli("--home", api.home, "lineage", "show", "quarantine", "--json").json()
    assert [u["source"] for u in quarantine["upstream"]] == ["web"]
    assert {v["source"]: v["run_id"] for v in lineage["values"]} == {
        "web": load["run_id"], "app": load["run_id"],
    }  # fmt: skip
    assert post(api, "batch", batch, basic(web)).status_code == 200  # a retry: nothing new
    api.load()
    runs = api.cli("--home", api.home, "lineage", "show", "events", "--json").json()["runs"]
    assert [r["rows_written"] for r in runs] == [0, 2]


def test_openapi_documents_the_collector_routes_which_still_answer(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    for kind in ("track", "identify", "page", "screen", "group", "alias", "batch", "import"):
        operation = schema["paths"][f"/v1/{kind}"]["post"]
        assert set(operation["responses"]) >= {"200", "400", "401", "413", "429"}, kind
        assert "Retry-After" in operation["responses"]["429"]["headers"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert body.rsplit("/", 1)[1] in schema["components"]["schemas"]
        assert {"SegmentWriteKeyBasic": []} in operation["security"]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["SegmentWriteKeyBasic"]["scheme"] == "basic"
    assert schemes["SegmentWriteKeyBearer"]["scheme"] == "bearer"
    assert "HTTPBearer" in schemes, "the API's own token scheme is kept"
    components = schema["components"]["schemas"]
    assert components["SegmentTrackMessage"]["required"] == ["event"]
    assert components["SegmentAliasMessage"]["required"] == ["userId", "previousId"]
    assert components["SegmentBatch"]["properties"]["batch"]["maxItems"] == 2500
    assert "/v1/sources" in schema["paths"] and api.client.get("/openapi.json").json() == schema
    key = api.source("web")
    # still the collector's own answers, not FastAPI's request validation (which would say 422)
    assert post(api, "track", {"userId": "u", "event": "e"}, basic(key)).status_code == 200
    missing = post(api, "track", {"userId": "u"}, basic(key))
    assert missing.status_code == 400 and missing.json()["code"] == "validation_error"
    assert api.client.get("/v1/track").status_code == 405


def test_rate_limit_is_429_with_retry_after(api: Api) -> None:
    key = api.source("limited", rate_limit=10)
    batch = {"batch": [{"type": "track", "userId": "u", "event": "e"}] * 20}
    assert post(api, "batch", batch, basic(key)).status_code == 200  # 10 events into debt
    refused = post(api, "batch", batch, basic(key))
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert post(api, "track", {"userId": "u", "event": "e"}, basic(api.source("free"))).is_success


def test_sources_api_is_for_admins(api: Api) -> None:
    key = api.source("web", rate_limit=100)
    listed = api.client.get("/v1/sources", headers=api.bearer(api.admin)).json()
    assert [(s["name"], s["rate_limit_per_second"]) for s in listed] == [("web", 100)]
    assert all("write_key" not in s and key not in json.dumps(s) for s in listed)
    ws = Workspace.open(load_settings(home=api.home))
    analyst = issue_token(ws.store, "analyst", Role.ANALYST, created_by="test").token
    ws.close()
    assert api.client.get("/v1/sources", headers=api.bearer(analyst)).status_code == 403
    assert api.client.get("/v1/sources").status_code == 401
    bad = api.client.post("/v1/sources", json={"name": "Bad Name"}, headers=api.bearer(api.admin))
    assert bad.status_code == 400 and "name" in bad.json()["message"]
    again = api.client.post("/v1/sources", json={"name": "web"}, headers=api.bearer(api.admin))
    assert again.status_code == 400 and "exists already" in again.json()["message"]


def test_random_garbage_never_gets_a_5xx(api: Api) -> None:
    key = api.source("web")
    rng = random.Random(4)
    pieces = [b"{", b"}", b"[", b"]", b'"batch"', b":", b",", b'"type"', b'"track"', b"null",
              b"1e999", b'"\\ud800"', b"\xff", b"\xe4\xb8", b" ", b'"userId"', b"true"]  # fmt: skip
    for route in ("track", "batch", "alias", "import"):
        for _ in range(60):
            body = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
            reply = post(api, route, body, basic(key))
            assert reply.status_code < 500, (route, body, reply.text)
    assert api.load()["entries"] >= 0
