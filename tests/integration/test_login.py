"""Console login through the CLI (users) and the HTTP API (login, sessions, logout, lockout)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import Settings, load_settings
from custodia.storage.store import AuditLog, OperationalStore

CHEAP_KDF = {"password_kdf_memory_kib": 1024, "password_kdf_time_cost": 1}
"""Argon2id at a test cost: these tests check behaviour; the default cost is unit-tested."""
PASSWORD = "四月的雨下个不停 2026"


@pytest.fixture
def home(workspace_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in CHEAP_KDF.items():
        monkeypatch.setenv(f"CUSTODIA_{name.upper()}", str(value))
    return workspace_home


@pytest.fixture
def user_cli(cli: Any, monkeypatch: pytest.MonkeyPatch, home: Path) -> Any:
    """``user_cli("create", "张伟", "--role", "analyst", password=...)``: a ``user`` command;
    the password goes in on standard input."""

    def run(*args: str, password: str | None = None) -> Any:
        extra = ("--password-stdin",) if password is not None else ()
        monkeypatch.setattr(sys, "stdin", io.StringIO(f"{password}\n"))
        return cli("--home", home, "user", *args, *extra, "--json")

    return run


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings(home=home, loader_interval_seconds=0, **CHEAP_KDF)


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def _login(api: TestClient, username: str, password: str) -> Any:
    return api.post("/v1/auth/login", json={"username": username, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _store(settings: Settings) -> OperationalStore:
    return OperationalStore(settings.resolved_store_url())


def test_cli_creates_lists_and_refuses_weak_passwords(user_cli: Any) -> None:
    created = user_cli("create", "张伟", "--role", "analyst", password=PASSWORD)
    assert created.code == 0, created
    assert created.json()["username"] == "张伟" and created.json()["role"] == "analyst"
    listed = user_cli("list")
    assert [u["username"] for u in listed.json()] == ["张伟"]
    assert "argon2" not in listed.stdout and PASSWORD not in listed.stdout
    weak = user_cli("create", "li.na", "--role", "analyst", password="li.na-1234567")
    assert weak.code == 1 and "not_username" in weak.stderr and "1234567" not in weak.stderr
    taken = user_cli("create", "张伟", "--role", "marketer", password="another good phrase")
    assert taken.code == 1 and "unique" in taken.stderr
    unknown = user_cli("set-role", "nobody", "--role", "auditor")
    assert unknown.code == 1 and "no such user" in unknown.stderr


def test_the_password_cannot_be_given_on_the_command_line(cli: Any, home: Path) -> None:
    refused = cli("--home", home, "user", "create", "li.na", "--role", "analyst",
                  "--password", PASSWORD)  # fmt: skip
    assert refused.code == 2


def test_login_gives_a_session_with_the_users_role(
    user_cli: Any, api: TestClient, settings: Settings
) -> None:
    assert user_cli("create", "张伟", "--role", "analyst", password=PASSWORD).code == 0
    answer = _login(api, "张伟", PASSWORD)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert (body["role"], body["username"], body["token_type"]) == ("analyst", "张伟", "bearer")
    me = api.get("/v1/auth/me", headers=_bearer(body["token"])).json()
    assert (me["kind"], me["role"], me["user"]["username"]) == ("session", "analyst", "张伟")
    assert me["expires_at"] == body["expires_at"]
    assert api.get("/v1/tables", headers=_bearer(body["token"])).status_code == 200
    assert api.get("/v1/audit/log", headers=_bearer(body["token"])).status_code == 403


def test_logout_ends_the_session_and_api_tokens_cannot_log_out(
    user_cli: Any, api: TestClient, settings: Settings
) -> None:
    assert user_cli("create", "auditor-1", "--role", "auditor", password=PASSWORD).code == 0
    token = _login(api, "AUDITOR-1", PASSWORD).json()["token"]
    assert api.post("/v1/auth/logout", headers=_bearer(token)).status_code == 204
    assert api.get("/v1/auth/me", headers=_bearer(token)).status_code == 401
    assert api.post("/v1/auth/logout", headers=_bearer(token)).status_code == 401
    own_admin = _admin_token(settings)
    refused = api.post("/v1/auth/logout", headers=_bearer(own_admin))
    assert refused.status_code == 400 and "session" in refused.json()["message"]
    assert api.get("/v1/auth/me", headers=_bearer(own_admin)).json()["kind"] == "api"


def _admin_token(settings: Settings) -> str:
    store = _store(settings)
    try:
        return issue_token(store, "ops", Role.ADMIN, "test").token
    finally:
        store.dispose()


def test_refusals_are_one_generic_401_then_429_while_locked(user_cli: Any, api: TestClient) -> None:
    assert user_cli("create", "张伟", "--role", "analyst", password=PASSWORD).code == 0
    unknown = _login(api, "nobody", PASSWORD)
    wrong = _login(api, "张伟", "not the right one")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert "张伟" not in wrong.text and "not the right one" not in wrong.text
    for _ in range(4):
        assert _login(api, "张伟", "not the right one").status_code == 401
    locked = _login(api, "张伟", PASSWORD)
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "60"
    assert locked.json()["code"] == "TooManyAttemptsError"


def test_role_change_and_disable_end_sessions(user_cli: Any, api: TestClient) -> None:
    assert user_cli("create", "li.na", "--role", "analyst", password=PASSWORD).code == 0
    token = _login(api, "li.na", PASSWORD).json()["token"]
    assert user_cli("set-role", "li.na", "--role", "auditor").code == 0
    assert api.get("/v1/auth/me", headers=_bearer(token)).status_code == 401
    token = _login(api, "li.na", PASSWORD).json()["token"]
    assert api.get("/v1/audit/log", headers=_bearer(token)).status_code == 200
    assert user_cli("disable", "li.na").json()["status"] == "disabled"
    assert api.get("/v1/auth/me", headers=_bearer(token)).status_code == 401
    assert _login(api, "li.na", PASSWORD).status_code == 401
    assert user_cli("enable", "li.na").code == 0
    new_password = "a brand new passphrase"
    assert user_cli("set-password", "li.na", password=new_password).code == 0
    assert _login(api, "li.na", PASSWORD).status_code == 401
    assert _login(api, "li.na", new_password).status_code == 200


def test_user_changes_and_logins_are_audited_without_secrets(
    user_cli: Any, api: TestClient, settings: Settings
) -> None:
    assert user_cli("create", "张伟", "--role", "analyst", password=PASSWORD).code == 0
    assert _login(api, "张伟", "not the right one").status_code == 401
    token = _login(api, "张伟", PASSWORD).json()["token"]
    api.post("/v1/auth/logout", headers=_bearer(token))
    assert user_cli("set-role", "张伟", "--role", "marketer").code == 0
    store = _store(settings)
    try:
        entries = list(reversed(AuditLog(store).entries()))
    finally:
        store.dispose()
    actions = [e.action for e in entries if e.resource == "users" or e.action.startswith("auth")]
    assert actions == ["user.create", "auth.login", "auth.login", "auth.logout", "user.role_set"]
    text = repr(entries)
    for secret in (PASSWORD, "not the right one", token, "argon2"):
        assert secret not in text


def test_login_body_is_validated_without_echoing_it(api: TestClient) -> None:
    answer = api.post("/v1/auth/login", json={"username": "13812345678", "password": ""})
    assert answer.status_code == 422
    assert "13812345678" not in answer.text
