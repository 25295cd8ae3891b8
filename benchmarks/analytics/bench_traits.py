"""Computed traits and tags on a workspace (issue 8 figures): a full run and an incremental one.

Run: ``.venv/bin/python benchmarks/analytics/bench_traits.py --home H [--as-of 2026-11-01]
[--repeat 3]`` on a ``custodia demo --customers N`` workspace; prints the median seconds of a full
run (``--full``), of an incremental run one day later (window expiry only) and the ratio to the
*scan floor*: a bare DuckDB scan of the columns the traits read, in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import Stopwatch, save
from scan_floor import scan_floor

from custodia.analytics.traits_spec import TraitsParams
from custodia.pipeline.analysis_traits import run_traits
from custodia.settings import load_settings
from custodia.workspace import Workspace

KEYS = ("customer_ref_type", "customer_ref")
FLOOR = {
    "profiles": ("profile_id", "member_level", "gender", "birthday", "province"),
    "profile_keys": ("ref_type", "ref_value", "profile_id"),
    "orders": ("order_id", *KEYS, "ordered_at", "status", "total_amount", "channel",
               "payment_method", "store_id", "coupon_code"),
    "order_lines": ("order_id", "product_name", "category", "quantity"),
    "events": ("user_id", "anonymous_id", "timestamp", "type", "event", "properties"),
    "interactions": (*KEYS, "created_at", "complaint_type", "kind", "rating"),
    "touchpoints": (*KEYS, "occurred_at", "interaction", "channel"),
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 1))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    full, incremental, floors, computed = [], [], [], []
    with Workspace.open(load_settings(home=args.home)) as ws:
        run_traits(ws, TraitsParams(as_of=args.as_of, full=True), name="bench_traits")  # warm
        for _ in range(args.repeat):
            with Stopwatch() as sw:
                run_traits(ws, TraitsParams(as_of=args.as_of, full=True), name="bench_traits")
            full.append(sw.seconds)
            later = TraitsParams(as_of=args.as_of + timedelta(days=1))
            with Stopwatch() as sw:
                run = run_traits(ws, later, name="bench_traits")
            incremental.append(sw.seconds)
            computed.append(run.summary["profiles_computed"])
            floors.append(scan_floor(ws, FLOOR))
        profiles = ws.query("SELECT count(*) AS n FROM profiles").to_pylist()[0]["n"]
    base = statistics.median(floors)
    figures: dict[str, Any] = {"profiles": profiles, "scan_floor_seconds": round(base, 3)}
    for label, seconds in (("traits_full", full), ("traits_incremental", incremental)):
        median = statistics.median(seconds)
        ratio = round(median / base, 2) if base else None
        figures[label] = {"seconds": round(median, 3), "ratio_to_scan_floor": ratio}
        print(f"{label}: {median:.3f} s, scan floor {base:.3f} s, x{median / base:.2f}")
    figures["traits_incremental"]["profiles_computed"] = statistics.median(computed)
    save("analytics_traits", figures)


if __name__ == "__main__":
    main()
