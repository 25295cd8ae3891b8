"""Shared by the HTTP benchmarks: a free port, and one ``wrk`` run read back as numbers.

Each wrk Lua script ends with a ``done`` hook printing one ``JSON {...}`` line (requests,
duration, errors, latency percentiles in microseconds); :func:`run_wrk` runs wrk with 2 threads
and returns that line as a dict, with ``requests_per_second`` added.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_wrk(
    script: Path, url: str, env: dict[str, str], seconds: float, connections: int
) -> dict[str, Any]:
    """Run ``wrk`` with ``script`` against ``url`` (``env`` adds to the environment)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{round(seconds)}s", "--latency", "-s",
               str(script), url]  # fmt: skip
    done = subprocess.run(
        command, env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("JSON "))
    result: dict[str, Any] = json.loads(line[5:])
    result["requests_per_second"] = result["requests"] / (result["duration_us"] / 1e6)
    return result
