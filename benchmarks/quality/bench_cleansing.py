"""Cleansing over 1.5M customer records and 1M profiles: seconds per step, first and second run.

Reuses the workspace that ``bench_quality_rules.py`` builds (``benchmarks/work/quality-rules``):
its ``customer_records`` (1.5M rows, short city names, ~1% malformed phones and e-mails, ~0.5%
genders outside F/M), ``profiles`` (1M) and ``profile_identifiers`` are copied into a fresh
workspace under ``benchmarks/work/cleansing`` (the events are not needed). Each repeat starts from
that copy and runs the shipped cleansing file (``pipeline/cleansing.yaml``) twice:

1. the first run rewrites what is not canonical (every short city name, the gender codes, ...)
   and rebuilds ``customer_records_filled``;
2. the second run finds nothing to rewrite (the cost of checking every value again) and rebuilds
   the filled table.

Per step, the seconds come from the run record (step start and end); CPU seconds (the
process's, DuckDB's threads included) are given beside the wall clock of each run. Medians over
``--repeat`` runs (default 3) go to ``benchmarks/results/cleansing.json`` with the load average
before and after (the machine is shared).
Run: ``.venv/bin/python benchmarks/quality/bench_cleansing.py`` (after bench_quality_rules.py)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from custodia.pipeline.cleanse_run import CleansingReport, run_cleansing
from custodia.settings import load_settings
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import WORK, Stopwatch, save

SOURCE = WORK / "quality-rules"
TABLES = ("staged/customer_records", "curated/profiles", "curated/profile_identifiers")


def fresh_workspace(home: Path) -> Workspace:
    """A new workspace holding copies of the three tables (nothing else)."""
    if home.exists():
        shutil.rmtree(home)
    ws, _token = Workspace.create(load_settings(home=home))
    ws.close()
    for table in TABLES:
        target = home / "lake" / table
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(SOURCE / "lake" / table, target)
    return Workspace.open(load_settings(home=home))


def step_seconds(ws: Workspace, report: CleansingReport) -> dict[str, float]:
    out: dict[str, float] = {}
    for step in RunLog(ws.store).list_steps(report.run_id):
        label = f"{step.step}:{step.source}"
        out[label] = out.get(label, 0.0) + (step.finished_at - step.started_at).total_seconds()
    return out


def one_repeat(home: Path) -> dict[str, Any]:
    ws = fresh_workspace(home)
    try:
        cpu = time.process_time()
        with Stopwatch() as first_sw:
            first = run_cleansing(ws)
        first_cpu, cpu = time.process_time() - cpu, time.process_time()
        with Stopwatch() as second_sw:
            second = run_cleansing(ws)
        second_cpu = time.process_time() - cpu
        std = next(s for s in first.standardize if s.table == "customer_records")
        return {
            "first_run_s": first_sw.seconds,
            "second_run_s": second_sw.seconds,
            "first_run_cpu_s": first_cpu,
            "second_run_cpu_s": second_cpu,
            "first_steps": step_seconds(ws, first),
            "second_steps": step_seconds(ws, second),
            "records": std.rows_read,
            "rows_rewritten_first": std.rows_changed,
            "rows_rewritten_second": sum(s.rows_changed for s in second.standardize),
            "records_filled": first.fill.records_filled if first.fill else 0,
        }
    finally:
        ws.close()


def median_steps(runs: list[dict[str, float]]) -> dict[str, float]:
    by: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        for key, value in run.items():
            by[key].append(value)
    return {k: round(statistics.median(v), 2) for k, v in by.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not (SOURCE / "lake" / "staged" / "customer_records").exists():
        sys.exit(f"run benchmarks/quality/bench_quality_rules.py first ({SOURCE} is missing)")
    load_before = os.getloadavg()[0]
    runs = [one_repeat(WORK / "cleansing") for _ in range(args.repeat)]
    last = runs[-1]
    save(
        "cleansing",
        {
            "customer_records": last["records"],
            "rows_rewritten_first_run": last["rows_rewritten_first"],
            "rows_rewritten_second_run": last["rows_rewritten_second"],
            "records_filled": last["records_filled"],
            "first_run_s_median": round(statistics.median(r["first_run_s"] for r in runs), 2),
            "second_run_s_median": round(statistics.median(r["second_run_s"] for r in runs), 2),
            "first_run_cpu_s_median": round(
                statistics.median(r["first_run_cpu_s"] for r in runs), 2
            ),
            "second_run_cpu_s_median": round(
                statistics.median(r["second_run_cpu_s"] for r in runs), 2
            ),
            "first_run_steps_s": median_steps([r["first_steps"] for r in runs]),
            "second_run_steps_s": median_steps([r["second_steps"] for r in runs]),
            "repeats": args.repeat,
            "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2),
        },
    )


if __name__ == "__main__":
    main()
