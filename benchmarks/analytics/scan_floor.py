"""The floor every analysis benchmark compares against: a bare DuckDB scan of the columns it reads.

Issue 8 asks each analysis for its seconds and their ratio to this floor, measured in the same
run. ``timed`` runs an analysis once to warm up (profile_keys built, files in the page cache),
then ``n`` times, each followed by the floor, and reports medians.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from typing import Any

from bench_record import Stopwatch

from custodia.workspace import Workspace


def scan_floor(ws: Workspace, tables: Mapping[str, tuple[str, ...]]) -> float:
    """Seconds to read ``columns`` of each table in full (``count`` of every column)."""
    with Stopwatch() as sw:
        for table, columns in tables.items():
            ws.query("SELECT " + ", ".join(f"count({c})" for c in columns) + f" FROM {table}")
    return sw.seconds


def timed(
    ws: Workspace, run: Callable[[], Any], floor: Mapping[str, tuple[str, ...]], n: int
) -> dict[str, Any]:
    """Median seconds of ``run`` over ``n`` rounds, the median floor, and their ratio."""
    run()
    seconds, floors = [], []
    for _ in range(n):
        with Stopwatch() as sw:
            run()
        seconds.append(sw.seconds)
        floors.append(scan_floor(ws, floor))
    median, base = statistics.median(seconds), statistics.median(floors)
    return {"seconds": round(median, 3), "scan_floor_seconds": round(base, 3),
            "ratio_to_scan_floor": round(median / base, 2) if base else None}  # fmt: skip
