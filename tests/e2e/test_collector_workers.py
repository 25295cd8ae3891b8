"""``custodia serve --workers 2``: both workers collect, the loader runs as its own process (and
loads without ``custodia load``), and stopping the server stops the loader too."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXE = str(Path(sys.executable).with_name("custodia"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cli(home: Path, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run([EXE, "--home", str(home), *args], capture_output=True, text=True,
                          env=env, check=True)  # fmt: skip
    return done.stdout


def _children(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(status.parent.name))
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (an exited child waiting to be reaped by init)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _post(port: int, auth: str, body: dict[str, object]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/v1/batch", body=json.dumps(body), headers={"Authorization": auth})
        reply = conn.getresponse()
        reply.read()
        return reply.status
    finally:
        conn.close()


def test_two_workers_and_a_loader_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODIA_")}
    env["CUSTODIA_LOADER_INTERVAL_SECONDS"] = "0.2"
    home = tmp_path / "ws"
    _cli(home, "init", "--json", env=env)
    key = json.loads(_cli(home, "source", "create", "web", "--json", env=env))["write_key"]
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    port = _free_port()
    with (tmp_path / "serve.log").open("wb") as sink:
        server = subprocess.Popen(
            [EXE, "--home", str(home), "serve", "--port", str(port), "--workers", "2"],
            stdout=sink, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            try:
                # both workers claim their shard of the log when their app starts
                started = len(_children(server.pid)) >= 3 and (home / "eventlog.1.db").exists()
                if _post(port, auth, {"batch": []}) == 200 and started:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail(f"server did not start: {(tmp_path / 'serve.log').read_text()[-2000:]}")
        assert len(_children(server.pid)) >= 3, "two workers and the loader process"
        assert (home / "eventlog.1.db").exists(), "each worker appends to a shard of its own"
        for n in range(20):
            batch = [{"type": "track", "userId": f"u{n}", "event": "浏览", "messageId": f"w{n}-{i}"}
                     for i in range(10)]  # fmt: skip
            assert _post(port, auth, {"batch": batch}) == 200
        query = "select count(*) as n from events"
        stored = 0
        while stored < 200 and time.monotonic() < deadline + 30:
            time.sleep(0.3)
            stored = json.loads(_cli(home, "sql", query, "--format", "json", env=env))[0]["n"]
        assert stored == 200, "the loader process loaded everything, without `custodia load`"
        children = _children(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    time.sleep(0.5)
    assert not [pid for pid in children if _running(pid)], "no process left behind"
