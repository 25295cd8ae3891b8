"""Tracking plan checks: events per second through ``screen_events`` (one core, in process).

Builds ``--events`` track events (Order Completed / Product Viewed with 4-6 properties, Chinese
and English values, about 400 bytes each as JSON) as ``events`` rows, then times the plan check
the loaders run on every row: once with a plan of two event schemas and flag/block modes, once
more with a common schema over the whole message as well. The figure is rows per second of
``screen_events`` (JSON parsing of the properties included). Results go to
``benchmarks/results/tracking_plan.json``.

Run: ``.venv/bin/python benchmarks/ingest/bench_tracking_plan.py [--events 100000]``
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import Stopwatch, save

from custodia.collect.plan_quarantine import screen_events
from custodia.collect.segment import normalize_message
from custodia.collect.tracking_plan import parse_plan

NOW = datetime(2026, 3, 1, tzinfo=UTC)
EVENTS = {
    "Order Completed": {
        "type": "object",
        "properties": {
            "order_id": {"type": "string"},
            "revenue": {"type": "number", "minimum": 0},
            "currency": {"enum": ["CNY", "USD"]},
            "products": {"type": "array", "maxItems": 50},
        },
        "required": ["order_id", "revenue"],
    },
    "Product Viewed": {
        "type": "object",
        "properties": {"sku": {"type": "string"}, "name": {"type": "string"}},
        "required": ["sku"],
    },
}
COMMON = {
    "type": "object",
    "required": ["type", "context"],
    "properties": {"context": {"type": "object", "required": ["library"]}},
}


def _messages(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        if rng.random() < 0.5:
            props: dict[str, Any] = {
                "order_id": f"O{i:08d}",
                "revenue": round(rng.uniform(10, 3000), 2),
                "currency": "CNY",
                "products": [{"sku": "DR-01", "name": "真丝连衣裙"}],
            }
            event = "Order Completed"
        else:
            props = {"sku": f"SKU-{i % 500}", "name": "Silk Blouse 衬衫", "ref": "wechat"}
            event = "Product Viewed"
        out.append(
            {
                "type": "track",
                "event": event,
                "userId": f"u{i % 10_000}",
                "messageId": f"m{i}",
                "properties": props,
                "context": {"library": {"name": "analytics.js", "version": "2.1"}},
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    rows = [normalize_message(m, received_at=NOW, source="web") for m in _messages(args.events)]
    modes = {"unplanned_events": "block", "unplanned_properties": "flag"}
    figures: dict[str, Any] = {"events": args.events}
    for label, plan in (
        ("event_schemas", parse_plan({"events": EVENTS, **modes})),
        ("event_and_common_schemas", parse_plan({"events": EVENTS, "common": COMMON, **modes})),
    ):
        with Stopwatch() as watch:
            screened = screen_events(rows, plan, run_id="bench")
        figures[f"{label}_events_per_s"] = round(args.events / watch.seconds)
        figures[f"{label}_flagged"] = screened.flagged
    save("tracking_plan", figures)


if __name__ == "__main__":
    main()
