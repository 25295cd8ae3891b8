"""Clicks per element and views by weekday x hour over every page.

Run: ``.venv/bin/python benchmarks/analytics/bench_heatmap.py [--home H | --build 10000000]
[--repeat 3]``; prints seconds and the ratio to a bare scan of the columns read.
"""

from __future__ import annotations

from event_bench import BASE_COLUMNS, arguments, measure

from custodia.analytics.heatmaps import HeatmapParams
from custodia.pipeline.analysis_heatmap import run_heatmap


def main() -> None:
    args = arguments(__doc__ or "")
    params = HeatmapParams()
    measure(
        "analytics_heatmap",
        args,
        lambda ws: run_heatmap(ws, params, name="bench_heatmap"),
        (*BASE_COLUMNS, "properties", "context"),
    )


if __name__ == "__main__":
    main()
