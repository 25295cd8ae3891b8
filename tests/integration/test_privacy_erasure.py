"""THE erasure test: after ``privacy erase``, no byte under HOME holds the person's values.

Workspace: the identity test sources (tests/data/identity, read from outside HOME) ingested and
resolved. The person is 张伟 (M1, M2 and U1 in one profile). Every file under HOME is scanned as
raw bytes, and every parquet file is also decoded and its string columns searched (parquet
pages are compressed, so raw bytes alone would prove nothing). The needles are the person's
phone, resident ID, email and name, raw and normalized. Other people's data must still be there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from parquet_text import table_strings

NEEDLES = (
    "13812340001", "+8613812340001", "8613812340001",
    "139 1234 0002", "13912340002",
    "110105198001011238",
    "zhangwei@example.com", "ZhangWei@example.com",
    "张伟", "张 伟",
)  # fmt: skip
OTHERS = ("lina@example.com", "31011519900305456X", "13812340003", "王芳")


def _hits(home: Path, needles: tuple[str, ...]) -> dict[str, list[str]]:
    """needle -> files holding it (raw bytes, plus decoded parquet strings)."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        texts = [data]
        if path.suffix == ".parquet":
            texts += [s.encode() for s in table_strings(pq.read_table(path))]
        for needle in needles:
            if any(needle.encode() in t for t in texts):
                found.setdefault(needle, []).append(str(path.relative_to(home)))
    return found


@pytest.fixture
def home(workspace_home: Path, cli: Any, ingest_identity_sources: Callable[..., None]) -> Path:
    ingest_identity_sources(workspace_home)
    result = cli("--home", workspace_home, "identity", "resolve", "--json")
    assert result.code == 0, result
    return workspace_home


def test_erasure_leaves_no_byte_of_the_person(home: Path, cli: Any) -> None:
    before = _hits(home, NEEDLES)
    assert set(before) == set(NEEDLES), "the scan must see every needle before the erasure"
    assert any(p.endswith(".parquet") for p in before["110105198001011238"])

    result = cli("--home", home, "privacy", "erase", "member_id:M2", "--reason", "art17", "--json")
    assert result.code == 0, result
    receipt = result.json()
    assert receipt["counts"]["lake.customer_records"] == 3
    assert receipt["counts"]["store.identity_records"] == 3
    assert "13812340001" not in result.stdout

    assert _hits(home, NEEDLES) == {}
    assert set(_hits(home, OTHERS)) == set(OTHERS)
    for ref in ("member_id:M3", "member_id:M4", "member_id:M7"):
        assert cli("--home", home, "privacy", "export", ref, "--json").code == 0
    assert cli("--home", home, "audit", "verify", "--json").code == 0


def test_erased_person_is_not_found_again(home: Path, cli: Any) -> None:
    assert cli("--home", home, "privacy", "erase", "email:zhangwei@example.com",
               "--reason", "request", "--json").code == 0  # fmt: skip
    again = cli("--home", home, "privacy", "erase", "member_id:M1", "--reason", "x", "--json")
    assert again.code != 0
    log = cli("--home", home, "audit", "log", "--json")
    assert log.code == 0, log
    assert json.dumps(log.json()).count("privacy.erase") == 1


def test_export_holds_the_person_and_no_one_sharing_the_family_phone(
    home: Path, cli: Any, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    result = cli("--home", home, "privacy", "export", "member_id:M4", "--out", out, "--json")
    assert result.code == 0, result
    files = {p.relative_to(out).as_posix(): p.read_text("utf-8") for p in out.rglob("*.*")}
    assert {"schema.json", "manifest.json", "json/customer_records.json",
            "csv/customer_records.csv"} <= set(files)  # fmt: skip
    everything = "\n".join(files.values())
    assert "440306198507077895" in everything  # M4's own resident ID
    for other in ("31011519900305456X", "lina@example.com", "张伟", "M3"):
        assert other not in everything
    schema = json.loads(files["schema.json"])
    resident = next(c for c in schema["customer_records"]["columns"] if c["name"] == "resident_id")
    assert resident["tier"] == "L3"
    log = cli("--home", home, "audit", "log", "--json")
    assert json.dumps(log.json()).count("privacy.export") == 1


def test_api_requests_are_for_privacy_officers(
    tmp_path: Path, ingest_identity_sources: Callable[..., None]
) -> None:
    from fastapi.testclient import TestClient

    from custodia.api.app import create_app
    from custodia.privacy.roles import Role
    from custodia.privacy.tokens import issue_token
    from custodia.settings import load_settings
    from custodia.workspace import Workspace

    settings = load_settings(home=tmp_path / "ws", loader_interval_seconds=0)
    ws, admin = Workspace.create(settings)
    with ws:
        dpo = issue_token(ws.store, "dpo", Role.PRIVACY_OFFICER, created_by="test").token
        marketer = issue_token(ws.store, "mk", Role.MARKETER, created_by="test").token
    ingest_identity_sources(settings.home)
    with TestClient(create_app(settings)) as api:
        auth = {"Authorization": f"Bearer {admin.token}"}
        assert api.post("/v1/identity/resolve", headers=auth).status_code == 200
        body = {"ref": "member_id:M7", "reason": "ticket-1"}
        denied = api.post("/v1/privacy/erase", json=body,
                          headers={"Authorization": f"Bearer {marketer}"})  # fmt: skip
        assert denied.status_code == 403
        as_dpo = {"Authorization": f"Bearer {dpo}"}
        exported = api.post("/v1/privacy/export", json={"ref": "member_id:M7"}, headers=as_dpo)
        assert exported.status_code == 200, exported.text
        assert exported.json()["data"]["customer_records"][0]["member_id"] == "M7"
        erased = api.post("/v1/privacy/erase", json=body, headers=as_dpo)
        assert erased.status_code == 200, erased.text
        assert erased.json()["counts"]["exports"] == 1
        assert "110105198001011239" not in erased.text
        gone = api.post("/v1/privacy/export", json={"ref": "member_id:M7"}, headers=as_dpo)
        assert gone.status_code == 404
