"""Real Segment-compatible tracking clients against a running ``custodia serve``.

Each client library runs in its own virtual environment (their pinned dependencies conflict), as a
subprocess driven by ``segment_client_driver.py``: it sends every message type with Chinese and
English fields through the client's own API, batching, auth and compression, then flushes and
exits. The driver reports what went over the wire; after ``custodia load`` every message sent must
be in ``events`` exactly once, as sent, with the client's ``context.library`` and sane timestamps.

The virtual environments are cached in ``.venv-clients/<package>-<version>-py<X.Y>/`` at the repo
root (git-ignored) and rebuilt when the pin or the interpreter changes. Building one needs the
package registry: without it the tests skip, or fail when ``CUSTODIA_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.clients

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_ROOT = REPO_ROOT / ".venv-clients"
DRIVER = Path(__file__).with_name("segment_client_driver.py")
HISTORIC = "2024-05-01T08:30:00+08:00"  # an explicit event time, in China Standard Time


@dataclass(frozen=True)
class TrackingClient:
    """A client library at a pinned version and how it is known to speak on the wire."""

    package: str
    version: str
    authorization: str  # the Authorization header it sends: "basic" (key + colon) or "none"
    write_key_in_body: bool
    gzip: bool

    @property
    def label(self) -> str:
        return f"{self.package}-{self.version}"

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def source_stem(self) -> str:
        return "".join(ch if ch.isalnum() else "_" for ch in self.label.lower())


CLIENTS = (
    # 2.3.x: write key in the JSON body only (its documented behaviour)
    TrackingClient("segment-analytics-python", "2.3.6", "none", True, False),
    # 2.4.0 (latest): the key in the body and as HTTP Basic
    TrackingClient("segment-analytics-python", "2.4.0", "basic", True, False),
    TrackingClient("rudder-sdk-python", "2.1.9", "basic", False, True),
    TrackingClient("analytics-python", "1.4.post1", "basic", False, False),
)

# Segment wire field -> events column (scalars); traits/properties/context/integrations are JSON.
ID_COLUMNS = {
    "userId": "user_id",
    "anonymousId": "anonymous_id",
    "previousId": "previous_id",
    "groupId": "group_id",
    "event": "event",
    "name": "name",
}
# Top-level fields the clients send that ``events`` has no column for: kept in context.top_level
# (see docs/collect-http.md, "Fields without a column").
IN_CONTEXT = {"category", "channel"}
STORED = {*ID_COLUMNS, "type", "traits", "properties", "context", "integrations", "timestamp",
          "messageId"}  # fmt: skip


# -- virtual environments ----------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    """Skip, or fail when CUSTODIA_REQUIRE_SERVICES=1 (CI) says the clients must run."""
    if os.environ.get("CUSTODIA_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason}. CUSTODIA_REQUIRE_SERVICES=1 makes this a failure.", pytrace=False)
    pytest.skip(reason)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock file, so parallel test workers build a virtualenv once."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class VenvBuildError(Exception):
    """A client's virtualenv could not be built here (no registry, no venv module, ...)."""


def _build_step(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired as timeout:
        raise VenvBuildError(f"{what}: timed out after 300 s (registry reachable?)") from timeout
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise VenvBuildError(f"{what}: exit {done.returncode}: {tail}")


def client_python(client: TrackingClient) -> Path:
    """The interpreter of the client's cached virtualenv, built with pip on first use."""
    tag = f"py{sys.version_info.major}.{sys.version_info.minor}"
    target = VENV_ROOT / f"{client.label}-{tag}"
    python = target / "bin" / "python"
    stamp = target / "custodia-client.json"
    wanted = {"requirement": client.requirement, "python": sys.version, "base": sys.base_prefix}
    VENV_ROOT.mkdir(exist_ok=True)
    with _locked(VENV_ROOT / f"{target.name}.lock"):
        if python.exists() and stamp.exists() and json.loads(stamp.read_text()) == wanted:
            return python
        shutil.rmtree(target, ignore_errors=True)
        _build_step([sys.executable, "-m", "venv", str(target)], f"venv for {client.label}")
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
        _build_step(
            [*pip, "--timeout", "30", "--retries", "2", client.requirement],
            f"pip install {client.requirement}",
        )
        stamp.write_text(json.dumps(wanted))
    return python


@pytest.fixture(scope="session")
def client_venvs() -> Callable[[TrackingClient], Path]:
    """Session-wide access to the per-client virtualenvs (built lazily, cached across runs).

    A client whose virtualenv cannot be built skips (or fails, in CI) every test that needs it,
    with the reason, and is not tried again in the same session."""
    built: dict[TrackingClient, Path | VenvBuildError] = {}

    def python_for(client: TrackingClient) -> Path:
        if client not in built:
            try:
                built[client] = client_python(client)
            except VenvBuildError as failure:
                built[client] = failure
        found = built[client]
        if isinstance(found, VenvBuildError):
            _unavailable(f"{client.label} cannot be installed here ({found})")
            raise AssertionError("unreachable: _unavailable skips or fails")
        return found

    return python_for


# -- the collector under test ------------------------------------------------------------------


@dataclass(frozen=True)
class Collector:
    base_url: str
    home: Path
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=2) as reply:  # noqa: S310
            return bool(reply.status == 200)
    except (urllib.error.URLError, ConnectionError):
        return False


@pytest.fixture(scope="session")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    """A real ``custodia serve`` (uvicorn) on a free port over a fresh workspace."""
    root = tmp_path_factory.mktemp("collector")
    exe = str(Path(sys.executable).with_name("custodia"))
    home, log = root / "ws", root / "serve.log"
    env = {k: v for k, v in os.environ.items() if k != "CUSTODIA_HOME"}
    subprocess.run([exe, "--home", str(home), "init", "--json"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    base_url = f"http://127.0.0.1:{_free_port()}"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [exe, "--home", str(home), "serve", "--port", base_url.rsplit(":", 1)[1]],
            stdout=sink, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while not _healthy(base_url):
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            server.wait()
            pytest.fail(f"custodia serve did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    yield Collector(base_url, home, log)
    server.terminate()
    server.wait(timeout=15)


# -- driving a client --------------------------------------------------------------------------


def messages_for(tag: str, *, message_ids: bool) -> list[dict[str, Any]]:
    """Every message type, Chinese and English text; fixed messageIds for retries."""
    user, anon = f"user-{tag}", f"anon-{tag}"
    messages: list[dict[str, Any]] = [
        {"type": "identify", "userId": user, "context": {"locale": "zh-CN"},
         "traits": {"name": "张伟", "email": "zhang.wei@example.com", "city": "上海"}},
        {"type": "track", "userId": user, "event": "Order Completed",
         "properties": {"order_id": f"o-{tag}", "total": 299.5, "currency": "CNY",
                        "products": [{"sku": "SKU-1", "name": "真丝连衣裙 👗", "quantity": 1}]}},
        {"type": "track", "anonymousId": anon, "event": "商品浏览", "timestamp": HISTORIC,
         "properties": {"商品名称": "羊毛围巾", "价格": 159},
         "integrations": {"All": False, "Webhooks": True}},
        {"type": "page", "userId": user, "name": "Checkout", "category": "结账",
         "properties": {"url": "https://shop.example.com/checkout", "title": "结账 Checkout"}},
        {"type": "screen", "anonymousId": anon, "name": "购物车",
         "properties": {"items": 2, "note": "Cart screen 购物车页面"}},
        {"type": "group", "userId": user, "groupId": f"g-{tag}",
         "traits": {"name": "杭州示例贸易有限公司", "industry": "Retail", "employees": 42}},
        {"type": "alias", "userId": user, "previousId": anon},
    ]  # fmt: skip
    if message_ids:
        for index, message in enumerate(messages):
            message["messageId"] = f"{tag}-{index}"
    return messages


def run_client(
    python: Path,
    client: TrackingClient,
    collector: Collector,
    write_key: str,
    messages: list[dict[str, Any]],
    workdir: Path,
    repeat: int = 1,
) -> dict[str, Any]:
    """Run the driver in the client's virtualenv; return its wire report (all posts answered)."""
    workdir.mkdir(parents=True, exist_ok=True)
    spec = workdir / "messages.json"
    spec.write_text(json.dumps(messages, ensure_ascii=False), encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", ""), "NO_PROXY": "127.0.0.1,localhost"}
    done = subprocess.run(
        [str(python), str(DRIVER), "--client", client.package, "--host", collector.base_url,
         "--write-key", write_key, "--messages", str(spec), "--repeat", str(repeat)],
        capture_output=True, text=True, timeout=120, cwd=workdir, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"driver failed: {done.stderr[-2000:]}"
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["version"] == client.version
    assert not report["errors"] and not report["refused"], report
    statuses = [(r["status"], r["response"]) for r in report["requests"]]
    assert statuses and all(code == 200 for code, _ in statuses), statuses
    return report


def wire_messages(report: dict[str, Any]) -> dict[str, list[tuple[dict[str, Any], str]]]:
    """Every copy of every message that went over the wire, with its batch's sentAt."""
    copies: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for request in report["requests"]:
        for message in request["body"]["batch"]:
            copies.setdefault(message["messageId"], []).append((message, request["body"]["sentAt"]))
    return copies


def create_source(cli: Any, collector: Collector, name: str) -> str:
    created = cli("--home", collector.home, "source", "create", name, "--json")
    assert created.code == 0, created
    info = created.json()
    assert info["name"] == name
    return str(info["write_key"])


def load_and_read(cli: Any, collector: Collector, source: str) -> dict[str, list[dict[str, Any]]]:
    """``custodia load`` then the source's rows of ``events``, grouped by message_id."""
    loaded = cli("--home", collector.home, "load")
    assert loaded.code == 0, loaded
    query = f"select * from events where source = '{source}' order by message_id"
    result = cli("--home", collector.home, "sql", query, "--format", "json")
    assert result.code == 0, result
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in result.json():
        rows.setdefault(row["message_id"], []).append(row)
    return rows


# -- what "stored as sent" means ---------------------------------------------------------------


def _instant(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None, f"timestamp without a zone: {text}"
    return parsed.astimezone(UTC)


def _json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def assert_stored_as_sent(
    row: dict[str, Any], copies: list[tuple[dict[str, Any], str]], client: TrackingClient
) -> None:
    """One stored row is one of the copies the client sent of that message, field for field."""
    stamped = (_instant(row["original_timestamp"]), _instant(row["sent_at"]))
    matching = [
        w for w, sent_at in copies if (_instant(w["timestamp"]), _instant(sent_at)) == stamped
    ]
    assert matching, "original_timestamp and sent_at are those of a copy the client sent"
    wire = matching[0]
    assert set(wire) <= STORED | IN_CONTEXT, f"unexpected fields: {set(wire) - STORED - IN_CONTEXT}"
    assert row["type"] == wire["type"]
    for field, column in ID_COLUMNS.items():
        assert row[column] == wire.get(field), (column, row[column], wire.get(field))
    assert _json(row["traits"]) == _expected_traits(wire)
    assert _json(row["properties"]) == wire.get("properties")
    assert (_json(row["integrations"]) or {}) == (wire.get("integrations") or {})
    context = _json(row["context"])
    assert context["library"] == {"name": "analytics-python", "version": client.version}
    assert {k: context.get(k) for k in wire["context"]} == wire["context"]
    top_level = {k: wire[k] for k in IN_CONTEXT if wire.get(k) is not None}
    assert context.get("top_level") == (top_level or None)
    _assert_times(row)


def _expected_traits(wire: dict[str, Any]) -> Any:
    """identify: context.traits (rudder-sdk-python sends them there) under the message's own."""
    nested = wire["context"].get("traits") if wire["type"] == "identify" else None
    if not isinstance(nested, dict):
        return wire.get("traits")
    return {**nested, **(wire.get("traits") or {})}


def _assert_times(row: dict[str, Any]) -> None:
    """received_at is the server's clock; timestamp = receivedAt - (sentAt - originalTimestamp)."""
    received, sent = _instant(row["received_at"]), _instant(row["sent_at"])
    original, timestamp = _instant(row["original_timestamp"]), _instant(row["timestamp"])
    now = datetime.now(UTC)
    assert now - timedelta(minutes=10) < received <= now
    assert abs(sent - received) < timedelta(seconds=60), "same machine: little clock skew"
    assert abs(timestamp - (received - (sent - original))) <= timedelta(milliseconds=1)
    assert row["event_date"] == timestamp.date().isoformat()
    expected = _instant(HISTORIC) if original < now - timedelta(days=1) else received
    assert abs(timestamp - expected) < timedelta(seconds=60)


def assert_wire_form(report: dict[str, Any], client: TrackingClient, base_url: str) -> None:
    """The client spoke as documented, so the auth and encoding paths are the ones we meant."""
    for request in report["requests"]:
        assert request["url"] == f"{base_url}/v1/batch"
        assert request["authorization"] == client.authorization
        assert request["write_key_in_body"] is client.write_key_in_body
        assert request["gzip"] is client.gzip


# -- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("client", CLIENTS, ids=lambda c: c.label)
def test_client_sends_every_type_stored_once_as_sent(
    client: TrackingClient,
    client_venvs: Callable[[TrackingClient], Path],
    collector: Collector,
    cli: Any,
    tmp_path: Path,
) -> None:
    python = client_venvs(client)
    source = f"{client.source_stem}_types"
    write_key = create_source(cli, collector, source)
    messages = messages_for(source, message_ids=False)
    report = run_client(python, client, collector, write_key, messages, tmp_path)
    assert_wire_form(report, client, collector.base_url)
    sent = wire_messages(report)
    assert len(sent) == len(messages) and all(len(c) == 1 for c in sent.values())
    assert sorted(m["type"] for m, _ in (c[0] for c in sent.values())) == sorted(
        m["type"] for m in messages
    )
    stored = load_and_read(cli, collector, source)
    assert sorted(stored) == sorted(sent), "every message sent is stored, and nothing else"
    for message_id, rows in stored.items():
        assert len(rows) == 1, f"{message_id} stored {len(rows)} times"
        assert rows[0]["source"] == source
        assert_stored_as_sent(rows[0], sent[message_id], client)


@pytest.mark.parametrize("client", CLIENTS, ids=lambda c: c.label)
def test_client_retried_batches_are_stored_once(
    client: TrackingClient,
    client_venvs: Callable[[TrackingClient], Path],
    collector: Collector,
    cli: Any,
    tmp_path: Path,
) -> None:
    python = client_venvs(client)
    source = f"{client.source_stem}_retry"
    write_key = create_source(cli, collector, source)
    messages = messages_for(source, message_ids=True)
    # The same batch posted twice by the client's own request code (a lost response) ...
    first = run_client(python, client, collector, write_key, messages, tmp_path / "a", repeat=2)
    assert len(first["requests"]) >= 2
    assert_wire_form(first, client, collector.base_url)
    stored = load_and_read(cli, collector, source)
    assert {k: len(v) for k, v in stored.items()} == {m["messageId"]: 1 for m in messages}
    # ... and once more, by a new process, after the first copy reached the lakehouse.
    again = run_client(python, client, collector, write_key, messages, tmp_path / "b")
    copies = wire_messages(first)
    for message_id, more in wire_messages(again).items():
        copies[message_id].extend(more)
    stored = load_and_read(cli, collector, source)
    assert {k: len(v) for k, v in stored.items()} == {m["messageId"]: 1 for m in messages}
    for message_id, rows in stored.items():
        assert_stored_as_sent(rows[0], copies[message_id], client)
