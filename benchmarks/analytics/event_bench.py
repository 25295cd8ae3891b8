"""Shared by the event-analysis benchmarks (funnel, paths, heatmap): a workspace to measure,
the scan floor, and the report.

The home is given (``--home H``, e.g. a ``custodia demo --customers 1000000`` workspace), or built
with ``--build ROWS`` synthetic track events (benchmarks/event_rows.py: 5 event names, 1M users,
30 days) under benchmarks/work/. Each analysis runs ``--repeat`` times on DuckDB; the figure is
the median, and its ratio to the *scan floor*: a bare DuckDB scan of the columns the analysis
reads, in the same run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import WORK, Stopwatch, save
from event_rows import event_rows
from scan_floor import scan_floor

from custodia.settings import load_settings
from custodia.workspace import Workspace

BASE_COLUMNS = (
    "type", "event", "name", "user_id", "anonymous_id", "message_id", '"timestamp"', "event_date"
)  # fmt: skip


def arguments(
    description: str, more: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.Namespace:
    """The shared options (``--home``, ``--build``, ``--repeat``) and the script's own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--home", type=Path, help="Workspace to measure (default: --build one)")
    parser.add_argument("--build", type=int, default=10_000_000, help="Synthetic events to build")
    parser.add_argument("--repeat", type=int, default=3)
    if more is not None:
        more(parser)
    return parser.parse_args()


def workspace_home(args: argparse.Namespace) -> Path:
    if args.home:
        return Path(args.home)
    home = WORK / f"events-{args.build}"
    if not (home / "lake" / "raw" / "events").exists():
        shutil.rmtree(home, ignore_errors=True)
        ws, _token = Workspace.create(load_settings(home=home))
        with ws:
            chunk = 1_000_000
            for start in range(0, args.build, chunk):
                n = min(chunk, args.build - start)
                ws.lake.append("raw", "events", event_rows(n, offset=start, users=1_000_000,
                                                           seed=start))  # fmt: skip
                print(f"built {start + n:,} events", flush=True)
    return home


def measure(
    name: str,
    args: argparse.Namespace,
    run: Callable[[Workspace], Any],
    columns: tuple[str, ...] = BASE_COLUMNS,
) -> None:
    """Run ``run(ws)`` ``args.repeat`` times and the scan floor as often; save the medians."""
    home = workspace_home(args)
    with Workspace.open(load_settings(home=home)) as ws:
        events = ws.query("SELECT count(*) AS n FROM events").to_pylist()[0]["n"]
        run(ws)  # warm: profile_keys built, files cached
        seconds, floors = [], []
        for _ in range(args.repeat):
            with Stopwatch() as sw:
                result = run(ws)
            seconds.append(sw.seconds)
            floors.append(scan_floor(ws, {"events": columns}))
    median, floor = statistics.median(seconds), statistics.median(floors)
    save(name, {
        "events": events,
        "seconds": round(median, 3),
        "scan_floor_seconds": round(floor, 3),
        "ratio_to_scan_floor": round(median / floor, 2) if floor else None,
        "summary": getattr(result, "summary", None),
    })  # fmt: skip
