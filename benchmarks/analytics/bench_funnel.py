"""A 5-step funnel with a 14-day window (issue 8 goal: under 5 s over 10M events on 2 cores).

Run: ``.venv/bin/python benchmarks/analytics/bench_funnel.py [--home H | --build 10000000]
[--repeat 3]``; prints seconds and the ratio to a bare scan of the columns it reads.
"""

from __future__ import annotations

from event_bench import arguments, measure

from custodia.analytics.funnels import FunnelParams
from custodia.pipeline.analysis_funnel import run_funnel

STEPS = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Signed Up"]


def main() -> None:
    args = arguments(__doc__ or "")
    params = FunnelParams(steps=STEPS, window="14d")
    measure("analytics_funnel", args, lambda ws: run_funnel(ws, params, name="bench_funnel"))


if __name__ == "__main__":
    main()
