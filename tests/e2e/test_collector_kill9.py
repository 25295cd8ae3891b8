"""Durability: ``kill -9`` of a loaded ``custodia serve`` loses no acknowledged event.

Several client threads post batches with unique messageIds to a real server whose continuous
loader runs every 200 ms. The server is killed with SIGKILL while requests, group commits and
loads are in flight, then restarted; clients retry the batches whose outcome they never learned
(as SDKs do). After ``custodia load``, every messageId the server acknowledged with a 200 is in
``events`` exactly once, and nothing else is there.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

EXE = str(Path(sys.executable).with_name("custodia"))
THREADS = 6
BATCH = 25


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    home: Path
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [EXE, "--home", str(self.home), "serve", "--port", str(self.port)],
                stdout=sink, stderr=subprocess.STDOUT, env=self.env,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"server did not start: {self.log.read_text()[-2000:]}")

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@dataclass
class Ledger:
    """What the clients know: acknowledged batches and batches whose outcome is unknown."""

    acked: set[str] = field(default_factory=set)
    unknown: list[list[dict[str, object]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, env=env, check=True)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODIA_")}
    env["CUSTODIA_LOADER_INTERVAL_SECONDS"] = "0.2"
    home = tmp_path / "ws"
    _cli("--home", str(home), "init", "--json", env=env)
    key = json.loads(_cli("--home", str(home), "source", "create", "web", "--json", env=env).stdout)
    srv = Server(home, _free_port(), env, tmp_path / "serve.log")
    yield srv, key["write_key"]
    srv.stop()


def _post(port: int, auth: str, batch: list[dict[str, object]]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = json.dumps({"batch": batch}, ensure_ascii=False).encode()
        conn.request("POST", "/v1/batch", body=body, headers={"Authorization": auth,
                     "Content-Type": "application/json"})  # fmt: skip
        reply = conn.getresponse()
        reply.read()
        return reply.status
    finally:
        conn.close()


def _client(port: int, auth: str, name: int, ledger: Ledger, stop: threading.Event) -> None:
    sent = 0
    while not stop.is_set():
        batch = [{"type": "track", "userId": f"u{name}", "event": "页面浏览",
                  "messageId": f"c{name}-{sent}-{i}", "properties": {"i": i}}
                 for i in range(BATCH)]  # fmt: skip
        sent += 1
        try:
            status = _post(port, auth, batch)
        except (OSError, http.client.HTTPException):
            with ledger.lock:
                ledger.unknown.append(batch)
            return  # the server is gone
        assert status == 200, status
        with ledger.lock:
            ledger.acked.update(str(m["messageId"]) for m in batch)


def test_kill9_under_load_loses_no_acknowledged_event(server: tuple[Server, str]) -> None:
    srv, key = server
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    srv.start()
    ledger, stop = Ledger(), threading.Event()
    threads = [
        threading.Thread(target=_client, args=(srv.port, auth, n, ledger, stop))
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(2.0)  # requests, group commits and loader cycles are all in flight now
    srv.kill9()
    stop.set()
    for thread in threads:
        thread.join(timeout=20)
    acked_before_kill = set(ledger.acked)
    assert len(acked_before_kill) > 20 * BATCH, "the server was under load when killed"

    srv.start()  # restarted: its loader picks up what the dead one left in the log
    for batch in ledger.unknown:  # clients retry what they never heard back about
        assert _post(srv.port, auth, batch) == 200
        ledger.acked.update(str(m["messageId"]) for m in batch)
    srv.stop()
    loaded = json.loads(_cli("--home", str(srv.home), "load", "--json", env=srv.env).stdout)
    assert loaded["pending_entries"] == 0

    query = "select message_id, count(*) as n from events group by message_id"
    out = _cli("--home", str(srv.home), "sql", query, "--format", "json", env=srv.env).stdout
    stored = {row["message_id"]: row["n"] for row in json.loads(out)}
    missing = ledger.acked - stored.keys()
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:3]}"
    twice = {m: n for m, n in stored.items() if n != 1}
    assert not twice, f"stored more than once: {list(twice.items())[:3]}"
    assert acked_before_kill <= stored.keys()
    assert stored.keys() == ledger.acked, "every batch sent was acknowledged (after retries)"
