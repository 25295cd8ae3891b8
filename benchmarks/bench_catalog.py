"""``custodia catalog``: the overview over a workspace whose ``events`` table has many files.

Builds a workspace whose ``events`` table holds 1M rows written in 100 commits of 10,000 rows
(partitioned by day and source: a few thousand Parquet files, as a collector's loader leaves
them), then times, median of several runs in one process:

- ``catalog_overview`` (sizes and freshness from the Delta log's statistics);
- ``catalog_table("events")`` (the detail);
- reading the same freshness from the data instead (``max`` over every lake table, one query),
  which is what the statistics save.

Run: ``.venv/bin/python benchmarks/bench_catalog.py [--rows 1000000] [--commits 100]``
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from collections.abc import Callable
from pathlib import Path

from bench_record import WORK, Stopwatch, save
from event_rows import event_rows

from custodia.catalog import catalog_overview, catalog_table
from custodia.catalog.freshness import lake_newest
from custodia.core.tables import lake_tables
from custodia.settings import load_settings
from custodia.workspace import Workspace


def build(home: Path, rows: int, commits: int) -> None:
    ws, _token = Workspace.create(load_settings(home=home))
    chunk = rows // commits
    with ws:
        for start in range(0, rows, chunk):
            ws.lake.append(
                "raw", "events", event_rows(chunk, offset=start, users=100_000, seed=start)
            )
        print(f"appended {rows:,} rows in {commits} commits", flush=True)


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        with Stopwatch() as sw:
            run()
        times.append(sw.seconds)
    return round(statistics.median(times), 4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--commits", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    home = WORK / "catalog"
    shutil.rmtree(home, ignore_errors=True)
    build(home, args.rows, args.commits)
    ws = Workspace.open(load_settings(home=home))
    files = len(ws.lake.snapshot("raw", "events").file_uris())
    overview = catalog_overview(ws)
    events = next(t for t in overview.tables if t.name == "events")
    assert events.rows == args.rows, events.rows
    specs = list(lake_tables())
    save(
        "catalog_overview",
        {
            "events_rows": args.rows,
            "events_files": files,
            "tables": len(overview.tables),
            "overview_seconds_median": median_seconds(lambda: catalog_overview(ws), args.repeat),
            "detail_events_seconds_median": median_seconds(
                lambda: catalog_table(ws, "events"), args.repeat
            ),
            "freshness_scan_seconds_median": median_seconds(
                lambda: lake_newest(ws, specs), args.repeat
            ),
        },
    )
    ws.close()
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
