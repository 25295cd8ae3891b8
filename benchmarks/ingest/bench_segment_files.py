"""Segment batch files into ``events``: messages per second through ``ingest file``.

Writes ``--events`` messages as batch files of 500 (pages and tracks shaped like the demo's
clickstream: a batch-level ``context``, Chinese and English names, about 700 bytes a message),
or reads an existing folder of batch files (``--folder``, e.g. a demo workspace's
``sources/demo/clickstream``, with ``--glob`` to pick some), then times ``ingest_file`` with a
``segment_batch`` mapping into a fresh workspace, ``--repeat`` times (a fresh workspace each
time). The figure is the whole ingest call: reading, the row builder the collector's loader
uses, the ``at_entry`` rules, the insert-if-absent commits, quarantine and run log. The machine's
load average is recorded beside it. Results: ``benchmarks/results/segment_files.json``.

Run: ``.venv/bin/python benchmarks/ingest/bench_segment_files.py [--events 1000000]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import WORK, Stopwatch, save

from custodia.collect.mapping_spec import MappingFile, SourceMapping
from custodia.pipeline.ingest import ingest_file
from custodia.settings import load_settings
from custodia.workspace import Workspace

PER_FILE = 500
PAGES = (("首页", "/"), ("Product Detail", "/p/DR-{n:03d}"), ("购物车", "/cart"))
EVENTS = ("Product Viewed", "商品加购", "Checkout Started", "Order Completed")


def message(i: int) -> dict[str, object]:
    """One page or track call of visitor ``i % 50,000`` at second ``i``."""
    base: dict[str, object] = {
        "anonymousId": f"anon-{i % 50_000:06d}-6f1c-4e0b-9a51-{i % 997:012d}",
        "messageId": f"ajs-bench-{i:012d}",
        "timestamp": f"2025-03-{1 + i // 86_400 % 28:02d}T{i // 3600 % 24:02d}:"
        f"{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z",
        "context": {"page": {"referrer": "https://www.baidu.com/s?wd=真丝连衣裙"},
                    "campaign": {"source": "wechat", "medium": "social"}},
    }  # fmt: skip
    if i % 3:
        name, path = PAGES[i % len(PAGES)]
        return base | {
            "type": "page", "name": name,
            "properties": {"path": path.format(n=i % 300), "title": f"{name} · Lumière 霓裳",
                           "url": f"https://shop.example.cn{path.format(n=i % 300)}"},
        }  # fmt: skip
    return base | {
        "type": "track", "event": EVENTS[i % len(EVENTS)], "userId": f"U{i % 20_000:06d}",
        "properties": {"sku": f"DR-{i % 300:03d}", "category": "连衣裙", "price": 899.0,
                       "currency": "CNY", "quantity": 1 + i % 3},
    }  # fmt: skip


def write_files(folder: Path, events: int) -> int:
    """``events`` messages as batch files of :data:`PER_FILE`; returns the bytes written."""
    folder.mkdir(parents=True, exist_ok=True)
    size = 0
    for start in range(0, events, PER_FILE):
        body = {
            "batch": [message(i) for i in range(start, min(start + PER_FILE, events))],
            "context": {"library": {"name": "analytics.js", "version": "4.1.0"},
                        "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)"},
            "sentAt": "2025-03-29T00:00:00.000Z",
        }  # fmt: skip
        path = folder / f"batch-{start // PER_FILE:06d}.json"
        path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        size += path.stat().st_size
    return size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--folder", type=Path, help="Existing batch files (default: write some)")
    parser.add_argument("--glob", default="*.json")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = WORK / "segment-files"
    shutil.rmtree(root, ignore_errors=True)
    folder = args.folder or root / "clickstream"
    size = None if args.folder else write_files(folder, args.events)
    mapping = MappingFile(
        sources=[SourceMapping(name="clickstream", format="segment_batch", entity="events")]
    )
    load_before = os.getloadavg()[0]
    seconds, events = [], 0
    for run in range(args.repeat):
        ws, _token = Workspace.create(load_settings(home=root / f"ws-{run}"))
        with ws, Stopwatch() as sw:
            report = ingest_file(ws, mapping, "clickstream", folder / args.glob).sources[0]
        assert report.rows_rejected == 0, report.rejected_by_rule
        events = report.rows_in
        seconds.append(sw.seconds)
        shutil.rmtree(root / f"ws-{run}", ignore_errors=True)
    median = statistics.median(seconds)
    save(
        "segment_files",
        {
            "events": events,
            "files": len(list(folder.glob(args.glob))),
            "source": str(args.folder / args.glob) if args.folder else "synthetic",
            "megabytes": round(size / 1e6, 1) if size else None,
            "seconds": round(median, 2),
            "events_per_second": round(events / median),
            "repeat": args.repeat,
            "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2),
        },
    )
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
