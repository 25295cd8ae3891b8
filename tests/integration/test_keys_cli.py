"""``custodia keys status|rotate|rewrap`` on a workspace whose L3 columns are sealed."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from custodia.settings import load_settings
from custodia.workspace import Workspace

RESIDENT_ID = "110105198001011238"


def test_init_creates_private_master_keys(workspace_home: Path, cli: Any) -> None:
    key_file = workspace_home / "keys" / "master-keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    status = cli("--home", workspace_home, "keys", "status", "--json")
    assert status.code == 0, status
    assert status.json() == {
        "active_kek": "kek-1",
        "keks": {"kek-1": 0},
        "data_keys_live": 0,
        "data_keys_shredded": 0,
    }


def test_rotation_rewraps_every_key_and_data_still_reads(
    workspace_home: Path, cli: Any, ingest_identity_sources: Callable[..., None]
) -> None:
    ingest_identity_sources(workspace_home)
    assert cli("--home", workspace_home, "identity", "resolve", "--json").code == 0
    before = cli("--home", workspace_home, "keys", "status", "--json").json()
    live = before["data_keys_live"]
    assert live > 0 and before["keks"] == {"kek-1": live}

    rotated = cli("--home", workspace_home, "keys", "rotate", "--actor", "ops", "--json")
    assert rotated.code == 0, rotated
    assert rotated.json() == {"active_kek": "kek-2", "rewrapped": live, "retired": ["kek-1"]}
    document = json.loads((workspace_home / "keys" / "master-keys.json").read_text())
    assert set(document["keks"]) == {"kek-2"} and "kek-1" in document["retired"]
    secrets = [v["key"] for v in document["keks"].values()] + [document["index_secret"]]
    assert not any(s in rotated.stdout for s in secrets)

    again = cli("--home", workspace_home, "keys", "rewrap", "--json")
    assert again.json()["rewrapped"] == 0

    with Workspace.open(load_settings(home=workspace_home)) as ws:
        ids = ws.query("select resident_id from profiles").column(0).to_pylist()
    assert RESIDENT_ID in ids
    shown = cli("--home", workspace_home, "profile", "show", f"resident_id:{RESIDENT_ID}", "--json")
    assert shown.code == 0, shown

    log = cli("--home", workspace_home, "audit", "log", "--json")
    assert log.code == 0, log
    assert "key.rotate" in log.stdout


def test_status_table_output(workspace_home: Path, cli: Any) -> None:
    shown = cli("--home", workspace_home, "keys", "status")
    assert shown.code == 0, shown
    assert "kek-1" in shown.stdout and "0 live data keys" in shown.stdout
