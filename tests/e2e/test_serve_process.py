"""``custodia serve`` as a real process: it listens, answers /health, serves OpenAPI, and guards
every other route with the token ``init`` printed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url)  # noqa: S310 - the test's own localhost server
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - localhost
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    exe = str(Path(sys.executable).with_name("custodia"))
    home = tmp_path / "ws"
    env = {k: v for k, v in os.environ.items() if k != "CUSTODIA_HOME"}
    init = subprocess.run(
        [exe, "--home", str(home), "init", "--json"], capture_output=True, text=True, env=env,
        check=True,
    )  # fmt: skip
    token = json.loads(init.stdout)["token"]
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [exe, "--home", str(home), "serve", "--port", str(port)],
            stdout=sink, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if _get(f"{base}/health")[0] == 200:
                break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    else:
        proc.kill()
        proc.wait()
        pytest.fail(f"server did not start: {log.read_text()[-2000:]}")
    yield base, token
    proc.terminate()
    proc.wait(timeout=10)


def test_served_api(served: tuple[str, str]) -> None:
    base, token = served
    status, health = _get(f"{base}/health")
    assert status == 200 and health["status"] == "ok"
    status, spec = _get(f"{base}/openapi.json")
    assert status == 200 and "/v1/tables" in spec["paths"]
    assert _get(f"{base}/v1/tables")[0] == 401
    status, tables = _get(f"{base}/v1/tables", token)
    assert status == 200 and any(t["name"] == "events" for t in tables)
