"""Role-based masking and unmasking with approvals, through the HTTP API.

Every role reads the same customer 360 and gets what the shipped policy gives it; an unmask
request shows its fields in clear to its requester, for that customer only, until it expires,
and every unmasked read writes exactly one audit entry without values.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.core.clock import FrozenClock
from custodia.privacy.masking_policy import MaskingPolicy
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import Settings
from custodia.storage.store import AuditLog
from custodia.workspace import Workspace

PHONE, RESIDENT_ID, EMAIL = "+8613812340001", "110105198001011238", "zhangwei@example.com"


@pytest.fixture
def tokens(settings: Settings, ingest_identity_sources: Any) -> dict[str, str]:
    ws, admin = Workspace.create(settings)
    with ws:
        out = {role.value: issue_token(ws.store, role.value, role, created_by="test").token
               for role in Role if role is not Role.ADMIN}  # fmt: skip
        out["admin2"] = issue_token(ws.store, "admin2", Role.ADMIN, created_by="test").token
    ingest_identity_sources(settings.home)
    return {"admin": admin.token, **out}


@pytest.fixture
def api(settings: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        resolved = client.post("/v1/identity/resolve", headers=_as(tokens, "admin"))
        assert resolved.status_code == 200, resolved.text
        yield client


def _as(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def _traits(api: TestClient, tokens: dict[str, str], role: str, query: str = "") -> Any:
    response = api.get(f"/v1/profiles/member_id:M1/traits{query}", headers=_as(tokens, role))
    assert response.status_code == 200, response.text
    return {name: attr["value"] for name, attr in response.json()["attributes"].items()}


def _audit(settings: Settings, action: str) -> list[Any]:
    with Workspace.open(settings) as ws:
        return [e for e in AuditLog(ws.store).tail(200) if e.action == action]


EXPECTED = {
    # role: (phone, resident_id, name, birthday)
    "admin": ("138****0001", "110105********1238", "*伟", "1980"),
    "analyst": ("138****0001", None, "*伟", "1980"),
    "marketer": ("138****0001", None, "*伟", "1980"),
    "service_agent": ("138****0001", "110105********1238", "*伟", "1980"),
    "risk_officer": ("138****0001", "110105********1238", "*伟", "1980"),
    "data_steward": (PHONE, "110105********1238", "张伟", "1980-01-01"),
    "privacy_officer": (PHONE, "110105********1238", "张伟", "1980-01-01"),
}


def test_each_role_sees_what_the_policy_gives_it(api: TestClient, tokens: dict[str, str]) -> None:
    for role, (phone, resident_id, name, birthday) in EXPECTED.items():
        shown = _traits(api, tokens, role)
        assert (shown["phone"], shown.get("resident_id"), shown["name"]) == (
            phone,
            resident_id,
            name,
        )
        assert shown["birthday"] == birthday, role
        assert shown["city"] == "北京", role  # L1 is clear for everyone
    denied = api.get("/v1/profiles/member_id:M1/traits", headers=_as(tokens, "auditor"))
    assert denied.status_code == 403


def test_every_section_is_masked(api: TestClient, tokens: dict[str, str]) -> None:
    marketer = _as(tokens, "marketer")
    summary = api.get("/v1/profiles/member_id:M1", headers=marketer)
    assert summary.status_code == 200, summary.text
    for value in (PHONE, PHONE[3:], RESIDENT_ID, EMAIL, "张伟"):
        assert value not in summary.text
    types = {item["id_type"] for item in summary.json()["identities"]}
    assert "resident_id" not in types  # L3 is absent for marketers
    idents = api.get("/v1/profiles/member_id:M1/identities", headers=marketer).json()["items"]
    assert {i["value"] for i in idents if i["id_type"] == "email"} == {"z***@example.com"}
    events = api.get("/v1/profiles/user_id:U3/events", headers=marketer).json()["items"]
    assert events and all(e["user_id"] in (None, "**") for e in events)
    assert all(e["properties"] in (None, "****") for e in events)


def _request(api: TestClient, tokens: dict[str, str], role: str, **body: Any) -> Any:
    payload = {"profile": "member_id:M1", "purpose": "credit_review", **body}
    response = api.post("/v1/unmask-requests", json=payload, headers=_as(tokens, role))
    assert response.status_code == 201, response.text
    return response.json()


def _decide(api: TestClient, tokens: dict[str, str], rid: str, role: str, what: str = "approve"):  # type: ignore[no-untyped-def]
    return api.post(f"/v1/unmask-requests/{rid}/{what}", headers=_as(tokens, role))


def test_l3_needs_two_distinct_approvers_and_reads_are_audited_once(
    api: TestClient, tokens: dict[str, str], settings: Settings
) -> None:
    request = _request(api, tokens, "risk_officer", fields=["resident_id", "credit_band"])
    rid = request["request_id"]
    assert (request["tier"], request["approvals_needed"], request["status"]) == ("L3", 2, "pending")
    assert _decide(api, tokens, rid, "risk_officer").status_code == 403  # not an approver
    assert _decide(api, tokens, rid, "privacy_officer").json()["status"] == "pending"
    again = _decide(api, tokens, rid, "privacy_officer")
    assert again.status_code == 403  # one decision per approver
    refused = api.get(f"/v1/profiles/member_id:M1/traits?unmask={rid}",
                      headers=_as(tokens, "risk_officer"))  # fmt: skip
    assert refused.status_code == 403
    assert _decide(api, tokens, rid, "admin").json()["status"] == "approved"

    before = len(_audit(settings, "data.unmask"))
    shown = _traits(api, tokens, "risk_officer", f"?unmask={rid}")
    assert shown["resident_id"] == RESIDENT_ID
    assert shown["phone"] == "138****0001"  # not requested: still masked
    entries = _audit(settings, "data.unmask")
    assert len(entries) == before + 1
    entry = entries[-1]
    assert entry.details["request_id"] == rid and entry.details["fields"] == ["resident_id"]
    assert RESIDENT_ID not in str(entry.details) and entry.subject_ref == request["profile_id"]

    other = api.get(f"/v1/profiles/member_id:M3/traits?unmask={rid}",
                    headers=_as(tokens, "risk_officer"))  # fmt: skip
    assert other.status_code == 403 and "another customer" in other.text
    refusals = _audit(settings, "data.unmask_refused")
    assert refusals[-1].details["reason"] == "approved for another customer"
    borrowed = api.get(f"/v1/profiles/member_id:M1/traits?unmask={rid}",
                       headers=_as(tokens, "service_agent"))  # fmt: skip
    assert borrowed.status_code == 403


def test_l2_one_approval_nobody_approves_their_own_and_expiry_masks_again(
    api: TestClient, tokens: dict[str, str]
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    api.app.state.workspace.clock = clock  # type: ignore[attr-defined]
    rid = _request(api, tokens, "admin", fields=["phone"], hours=1)["request_id"]
    assert _decide(api, tokens, rid, "admin").status_code == 403  # own request
    assert _decide(api, tokens, rid, "privacy_officer").json()["status"] == "approved"
    assert _traits(api, tokens, "admin", f"?unmask={rid}")["phone"] == PHONE
    summary = api.get(
        "/v1/profiles/member_id:M1", headers={**_as(tokens, "admin"), "X-Custodia-Unmask": rid}
    )
    assert PHONE in summary.text  # the request id in a header works as well
    both = {**_as(tokens, "admin"), "X-Custodia-Unmask": "umr_other"}
    assert api.get(f"/v1/profiles/member_id:M1?unmask={rid}", headers=both).status_code == 400
    clock.advance(timedelta(hours=1, seconds=1))
    expired = api.get(
        f"/v1/profiles/member_id:M1/traits?unmask={rid}", headers=_as(tokens, "admin")
    )
    assert expired.status_code == 403 and "expired" in expired.text
    assert _traits(api, tokens, "admin")["phone"] == "138****0001"


def test_rejection_and_bad_requests(api: TestClient, tokens: dict[str, str]) -> None:
    rid = _request(api, tokens, "service_agent", fields=["phone"])["request_id"]
    assert _decide(api, tokens, rid, "privacy_officer", "reject").json()["status"] == "rejected"
    assert _decide(api, tokens, rid, "admin").status_code == 403
    agent = _as(tokens, "service_agent")
    for body in (
        {"fields": ["payload"], "purpose": "x"},
        {"fields": ["phone"], "purpose": "Not A Code"},
        {"fields": ["phone"], "purpose": "x", "hours": 1000},
    ):
        bad = api.post(
            "/v1/unmask-requests", json={"profile": "member_id:M1", **body}, headers=agent
        )
        assert bad.status_code in (400, 422), body
    marketer = api.post(
        "/v1/unmask-requests",
        json={"profile": "member_id:M1", "fields": ["phone"], "purpose": "campaign"},
        headers=_as(tokens, "marketer"),
    )
    assert marketer.status_code == 403
    mine = api.get("/v1/unmask-requests", headers=agent).json()
    assert [r["request_id"] for r in mine] == [rid]
    assert api.get(f"/v1/unmask-requests/{rid}", headers=_as(tokens, "analyst")).status_code == 404


def test_workspace_policy_file_overrides_the_shipped_one(
    api: TestClient, tokens: dict[str, str], settings: Settings
) -> None:
    policy = settings.home / "privacy" / "policy.yaml"
    shipped = MaskingPolicy.shipped()
    assert MaskingPolicy.from_text(policy.read_text("utf-8"), origin="x") == shipped  # from init
    policy.write_text(
        "masking:\n  roles:\n    marketer:\n      tiers: {L1: clear, L2: absent, L3: absent}\n",
        encoding="utf-8",
    )
    shown = _traits(api, tokens, "marketer")
    assert "phone" not in shown and shown["city"] == "北京"
    assert api.get("/v1/profiles/member_id:M1", headers=_as(tokens, "analyst")).status_code == 403
    changes = [  # the version from init, then the edit (classification.yaml has its own)
        c for c in _audit(settings, "policy.change") if c.resource == "privacy/policy.yaml"
    ]
    assert (
        len(changes) == 2 and changes[1].details["previous_sha256"] == changes[0].details["sha256"]
    )
    assert changes[1].resource == "privacy/policy.yaml"


def test_a_tier_raised_by_the_classification_policy_is_masked_as_raised(
    api: TestClient, tokens: dict[str, str], settings: Settings
) -> None:
    assert _traits(api, tokens, "marketer")["city"] == "北京"  # L1 in the data model: clear
    classification = settings.home / "privacy" / "classification.yaml"
    classification.write_text("tiers:\n  profiles.city: L3\n", encoding="utf-8")
    assert "city" not in _traits(api, tokens, "marketer")  # L3 is absent for marketers
    assert _traits(api, tokens, "privacy_officer")["city"] == "**"  # L3: masked, as a resident ID
