"""The HTTP collector under load: events/s and latency, against the bare-ASGI ceiling, and the
event loader's lag (issue 4 goals: ``/v1/batch`` >= 30% of the ceiling with p99 < 100 ms,
``/v1/track`` >= 15,000 events/s, loader lag < 5 s at 100,000 events/s).

Every figure is ``wrk`` (Debian's, with ``post.lua``) against a server on this machine, after a
warm-up, with ``--seconds`` of measurement:

1. ``bare_batch`` / ``bare_track``: ``bare_asgi.py`` under uvicorn with the same worker count:
   reads the body and parses it with orjson, nothing else (the ceiling);
2. ``collector_batch`` / ``collector_track``: ``custodia serve --workers N`` (access log off,
   continuous loader off so it does not compete): write key, gzip/limits, every event
   validated, group-committed to the event log (fsync) before the 200. Bare and collector runs
   alternate, so both see the same machine;
3. ``loader_lag``: ``custodia serve`` with its continuous loader (default 1 s interval) while
   wrk posts batches with new messageIds at ``--lag-rate`` events/s (paced with a per-connection
   delay, calibrated first). Lag is the age of the oldest event in each loader commit when it
   became visible in ``events`` (from the run log), over the measured window; after the load
   stops, the time to drain what is left is measured too; ``loader_alone``: the loader moving a
   log of 1,000,000 events with nothing else running (its capacity on one core).

Batches hold 100 track events of about 400 bytes (Chinese and English text); wrk uses 2 threads
and the connection counts in ``RUNS`` (the same for the bare app and the collector). The
machine's load average is recorded beside each figure: other work on the two cores slows every
figure.
Results go to ``benchmarks/results/collector_ingest.json`` (throughput) and
``benchmarks/results/collector_loader_lag.json``.

Run: ``.venv/bin/python benchmarks/ingest/bench_collector.py [--seconds 15] [--workers 2]``
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import WORK, save
from http_load import free_port, run_wrk

from custodia.pipeline.event_loader import EventLoader
from custodia.settings import load_settings
from custodia.storage.event_log import LogEntry
from custodia.storage.event_log_shards import EventLogShards
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace

HERE = Path(__file__).resolve().parent
RUNS = (  # figure label, route, wrk connections, events per request
    ("batch", "batch", 32, 100),
    ("track", "track", 128, 1),
    ("track_64_connections", "track", 64, 1),
)
"""Single events need more concurrent clients than batches for group commit to fill its groups:
each fsync is shared by the requests that arrive while the previous one is on its way."""
BIN = Path(sys.executable).parent
BATCH_EVENTS = 100


def event(i: int) -> dict[str, Any]:
    """One track event of about 400 bytes; ``__REQ__`` is replaced per request when unique."""
    return {
        "type": "track",
        "event": "Product Viewed",
        "userId": f"user-{i:06d}",
        "messageId": f"__REQ__-{i}",
        "timestamp": "2026-11-24T03:04:05.123Z",
        "properties": {"product_id": f"P{i:05d}", "name": "羊毛衫 Wool sweater", "price": 199.0,
                       "currency": "CNY", "category": "knitwear"},
        "context": {"ip": "203.0.113.7", "locale": "zh-CN",
                    "library": {"name": "analytics-python", "version": "2.3.0"},
                    "page": {"url": "https://shop.example.com/p/123"}},
    }  # fmt: skip


def write_bodies(folder: Path) -> dict[str, int]:
    batch = {"batch": [event(i) for i in range(BATCH_EVENTS)], "sentAt": "2026-11-24T03:04:06Z"}
    batch_text = json.dumps(batch, ensure_ascii=False, separators=(",", ":")).encode()
    track_text = json.dumps(event(0), ensure_ascii=False, separators=(",", ":")).encode()
    (folder / "batch.json").write_bytes(batch_text)
    (folder / "track.json").write_bytes(track_text)
    return {"batch_bytes": len(batch_text), "event_bytes": len(track_text)}


class Server:
    """A server process started with ``command``; ready once its port accepts connections."""

    def __init__(self, command: list[str], port: int, env: dict[str, str], cwd: Path) -> None:
        self.port = port
        log = (cwd / f"server-{port}.log").open("wb")
        self.process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    time.sleep(1.0)  # let every worker finish starting
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server on port {port} did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def wrk(
    url: str,
    body: Path,
    auth: str,
    seconds: float,
    connections: int,
    *,
    unique: bool = False,
    delay_ms: float = 0,
) -> dict[str, Any]:
    env = {"BODY": str(body), "AUTH": auth, "UNIQUE": "1" if unique else "0",
           "DELAY_MS": str(int(delay_ms)), "RUN": os.urandom(4).hex()}  # fmt: skip
    return run_wrk(HERE / "post.lua", url, env, seconds, connections)


def figure(result: dict[str, Any], events_per_request: int) -> dict[str, Any]:
    return {
        "events_per_second": round(result["requests_per_second"] * events_per_request),
        "requests_per_second": round(result["requests_per_second"]),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p90_ms": round(result["p90_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "non_2xx": result["non2xx"],
        "socket_errors": result["errors"],
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def measure(url: str, body: Path, auth: str, args: argparse.Namespace, connections: int,
            events: int) -> dict[str, Any]:  # fmt: skip
    wrk(url, body, auth, args.warmup, connections)
    return figure(wrk(url, body, auth, args.seconds, connections), events)


def new_workspace(home: Path) -> str:
    """A fresh workspace with one source; returns the Basic credentials of its write key."""
    shutil.rmtree(home, ignore_errors=True)
    exe = str(BIN / "custodia")
    env = clean_env()
    subprocess.run([exe, "--home", str(home), "init", "--json"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    created = subprocess.run([exe, "--home", str(home), "source", "create", "bench", "--json"],
                             env=env, check=True, capture_output=True, text=True)  # fmt: skip
    key = json.loads(created.stdout)["write_key"]
    return base64.b64encode(f"{key}:".encode()).decode()


def clean_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODIA_")}
    env.update({f"CUSTODIA_{k.upper()}": v for k, v in settings.items()})
    return env


def serve(home: Path, workers: int, loader_interval: str) -> Server:
    port = free_port()
    env = clean_env(access_log="false", loader_interval_seconds=loader_interval)
    command = [str(BIN / "custodia"), "--home", str(home), "serve", "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    return Server(command, port, env, home.parent)


def throughput(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Bare and collector runs alternate; each collector run gets a fresh workspace, so no run
    pays for the event log a previous run filled (a multi-GB WAL being checkpointed)."""
    bare_port = free_port()
    bare = Server(
        [str(BIN / "uvicorn"), "bare_asgi:app", "--workers", str(args.workers), "--port",
         str(bare_port), "--no-access-log", "--log-level", "warning"],
        bare_port, clean_env(), HERE,
    )  # fmt: skip
    figures: dict[str, Any] = {}
    try:
        for label, route, conns, events in RUNS:
            body = work / f"{route}.json"
            url = f"http://127.0.0.1:{bare_port}/v1/{route}"
            figures[f"bare_{label}"] = {**measure(url, body, "", args, conns, events),
                                        "connections": conns}  # fmt: skip
            figures[f"collector_{label}"] = collector_run(args, work, route, conns, events)
            for name in ("bare", "collector"):
                print(name, label, figures[f"{name}_{label}"], flush=True)
    finally:
        bare.stop()
    for label, *_rest in RUNS:
        share = figures[f"collector_{label}"]["events_per_second"]
        figures[f"collector_{label}_share_of_ceiling"] = round(
            share / figures[f"bare_{label}"]["events_per_second"], 3
        )
    return figures


def collector_run(
    args: argparse.Namespace, work: Path, route: str, conns: int, events: int
) -> dict[str, Any]:
    home = work / "ws"
    auth = new_workspace(home)
    collector = serve(home, args.workers, "0")
    try:
        url = f"http://127.0.0.1:{collector.port}/v1/{route}"
        return {**measure(url, work / f"{route}.json", auth, args, conns, events),
                "connections": conns}  # fmt: skip
    finally:
        collector.stop()
        shutil.rmtree(home, ignore_errors=True)


def lag(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    home = work / "ws-lag"
    auth = new_workspace(home)
    server = serve(home, args.workers, "1.0")
    url = f"http://127.0.0.1:{server.port}/v1/batch"
    body = work / "batch.json"
    connections, target = 100, args.lag_rate / BATCH_EVENTS
    try:
        delay = calibrate(url, body, auth, connections, target)
        for _attempt in range(4):  # the measured rate must be within 5% of the target
            drain_seconds(home)  # start the measured window with nothing pending
            started = datetime.now(UTC)
            result = wrk(url, body, auth, args.seconds, connections, unique=True, delay_ms=delay)
            stopped = datetime.now(UTC)
            drain = drain_seconds(home)
            rate = result["requests_per_second"]
            if abs(rate - target) <= 0.05 * target:
                break
            delay = max(delay - (connections * 1000 / rate - connections * 1000 / target), 0)
        time.sleep(2)
    finally:
        server.stop()
    chunks = loader_chunks(home, started)
    lags = [c["max_lag_seconds"] for c in chunks]
    return {
        "target_events_per_second": args.lag_rate,
        "achieved_events_per_second": round(result["requests_per_second"] * BATCH_EVENTS),
        "connections": connections,
        "delay_ms": round(delay),
        "window_seconds": round((stopped - started).total_seconds(), 1),
        "loader_commits": len(chunks),
        "events_loaded": sum(c["inserted"] for c in chunks),
        "lag_max_s": max(lags, default=None),
        "lag_p50_s": statistics.median(lags) if lags else None,
        "lag_p95_s": round(statistics.quantiles(lags, n=20)[-1], 3) if len(lags) > 2 else None,
        "drain_after_load_s": drain,
        "collector_p99_ms": round(result["p99_us"] / 1000, 2),
        "non_2xx": result["non2xx"],
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def loader_capacity(work: Path, events: int) -> dict[str, Any]:
    """How fast the loader alone moves a full log into ``events`` (no server running): batches
    appended straight to the event log, then one ``EventLoader.load`` timed."""
    home = work / "ws-capacity"
    new_workspace(home)
    template = (work / "batch.json").read_bytes()
    with (
        Workspace.open(load_settings(home=home)) as ws,
        EventLogShards(ws.settings.event_log_path) as shards,
    ):
        log = shards.claim()
        now = datetime.now(UTC)
        for n in range(events // BATCH_EVENTS):
            body = template.replace(b"__REQ__", f"c{n}".encode())
            entry = LogEntry.new("bench", "batch", body, received_at=now, events=BATCH_EVENTS)
            log.append([entry])
        log.append([]).result()
        while log.status("lake-loader").pending_entries < events // BATCH_EVENTS:
            time.sleep(0.1)
        started, cpu = time.perf_counter(), time.process_time()
        report = EventLoader(ws, shards).load()
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    shutil.rmtree(home, ignore_errors=True)
    return {
        "events": report.inserted,
        "seconds": round(seconds, 2),
        "events_per_second": round(report.inserted / seconds),
        "cpu_seconds": round(cpu_seconds, 2),
        "chunks": len(report.chunks),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def calibrate(url: str, body: Path, auth: str, connections: int, target: float) -> float:
    """A per-connection delay (ms) that paces wrk to about ``target`` requests per second."""
    delay = max(connections * 1000 / target - 5, 0)
    for _ in range(6):
        rate = wrk(url, body, auth, 3, connections, unique=True, delay_ms=delay)[
            "requests_per_second"
        ]
        if abs(rate - target) / target < 0.04:
            break
        cycle = connections * 1000 / rate  # ms per request per connection, delay included
        delay = max(delay + (connections * 1000 / target - cycle), 0)
    return round(delay)


def drain_seconds(home: Path) -> float:
    started = time.monotonic()
    with EventLogShards(home / "eventlog.db") as shards:
        while shards.status("lake-loader").pending_entries and time.monotonic() - started < 120:
            time.sleep(0.1)
    return round(time.monotonic() - started, 2)


def loader_chunks(home: Path, since: datetime) -> list[dict[str, Any]]:
    """The loader's chunk reports committed since ``since`` (from the run log)."""
    with Workspace.open(load_settings(home=home)) as ws:
        runs = RunLog(ws.store)
        found = []
        for run in runs.list_runs(limit=10_000):
            if run.kind != "event_load":
                continue
            for step in runs.list_steps(run.run_id):
                finished = step.finished_at
                if finished is not None and finished >= since and isinstance(step.detail, dict):
                    found.append(step.detail)
        return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lag-rate", type=int, default=100_000)
    parser.add_argument("--skip-lag", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    work = WORK / "collector"
    work.mkdir(parents=True, exist_ok=True)
    setup: dict[str, Any] = {"bodies": write_bodies(work), "workers": args.workers,
                             "seconds": args.seconds, "warmup_seconds": args.warmup}  # fmt: skip
    if not args.skip_throughput:
        save("collector_ingest", {**setup, **throughput(args, work)})
        shutil.rmtree(work / "ws", ignore_errors=True)
    if not args.skip_lag:
        capacity = loader_capacity(work, 1_000_000)
        save("collector_loader_lag", {**setup, **lag(args, work), "loader_alone": capacity})
        shutil.rmtree(work / "ws-lag", ignore_errors=True)


if __name__ == "__main__":
    main()
