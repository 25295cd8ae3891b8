"""Top paths from a start event, 5 steps, 30-minute sessions.

Run: ``.venv/bin/python benchmarks/analytics/bench_paths.py [--home H | --build 10000000]
[--start EVENT] [--repeat 3]``; prints seconds and the ratio to a bare scan of the columns read.
"""

from __future__ import annotations

from event_bench import arguments, measure

from custodia.analytics.paths import PathParams
from custodia.pipeline.analysis_paths import run_paths


def main() -> None:
    args = arguments(__doc__ or "")
    params = PathParams(start_event="Product Viewed", steps=5)
    measure("analytics_paths", args, lambda ws: run_paths(ws, params, name="bench_paths"))


if __name__ == "__main__":
    main()
