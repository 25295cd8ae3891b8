"""``custodia sql "select count(*), count(distinct user_id) from events"`` over 10M events.

Builds a workspace whose ``events`` table holds 10M rows (1M distinct users, 30 days of
partitions), then times the real command line end to end (process start included) and the query
alone through the Python API, several times each, and reports the median.
Run: ``.venv/bin/python benchmarks/bench_sql_count.py [--rows 10000000] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from bench_record import WORK, Stopwatch, save
from event_rows import event_rows

from custodia.settings import load_settings
from custodia.workspace import Workspace

QUERY = "select count(*), count(distinct user_id) from events"


def build(home: Path, rows: int, chunk: int) -> None:
    ws, _token = Workspace.create(load_settings(home=home))
    with ws:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            ws.lake.append(
                "raw", "events", event_rows(n, offset=start, users=1_000_000, seed=start)
            )
            print(f"appended {start + n:,} rows", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    home = WORK / "sql-count"
    shutil.rmtree(home, ignore_errors=True)
    build(home, args.rows, args.chunk)
    exe = Path(sys.executable).with_name("custodia")
    cli_times, api_times = [], []
    for _ in range(args.repeat):
        with Stopwatch() as sw:
            done = subprocess.run(
                [str(exe), "--home", str(home), "sql", QUERY, "--format", "json"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
        cli_times.append(sw.seconds)
    print(done.stdout.strip())
    ws = Workspace.open(load_settings(home=home))
    for _ in range(args.repeat):
        with Stopwatch() as sw:
            result = ws.query(QUERY).to_pylist()
        api_times.append(sw.seconds)
    assert next(iter(result[0].values())) == args.rows, result
    save(
        "sql_count_distinct",
        {
            "rows": args.rows,
            "distinct_users": list(result[0].values())[1],
            "query": QUERY,
            "cli_seconds_median": round(statistics.median(cli_times), 2),
            "cli_seconds_all": [round(t, 2) for t in cli_times],
            "query_seconds_median": round(statistics.median(api_times), 2),
        },
    )
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
