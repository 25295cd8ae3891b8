"""The audit trail end to end: CLI and API over a workspace with real people and consents.

``audit verify`` passes on a fresh workspace and names the first broken entry once the store or
the anchor is tampered with; a person's data-usage trail is found by any of their identifiers;
only admins, privacy officers and auditors read it; and no entry of any operation holds a raw
phone, resident ID or email (checked with the personal-data detector).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.privacy.audit_events import PrivacyAction, PrivacyEvent, record_privacy_event
from custodia.privacy.pii_detect import PiiDetector
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.settings import Settings, load_settings
from custodia.storage.store import AuditLog
from custodia.storage.store_schema import canonical_json
from custodia.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "data" / "consent"
PHONE, RESIDENT_ID, EMAIL = "13812349001", "11010519900305456X", "wangfang@example.com"
ROLES = (Role.PRIVACY_OFFICER, Role.AUDITOR, Role.MARKETER, Role.SERVICE_AGENT, Role.ANALYST)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path / "ws", loader_interval_seconds=0)


@pytest.fixture
def tokens(settings: Settings, cli: Any) -> dict[str, str]:
    """A workspace with three people, a consent grant and an unmasked read of the first."""
    ws, admin = Workspace.create(settings)
    with ws:
        out = {r.value: issue_token(ws.store, r.value, r, created_by="test").token for r in ROLES}
    home = settings.home
    result = cli("--home", home, "ingest", "file", DATA / "people.csv", "--source", "crm",
                 "--mapping", DATA / "mapping.yaml", "--json")  # fmt: skip
    assert result.code == 0, result
    assert cli("--home", home, "identity", "resolve", "--json").code == 0
    granted = cli("--home", home, "consent", "grant", f"phone:{PHONE}", "-p", "marketing",
                  "--notice", "v3", "--channel", "store", "--json")  # fmt: skip
    assert granted.code == 0, granted
    with Workspace.open(settings) as ws:
        pid = granted.json()[0]["profile_id"]
        event = PrivacyEvent(PrivacyAction.UNMASK, "profiles", subject_ref=pid,
                             purpose="fraud_check", fields=("resident_id", "phone"))  # fmt: skip
        record_privacy_event(AuditLog(ws.store, ws.clock), "token:risk_officer", event)
    return {"admin": admin.token, "pid": pid, **out}


@pytest.fixture
def api(settings: Settings, tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def _as(tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def test_cli_trail_by_any_identifier(cli: Any, settings: Settings, tokens: dict[str, str]) -> None:
    home, pid = settings.home, tokens["pid"]
    by_phone = cli("--home", home, "audit", "trail", f"phone:{PHONE}", "--json")
    assert by_phone.code == 0, by_phone
    trail = by_phone.json()
    assert trail["subject_refs"] == [pid]
    uses = [(u["action"], u["purpose"], u["fields"]) for u in trail["uses"]]
    assert uses == [
        ("data.unmask", "fraud_check", ["resident_id", "phone"]),
        ("consent.grant", "marketing", []),
    ]
    assert cli("--home", home, "audit", "trail", pid, "--json").json() == trail
    table = cli("--home", home, "audit", "trail", f"email:{EMAIL}")
    assert (
        table.code == 0 and "fraud_check" in table.stdout and "token:risk_officer" in table.stdout
    )

    unknown = cli("--home", home, "audit", "trail", "phone:13912345678")
    assert unknown.code == 1 and "13912345678" not in unknown.stderr


def test_cli_log_filters_by_subject_and_action(
    cli: Any, settings: Settings, tokens: dict[str, str]
) -> None:
    home = settings.home
    everything = cli("--home", home, "audit", "log", "--json").json()
    assert {"token.issue", "consent.grant", "data.unmask"} <= {e["action"] for e in everything}
    seqs = [e["seq"] for e in everything]
    assert seqs == sorted(seqs, reverse=True)

    mine = cli("--home", home, "audit", "log", "--subject", f"phone:{PHONE}", "--json").json()
    assert [e["action"] for e in mine] == ["data.unmask", "consent.grant"]
    grants = cli("--home", home, "audit", "log", "--action", "consent.grant", "--json").json()
    assert [e["subject_ref"] for e in grants] == [tokens["pid"]]
    page = cli("--home", home, "audit", "log", "--limit", "2", "--before", str(seqs[0]), "--json")
    assert [e["seq"] for e in page.json()] == seqs[1:3]


def test_cli_verify_names_the_first_broken_entry(
    cli: Any, settings: Settings, tokens: dict[str, str]
) -> None:
    home = settings.home
    intact = cli("--home", home, "audit", "verify", "--json")
    assert intact.code == 0, intact
    report = intact.json()
    assert report["ok"] is True and report["checked"] == report["anchored_seq"] >= 8
    assert "intact" in cli("--home", home, "audit", "verify").stdout

    with sqlite3.connect(home / "store.db") as db:
        db.execute('UPDATE audit_log SET details = \'{"purpose":"care"}\' WHERE seq = 3')
    broken = cli("--home", home, "audit", "verify")
    assert broken.code == 1
    assert "entry 3" in broken.stderr and "modified" in broken.stderr
    as_json = cli("--home", home, "audit", "verify", "--json")
    assert as_json.code == 1
    assert (as_json.json()["fault"], as_json.json()["fault_seq"]) == ("hash_mismatch", 3)


def test_cli_verify_catches_truncation_and_anchor_repairs_a_lost_anchor(
    cli: Any, settings: Settings, tokens: dict[str, str]
) -> None:
    home = settings.home
    newest = cli("--home", home, "audit", "verify", "--json").json()["checked"]
    anchor = home / "audit" / "anchor.jsonl"
    kept = anchor.read_text().splitlines()[:-1]
    anchor.write_text("\n".join(kept) + "\n")  # the newest head is lost (a crash, say)
    lost = cli("--home", home, "audit", "verify", "--json").json()
    assert (lost["fault"], lost["fault_seq"]) == ("unanchored", newest)
    assert cli("--home", home, "audit", "anchor").stdout.strip() == f"anchored entry {newest}"
    assert cli("--home", home, "audit", "verify").code == 0

    with sqlite3.connect(home / "store.db") as db:
        db.execute("DELETE FROM audit_log WHERE seq >= ?", (newest - 1,))
    truncated = cli("--home", home, "audit", "verify", "--json").json()
    assert (truncated["fault"], truncated["fault_seq"]) == ("truncated", newest - 1)


def test_api_usage_trail_and_roles(api: TestClient, tokens: dict[str, str]) -> None:
    for role in ("admin", "privacy_officer", "auditor"):
        got = api.get(f"/v1/profiles/phone:{PHONE}/usage", headers=_as(tokens, role))
        assert got.status_code == 200, (role, got.text)
        body = got.json()
        assert body["subject_refs"] == [tokens["pid"]]
        assert [u["action"] for u in body["uses"]] == ["data.unmask", "consent.grant"]
    for role in ("marketer", "service_agent", "analyst"):
        got = api.get(f"/v1/profiles/phone:{PHONE}/usage", headers=_as(tokens, role))
        assert got.status_code == 403, role
    page = api.get(
        f"/v1/profiles/profile_id:{tokens['pid']}/usage",
        params={"limit": 1},
        headers=_as(tokens, "auditor"),
    ).json()
    assert len(page["uses"]) == 1 and page["next_before_seq"] == page["uses"][0]["seq"]
    missing = api.get("/v1/profiles/phone:13912345678/usage", headers=_as(tokens, "auditor"))
    assert missing.status_code == 404 and "13912345678" not in missing.text


def test_api_audit_log_and_verify(api: TestClient, tokens: dict[str, str]) -> None:
    auditor = _as(tokens, "auditor")
    log = api.get("/v1/audit/log", params={"subject": f"phone:{PHONE}"}, headers=auditor)
    assert [e["action"] for e in log.json()] == ["data.unmask", "consent.grant"]
    verified = api.get("/v1/audit/verify", headers=auditor).json()
    assert verified["ok"] is True and verified["fault"] is None
    assert api.get("/v1/audit/verify", headers=_as(tokens, "marketer")).status_code == 403


def test_no_entry_holds_raw_personal_data(settings: Settings, tokens: dict[str, str]) -> None:
    detector = PiiDetector()
    with Workspace.open(settings) as ws:
        entries = AuditLog(ws.store).tail(1000)
    anchor = (settings.home / "audit" / "anchor.jsonl").read_text()
    texts = [canonical_json(e.details) for e in entries] + [e.subject_ref or "" for e in entries]
    for text in [*texts, anchor]:
        assert detector.find(text) == [], text
        assert all(raw not in text for raw in (PHONE, RESIDENT_ID, EMAIL, "王芳"))
