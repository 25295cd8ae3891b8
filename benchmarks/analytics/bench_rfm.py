"""RFM and customer clusters on a workspace (issue 8 figures).

Run: ``.venv/bin/python benchmarks/analytics/bench_rfm.py --home H [--repeat 3] [--as-of DATE]``
on a ``custodia demo --customers N`` workspace; prints the median seconds of RFM, of clusters with
a given k and with k chosen by silhouette (2..8) on DuckDB, each with its ratio to the *scan
floor*: a bare DuckDB scan of the columns it reads (orders and profile_keys), in the same run.
Writes benchmarks/results/analytics_rfm.json.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_record import save
from scan_floor import timed

from custodia.analytics.clusters import ClusterParams
from custodia.analytics.rfm import RfmParams
from custodia.pipeline.analysis_clusters import run_clusters
from custodia.pipeline.analysis_rfm import run_rfm
from custodia.settings import load_settings
from custodia.workspace import Workspace

FLOOR = {
    "orders": ("customer_ref_type", "customer_ref", "ordered_at", "status", "total_amount"),
    "profile_keys": ("ref_type", "ref_value", "profile_id"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--as-of", type=date.fromisoformat, default=None)
    args = parser.parse_args()
    rfm = RfmParams(as_of=args.as_of)
    with Workspace.open(load_settings(home=args.home)) as ws:
        orders = ws.query("SELECT count(*) AS n FROM orders").to_pylist()[0]["n"]
        profiles = run_rfm(ws, rfm, name="bench_rfm").summary["profiles"]
        runs = {
            "rfm": lambda: run_rfm(ws, rfm, name="bench_rfm"),
            "clusters_k4": lambda: run_clusters(
                ws, ClusterParams(as_of=args.as_of, k=4), name="bench_clusters_k4"
            ),
            "clusters_silhouette_2_8": lambda: run_clusters(
                ws, ClusterParams(as_of=args.as_of), name="bench_clusters"
            ),
        }
        figures = {"orders": orders, "profiles_scored": profiles}
        figures |= {name: timed(ws, run, FLOOR, args.repeat) for name, run in runs.items()}
    for name in runs:
        f = figures[name]
        print(f"{name}: {f['seconds']} s, scan floor {f['scan_floor_seconds']} s, "
              f"ratio {f['ratio_to_scan_floor']}")  # fmt: skip
    save("analytics_rfm", figures)


if __name__ == "__main__":
    main()
