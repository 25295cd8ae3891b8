"""Server CPU per ``/v1/batch`` request over HTTP, uvicorn included, for the collector and for the
bare-ASGI ceiling: the share ``bench_collector.py`` measures with wrk, as CPU instead of
throughput, so that it can be compared on a busy machine.

Two servers run one after the other, each one process (``custodia serve --workers 1`` on a
fresh workspace with the continuous loader off, and ``uvicorn bare_asgi:app``); a client in this
process (asyncio, ``--connections`` keep-alive connections) posts ``--requests`` identical
batches of 100 track events to each, after a warm-up. The figure is the CPU the server process
used (all its threads, user + system, from ``/proc/<pid>/stat``) divided by the requests, the
median of ``--rounds``. ``ratio`` is bare CPU / collector CPU: about the share of the ceiling the
collector would reach if the client cost nothing (wrk's own CPU, on the same cores, pulls the
measured share a little towards 100%).

Run: ``.venv/bin/python benchmarks/ingest/profile_batch_http.py [--requests 4000]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvloop
from bench_collector import BIN, HERE, Server, clean_env, new_workspace, serve, write_bodies
from http_load import free_port


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid``, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one response (Content-Length or chunked); returns its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = head.lower()
    if b"transfer-encoding: chunked" in headers:
        await reader.readuntil(b"0\r\n\r\n")
    else:
        length = int(headers.split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
    return status


async def load(port: int, request: bytes, requests: int, connections: int) -> None:
    per_connection, extra = divmod(requests, connections)

    async def connection(count: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in range(count):
                writer.write(request)
                status = await read_response(reader)
                if status != 200:
                    raise RuntimeError(f"status {status}")
        finally:
            writer.close()

    await asyncio.gather(*(connection(per_connection + (i < extra)) for i in range(connections)))


def measure(server: Server, request: bytes, args: argparse.Namespace) -> dict[str, Any]:
    pid = server.process.pid
    rounds = []
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(load(server.port, request, args.warmup, args.connections))
        for _ in range(args.rounds):
            before = cpu_seconds(pid)
            runner.run(load(server.port, request, args.requests, args.connections))
            rounds.append((cpu_seconds(pid) - before) / args.requests * 1e6)
    return {"server_cpu_us": round(statistics.median(rounds), 1),
            "rounds": [round(r, 1) for r in rounds]}  # fmt: skip


def http_request(body: bytes, auth: str) -> bytes:
    head = (
        "POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Basic {auth}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--skip-bare", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="custodia-profile-http-"))
    figures: dict[str, Any] = {}
    try:
        write_bodies(work)
        body = (work / "batch.json").read_bytes()
        auth = new_workspace(work / "ws")
        collector = serve(work / "ws", 1, "0")
        try:
            figures["collector"] = measure(collector, http_request(body, auth), args)
        finally:
            collector.stop()
        if not args.skip_bare:
            port = free_port()
            bare = Server([str(BIN / "uvicorn"), "bare_asgi:app", "--app-dir", str(HERE),
                           "--port", str(port), "--no-access-log", "--log-level", "warning"],
                          port, clean_env(), work)  # fmt: skip
            try:
                figures["bare"] = measure(bare, http_request(body, ""), args)
            finally:
                bare.stop()
            figures["ratio"] = round(
                figures["bare"]["server_cpu_us"] / figures["collector"]["server_cpu_us"], 3
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"requests_per_round": args.requests, "connections": args.connections,
                      "load_average_1m": os.getloadavg()[0], **figures}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
