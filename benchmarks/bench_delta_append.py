"""Delta append into the raw zone: rows per second for 1M events (issue: Foundation).

Appends the canonical ``events`` table in chunks (as the loader does), each chunk one commit.
Run: ``.venv/bin/python benchmarks/bench_delta_append.py [--rows 1000000] [--chunk 100000]``
"""

from __future__ import annotations

import argparse
import shutil

from bench_record import WORK, Stopwatch, save
from event_rows import event_rows

from custodia.core.tables import EVENTS
from custodia.storage.lake import Lakehouse


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    args = parser.parse_args()
    root = WORK / "delta-append"
    shutil.rmtree(root, ignore_errors=True)
    lake = Lakehouse(root)
    lake.ensure_table(
        "raw", "events", EVENTS.arrow_schema(), partition_by=EVENTS.partition_by,
        stats_columns=EVENTS.stats_columns(),
    )  # fmt: skip
    chunks = [
        event_rows(min(args.chunk, args.rows - start), offset=start, users=50_000, seed=start)
        for start in range(0, args.rows, args.chunk)
    ]
    with Stopwatch() as sw:
        for chunk in chunks:
            lake.append("raw", "events", chunk)
    stored = lake.row_count("raw", "events")
    assert stored == args.rows, stored
    save(
        "delta_append",
        {
            "rows": args.rows,
            "chunk_rows": args.chunk,
            "commits": len(chunks),
            "seconds": round(sw.seconds, 2),
            "rows_per_second": round(args.rows / sw.seconds),
        },
    )
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
