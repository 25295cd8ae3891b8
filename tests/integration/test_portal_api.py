"""The customer portal through the API and the CLI: portal tokens, own data only, consents,
GPC, user-set expiry, export/erasure requests, one audit entry per action."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.core.clock import FrozenClock
from custodia.pipeline.consent_subjects import consent_ledger, consent_profile
from custodia.privacy.portal_tokens import issue_portal_token, revoke_portal_token
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import Settings, load_settings
from custodia.storage.store import AuditLog
from custodia.storage.store_portal import UserExpiryTable
from custodia.workspace import Workspace

ALICE, BOB = "member_id:C1", "member_id:C2"  # 王芳 and 李小明 in tests/data/consent/people.csv


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path / "ws", loader_interval_seconds=0)


@pytest.fixture
def staff(settings: Settings, resolve_consent_people: Any) -> dict[str, str]:
    ws, admin = Workspace.create(settings)
    with ws:
        out = {
            r.value: issue_token(ws.store, r.value, r, created_by="test").token
            for r in (Role.SERVICE_AGENT, Role.MARKETER)
        }
    resolve_consent_people(settings.home)
    return {"admin": admin.token, **out}


@pytest.fixture
def api(settings: Settings, staff: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def _bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def _portal_token(api: TestClient, staff: dict[str, str], profile: str) -> str:
    answer = api.post("/v1/portal/tokens", json={"profile": profile},
                      headers=_bearer(staff["service_agent"]))  # fmt: skip
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    assert token.startswith("cpt_")
    return token


def _audit(settings: Settings) -> list[tuple[str, str, str | None]]:
    with Workspace.open(settings) as ws:
        return [(e.actor, e.action, e.subject_ref) for e in AuditLog(ws.store).tail(1000)]


def _new_entries(settings: Settings, before: int) -> list[tuple[str, str, str | None]]:
    return _audit(settings)[before:]


def test_a_customer_sees_their_own_data_and_nobody_else(
    api: TestClient, staff: dict[str, str], settings: Settings
) -> None:
    alice, bob = _portal_token(api, staff, ALICE), _portal_token(api, staff, BOB)
    mine = api.get("/v1/portal/me", headers=_bearer(alice))
    assert mine.status_code == 200, mine.text
    body = mine.json()
    with Workspace.open(settings) as ws:
        alice_id, bob_id = consent_profile(ws, ALICE), consent_profile(ws, BOB)
    assert body["profile_id"] == alice_id
    assert body["attributes"]["name"]["value"] == "王芳"  # their own data, in clear
    assert "phone" in body["categories"]["contact"] and "name" in body["categories"]["identity"]
    assert body["sources"] == {"crm": len(body["identities"])}
    assert {"member_id", "phone"} <= {i["id_type"] for i in body["identities"]}
    assert set(body["consents"]["purposes"]) >= {"marketing", "sharing", "personalization"}
    assert any(use["action"] == "token.issue" for use in body["usage"])
    for other in ("李小明", "13812349002", "110105201503011232", bob_id, "赵小雨"):
        assert other not in mine.text
    for secret in ("cipher", "blind", "token_hash", "cpt_"):
        assert secret not in mine.text

    theirs = api.get("/v1/portal/me", headers=_bearer(bob)).json()
    assert theirs["profile_id"] == bob_id and "王芳" not in str(theirs)
    # a reference in the query is not a way to reach someone else
    probe = api.get(f"/v1/portal/me?profile=profile_id:{bob_id}", headers=_bearer(alice))
    assert probe.json()["profile_id"] == alice_id


def test_staff_and_portal_tokens_do_not_cross(
    api: TestClient, staff: dict[str, str], settings: Settings
) -> None:
    alice = _portal_token(api, staff, ALICE)
    for role in ("admin", "service_agent"):
        refused = api.get("/v1/portal/me", headers=_bearer(staff[role]))
        assert refused.status_code == 401, refused.text
    for path in (f"/v1/profiles/{ALICE}", f"/v1/profiles/{ALICE}/consents", "/v1/audit/log"):
        assert api.get(path, headers=_bearer(alice)).status_code == 401
    issue = api.post("/v1/portal/tokens", json={"profile": BOB}, headers=_bearer(alice))
    assert issue.status_code == 401
    marketer = api.post("/v1/portal/tokens", json={"profile": BOB},
                        headers=_bearer(staff["marketer"]))  # fmt: skip
    assert marketer.status_code == 403
    forged = alice[:-4] + ("AAAA" if not alice.endswith("AAAA") else "BBBB")
    assert api.get("/v1/portal/me", headers=_bearer(forged)).status_code == 401
    assert api.get("/v1/portal/me").status_code == 401


def test_expired_and_revoked_portal_tokens_are_refused(
    api: TestClient, staff: dict[str, str], settings: Settings
) -> None:
    past = FrozenClock(datetime.now(UTC) - timedelta(days=2))
    with Workspace.open(settings) as ws:
        pid = consent_profile(ws, ALICE)
        expired = issue_portal_token(ws.store, pid, "test", expires_in=timedelta(days=1),
                                     clock=past).token  # fmt: skip
        live = issue_portal_token(ws.store, pid, "test")
    assert api.get("/v1/portal/me", headers=_bearer(expired)).status_code == 401
    assert api.get("/v1/portal/me", headers=_bearer(live.token)).status_code == 200
    with Workspace.open(settings) as ws:
        assert revoke_portal_token(ws.store, live.record.token_id, "test")
    assert api.get("/v1/portal/me", headers=_bearer(live.token)).status_code == 401


def test_consents_personalization_and_gpc_from_the_portal(
    api: TestClient, staff: dict[str, str], settings: Settings
) -> None:
    alice = _portal_token(api, staff, ALICE)
    before = len(_audit(settings))
    choices = [
        {"purpose": "marketing", "status": "granted", "notice_version": "v3"},
        {"purpose": "sharing", "status": "granted", "notice_version": "v3"},
    ]
    answer = api.put("/v1/portal/consents", json={"choices": choices}, headers=_bearer(alice))
    assert answer.status_code == 200, answer.text
    state = answer.json()
    assert state["purposes"]["marketing"]["allowed"] is True
    record = state["purposes"]["marketing"]["record"]
    assert (record["channel"], record["actor"]) == ("portal", "customer")
    assert record["recorded_by"].startswith("portal:ptk_")
    assert [a for _, a, _ in _new_entries(settings, before)] == ["consent.grant"] * 2

    before = len(_audit(settings))
    switched = api.put("/v1/portal/personalization", json={"on": True, "notice_version": "v3"},
                       headers=_bearer(alice, **{"Sec-GPC": "1"}))  # fmt: skip
    assert switched.status_code == 200, switched.text
    assert switched.json()["personalization"] is True
    assert switched.json()["purposes"]["sharing"]["allowed"] is False
    assert switched.json()["purposes"]["sharing"]["record"]["channel"] == "gpc"
    assert [a for _, a, _ in _new_entries(settings, before)] == [
        "consent.grant",
        "consent.withdraw",
    ]
    with Workspace.open(settings) as ws:
        pid = consent_profile(ws, ALICE)
        assert consent_ledger(ws).allowed(pid, "personalization")
        assert not consent_ledger(ws).allowed(pid, "sharing")

    before = len(_audit(settings))
    bad = api.put("/v1/portal/consents", headers=_bearer(alice), json={"choices": [
        {"purpose": "analytics", "status": "granted", "notice_version": "v3"},
        {"purpose": "spam", "status": "granted", "notice_version": "v3"},
    ]})  # fmt: skip
    assert bad.status_code == 400 and "purpose" in bad.json()["message"]
    assert "spam" not in bad.text
    assert [a for _, a, _ in _new_entries(settings, before)] == ["consent.change"]


def test_user_set_expiry_is_stored_for_the_retention_job(
    api: TestClient, staff: dict[str, str], settings: Settings
) -> None:
    alice = _portal_token(api, staff, ALICE)
    when = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    before = len(_audit(settings))
    made = api.post("/v1/portal/expiry", json={"categories": ["contact", "service"],
                    "expires_at": when}, headers=_bearer(alice))  # fmt: skip
    assert made.status_code == 201, made.text
    row = made.json()
    assert (row["scope"], row["names"], row["status"]) == (
        "categories",
        ["contact", "service"],
        "pending",
    )
    assert row["tables"] == ["interactions"]
    assert [a for _, a, _ in _new_entries(settings, before)] == ["expiry.set"]
    fields = api.post("/v1/portal/expiry", json={"fields": ["phone"], "expires_at": when},
                      headers=_bearer(alice))  # fmt: skip
    assert fields.status_code == 201

    for body, field in (
        ({"fields": ["phone"], "categories": ["contact"], "expires_at": when}, "fields"),
        ({"fields": ["member_id"], "expires_at": when}, "fields"),
        ({"categories": ["everything"], "expires_at": when}, "categories"),
        ({"fields": ["phone"], "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
    ):
        refused = api.post("/v1/portal/expiry", json=body, headers=_bearer(alice))
        assert refused.status_code == 400, body
        assert field in refused.json()["message"]
    with Workspace.open(settings) as ws:
        table = UserExpiryTable(ws.store)
        assert table.due(at=datetime.now(UTC)) == []
        due = table.due(at=datetime.now(UTC) + timedelta(days=8))
        assert sorted(r["scope"] for r in due) == ["categories", "fields"]
        assert {r["profile_id"] for r in due} == {consent_profile(ws, ALICE)}
    listed = api.get("/v1/portal/me", headers=_bearer(alice)).json()["expiries"]
    assert len(listed) == 2

    bob = _portal_token(api, staff, BOB)
    mine = f"/v1/portal/expiry/{row['expiry_id']}"
    assert api.delete(mine, headers=_bearer(bob)).status_code == 404  # not Bob's
    before = len(_audit(settings))
    cancelled = api.delete(mine, headers=_bearer(alice))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert [a for _, a, _ in _new_entries(settings, before)] == ["expiry.cancel"]
    assert api.delete(mine, headers=_bearer(alice)).status_code == 404  # no longer pending
    with Workspace.open(settings) as ws:
        due = UserExpiryTable(ws.store).due(at=datetime.now(UTC) + timedelta(days=8))
        assert [r["scope"] for r in due] == ["fields"]


def test_export_and_erasure_requests_are_recorded_once_and_kept_apart(
    api: TestClient, staff: dict[str, str], settings: Settings, cli: Any
) -> None:
    alice, bob = _portal_token(api, staff, ALICE), _portal_token(api, staff, BOB)
    before = len(_audit(settings))
    first = api.post("/v1/portal/requests", json={"kind": "export"}, headers=_bearer(alice))
    assert first.status_code == 201, first.text
    again = api.post("/v1/portal/requests", json={"kind": "export"}, headers=_bearer(alice))
    assert again.status_code == 200 and again.json()["request_id"] == first.json()["request_id"]
    erase = api.post("/v1/portal/requests", json={"kind": "erasure"}, headers=_bearer(alice))
    assert erase.status_code == 201 and erase.json()["status"] == "received"
    actions = [a for _, a, _ in _new_entries(settings, before)]
    assert actions == ["privacy.request_export", "privacy.request_erasure"]
    assert api.post("/v1/portal/requests", json={"kind": "delete_all"},
                    headers=_bearer(alice)).status_code == 422  # fmt: skip

    mine = api.get("/v1/portal/requests", headers=_bearer(alice)).json()
    assert sorted(r["kind"] for r in mine) == ["erasure", "export"]
    assert api.get("/v1/portal/requests", headers=_bearer(bob)).json() == []

    queue = cli("--home", settings.home, "portal", "requests", "--json")
    assert queue.code == 0, queue
    assert sorted(r["kind"] for r in queue.json()) == ["erasure", "export"]

    export_id = first.json()["request_id"]
    staff_queue = "/v1/portal/staff/requests"
    assert api.get(staff_queue, headers=_bearer(alice)).status_code == 401
    assert api.get(staff_queue, headers=_bearer(staff["service_agent"])).status_code == 403
    listed = api.get(staff_queue, headers=_bearer(staff["admin"]))
    assert sorted(r["kind"] for r in listed.json()) == ["erasure", "export"]
    before = len(_audit(settings))
    done = api.post(f"{staff_queue}/{export_id}", headers=_bearer(staff["admin"]),
                    json={"status": "completed", "receipt_id": "rcp_abc123"})  # fmt: skip
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["receipt_id"]) == ("completed", "rcp_abc123")
    assert [a for _, a, _ in _new_entries(settings, before)] == ["privacy.request_update"]
    again = api.post(f"{staff_queue}/{export_id}", headers=_bearer(staff["admin"]),
                     json={"status": "rejected"})  # fmt: skip
    assert again.status_code == 404
    rejected = cli("--home", settings.home, "portal", "settle", erase.json()["request_id"],
                   "--status", "rejected", "--json")  # fmt: skip
    assert rejected.code == 0 and rejected.json()["status"] == "rejected", rejected
    statuses = {r["kind"]: r["status"] for r in
                api.get("/v1/portal/requests", headers=_bearer(alice)).json()}  # fmt: skip
    assert statuses == {"export": "completed", "erasure": "rejected"}
    trail = api.get("/v1/portal/me", headers=_bearer(alice)).json()["usage"]
    assert sum(use["action"] == "privacy.request_update" for use in trail) == 2


def test_cli_issues_a_portal_token(cli: Any, settings: Settings, staff: dict[str, str]) -> None:
    issued = cli("--home", settings.home, "portal", "token", BOB, "--days", "3", "--json")
    assert issued.code == 0, issued
    out = issued.json()
    with TestClient(create_app(settings)) as client:
        me = client.get("/v1/portal/me", headers=_bearer(out["token"]))
    assert me.status_code == 200 and me.json()["profile_id"] == out["profile_id"]
    assert me.json()["attributes"]["name"]["value"] == "李小明"
    assert cli("--home", settings.home, "portal", "token", "member_id:NOPE").code == 1
    issue_actor = [a for a in _audit(settings) if a[1] == "token.issue"][-1]
    assert issue_actor[0].startswith("cli:") and issue_actor[2] == out["profile_id"]


def test_activity_shows_the_persons_own_events_only(
    cli: Any, tmp_path: Path, ingest_identity_sources: Any
) -> None:
    settings = load_settings(home=tmp_path / "ids", loader_interval_seconds=0)
    Workspace.create(settings)[0].close()
    ingest_identity_sources(settings.home)
    assert cli("--home", settings.home, "identity", "resolve", "--json").code == 0
    issued = cli("--home", settings.home, "portal", "token", "user_id:U3", "--json").json()
    with TestClient(create_app(settings)) as client:
        me = client.get("/v1/portal/me", headers=_bearer(issued["token"]))
    assert me.status_code == 200, me.text
    events = me.json()["activity"]["events"]["items"]
    assert events and {e["user_id"] for e in events if e["user_id"]} == {"U3"}
    assert "U4" not in me.text and "U2" not in me.text


def test_ciphertext_and_blind_index_values_are_never_shown(
    api: TestClient, staff: dict[str, str], settings: Settings
) -> None:
    from sqlalchemy import select, update

    from custodia.storage.store_schema import profile_registry

    alice = _portal_token(api, staff, ALICE)
    sealed = "enc:v1:dk_" + "0" * 32 + ":" + "A" * 40
    with Workspace.open(settings) as ws:
        pid = consent_profile(ws, ALICE)
        where = profile_registry.c.profile_id == pid
        with ws.store.begin() as conn:
            traits = conn.execute(select(profile_registry.c.traits).where(where)).scalar_one()
            traits["resident_id"] = {**traits["resident_id"], "value": sealed}
            traits["phone"]["conflicts"] = [{"value": "bi1_" + "B" * 43, "source": "crm"}]
            conn.execute(update(profile_registry).where(where).values(traits=traits))
    me = api.get("/v1/portal/me", headers=_bearer(alice))
    assert me.status_code == 200, me.text
    resident = me.json()["attributes"]["resident_id"]
    assert (resident["value"], resident["encrypted"]) == (None, True)
    assert me.json()["attributes"]["phone"]["conflicts"] == []
    assert "enc:v1" not in me.text and "bi1_" not in me.text


def test_refused_portal_tokens_are_audited_without_their_secret(
    api: TestClient, staff: dict[str, str], settings: Settings
) -> None:
    alice = _portal_token(api, staff, ALICE)
    scheme, prefix, secret = alice.split("_", 2)  # the secret may itself hold "_"
    forged = f"{scheme}_{prefix}_{'z' * len(secret)}"
    for bad in (forged, "cpt_not-a-token", staff["marketer"]):
        answer = api.get("/v1/portal/me", headers=_bearer(bad))
        assert answer.status_code == 401 and bad not in answer.text
    with Workspace.open(settings) as ws:
        entries = AuditLog(ws.store).entries(actions=["auth.token_refused"])[::-1]
    assert [(e.resource, e.details["rule"]) for e in entries] == [
        ("portal_tokens", "forged"),
        ("portal_tokens", "malformed"),
    ]  # a staff token is malformed here; the repeat of the rule is throttled
    assert secret not in str([e.details for e in entries])
