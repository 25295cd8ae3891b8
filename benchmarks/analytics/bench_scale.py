"""Every analysis of issue 8 on one large workspace: seconds, ratio to the scan floor, peak memory.

Run: ``.venv/bin/python benchmarks/analytics/bench_scale.py --home H [--repeat 3] [--only rfm,...]``
on a ``custodia demo --customers 1000000`` workspace (the issue's figures: 1M customers and their
events). Each analysis benchmark script of this folder runs in its own process, one after the
other, so each one's peak memory (the process's maximum resident set: Python, DuckDB and Arrow
together) is its own; the seconds and scan-floor ratios are the scripts' own figures (median of
``--repeat`` runs, the floor measured in the same process). The table lands in
``benchmarks/results/analytics_scale.json`` with what the workspace holds.

The funnel here is the demo's own 5-step path (``Home`` to ``Order Completed``) with a 14-day
window; ``--funnel-from`` / ``--funnel-to`` limit where attempts start (e.g. to a range holding
about 10M events).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import RESULTS, save

from custodia.core.errors import TableNotFoundError
from custodia.settings import load_settings
from custodia.workspace import Workspace

HERE = Path(__file__).resolve().parent
DEMO_FUNNEL = ("Home", "Product Viewed", "Product Added", "Checkout Started", "Order Completed")


def scripts(args: argparse.Namespace) -> dict[str, tuple[list[str], list[str]]]:
    """Name -> (command line, result files it writes)."""
    home, repeat = str(args.home), str(args.repeat)
    common = ["--home", home, "--repeat", repeat]
    funnel = [a for step in DEMO_FUNNEL for a in ("--step", step)]
    if args.funnel_from:
        funnel += ["--from", args.funnel_from]
    if args.funnel_to:
        funnel += ["--to", args.funnel_to]
    return {
        "rfm": (["bench_rfm.py", *common], ["analytics_rfm"]),
        "traits": (["bench_traits.py", *common], ["analytics_traits"]),
        "funnel": (["bench_funnel.py", *common, *funnel], ["analytics_funnel"]),
        "paths": (["bench_paths.py", *common], ["analytics_paths"]),
        "retention": (["bench_retention.py", *common], ["analytics_retention"]),
        "attribution": (["bench_attribution.py", *common], ["analytics_attribution"]),
        "heatmap": (["bench_heatmap.py", *common], ["analytics_heatmap"]),
    }


def run_one(command: list[str]) -> dict[str, Any]:
    """Run one benchmark script; its wall seconds, exit code and peak resident memory."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(HERE / command[0]), *command[1:]])
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "exit_code": process.returncode,
        "process_seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # Linux: kilobytes
    }


def holdings(home: Path) -> dict[str, int]:
    """Rows of the tables the analyses read."""
    counts = {}
    with Workspace.open(load_settings(home=home)) as ws:
        for table in ("profiles", "events", "orders", "order_lines", "touchpoints"):
            try:
                counts[table] = ws.query(f"SELECT count(*) AS n FROM {table}").to_pylist()[0]["n"]
            except TableNotFoundError:  # a table this workspace lacks is reported as absent
                counts[table] = -1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="", help="Comma-separated names (default: all)")
    parser.add_argument("--funnel-from", default=None)
    parser.add_argument("--funnel-to", default=None)
    args = parser.parse_args()
    chosen = scripts(args)
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    previous = RESULTS / "analytics_scale.json"
    figures: dict[str, Any] = {}
    if args.only and previous.exists():  # keep the figures of the analyses not rerun
        figures = json.loads(previous.read_text(encoding="utf-8"))["figures"]
    figures |= {"workspace": str(args.home), "holds": holdings(args.home)}
    for name, (command, outputs) in chosen.items():
        print(f"== {name}: {' '.join(command)}", flush=True)
        measured = run_one(command)
        measured["load_average_1m"] = round(os.getloadavg()[0], 2)
        for output in outputs:
            path = RESULTS / f"{output}.json"
            if measured["exit_code"] == 0 and path.exists():
                measured["figures"] = json.loads(path.read_text())["figures"]
        figures[name] = measured
    save("analytics_scale", figures)


if __name__ == "__main__":
    main()
