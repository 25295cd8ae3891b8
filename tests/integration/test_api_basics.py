"""The HTTP API: health without a token, everything else behind bearer tokens and roles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from custodia.api.app import create_app
from custodia.core.tables import TABLES
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token, revoke_token
from custodia.settings import load_settings
from custodia.storage.store import AuditLog
from custodia.storage.store_schema import api_tokens
from custodia.workspace import Workspace


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, str, Workspace]]:
    settings = load_settings(home=tmp_path / "ws")
    ws, token = Workspace.create(settings)
    ws.close()
    app = create_app(settings)
    with TestClient(app) as client:
        yield client, token.token, app.state.workspace


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_health_needs_no_token(api: tuple[TestClient, str, Workspace]) -> None:
    client, _token, ws = api
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["workspace_id"] == ws.info.workspace_id


def test_openapi_and_docs_are_served(api: tuple[TestClient, str, Workspace]) -> None:
    client, _token, _ws = api
    spec = client.get("/openapi.json").json()
    assert "/v1/tables" in spec["paths"]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("path", ["/v1/tables", "/v1/tables/events", "/v1/runs"])
def test_routes_need_a_token(api: tuple[TestClient, str, Workspace], path: str) -> None:
    client, token, _ws = api
    missing = client.get(path)
    assert missing.status_code == 401
    assert missing.json()["code"] == "AuthenticationError"
    assert client.get(path, headers=_auth("cus_bogus_token")).status_code == 401
    assert client.get(path, headers=_auth(token)).status_code == 200


def test_catalog(api: tuple[TestClient, str, Workspace]) -> None:
    client, token, _ws = api
    tables = client.get("/v1/tables", headers=_auth(token)).json()
    assert {t["name"] for t in tables} == {spec.name for spec in TABLES}
    unknown = client.get("/v1/tables/nope", headers=_auth(token))
    assert unknown.status_code == 404
    assert "known tables" in unknown.json()["message"]


def test_query_is_read_only_and_masked_by_role(api: tuple[TestClient, str, Workspace]) -> None:
    client, token, ws = api
    ok = client.post(
        "/v1/query", json={"sql": "select count(*) as n from orders"}, headers=_auth(token)
    )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"columns": ["n"], "rows": [{"n": 0}]}
    refused = client.post("/v1/query", json={"sql": "drop table orders"}, headers=_auth(token))
    assert refused.status_code == 400
    assert refused.json()["code"] == "ReadOnlyViolationError"
    analyst = issue_token(ws.store, "分析师", Role.ANALYST, created_by="test")
    masked = client.post("/v1/query", json={"sql": "select 1 as one"}, headers=_auth(analyst.token))
    assert masked.json()["rows"] == [{"one": 1}]  # masked by role: test_masking_query_api.py
    auditor = issue_token(ws.store, "审计", Role.AUDITOR, created_by="test")
    forbidden = client.post("/v1/query", json={"sql": "select 1"}, headers=_auth(auditor.token))
    assert forbidden.status_code == 403  # no masking policy for auditors
    assert client.get("/v1/tables", headers=_auth(analyst.token)).status_code == 200


def test_revoked_token_is_refused(api: tuple[TestClient, str, Workspace]) -> None:
    client, _token, ws = api
    extra = issue_token(ws.store, "temp", Role.ANALYST, created_by="test")
    assert client.get("/v1/tables", headers=_auth(extra.token)).status_code == 200
    revoke_token(ws.store, extra.record.token_id, revoked_by="test")
    assert client.get("/v1/tables", headers=_auth(extra.token)).status_code == 401


def test_refused_tokens_are_audited_without_their_secret(
    api: tuple[TestClient, str, Workspace],
) -> None:
    client, token, ws = api
    prefix, secret = token.split("_", 2)[1], token.split("_", 2)[2]
    forged = f"cus_{prefix}_{'x' * len(secret)}"
    expired = issue_token(ws.store, "short", Role.ANALYST, created_by="test")
    with ws.store.begin() as conn:
        conn.execute(
            update(api_tokens)
            .where(api_tokens.c.token_id == expired.record.token_id)
            .values(expires_at=ws.clock.now().replace(year=2020))
        )
    for bad in (forged, forged, "not-a-token", f"cus_{'0' * 12}_{'y' * 43}", expired.token):
        answer = client.get("/v1/tables", headers=_auth(bad))
        assert answer.status_code == 401 and bad not in answer.text
    entries = AuditLog(ws.store).entries(actions=["auth.token_refused"])[::-1]
    rules = [e.details["rule"] for e in entries]
    assert rules == ["forged", "malformed", "unknown", "expired"]  # the repeat is throttled
    text = str([e.details for e in entries])
    assert secret not in text and "x" * 20 not in text and "y" * 20 not in text


def test_spark_is_not_an_api_engine_unless_enabled(
    api: tuple[TestClient, str, Workspace],
) -> None:
    client, token, _ws = api
    answer = client.post("/v1/analyses/rfm", json={"engine": "spark"}, headers=_auth(token))
    assert answer.status_code == 400 and "engine" in answer.json()["message"]


def test_unknown_run(api: tuple[TestClient, str, Workspace]) -> None:
    client, token, _ws = api
    assert client.get("/v1/runs/run_nope", headers=_auth(token)).status_code == 404


Factory = Callable[..., object]
