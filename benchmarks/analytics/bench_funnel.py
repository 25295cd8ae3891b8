"""A 5-step funnel with a 14-day window (issue 8 goal: under 5 s over 10M events on 2 cores).

Run: ``.venv/bin/python benchmarks/analytics/bench_funnel.py [--home H | --build 10000000]
[--repeat 3] [--step EVENT ...] [--from DAY] [--to DAY]``; prints seconds and the ratio to a bare
scan of the columns it reads. The default steps are those of the synthetic events
(``--build``); on a demo workspace name the demo's (``bench_scale.py`` does).
"""

from __future__ import annotations

import argparse

from event_bench import arguments, measure

from custodia.analytics.funnels import FunnelParams
from custodia.pipeline.analysis_funnel import run_funnel

STEPS = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Signed Up"]


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--step", action="append", help="A step (repeat; default: 5 synthetic)")
    parser.add_argument("--from", dest="start", default=None, help="First day attempts start")
    parser.add_argument("--to", dest="end", default=None, help="Last day attempts start")


def main() -> None:
    args = arguments(__doc__ or "", _options)
    params = FunnelParams.model_validate(
        {"steps": args.step or STEPS, "window": "14d", "from": args.start, "to": args.end}
    )
    measure("analytics_funnel", args, lambda ws: run_funnel(ws, params, name="bench_funnel"))


if __name__ == "__main__":
    main()
