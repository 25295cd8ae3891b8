"""One small workspace with data, shared by the security tests of a module.

Built once per module (ingest and identity resolution take a few seconds): the identity test
sources (``tests/data/identity``, see PROVENANCE.md) ingested and resolved, one API token per
role and one console user per role logged in (a session each), a consent recorded and an unmask
request open, so that every route has real objects to read. The tests only read it or act
within one role's rights; none of them needs a clean slate.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.privacy.users import create_user
from custodia.settings import Settings, load_settings
from custodia.workspace import Workspace

IDENTITY_DATA = Path(__file__).resolve().parents[1] / "data" / "identity"
SOURCES = (("crm", "crm.csv"), ("shop", "shop.csv"), ("web", "clicks.json"))
PROFILE_REF = "member_id:M1"
CHEAP_KDF = {"password_kdf_memory_kib": 1024, "password_kdf_time_cost": 1}
"""Argon2id at a test cost (the fuzzer logs in many times); the default cost is unit-tested."""
USER_PASSWORD = "四月的雨下个不停 2026"


@dataclass(frozen=True)
class SecuredWorkspace:
    """The workspace's settings, one token per role (by role value) and its live objects."""

    settings: Settings
    tokens: dict[str, str]
    unmask_request_id: str
    write_key: str
    sessions: dict[str, str] = field(default_factory=dict)

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def session_auth(self, role: str) -> dict[str, str]:
        """A console login session of a user with ``role`` (POST /v1/auth/login)."""
        return {"Authorization": f"Bearer {self.sessions[role]}"}


def _custodia(*args: str | Path) -> None:
    """Run the ``custodia`` entry point in-process (module-scoped fixtures cannot use ``cli``)."""
    from custodia.cli.app import main

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["custodia", *map(str, args)])
        try:
            main()
        except SystemExit as exc:
            assert exc.code in (0, None), f"custodia {args} exited {exc.code}"


def _build(home: Path) -> SecuredWorkspace:
    settings = load_settings(home=home, loader_interval_seconds=0, **CHEAP_KDF)
    ws, admin = Workspace.create(settings)
    with ws:
        tokens = {r.value: issue_token(ws.store, r.value, r, created_by="test").token
                  for r in Role if r is not Role.ADMIN}  # fmt: skip
        for role in Role:
            create_user(ws.store, f"{role.value}-用户", USER_PASSWORD, role, "test",
                        hashing=ws.password_hashing)  # fmt: skip
    for source, name in SOURCES:
        _custodia("--home", home, "ingest", "file", IDENTITY_DATA / name, "--source", source,
                  "--mapping", IDENTITY_DATA / "mapping.yaml", "--json")  # fmt: skip
    tokens["admin"] = admin.token
    secured = SecuredWorkspace(settings, tokens, "", "")
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/identity/resolve", headers=secured.auth("admin")).is_success
        consent = {"purpose": "marketing", "status": "granted", "channel": "store",
                   "notice_version": "v1", "actor": "customer"}  # fmt: skip
        made = client.post(f"/v1/profiles/{PROFILE_REF}/consents", json=consent,
                           headers=secured.auth("privacy_officer"))  # fmt: skip
        assert made.status_code == 201, made.text
        request = {"profile": PROFILE_REF, "purpose": "credit_review", "fields": ["phone"]}
        opened = client.post("/v1/unmask-requests", json=request,
                             headers=secured.auth("risk_officer"))  # fmt: skip
        assert opened.status_code == 201, opened.text
        source = client.post("/v1/sources", json={"name": "web_app"},
                             headers=secured.auth("admin"))  # fmt: skip
        assert source.is_success, source.text
        sessions = {role.value: _login(client, f"{role.value}-用户") for role in Role}
    return replace(secured, unmask_request_id=opened.json()["request_id"],
                   write_key=source.json()["write_key"], sessions=sessions)  # fmt: skip


def _login(client: TestClient, username: str) -> str:
    answer = client.post("/v1/auth/login", json={"username": username, "password": USER_PASSWORD})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> SecuredWorkspace:
    return _build(tmp_path_factory.mktemp("secured") / "ws")


@pytest.fixture(scope="module")
def api(secured: SecuredWorkspace) -> Iterator[TestClient]:
    with TestClient(create_app(secured.settings)) as client:
        yield client
