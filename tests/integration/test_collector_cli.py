"""``custodia source`` and ``custodia load``: keys shown once, the log loaded on demand, runs
recorded; and the loader inside the server loading on its own."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from custodia.api.app import create_app
from custodia.settings import load_settings
from custodia.storage.event_log import LogEntry, SqliteEventLog

Cli = Callable[..., Any]


def test_source_create_prints_the_key_once_and_list_never_shows_it(
    cli: Cli, workspace_home: Path
) -> None:
    created = cli("--home", workspace_home, "source", "create", "web", "--rate-limit", "500",
                  "--json")  # fmt: skip
    assert created.code == 0, created
    info = created.json()
    assert info["name"] == "web" and info["write_key"].startswith("wk_")
    assert info["rate_limit_per_second"] == 500
    human = cli("--home", workspace_home, "source", "create", "app")
    assert human.code == 0 and "wk_" in human.stdout and "shown once" in human.stdout
    listed = cli("--home", workspace_home, "source", "list", "--json")
    assert [s["name"] for s in listed.json()] == ["app", "web"]
    assert info["write_key"] not in listed.stdout
    table = cli("--home", workspace_home, "source", "list")
    assert table.code == 0 and f"wk_{info['write_key_prefix']}_…" in table.stdout
    again = cli("--home", workspace_home, "source", "create", "web")
    assert again.code == 1 and "exists already" in again.stderr
    bad = cli("--home", workspace_home, "source", "create", "Web Shop")
    assert bad.code == 1 and "name:" in bad.stderr


def _log_batches(home: Path, count: int) -> None:
    with SqliteEventLog(home / "eventlog.db") as log:
        for n in range(count):
            body = {"batch": [{"type": "track", "userId": f"u{n}", "event": "下单",
                               "messageId": f"m-{n}-{i}"} for i in range(10)]
                    + [{"type": "track", "userId": "u"}]}  # fmt: skip
            entry = LogEntry.new("web", "batch", json.dumps(body).encode(),
                                 received_at=datetime.now(UTC), events=11, invalid=1)  # fmt: skip
            log.append([entry]).result(timeout=10)


def test_load_moves_the_log_into_events_and_records_the_run(cli: Cli, workspace_home: Path) -> None:
    _log_batches(workspace_home, 5)
    loaded = cli("--home", workspace_home, "load", "--json")
    assert loaded.code == 0, loaded
    summary = loaded.json()
    assert (summary["entries"], summary["messages"]) == (5, 55)
    assert (summary["inserted"], summary["quarantined"], summary["pending_entries"]) == (50, 5, 0)
    again = cli("--home", workspace_home, "load", "--json").json()
    assert again["entries"] == 0 and again["run_id"] is None, "nothing pending: no run"
    runs = cli("--home", workspace_home, "runs", "--json").json()
    run = next(r for r in runs if r["run_id"] == summary["run_id"])
    assert run["kind"] == "event_load" and run["status"] == "succeeded"
    steps = cli("--home", workspace_home, "runs", summary["run_id"], "--json").json()
    assert [(s["rows_in"], s["rows_stored"], s["rows_rejected"]) for s in steps] == [(55, 50, 5)]
    counted = cli("--home", workspace_home, "sql", "select count(*) as n from quarantine",
                  "--format", "json")  # fmt: skip
    assert counted.json() == [{"n": 5}]
    human = cli("--home", workspace_home, "load")
    assert human.code == 0 and "pending_entries" in human.stdout


def test_the_server_loads_continuously(tmp_path: Path, cli: Cli) -> None:
    home = tmp_path / "ws"
    assert cli("--home", home, "init", "--json").code == 0
    key = cli("--home", home, "source", "create", "web", "--json").json()["write_key"]
    settings = load_settings(home=home, loader_interval_seconds=0.1)
    auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    with TestClient(create_app(settings)) as client:
        body = {"userId": "u1", "event": "Signed Up", "messageId": "live-1"}
        assert client.post("/v1/track", json=body, headers=auth).status_code == 200
        deadline = time.monotonic() + 20
        found: list[Any] = []
        while not found and time.monotonic() < deadline:
            time.sleep(0.1)
            result = cli("--home", home, "sql", "select message_id from events", "--format",
                         "json")  # fmt: skip
            found = result.json()
    assert found == [{"message_id": "live-1"}]
