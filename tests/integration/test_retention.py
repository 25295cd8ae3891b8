"""The retention job through its public surfaces: a customer's own expiry set in the portal and
enforced by the job (gone from live tables and from every byte of the lake), age limits of the
policy, dry runs, idempotence, the policy file's errors, the CLI and the API.

Workspace: the identity test sources (tests/data/identity) ingested and resolved. The customer
is 张伟 (M1, M2 and U1 in one profile); others (李娜 M3/M4, U2...) must stay untouched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_privacy_erasure import _hits as byte_hits

from custodia.api.app import create_app
from custodia.core.clock import FrozenClock
from custodia.pipeline.profile_view import ProfileView
from custodia.pipeline.retention_run import run_retention
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import Settings, load_settings
from custodia.storage.store import AuditLog
from custodia.storage.store_portal import UserExpiryTable
from custodia.workspace import Workspace

CONTACT = (
    "13812340001", "+8613812340001", "8613812340001",
    "139 1234 0002", "13912340002",
    "zhangwei@example.com", "ZhangWei@example.com",
)  # fmt: skip
KEPT = ("张伟", "110105198001011238", "lina@example.com", "13812340003", "john.smith@example.com")
NO_LIMITS = "rules: []\n"


@pytest.fixture
def settings(workspace_home: Path) -> Settings:
    return load_settings(home=workspace_home, loader_interval_seconds=0)


@pytest.fixture
def home(settings: Settings, cli: Any, ingest_identity_sources: Callable[..., None]) -> Path:
    ingest_identity_sources(settings.home)
    assert cli("--home", settings.home, "identity", "resolve", "--json").code == 0
    return settings.home


@pytest.fixture
def officer(home: Path, settings: Settings) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with Workspace.open(settings) as ws:
        issued = issue_token(ws.store, "dpo", Role.PRIVACY_OFFICER, created_by="test")
        agent = issue_token(ws.store, "agent", Role.SERVICE_AGENT, created_by="test")
    with TestClient(create_app(settings)) as api:
        yield api, {"dpo": issued.token, "agent": agent.token}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _set_policy(cli: Any, home: Path, text: str) -> None:
    path = home.parent / "retention.yaml"
    path.write_text(text, encoding="utf-8")
    result = cli("--home", home, "retention", "policy", "--set", path, "--json")
    assert result.code == 0, result


def _portal_expiry(
    api: TestClient, agent: str, body: dict[str, Any], profile: str = "member_id:M1"
) -> dict[str, Any]:
    """The customer ``profile`` sets an expiry through the portal (with a token an agent gave)."""
    issued = api.post("/v1/portal/tokens", json={"profile": profile}, headers=_auth(agent))
    assert issued.status_code == 201, issued.text
    made = api.post("/v1/portal/expiry", json=body, headers=_auth(issued.json()["token"]))
    assert made.status_code == 201, made.text
    row: dict[str, Any] = made.json()
    return row


def _actions(settings: Settings) -> list[str]:
    with Workspace.open(settings) as ws:
        return [e.action for e in AuditLog(ws.store).tail(1000)]


def test_contact_expiry_removes_phone_email_and_address_from_every_byte_of_the_lake(
    home: Path, settings: Settings, cli: Any, officer: tuple[TestClient, dict[str, str]]
) -> None:
    api, tokens = officer
    _set_policy(cli, home, NO_LIMITS)
    soon = datetime.now(UTC) + timedelta(hours=1)
    body = {"categories": ["contact"], "expires_at": soon.isoformat()}
    expiry = _portal_expiry(api, tokens["agent"], body)
    lake = home / "lake"
    assert set(byte_hits(lake, CONTACT)) == set(CONTACT), "the scan must see the values first"

    with Workspace.open(settings) as ws:  # before the expiry time: nothing is due
        assert run_retention(ws, actor="test").expiries == []
    later = FrozenClock(soon + timedelta(minutes=1))
    with Workspace.open(settings, later) as ws:
        receipt = run_retention(ws, actor="test")
        profile = ProfileView(ws).find("member_id:M1")
        attributes = ProfileView(ws).traits(profile)["attributes"]
        row = UserExpiryTable(ws.store).get(expiry["expiry_id"])

    assert [e.expiry_id for e in receipt.expiries] == [expiry["expiry_id"]]
    assert receipt.counts["lake.customer_records.phone"] == 3
    assert receipt.counts["lake.profiles.email"] == 1
    assert receipt.counts["lake.source_records_raw.payload"] >= 3
    assert receipt.counts["lake_files_removed"] > 0
    assert (row["status"], row["receipt_id"]) == ("enforced", receipt.receipt_id)
    assert {"phone", "email"}.isdisjoint(attributes) and "name" in attributes
    assert byte_hits(lake, CONTACT) == {}
    assert set(byte_hits(lake, KEPT)) == set(KEPT), "other fields and other people stay"
    assert not any(v in receipt.model_dump_json() for v in CONTACT)
    actions = _actions(settings)
    assert actions.count("privacy.expire") == 1
    assert actions.count("privacy.retention") == 2, "one per run (the early one found nothing)"

    again = cli("--home", home, "retention", "run", "--json")
    assert again.code == 0, again
    assert again.json()["expiries"] == [] and again.json()["counts"] == {}
    assert cli("--home", home, "audit", "verify", "--json").code == 0


def test_a_behaviour_expiry_deletes_the_persons_events_only(
    home: Path, settings: Settings, cli: Any, officer: tuple[TestClient, dict[str, str]]
) -> None:
    api, tokens = officer
    _set_policy(cli, home, NO_LIMITS)
    soon = datetime.now(UTC) + timedelta(hours=1)
    with Workspace.open(settings) as ws:
        profile = ProfileView(ws).find("user_id:U3")
        assert ProfileView(ws).events(profile)["items"], "U3 has events"
    body = {"categories": ["behaviour"], "expires_at": soon.isoformat()}
    _portal_expiry(api, tokens["agent"], body, profile="user_id:U3")
    with Workspace.open(settings, FrozenClock(soon + timedelta(seconds=1))) as ws:
        events_before = ws.query("SELECT count(*) AS n FROM events").column("n")[0].as_py()
        receipt = run_retention(ws, actor="test")
        assert ProfileView(ws).events(profile)["items"] == []
        events_after = ws.query("SELECT count(*) AS n FROM events").column("n")[0].as_py()
    assert receipt.counts["lake.events"] == events_before - events_after > 0
    assert events_after > 0, "other people's events stay"


def test_age_limits_remove_old_rows_keep_recent_ones_and_dry_run_changes_nothing(
    home: Path, settings: Settings, cli: Any
) -> None:
    # clicks.json has events on 2025-07-03, 07-04 and 07-05: at 2025-07-06 with a 2-day limit,
    # the ones of 07-03 are too old (4 of 7) and the others stay.
    _set_policy(cli, home, "rules:\n  - name: short_events\n    table: events\n"
                           "    max_age_days: 2\n")  # fmt: skip
    clock = FrozenClock(datetime(2025, 7, 6, 0, 30, tzinfo=UTC))
    with Workspace.open(settings, clock) as ws:
        before = _event_ids(ws)
        audit_before = len(AuditLog(ws.store).tail(1000))
        dry = run_retention(ws, actor="test", dry_run=True)
        assert _event_ids(ws) == before
        assert len(AuditLog(ws.store).tail(1000)) == audit_before, "a dry run audits nothing"
        done = run_retention(ws, actor="test")
        after = _event_ids(ws)
        twice = run_retention(ws, actor="test")
    assert dry.dry_run and dry.counts == {"lake.events": 4}
    assert done.counts["lake.events"] == 4
    assert [(o.rule, o.table, o.rows) for o in done.age_limits] == [("short_events", "events", 4)]
    assert sorted(before - after) == ["m-1", "m-2", "m-3", "m-4"]
    assert after == {"m-5", "m-6", "m-7"}
    assert twice.counts == {}


def _event_ids(ws: Workspace) -> set[str]:
    return set(ws.query("SELECT message_id FROM events").column("message_id").to_pylist())


def test_a_bad_policy_file_names_file_line_and_rule_and_the_last_valid_one_stays(
    home: Path, cli: Any
) -> None:
    bad = home.parent / "bad_retention.yaml"
    bad.write_text("rules:\n  - name: ok\n    table: events\n    max_age_days: 30\n"
                   "  - name: contact_age\n    category: contact\n    max_age_days: 5\n",
                   encoding="utf-8")  # fmt: skip
    checked = cli("--home", home, "retention", "policy", "--check", bad)
    assert checked.code == 1
    assert f"{bad} line 5: rules[1] (contact_age): category contact" in checked.stderr
    assert cli("--home", home, "retention", "policy", "--set", bad).code == 1
    shown = cli("--home", home, "retention", "policy", "--json")
    assert shown.json()["origin"] == "shipped"

    _set_policy(cli, home, NO_LIMITS)
    (home / "privacy" / "retention.yaml").write_text("rules: [{name: x, table: nope}]\n", "utf-8")
    run = cli("--home", home, "retention", "run", "--json")
    assert run.code == 0, run
    assert run.json()["policy"] == "retention.active.yaml"
    assert "retention.yaml line 1: rules[0] (x): " in run.json()["policy_error"]


def test_api_runs_are_for_privacy_officers(
    home: Path, settings: Settings, officer: tuple[TestClient, dict[str, str]]
) -> None:
    api, tokens = officer
    denied = api.post("/v1/privacy/retention/runs", json={}, headers=_auth(tokens["agent"]))
    assert denied.status_code == 403
    dry = api.post("/v1/privacy/retention/runs", json={"dry_run": True},
                   headers=_auth(tokens["dpo"]))  # fmt: skip
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True
    listed = api.get("/v1/privacy/retention/runs", headers=_auth(tokens["dpo"]))
    assert [r["run_id"] for r in listed.json()] == [dry.json()["run_id"]]
    receipt_id = dry.json()["receipt_id"]
    found = api.get(f"/v1/privacy/retention/receipts/{receipt_id}", headers=_auth(tokens["dpo"]))
    assert found.status_code == 200 and found.json()["run_id"] == dry.json()["run_id"]
    policy = api.get("/v1/privacy/retention/policy", headers=_auth(tokens["dpo"]))
    assert policy.json()["origin"] == "shipped"
    assert {r["rule"] for r in policy.json()["rules"]} >= {"behaviour_events", "quarantine"}
    assert "privacy.retention" not in json.dumps(_actions(settings))
