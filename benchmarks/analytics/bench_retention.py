"""Weekly cohort retention and repurchase cycles on a workspace (issue 8 figures).

Run: ``.venv/bin/python benchmarks/analytics/bench_retention.py --home H [--repeat 3]`` on a
``custodia demo --customers N`` workspace; prints the median seconds of each analysis on DuckDB
and its ratio to the *scan floor*: a bare DuckDB scan of the columns it reads, in the same run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import save
from scan_floor import timed

from custodia.analytics.repurchase import RepurchaseParams
from custodia.analytics.retention import RetentionParams
from custodia.pipeline.analysis_retention import run_repurchase, run_retention
from custodia.settings import load_settings
from custodia.workspace import Workspace

ORDER_COLUMNS = ("order_id", "customer_ref_type", "customer_ref", "ordered_at", "status")
FLOORS = {
    "retention": {"orders": ORDER_COLUMNS, "profile_keys": ("ref_type", "ref_value", "profile_id")},
    "repurchase": {
        "orders": ORDER_COLUMNS,
        "profile_keys": ("ref_type", "ref_value", "profile_id"),
        "profiles": ("profile_id", "member_level"),
        "order_lines": ("order_id", "sku", "product_name", "category"),
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with Workspace.open(load_settings(home=args.home)) as ws:
        orders = ws.query("SELECT count(*) AS n FROM orders").to_pylist()[0]["n"]
        weekly = RetentionParams(period="week", periods=12)
        figures = {
            "orders": orders,
            "retention_weekly": timed(
                ws, lambda: run_retention(ws, weekly, name="bench_retention"),
                FLOORS["retention"], args.repeat,
            ),
            "repurchase": timed(
                ws, lambda: run_repurchase(ws, RepurchaseParams(), name="bench_repurchase"),
                FLOORS["repurchase"], args.repeat,
            ),
        }  # fmt: skip
    for name in ("retention_weekly", "repurchase"):
        f = figures[name]
        print(f"{name}: {f['seconds']} s, scan floor {f['scan_floor_seconds']} s, "
              f"x{f['ratio_to_scan_floor']}")  # fmt: skip
    save("analytics_retention", figures)


if __name__ == "__main__":
    main()
