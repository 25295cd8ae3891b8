"""The event loader's ``messageId`` de-duplication as ``events`` grows: seconds per loader chunk.

A retried message is stored once with no time window, so every chunk must know which of its
``messageId`` values ``events`` already holds. This script fills ``events`` with ``--sizes``
stored rows (random UUID message ids over 60 days and 3 sources, written straight to the lake in
commits of 250,000 rows), then logs one chunk of ``--chunk`` new events (batches of 100, about
400 bytes each) plus 10% retries of events stored earlier, and times one ``EventLoader.load``:
the whole chunk (decode, de-duplicate, Delta commit, quarantine, offset), and checks that the
retries were not stored again. Two chunks per size: the ``first`` after the rows were written
by another writer (a loader keeping an index of stored ids must catch up with them first, once),
and the ``next`` (the steady state of a running loader). The load average is recorded beside
each figure (the two cores are shared with other work). Results go to
``benchmarks/results/event_dedup_<label>.json``.

Run: ``.venv/bin/python benchmarks/ingest/bench_event_dedup.py [--sizes 0,1000000,3000000]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import WORK, Stopwatch, save

from custodia.core.tables import EVENTS
from custodia.pipeline.event_loader import EventLoader
from custodia.settings import load_settings
from custodia.storage.event_log import LogEntry
from custodia.storage.event_log_shards import EventLogShards
from custodia.workspace import Workspace

BATCH = 100
PREFILL_COMMIT = 250_000


def stored_rows(start: int, count: int, now: datetime) -> pa.Table:
    """``count`` events rows with random message ids (what a big ``events`` table holds)."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    times = [now - timedelta(days=(start + i) % 60, seconds=i % 86_400) for i in range(count)]
    columns: dict[str, Any] = {name: [None] * count for name in EVENTS.column_names}
    columns.update(
        message_id=ids,
        type=["track"] * count,
        event=["Product Viewed"] * count,
        user_id=[f"u{(start + i) % 50_000}" for i in range(count)],
        properties=['{"sku":"DR-001","price":399.0}'] * count,
        timestamp=times,
        received_at=times,
        event_date=[t.date() for t in times],
        source=[("web", "app", "pos")[(start + i) % 3] for i in range(count)],
        run_id=["run_prefill"] * count,
        loaded_at=[now] * count,
    )
    return pa.Table.from_pydict(columns, schema=EVENTS.arrow_schema())


def batch_body(prefix: str, ids: list[str] | None = None) -> bytes:
    """A batch of 100 track events (about 400 bytes each)."""
    message_ids = ids or [f"{prefix}-{i}" for i in range(BATCH)]
    items = [
        {
            "type": "track", "event": "Product Viewed", "userId": f"user-{i}",
            "messageId": message_id, "timestamp": "2026-11-24T08:00:00Z",
            "properties": {"sku": "DR-001", "name": "真丝连衣裙", "price": 399.0, "currency": "CNY",
                           "category": "dresses", "url": "https://shop.example.cn/p/DR-001"},
            "context": {"ip": "10.0.0.1", "library": {"name": "analytics-python", "version": "2"}},
        }
        for i, message_id in enumerate(message_ids)
    ]  # fmt: skip
    return json.dumps({"batch": items, "sentAt": "2026-11-24T08:00:01Z"}).encode()


def one_chunk(
    ws: Workspace, shards: EventLogShards, tag: str, events: int, retries: list[str]
) -> dict[str, Any]:
    now = datetime.now(UTC)
    entries = [
        LogEntry.new("web", "batch", batch_body(f"{tag}-{n}"), received_at=now, events=BATCH)
        for n in range(events // BATCH)
    ]
    for n in range(0, len(retries), BATCH):
        body = batch_body("", retries[n : n + BATCH])
        entries.append(LogEntry.new("web", "batch", body, received_at=now, events=BATCH))
    shards.claim().append(entries).result()
    loader = EventLoader(ws, shards, max_entries=len(entries))
    load_before = os.getloadavg()[0]
    with Stopwatch() as sw:
        report = loader.load()
    return {
        "chunk_events": report.messages,
        "inserted": report.inserted,
        "retries_not_stored_again": report.duplicates,
        "seconds": round(sw.seconds, 3),
        "events_per_second": round(report.messages / sw.seconds),
        "load_average_1m": round(max(load_before, os.getloadavg()[0]), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="0,1000000,3000000")
    parser.add_argument("--chunk", type=int, default=20_000)
    parser.add_argument("--label", default="current")
    args = parser.parse_args()
    home = WORK / "ws-dedup"
    shutil.rmtree(home, ignore_errors=True)
    settings = load_settings(home=home, loader_interval_seconds=0)
    Workspace.create(settings)[0].close()
    figures: dict[str, Any] = {"chunk_events": args.chunk, "runs": []}
    stored, loaded_ids = 0, []
    with Workspace.open(settings) as ws, EventLogShards(settings.event_log_path) as shards:
        now = datetime.now(UTC)
        for size in (int(s) for s in args.sizes.split(",")):
            while stored < size:
                count = min(PREFILL_COMMIT, size - stored)
                ws.lake.append(EVENTS.zone.value, EVENTS.name, stored_rows(stored, count, now))
                stored += count
            run: dict[str, Any] = {"stored_rows_before": size}
            for step in ("first", "next"):
                retries = loaded_ids[: args.chunk // 10]
                chunk = one_chunk(ws, shards, f"s{size}{step}", args.chunk, retries)
                assert chunk["inserted"] == args.chunk, chunk
                assert chunk["retries_not_stored_again"] == len(retries), chunk
                loaded_ids = [
                    f"s{size}{step}-{n}-{i}"
                    for n in range(args.chunk // BATCH)
                    for i in range(BATCH)
                ]
                stored += chunk["inserted"]
                run[f"{step}_chunk"] = chunk
                print(f"stored {size:>9,}: {step} chunk of {chunk['chunk_events']:,} "
                      f"in {chunk['seconds']} s")  # fmt: skip
            figures["runs"].append(run)
    save(f"event_dedup_{args.label}", figures)
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
