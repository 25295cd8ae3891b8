"""Entry validation: the microseconds quality rules marked ``at_entry`` add per event or record.

Three places run the rules on every record they take in:

- the HTTP collector, before it answers: ``--events`` realistic events (identify calls with
  phone, email and name traits, Order Completed tracks with revenue, page views; about 5% with a
  bad phone, email or revenue) in batches of 100, and single identify calls. The figure is the
  time of :func:`custodia.collect.entry_screen.screen_messages` (decode what the rules read,
  judge) per event, and ``Collector.collect`` end to end (decode, validate, authenticate, rate
  limit, durable append to the real event log) with no rules, with the shipped rules (none of
  them is on ``events``: nothing is judged, nothing decoded) and with four example ``events``
  rules (:data:`EVENT_RULES`: phone and email format, revenue range, page URL present);
- the event loader, on normalized rows (:func:`screen_event_rows`);
- connectors, on a target's mapped ``customer_records`` rows with the shipped rules (phone and
  email format, flag) (:func:`screen_mapped_rows`).

Each timing is the best of ``--repeat`` runs, in CPU time for the checks alone and wall time for
``Collector.collect`` (with and without rules alternating); the load average is recorded before
and after (two cores shared with other work).
Results: ``benchmarks/results/quality_entry_validation.json``.

Run: ``.venv/bin/python benchmarks/quality/bench_entry_validation.py [--events 100000]``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import WORK, save

from custodia.collect.collector import Collector
from custodia.collect.entry_screen import COLLECTOR_COLUMNS, screen_messages
from custodia.collect.mapping_sql import FILE_COLUMN, POSITION_COLUMN, CompiledTarget
from custodia.collect.segment_rows import entry_events
from custodia.collect.segment_wire import find_problems, split_request
from custodia.collect.sources import SourceRegistry
from custodia.pipeline.entry_validation import screen_event_rows, screen_mapped_rows
from custodia.pipeline.quality_rules_file import shipped_rules_text
from custodia.quality.entry import EntryValidator, entry_validators
from custodia.quality.rule_file import parse_rules
from custodia.settings import load_settings
from custodia.storage.event_log import SqliteEventLog
from custodia.workspace import Workspace

BATCH = 100
EVENT_RULES = """
  - name: identify_phone_format
    table: events
    column: traits.phone
    check: format
    format: cn_mobile
    at_entry: {action: reject}
  - name: identify_email_format
    table: events
    column: traits.email
    check: format
    format: email
    at_entry: {action: flag}
  - name: order_revenue_not_negative
    table: events
    column: properties.revenue
    check: range
    min: 0
    at_entry: {action: quarantine}
  - name: page_url_present
    table: events
    column: context.page.url
    check: not_null
    at_entry: {action: flag}
"""


def realistic_events(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Identify, track and page messages as shop SDKs send them (~5% with a bad value)."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    for i in range(n):
        bad = rng.random() < 0.05
        context = {"ip": "10.0.0.1", "library": {"name": "analytics.js", "version": "2.1"},
                   "page": {"url": "https://shop.example.cn/p/DR-001", "title": "真丝连衣裙"},
                   "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)"}  # fmt: skip
        base = {"userId": f"u{i % 20_000}", "messageId": f"m-{i}", "context": context,
                "timestamp": "2026-11-24T08:00:00Z"}  # fmt: skip
        kind = i % 3
        if kind == 0:
            phone = f"13{rng.randrange(10**9):09d}"
            traits = {"name": "张伟", "phone": phone[:-1] if bad else phone,
                      "email": f"user{i}@example.cn", "city": "上海"}  # fmt: skip
            events.append({"type": "identify", **base, "traits": traits})
        elif kind == 1:
            revenue = -rng.randrange(1, 100) if bad else round(rng.uniform(10, 2000), 2)
            props = {"order_id": f"o{i}", "revenue": revenue, "currency": "CNY",
                     "products": [{"sku": "DR-001", "price": 399.0, "quantity": 1}]}  # fmt: skip
            events.append(
                {"type": "track", "event": "Order Completed", **base, "properties": props}
            )
        else:
            events.append({"type": "page", "name": "商品详情", **base,
                           "properties": {"path": "/p/DR-001", "referrer": ""}})  # fmt: skip
    return events


def batch_bodies(events: list[dict[str, Any]]) -> list[bytes]:
    return [
        json.dumps({"batch": events[i : i + BATCH]}, ensure_ascii=False).encode()
        for i in range(0, len(events), BATCH)
    ]


def best_of(
    repeat: int, work: Callable[[], object], clock: Callable[[], float] = time.process_time
) -> float:
    """The shortest of ``repeat`` runs. CPU time by default: the checks run on one thread, and
    CPU time is what they cost even when other work shares the cores (wall time for the
    collector, which waits for the log's fsync)."""
    best = float("inf")
    for _ in range(repeat):
        start = clock()
        work()
        best = min(best, clock() - start)
    return best


def screening_seconds(bodies: list[bytes], kind: str, rules: EntryValidator, repeat: int) -> float:
    """Time of :func:`screen_messages` alone over every body (split and spec checks excluded)."""
    now = datetime.now(UTC)
    parsed = []
    for body in bodies:
        wire = split_request(kind, body)
        parsed.append((wire, find_problems(kind, wire, received_at=now)))

    def screen_all() -> None:
        for wire, problems in parsed:
            screen_messages(rules, kind, wire, problems)

    return best_of(repeat, screen_all)


def collector_seconds(
    ws: Workspace, bodies: list[bytes], kind: str, rules: EntryValidator, repeat: int
) -> tuple[float, float]:
    """``Collector.collect`` end to end over every body, 8 requests in flight, on the real event
    log: (without rules, with ``rules``), the two runs alternating so both see the same load."""
    sources = SourceRegistry(ws.store, ws.clock)
    key = sources.create(f"bench{random.randrange(10**9)}", created_by="bench").write_key
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    logs = [SqliteEventLog(ws.home / f"bench-{random.randrange(10**9)}.db") for _ in range(2)]
    collectors = [Collector(sources, logs[0]), Collector(sources, logs[1], entry_rules=rules)]

    async def send_all(collector: Collector) -> None:
        queue = list(bodies)

        async def worker() -> None:
            while queue:
                reply = await collector.collect(kind, queue.pop(), authorization=auth)
                assert reply.status in (200, 400), reply.body

        await asyncio.gather(*(worker() for _ in range(8)))

    best = [float("inf"), float("inf")]
    try:
        for _ in range(repeat):
            for n, collector in enumerate(collectors):
                run = lambda c=collector: asyncio.run(send_all(c))  # noqa: E731
                best[n] = min(best[n], best_of(1, run, time.perf_counter))
    finally:
        for log in logs:
            log.close()
    return best[0], best[1]


def loader_rows_seconds(bodies: list[bytes], rules: EntryValidator, repeat: int) -> float:
    now = datetime.now(UTC)
    rows = []
    for n, body in enumerate(bodies):
        rows += entry_events(
            kind="batch", payload=body, source="web", received_at=now, entry_id=f"e{n}"
        ).rows
    return best_of(
        repeat, lambda: screen_event_rows(rows, rules, run_id="run_bench", source_file="bench")
    )


def connector_seconds(n: int, rules: EntryValidator, repeat: int) -> float:
    rng = random.Random(11)
    phones = [f"13{rng.randrange(10**9):09d}" for _ in range(n)]
    phones = [p[:-1] if rng.random() < 0.05 else p for p in phones]
    rows = pa.table({
        "record_id": [f"r{i}" for i in range(n)],
        "phone": phones,
        "email": [f"user{i}@example.cn" if i % 40 else f"user{i}@example" for i in range(n)],
        "name": ["张伟"] * n,
        FILE_COLUMN: ["members.csv"] * n,
        POSITION_COLUMN: list(range(1, n + 1)),
    })  # fmt: skip
    compiled = CompiledTarget("customer_records", "", ("record_id",), (), True)
    return best_of(repeat, lambda: screen_mapped_rows(rows, rules, compiled))


def per_event(seconds: float, events: int) -> float:
    return round(seconds / events * 1e6, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument(
        "--singles",
        type=int,
        default=10_000,
        help="identify calls (of the first N events, every third)",
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    load_before = os.getloadavg()
    shipped = entry_validators(parse_rules(shipped_rules_text()))
    example = entry_validators(parse_rules(shipped_rules_text() + EVENT_RULES))["events"]
    collector_rules = example.only(COLLECTOR_COLUMNS)
    assert collector_rules is not None and "events" not in shipped
    events = realistic_events(args.events)
    bodies = batch_bodies(events)
    singles = [json.dumps(e, ensure_ascii=False).encode() for e in events[: args.singles : 3]]

    home = WORK / "entry_validation"
    shutil.rmtree(home, ignore_errors=True)
    ws, _ = Workspace.create(load_settings(home=home))
    try:
        bare, with_rules = collector_seconds(ws, bodies, "batch", collector_rules, args.repeat)
        single_bare, single_rules = collector_seconds(
            ws, singles, "identify", collector_rules, args.repeat
        )
    finally:
        ws.close()
        shutil.rmtree(home, ignore_errors=True)
    screen_batch = screening_seconds(bodies, "batch", collector_rules, args.repeat)
    screen_single = screening_seconds(singles, "identify", collector_rules, args.repeat)
    loader = loader_rows_seconds(bodies, example, args.repeat)
    connector = connector_seconds(args.events, shipped["customer_records"], args.repeat)
    save(
        "quality_entry_validation",
        {
            "events": args.events,
            "batch_size": BATCH,
            "single_identify_calls": len(singles),
            "event_rules": [r.name for r in example.rules],
            "shipped_rules_on_events": 0,
            "collector_screen_us_per_event_batch": per_event(screen_batch, args.events),
            "collector_screen_us_per_single_call": per_event(screen_single, len(singles)),
            "collector_collect_us_per_event_no_rules": per_event(bare, args.events),
            "collector_collect_us_per_event_example_rules": per_event(with_rules, args.events),
            "collector_collect_us_per_single_call_no_rules": per_event(single_bare, len(singles)),
            "collector_collect_us_per_single_call_example_rules": per_event(
                single_rules, len(singles)
            ),
            "loader_us_per_row_example_rules": per_event(loader, args.events),
            "connector_us_per_customer_record_shipped_rules": per_event(connector, args.events),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
    )


if __name__ == "__main__":
    main()
