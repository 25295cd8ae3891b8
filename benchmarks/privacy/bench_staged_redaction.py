"""Free-text redaction at staging: findings per 1,000 demo texts and the time it adds per text.

The demo's service tickets and reviews (``custodia demo`` generator, ``--customers`` and
``--seed``) are scanned with the shipped rule (``interactions.text``: redact with masks):

- ``findings``: per entity type, per source; ``per_1000_texts``: findings per 1,000 texts, and
  texts with at least one finding per 1,000;
- ``scan_us_per_text``: :func:`~custodia.privacy.free_text_scan.scan_texts` (detect and
  redact) over all texts, process CPU time, best of ``--repeat``;
- ``load_*``: the ``service_tickets`` source ingested end to end into a fresh workspace twice,
  scanning on and off (policy ``scan: false``), wall time of the ``stage:interactions`` step
  (best of ``--repeat``); ``load_added_us_per_ticket`` is the difference per ticket.

Run: ``.venv/bin/python benchmarks/privacy/bench_staged_redaction.py [--customers 2000]``
Results: ``benchmarks/results/privacy_staged_redaction.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from custodia.collect.mapping_spec import load_mapping_file
from custodia.pipeline.demo_run import MAPPING_FILE, generate_demo_sources
from custodia.pipeline.source_load import load_sources
from custodia.privacy.classification import ClassificationPolicy
from custodia.privacy.free_text_scan import scan_texts, shared_detector
from custodia.settings import load_settings
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import WORK, save

RULE = ClassificationPolicy.shipped().free_text["interactions.text"]


def demo_texts(folder: Path) -> dict[str, list[str]]:
    """The texts of the demo's tickets and reviews."""
    tickets = [
        json.loads(line)["text"]
        for path in sorted((folder / "service").glob("tickets*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    reviews = [
        row["content"]
        for path in sorted((folder / "service").glob("reviews*.csv"))
        for row in csv.DictReader(path.open(encoding="utf-8"))
    ]
    return {"tickets": tickets, "reviews": reviews}


def findings(texts: list[str]) -> dict[str, Any]:
    scan = scan_texts(texts, RULE)
    per_1000 = 1000 / max(1, len(texts))
    return {
        "texts": len(texts),
        "findings": dict(sorted(scan.findings.items())),
        "per_1000_texts": {
            "findings": round(sum(scan.findings.values()) * per_1000, 1),
            "texts_with_findings": round(scan.rows_with_findings * per_1000, 1),
        },
    }


def scan_cpu_us(texts: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        scan_texts(texts, RULE)
        best = min(best, time.process_time() - start)
    return round(best / len(texts) * 1e6, 1)


def stage_seconds(folder: Path, scan: bool) -> float:
    """Ingest the tickets into a fresh workspace; the stage:interactions step's wall time."""
    home = WORK / "staged_redaction_ws"
    shutil.rmtree(home, ignore_errors=True)
    ws, _token = Workspace.create(load_settings(home=home))
    with ws:
        if not scan:
            policy = home / "privacy" / "classification.yaml"
            policy.write_text("free_text:\n  interactions.text: {scan: false}\n", "utf-8")
        mappings = load_mapping_file(folder / MAPPING_FILE)
        report = load_sources(ws, mappings, root=folder, only=["service_tickets"])
        steps = RunLog(ws.store, ws.clock).list_steps(report.run_id)
        [step] = [s for s in steps if s.step == "stage:interactions"]
        assert step.finished_at is not None
        seconds = (step.finished_at - step.started_at).total_seconds()
    shutil.rmtree(home, ignore_errors=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = WORK / "staged_redaction_demo"
    generate_demo_sources(folder, customers=args.customers, seed=args.seed)
    texts = demo_texts(folder)
    shared_detector()
    figures: dict[str, Any] = {"customers": args.customers, "seed": args.seed}
    figures |= {name: findings(items) for name, items in texts.items()}
    everything = texts["tickets"] + texts["reviews"]
    figures["scan_us_per_text"] = scan_cpu_us(everything, args.repeat)
    on = min(stage_seconds(folder, scan=True) for _ in range(args.repeat))
    off = min(stage_seconds(folder, scan=False) for _ in range(args.repeat))
    tickets = len(texts["tickets"])
    figures["load_stage_seconds"] = {"scan_on": round(on, 3), "scan_off": round(off, 3)}
    figures["load_added_us_per_ticket"] = round((on - off) / tickets * 1e6, 1)
    save("privacy_staged_redaction", figures)


if __name__ == "__main__":
    main()
