"""Consent per purpose through the CLI and the API: record, read, gate, minors, GPC, roles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.pipeline.consent_subjects import consent_ledger
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import Settings, load_settings
from custodia.storage.store import AuditLog
from custodia.workspace import Workspace

ADULT, KID_BY_ID, KID_BY_BIRTHDAY = "member_id:C1", "member_id:C2", "member_id:C3"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path / "ws", loader_interval_seconds=0)


@pytest.fixture
def tokens(settings: Settings, resolve_consent_people: Any) -> dict[str, str]:
    ws, admin = Workspace.create(settings)
    roles = (Role.PRIVACY_OFFICER, Role.SERVICE_AGENT, Role.AUDITOR, Role.MARKETER)
    with ws:
        out = {r.value: issue_token(ws.store, r.value, r, created_by="test").token for r in roles}
    resolve_consent_people(settings.home)
    return {"admin": admin.token, **out}


@pytest.fixture
def api(settings: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def _as(tokens: dict[str, str], role: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}", **extra}


def _audit_actions(settings: Settings) -> list[str]:
    with Workspace.open(settings) as ws:
        return [e.action for e in AuditLog(ws.store).tail(1000) if e.action.startswith("consent.")]


def test_cli_grant_withdraw_show_and_the_gate(
    cli: Any, settings: Settings, tokens: dict[str, str]
) -> None:
    home = settings.home
    granted = cli("--home", home, "consent", "grant", ADULT, "-p", "marketing", "-p", "analytics",
                  "--notice", "v3", "--channel", "store", "--json")  # fmt: skip
    assert granted.code == 0, granted
    rows = granted.json()
    assert [r["purpose"] for r in rows] == ["marketing", "analytics"]
    assert rows[0]["recorded_by"].startswith("cli:")
    pid = rows[0]["profile_id"]

    shown = cli("--home", home, "consent", "show", f"profile_id:{pid}", "--json").json()
    assert shown["purposes"]["marketing"]["allowed"] is True
    assert shown["purposes"]["sharing"] == {"allowed": False, "reason": "no_record", "record": None}
    assert shown["minor"] is False and shown["personalization"] is False
    assert cli("--home", home, "consent", "allowed", "marketing", "--json").json()["profiles"] == [
        pid
    ]

    withdrawn = cli("--home", home, "consent", "withdraw", pid, "-p", "marketing",
                    "--channel", "app", "--json")  # fmt: skip
    assert withdrawn.code == 0, withdrawn
    with Workspace.open(settings) as ws:
        assert not consent_ledger(ws).allowed(pid, "marketing")
        assert consent_ledger(ws).allowed(pid, "analytics")
    assert cli("--home", home, "consent", "allowed", "marketing", "--json").json()["profiles"] == []
    table = cli("--home", home, "consent", "show", ADULT, "--history")
    assert table.code == 0 and "withdrawn" in table.stdout
    assert _audit_actions(settings) == ["consent.grant", "consent.grant", "consent.withdraw"]


def test_cli_refuses_an_unknown_purpose_naming_the_field(
    cli: Any, settings: Settings, tokens: dict[str, str]
) -> None:
    bad = cli("--home", settings.home, "consent", "grant", ADULT, "-p", "spam",
              "--notice", "v3", "--channel", "web")  # fmt: skip
    assert bad.code == 1 and "purpose" in bad.stderr
    missing = cli("--home", settings.home, "consent", "show", "phone:13912345678")
    assert missing.code == 1
    assert _audit_actions(settings) == ["consent.change"]  # the unknown profile: nothing


def test_minors_by_resident_id_or_birthday_need_a_guardian_for_marketing(
    cli: Any, settings: Settings, tokens: dict[str, str]
) -> None:
    home = settings.home
    for ref in (ADULT, KID_BY_ID, KID_BY_BIRTHDAY):
        result = cli("--home", home, "consent", "grant", ref, "-p", "marketing",
                     "--notice", "v3", "--channel", "web", "--json")  # fmt: skip
        assert result.code == 0, result
    kid = cli("--home", home, "consent", "show", KID_BY_ID, "--json").json()
    assert kid["minor"] is True
    assert kid["purposes"]["marketing"]["reason"] == "minor_needs_guardian"
    assert cli("--home", home, "consent", "show", KID_BY_BIRTHDAY, "--json").json()["minor"]
    allowed = cli("--home", home, "consent", "allowed", "marketing", "--json").json()["profiles"]
    assert len(allowed) == 1

    guardian = cli("--home", home, "consent", "grant", KID_BY_ID, "-p", "marketing",
                   "--notice", "v3", "--channel", "store", "--actor", "guardian")  # fmt: skip
    assert guardian.code == 0, guardian
    allowed = cli("--home", home, "consent", "allowed", "marketing", "--json").json()["profiles"]
    assert len(allowed) == 2


def test_api_records_on_behalf_reads_and_honours_gpc(
    api: TestClient, tokens: dict[str, str], settings: Settings
) -> None:
    url = f"/v1/profiles/{ADULT}/consents"
    body = {"purpose": "sharing", "status": "granted", "channel": "call_center",
            "notice_version": "2026-11", "actor": "customer"}  # fmt: skip
    made = api.post(url, json=body, headers=_as(tokens, "service_agent"))
    assert made.status_code == 201, made.text
    assert made.json()["record"]["recorded_by"] == "token:service_agent"
    assert made.json()["gpc_withdrawal"] is None

    state = api.get(url, headers=_as(tokens, "auditor")).json()
    assert state["purposes"]["sharing"]["allowed"] is True

    personal = {"purpose": "personalization", "status": "granted", "channel": "portal",
                "notice_version": "2026-11"}  # fmt: skip
    gpc = api.post(url, json=personal, headers=_as(tokens, "privacy_officer", **{"Sec-GPC": "1"}))
    assert gpc.status_code == 201, gpc.text
    assert gpc.json()["gpc_withdrawal"]["channel"] == "gpc"
    state = api.get(f"{url}?history=true", headers=_as(tokens, "privacy_officer")).json()
    assert state["purposes"]["sharing"] == {
        "allowed": False, "reason": "withdrawn", "record": state["history"][-1],
    }  # fmt: skip
    assert state["personalization"] is True
    again = api.post(url, json=personal, headers=_as(tokens, "admin", **{"Sec-GPC": "1"}))
    assert again.json()["gpc_withdrawal"] is None  # already opted out: nothing more written
    assert _audit_actions(settings) == [
        "consent.grant", "consent.grant", "consent.withdraw", "consent.grant",
    ]  # fmt: skip


def test_api_refusals(api: TestClient, tokens: dict[str, str], settings: Settings) -> None:
    url = f"/v1/profiles/{ADULT}/consents"
    body = {"purpose": "data-brokering", "status": "granted", "channel": "web",
            "notice_version": "v1"}  # fmt: skip
    unknown = api.post(url, json=body, headers=_as(tokens, "admin"))
    assert unknown.status_code == 400
    assert "purpose" in unknown.text and "brokering" not in unknown.text
    no_notice = api.post(url, json={**body, "purpose": "risk", "notice_version": None},
                         headers=_as(tokens, "admin"))  # fmt: skip
    assert no_notice.status_code == 400 and "notice_version" in no_notice.text
    marketer = api.post(url, json={**body, "purpose": "risk"}, headers=_as(tokens, "marketer"))
    assert marketer.status_code == 403
    assert api.get(url, headers=_as(tokens, "marketer")).status_code == 403
    naive = api.get(f"{url}?at=2026-01-01T00:00:00", headers=_as(tokens, "admin"))
    assert naive.status_code == 400 and naive.json()["message"].startswith("at:")
    zoned = api.get(f"{url}?at=2026-01-01T00:00:00%2B08:00", headers=_as(tokens, "admin"))
    assert zoned.status_code == 200 and zoned.json()["at"] == "2026-01-01T00:00:00+08:00"
    auditor = api.post(url, json={**body, "purpose": "risk"}, headers=_as(tokens, "auditor"))
    assert auditor.status_code == 403
    assert api.get(url).status_code == 401
    gone = api.get("/v1/profiles/phone:13912345678/consents", headers=_as(tokens, "admin"))
    assert gone.status_code == 404
    assert _audit_actions(settings) == ["consent.change", "consent.change"]
