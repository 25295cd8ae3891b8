"""What keeping text tags costs when interactions are staged again.

A demo workspace (its text model trained first on another seed's small corpus) is loaded and
tagged; then the demo's ``service_tickets`` file is ingested again three times through
``ingest_file`` and each call is timed:

1. unchanged: every ticket keeps its stored tags (one lookup of the stored tags by key);
2. every text changed: every ticket is tagged again inside staging (model, rules, products);
3. the changed file once more without a text model in the workspace: staging alone, the
   baseline (the tags are left NULL for ``text tag``).

Figures go to ``benchmarks/results/text_restage.json``.

Run: ``.venv/bin/python benchmarks/text_mining/bench_restage_tags.py [--customers N]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from custodia.collect.mapping_spec import load_mapping_file
from custodia.pipeline.demo_run import run_demo
from custodia.pipeline.ingest import ingest_file
from custodia.pipeline.text_model import text_model_dir, train_text_model
from custodia.settings import load_settings
from custodia.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import save


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="custodia-restage-") as tmp:
        figures = measure(Path(tmp) / "ws", args.customers, args.seed)
    save("text_restage", figures | {"load_average": list(os.getloadavg())})


def measure(home: Path, customers: int, seed: int) -> dict[str, Any]:
    ws, _token = Workspace.create(load_settings(home=home))
    with ws:
        train_text_model(ws, seed=seed + 1, customers=300)
        run_demo(ws, customers=customers, seed=seed)
        demo = ws.sources_dir / "demo"
        tickets = demo / "service" / "tickets.jsonl"
        mappings = load_mapping_file(demo / "mappings.yaml")
        count = ws.query("select count(*) as n from interactions where kind = 'ticket'")
        unchanged = _timed_ingest(ws, mappings, tickets)
        text = tickets.read_text(encoding="utf-8")
        tickets.write_text(text.replace('"text":"', '"text":"再说一次：'), encoding="utf-8")
        changed = _timed_ingest(ws, mappings, tickets)
        shutil.rmtree(text_model_dir(ws))
        tickets.write_text(text.replace('"text":"', '"text":"第三次：'), encoding="utf-8")
        baseline = _timed_ingest(ws, mappings, tickets)
    return {
        "customers": customers,
        "tickets": int(count.column("n")[0].as_py()),
        "unchanged_seconds": unchanged,
        "all_changed_retagged_seconds": changed,
        "all_changed_no_model_seconds": baseline,
    }


def _timed_ingest(ws: Workspace, mappings: Any, path: Path) -> float:
    started = time.perf_counter()
    ingest_file(ws, mappings, "service_tickets", path)
    return round(time.perf_counter() - started, 2)


if __name__ == "__main__":
    main()
