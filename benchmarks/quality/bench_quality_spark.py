"""Quality rules on Spark (local mode) against DuckDB: the same counts, and what Spark costs.

Copies a loaded workspace (``--home``, e.g. a demo workspace or ``benchmarks/work/quality-rules``)
to ``benchmarks/work/quality-spark/<label>`` (runs write to the store; the source stays as it
was), then, in one process:

1. ``run_quality(ws)`` on DuckDB (the rules in force there: shipped or installed);
2. starts a local Spark session (``local[N]``, ``--cores``; JVM start-up included);
3. ``run_quality(ws, engine="spark", spark=...)`` twice: the first run also pays Spark's first
   use of each table (file listing, partition discovery) and code generation; the second is warm;
4. compares the stored results of the DuckDB run and the first Spark run, per rule, source and
   day (checked, failed), and sums each run's recorded query steps by kind.

Figures go to ``benchmarks/results/quality_spark_<label>.json`` with the load average (the
machine is shared). Needs ``pip install -e '.[spark]'`` and Java 17+.
Run: ``.venv/bin/python benchmarks/quality/bench_quality_spark.py --home H --label demo``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from custodia.pipeline.quality_run import QualityReport, run_quality
from custodia.settings import load_settings
from custodia.storage.spark_engine import spark_session
from custodia.storage.store_quality import QualityLedger
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import WORK, Stopwatch, save


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a loaded workspace to copy")
    parser.add_argument("--label", default="demo", help="names the copy and the results file")
    parser.add_argument("--cores", type=int, default=2, help="Spark local[N]")
    args = parser.parse_args()
    home = WORK / "quality-spark" / args.label
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(args.home, home)
    ws = Workspace.open(load_settings(home=home))
    figures: dict[str, Any] = {"load_before": os.getloadavg()[0], "cores": args.cores}
    duck = _timed(figures, "duckdb", lambda: run_quality(ws), ws)
    with Stopwatch() as start:
        spark = spark_session(f"local[{args.cores}]")
    figures["spark_start_s"] = round(start.seconds, 2)
    try:
        first = _timed(
            figures, "spark_first", lambda: run_quality(ws, engine="spark", spark=spark), ws
        )
        _timed(figures, "spark_warm", lambda: run_quality(ws, engine="spark", spark=spark), ws)
    finally:
        spark.stop()
    figures |= _compare(ws, duck, first)
    figures["load_after"] = os.getloadavg()[0]
    save(f"quality_spark_{args.label}", figures)


def _timed(figures: dict[str, Any], name: str, run: Any, ws: Workspace) -> QualityReport:
    with Stopwatch() as watch:
        report: QualityReport = run()
    figures[f"{name}_run_s"] = round(watch.seconds, 2)
    figures[f"{name}_by_kind_s"] = _by_kind(RunLog(ws.store, ws.clock).list_steps(report.run_id))
    figures[f"{name}_errors"] = [r.rule for r in report.rules if r.status == "error"]
    return report


def _by_kind(steps: list[Any]) -> dict[str, float]:
    seconds: dict[str, float] = defaultdict(float)
    for step in steps:
        finished = step.finished_at or step.started_at
        seconds[step.step.removeprefix("quality.")] += (finished - step.started_at).total_seconds()
    return {kind: round(s, 2) for kind, s in sorted(seconds.items())}


def _compare(ws: Workspace, duck: QualityReport, spark: QualityReport) -> dict[str, Any]:
    ledger = QualityLedger(ws.store)

    def stored(run_id: str) -> dict[tuple[str, str, str], tuple[int, int]]:
        rows = ledger.results(run_id)
        return {(r["rule"], r["source"], str(r["day"])): (r["checked"], r["failed"]) for r in rows}

    a, b = stored(duck.run_id), stored(spark.run_id)
    differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    return {
        "rules": len(duck.rules),
        "rules_run": sum(r.status != "not_run" for r in duck.rules),
        "queries": duck.queries,
        "result_rows": len(a),
        "identical": not differ,
        "differing": [" / ".join(k) for k in differ[:20]],
    }


if __name__ == "__main__":
    main()
