"""Customer 360 and identity review over HTTP: any identifier finds the person, pages, roles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.core.ids import record_key
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import Settings
from custodia.workspace import Workspace


@pytest.fixture
def tokens(settings: Settings, ingest_identity_sources: Any) -> dict[str, str]:
    ws, admin = Workspace.create(settings)
    with ws:
        out = {
            role.value: issue_token(ws.store, role.value, role, created_by="test").token
            for role in (
                Role.DATA_STEWARD,
                Role.SERVICE_AGENT,
                Role.ANALYST,
                Role.MARKETER,
                Role.AUDITOR,
            )
        }
    ingest_identity_sources(settings.home)
    return {"admin": admin.token, **out}


@pytest.fixture
def api(settings: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def _as(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def test_resolve_then_look_up_by_any_identifier(api: TestClient, tokens: dict[str, str]) -> None:
    steward = _as(tokens, "data_steward")
    run = api.post("/v1/identity/resolve", headers=steward)
    assert run.status_code == 200, run.text
    assert run.json()["profiles_total"] >= 8

    agent = _as(tokens, "service_agent")
    by_phone = api.get("/v1/profiles/phone:+86 138 1234 0001", headers=agent)
    assert by_phone.status_code == 200, by_phone.text
    profile_id = by_phone.json()["profile"]["profile_id"]
    for ref in ("email:zhangwei@example.com", "user_id:U1", f"profile_id:{profile_id}"):
        again = api.get(f"/v1/profiles/{ref}/traits", headers=agent)
        assert again.json()["profile_id"] == profile_id
    traits = api.get("/v1/profiles/member_id:M1/traits", headers=agent).json()
    assert traits["attributes"]["name"]["value"] == "*伟"  # masked for service agents
    steward_view = api.get("/v1/profiles/member_id:M1/traits", headers=steward).json()
    assert steward_view["attributes"]["name"]["value"] == "张伟"

    page = api.get("/v1/profiles/user_id:U3/events?limit=2", headers=agent).json()
    assert len(page["items"]) == 2
    assert page["has_more"] is True
    rest = api.get("/v1/profiles/user_id:U3/events?limit=2&offset=2", headers=agent).json()
    assert {e["message_id"] for e in page["items"] + rest["items"]} == {"m-1", "m-2", "m-3", "m-4"}

    idents = api.get("/v1/profiles/member_id:M5/identities", headers=agent).json()
    flags = [f["reason"] for item in idents["items"] for f in item["flags"]]
    assert any(reason.startswith("phone.") for reason in flags)


def test_errors_are_4xx_naming_the_part(api: TestClient, tokens: dict[str, str]) -> None:
    api.post("/v1/identity/resolve", headers=_as(tokens, "data_steward"))
    agent = _as(tokens, "service_agent")
    bad = api.get("/v1/profiles/phone:123", headers=agent)
    assert bad.status_code == 400
    assert "123" not in bad.text
    assert api.get("/v1/profiles/fax:1", headers=agent).status_code == 400
    assert api.get("/v1/profiles/phone:13900000001", headers=agent).status_code == 404
    assert api.get("/v1/profiles/member_id:M1/events?limit=0", headers=agent).status_code == 422


def test_roles_decide_who_reads_and_who_unmerges(api: TestClient, tokens: dict[str, str]) -> None:
    api.post("/v1/identity/resolve", headers=_as(tokens, "data_steward"))
    assert api.get("/v1/profiles/member_id:M1", headers=_as(tokens, "auditor")).status_code == 403
    for role in (
        "analyst",
        "marketer",
    ):  # they read, masked (tests/integration/test_masking_api.py)
        assert api.get("/v1/profiles/member_id:M1", headers=_as(tokens, role)).status_code == 200
    agent = _as(tokens, "service_agent")
    profile_id = api.get("/v1/profiles/member_id:M1", headers=agent).json()["profile"]["profile_id"]
    body = {"record_id": record_key("crm", "M2"), "reason": "two people"}
    denied = api.post(f"/v1/identity/profiles/{profile_id}/unmerge", json=body, headers=agent)
    assert denied.status_code == 403
    steward = _as(tokens, "data_steward")
    explained = api.get(f"/v1/identity/profiles/{profile_id}/explain", headers=steward).json()
    assert record_key("crm", "M2") in {r["record_id"] for r in explained["records"]}
    done = api.post(f"/v1/identity/profiles/{profile_id}/unmerge", json=body, headers=steward)
    assert done.status_code == 200, done.text
    assert done.json()["new_profile_id"] != profile_id
    not_member = api.post(f"/v1/identity/profiles/{profile_id}/unmerge", json=body, headers=steward)
    assert not_member.status_code == 400
