"""CPU per ``/v1/batch`` request (``--route track``: per ``/v1/track`` request) in the real server
app, without HTTP or wrk: how the cost of the collector's routes was found, and how a change to
them is judged.

The wrk figures of ``bench_collector.py`` need a quiet machine; CPU time per request does not
(much). This script builds the same app ``custodia serve`` runs (``create_server_app``) on a
fresh workspace (``custodia init`` + one source, so the shipped ``at_entry`` rule is in force;
the event log on disk, fsync'd group commit; continuous loader off, as in the benchmark), starts
its lifespan, then drives it with direct ASGI calls: ``--requests`` identical ``/v1/batch``
requests of 100 track events of about 400 bytes (``bench_collector.write_bodies``), from
``--concurrency`` tasks at once (so group commit forms groups, as under wrk), after a warm-up.

It reports, per request:

- ``process_cpu_us``: CPU of the whole process (the event loop, the log's writer thread with
  its SQLite inserts, the checkpointer): what a server worker spends on one request, minus
  uvicorn's HTTP parsing and socket writes;
- ``loop_cpu_us``: CPU of the event-loop thread alone (the part that limits a worker);
- with ``--profile``: a cProfile top list of the event-loop thread (tottime), on a separate
  run so that profiling does not inflate the figures above.

Each figure is the median of ``--rounds`` rounds. Every reply must be 200 with 100 accepted.

Run: ``.venv/bin/python benchmarks/ingest/profile_batch.py [--requests 3000] [--profile]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvloop
from bench_collector import new_workspace, write_bodies

from custodia.api.app import create_server_app
from custodia.settings import load_settings

Message = dict[str, Any]


class Lifespan:
    """The app's ASGI lifespan, started and stopped by hand (what uvicorn does)."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._task = asyncio.create_task(self._app(scope, self._inbox.get, self._outbox.put))
        await self._inbox.put({"type": "lifespan.startup"})
        reply = await self._outbox.get()
        assert reply["type"] == "lifespan.startup.complete", reply

    async def stop(self) -> None:
        await self._inbox.put({"type": "lifespan.shutdown"})
        await self._outbox.get()
        assert self._task is not None
        await self._task


def batch_scope(auth: str, length: int, route: str = "batch") -> Message:
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Basic {auth}".encode()),
        (b"content-length", str(length).encode()),
    ]
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": f"/v1/{route}", "raw_path": f"/v1/{route}".encode(),
        "query_string": b"",
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000), "state": {},
    }  # fmt: skip


async def post(app: Any, scope: Message, body: bytes) -> tuple[int, bytes]:
    """One request through the ASGI interface; returns status and body."""
    sent: list[Message] = []
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(dict(scope), receive, send)
    status = sent[0]["status"]
    return status, b"".join(m.get("body", b"") for m in sent[1:])


async def drive(app: Any, scope: Message, body: bytes, requests: int, concurrency: int) -> None:
    """``requests`` requests from ``concurrency`` tasks; every one must be accepted in full."""
    per_task, extra = divmod(requests, concurrency)
    events = 100 if scope["path"] == "/v1/batch" else 1

    async def client(count: int) -> None:
        for _ in range(count):
            status, reply = await post(app, scope, body)
            if status != 200 or json.loads(reply)["accepted"] != events:
                raise RuntimeError(f"unexpected reply {status}: {reply[:200]!r}")

    await asyncio.gather(*(client(per_task + (i < extra)) for i in range(concurrency)))


async def session(args: argparse.Namespace, home: Path, auth: str, body: bytes) -> dict[str, Any]:
    settings = load_settings(home=home, loader_interval_seconds=0, access_log=False)
    app = create_server_app(settings)
    lifespan = Lifespan(app)
    await lifespan.start()
    scope = batch_scope(auth, len(body), args.route)
    try:
        await drive(app, scope, body, args.warmup, args.concurrency)
        rounds = []
        for _ in range(args.rounds):
            rounds.append(await timed(drive(app, scope, body, args.requests, args.concurrency),
                                      args.requests))  # fmt: skip
        figures = {key: round(statistics.median(r[key] for r in rounds), 1) for key in rounds[0]}
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await drive(app, scope, body, args.requests, args.concurrency)
            profiler.disable()
            stats = pstats.Stats(profiler).sort_stats("tottime")
            stats.print_stats(args.top)
    finally:
        await lifespan.stop()
    return {"rounds": rounds, "median": figures}


async def timed(run: Awaitable[None], requests: int) -> dict[str, float]:
    """CPU (whole process, event-loop thread, each other thread: user and system) and wall time
    per request of ``run``."""
    threads = thread_times()
    wall, process, loop = time.perf_counter(), time.process_time(), time.thread_time()
    await run
    figures = {
        "process_cpu_us": (time.process_time() - process) / requests * 1e6,
        "loop_cpu_us": (time.thread_time() - loop) / requests * 1e6,
        "wall_us": (time.perf_counter() - wall) / requests * 1e6,
    }
    for name, (user, system) in thread_times().items():
        user0, system0 = threads.get(name, (0.0, 0.0))
        figures[f"{name}_user_us"] = (user - user0) / requests * 1e6
        figures[f"{name}_sys_us"] = (system - system0) / requests * 1e6
    return {key: round(value, 1) for key, value in figures.items()}


def thread_times() -> dict[str, tuple[float, float]]:
    """User and system CPU seconds of each thread of this process, by thread name (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[str, tuple[float, float]] = {}
    for thread in threading.enumerate():
        try:
            stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
        except (OSError, TypeError):
            continue
        fields = stat.rpartition(")")[2].split()
        user, system = int(fields[11]) / tick, int(fields[12]) / tick
        old = found.get(thread.name, (0.0, 0.0))
        found[thread.name] = (old[0] + user, old[1] + system)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--profile", action="store_true", help="print a cProfile top list")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--route", choices=("batch", "track"), default="batch",
                        help="batch: 100 events per request; track: one event")  # fmt: skip
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="custodia-profile-batch-"))
    try:
        write_bodies(work)
        body = (work / f"{args.route}.json").read_bytes()
        auth = new_workspace(work / "ws")
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # as uvicorn does
            result = runner.run(session(args, work / "ws", auth, body))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"route": args.route, "requests_per_round": args.requests,
                      "concurrency": args.concurrency, "body_bytes": len(body),
                      "load_average_1m": os.getloadavg()[0],
                      **result}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
