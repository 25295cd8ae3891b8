"""Attribution (Markov, and every model) on a workspace (issue 8 figures).

Run: ``.venv/bin/python benchmarks/analytics/bench_attribution.py --home H [--repeat 3]`` on a
``custodia demo --customers N`` workspace; prints the median seconds on DuckDB and the ratio to
the *scan floor*: a bare DuckDB scan of the columns attribution reads, in the same run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import save
from scan_floor import timed

from custodia.analytics.attribution import AttributionParams
from custodia.pipeline.analysis_attribution import run_attribution
from custodia.settings import load_settings
from custodia.workspace import Workspace

FLOOR = {
    "touchpoints": ("touchpoint_id", "customer_ref_type", "customer_ref", "channel",
                    "interaction", "occurred_at"),
    "orders": ("order_id", "customer_ref_type", "customer_ref", "ordered_at", "status",
               "total_amount"),
    "profile_keys": ("ref_type", "ref_value", "profile_id"),
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with Workspace.open(load_settings(home=args.home)) as ws:
        touches = ws.query("SELECT count(*) AS n FROM touchpoints").to_pylist()[0]["n"]
        markov = AttributionParams(models=["markov"])
        figures: dict[str, Any] = {
            "touchpoints": touches,
            "markov": timed(ws, lambda: run_attribution(ws, markov, name="bench_markov"), FLOOR,
                            args.repeat),
            "all_models": timed(ws, lambda: run_attribution(ws, AttributionParams(),
                                                            name="bench_attribution"),
                                FLOOR, args.repeat),
        }  # fmt: skip
    for name in ("markov", "all_models"):
        f = figures[name]
        print(f"attribution {name}: {f['seconds']} s, scan floor {f['scan_floor_seconds']} s, "
              f"x{f['ratio_to_scan_floor']}")  # fmt: skip
    save("analytics_attribution", figures)


if __name__ == "__main__":
    main()
