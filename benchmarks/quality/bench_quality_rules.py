"""All quality rules over 10M events and 1M profiles: seconds, and the share spent scanning.

Builds (once; reruns reuse it while the row counts match) a workspace under
``benchmarks/work/quality-rules`` holding ``events`` (``--events`` rows, default 10M, 30 days,
sources web / ios / android), ``profiles`` (``--profiles``, default 1M), ``profile_identifiers``
(~2.9 per profile) and ``customer_records`` (1.5 per profile), with a few planted faults (see
``customer_rows.py``; events: ~0.5% without user_id, ~0.1% without anonymous_id, ~0.1% unknown
event names, android's last four days at a fifth of their usual volume). The shipped rules
(``pipeline/quality_rules.yaml``) plus ``EVENT_RULES`` are installed (on every run, so an edit
of them counts), then each repeat, in wall-clock and CPU seconds:

1. times ``run_quality(ws)`` end to end (one recorded run: compile, every query, evaluation,
   ledger writes, alerts and actions, customer completeness) and, from the run's recorded steps,
   the seconds of each compiled query (query + evaluation) by kind and table, and separately
   the customer completeness measure the run ends with (two scans of nine attributes);
2. times, on the same engine right after, per table the rules read: a bare ``select count(*)``
   (DuckDB answers it from the parquet footers: the fixed cost of opening the Delta snapshot)
   and a *scan*: ``select count(*), max(strlen(c1)), max(c2), ...`` over exactly the columns
   the rules' queries read (found by parsing their SQL), which reads and decodes every value
   the rules need and evaluates nothing. The scan share is the sum of the scans over the run's
   total (wall and CPU): the part of the run no rule engine could avoid, reading the data once.

Medians over ``--repeat`` runs (default 3) go to ``benchmarks/results/quality_rules.json`` with
the load average before and after (the machine is shared).
Run: ``.venv/bin/python benchmarks/quality/bench_quality_rules.py [--events N] [--profiles N]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from custodia.core.tables import table_spec
from custodia.pipeline.quality_completeness import customer_completeness
from custodia.pipeline.quality_rules_file import install_rules, rules_in_force, shipped_rules_text
from custodia.pipeline.quality_run import run_quality
from custodia.quality.rule_sql import compile_rules
from custodia.settings import load_settings
from custodia.storage.store_runs import RunLog
from custodia.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_record import WORK, Stopwatch, save
from customer_rows import customer_record_rows, identifier_rows, profile_rows
from event_rows import EVENT_NAMES, event_rows

HOME = WORK / "quality-rules"
Maker = Callable[[int, int], pa.Table]
"""(rows, offset) -> a chunk of a table's rows."""
BUILD_VERSION = 1
EVENT_RULES = f"""
  # -- benchmark: rules on events ---------------------------------------------------------------
  - name: event_user_id_present
    table: events
    column: user_id
    check: not_null
    threshold: {{max_failure_rate: 0.01}}

  - name: event_anonymous_id_present
    table: events
    column: anonymous_id
    check: not_null

  - name: event_name_values
    table: events
    column: event
    check: accepted_values
    where: "type = 'track'"
    values: [{", ".join(EVENT_NAMES)}]

  - name: event_sources_fresh
    table: events
    column: timestamp
    check: freshness
    max_age: 1d

  - name: event_daily_volume
    description: Each source's events per day stay near their usual level
    table: events
    check: volume
    period: day
    lookback: 14
    window: 7
"""


# -- building the workspace -----------------------------------------------------------------------


def build(events: int, profiles: int, chunk: int) -> dict[str, int]:
    """The workspace with its tables filled; reused when an earlier build had the same sizes."""
    marker = HOME / "bench_build.json"
    wanted = {"version": BUILD_VERSION, "events": events, "profiles": profiles}
    if marker.exists() and json.loads(marker.read_text())["wanted"] == wanted:
        print(f"reusing {HOME}", flush=True)
        return dict(json.loads(marker.read_text())["rows"])
    shutil.rmtree(HOME, ignore_errors=True)
    ws, _token = Workspace.create(load_settings(home=HOME))
    with ws, Stopwatch() as sw:
        rows = {
            "events": _fill(ws, "events", events, chunk, lambda n, at: _events(n, at, profiles)),
            "profiles": _fill(
                ws, "profiles", profiles, chunk, lambda n, at: profile_rows(n, offset=at, seed=at)
            ),
            "profile_identifiers": _fill(
                ws, "profile_identifiers", profiles, chunk // 2,
                lambda n, at: identifier_rows(profiles, offset=at, count=n, seed=at + 1),
            ),
            "customer_records": _fill(
                ws, "customer_records", profiles * 3 // 2, chunk // 2,
                lambda n, at: customer_record_rows(n, offset=at, profiles=profiles, seed=at + 2),
            ),
        }  # fmt: skip
    print(f"built in {sw.seconds:.0f} s: {rows}", flush=True)
    marker.write_text(json.dumps({"wanted": wanted, "rows": rows, "seconds": round(sw.seconds)}))
    return rows


def _fill(ws: Workspace, table: str, total: int, chunk: int, make: Maker) -> int:
    zone: Any = table_spec(table).zone.value
    stored = 0
    for start in range(0, total, chunk):
        rows = make(min(chunk, total - start), start)
        ws.lake.append(zone, table, rows)
        stored += rows.num_rows
        print(f"{table}: {stored:,} rows", flush=True)
    return stored


def _events(n: int, offset: int, users: int) -> pa.Table:
    """``event_rows`` from three sources, with planted gaps (see the module docstring)."""
    rows = event_rows(n, offset=offset, users=users, seed=offset)
    rng = np.random.default_rng(offset + 7)
    source = np.array(["web", "ios", "android"])[rng.choice(3, n, p=[0.5, 0.3, 0.2])]
    day = rows["event_date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    late = day >= np.datetime64("2026-01-27")
    source = np.where((source == "android") & late & (rng.random(n) < 0.8), "web", source)

    def blank(column: str, share: float) -> pa.Array:
        return pc.if_else(pa.array(rng.random(n) < share), None, rows[column])

    event = pc.if_else(pa.array(rng.random(n) < 0.001), "product_viewed", rows["event"])
    for name, values in (
        ("source", pa.array(source)),
        ("user_id", blank("user_id", 0.005)),
        ("anonymous_id", blank("anonymous_id", 0.001)),
        ("event", event),
    ):
        rows = rows.set_column(rows.schema.get_field_index(name), rows.schema.field(name), values)
    return rows


# -- measuring ------------------------------------------------------------------------------------


def rule_columns(ws: Workspace) -> dict[str, list[str]]:
    """Per table, the columns of that table the compiled rule queries read."""
    read: dict[str, set[str]] = defaultdict(set)
    for query in compile_rules(rules_in_force(ws).ruleset.rules):
        names = {c.name for c in sqlglot.parse_one(query.sql, read="duckdb").find_all(exp.Column)}
        read[query.table] |= names & set(table_spec(query.table).column_names)
    return {t: sorted(cols) for t, cols in read.items()}


def scan_sql(table: str, columns: list[str]) -> str:
    """Read and decode every value of ``columns``; evaluate nothing a rule would.

    ``strlen`` of a text (its stored byte length) and ``max`` of anything else are the cheapest
    aggregates that still need every value materialized.
    """
    spec = table_spec(table)
    reads = ", ".join(
        f'max(strlen("{c}"))' if pa.types.is_string(spec.column(c).type)
        or pa.types.is_large_string(spec.column(c).type) else f'max("{c}")'
        for c in columns
    )  # fmt: skip
    return f'SELECT count(*), {reads} FROM "{table}"'


class Timer(Stopwatch):
    """A stopwatch that also reads the process's CPU time (all threads, DuckDB's included).

    On a shared machine the wall clock depends on what else runs; the CPU seconds much less.
    """

    cpu: float = 0.0

    def __enter__(self) -> Timer:
        self._cpu_start = time.process_time()
        super().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.cpu = time.process_time() - self._cpu_start


def one_repeat(ws: Workspace, columns: dict[str, list[str]]) -> dict[str, Any]:
    with Timer() as run:
        report = run_quality(ws)
    figures = _step_seconds(RunLog(ws.store, ws.clock).list_steps(report.run_id))
    with Timer() as completeness:
        customer_completeness(ws)
    engine = ws.query_engine()
    for table, cols in columns.items():
        with Timer() as bare:
            engine.query(f'SELECT count(*) FROM "{table}"')
        with Timer() as scan:
            engine.query(scan_sql(table, cols))
        figures["bare"][table], figures["scan"][table] = bare.seconds, scan.seconds
        figures["bare_cpu"][table], figures["scan_cpu"][table] = bare.cpu, scan.cpu
    return {**figures, "total": run.seconds, "cpu": run.cpu, "report": report,
            "completeness": completeness.seconds}  # fmt: skip


def _step_seconds(steps: list[Any]) -> dict[str, Any]:
    """Seconds of the run's recorded query steps, summed by kind and by table, and each."""
    figures: dict[str, Any] = {k: defaultdict(float) for k in ("by_kind", "by_table", "by_query")}
    figures |= {k: {} for k in ("bare", "scan", "bare_cpu", "scan_cpu")}
    for step in steps:
        seconds = ((step.finished_at or step.started_at) - step.started_at).total_seconds()
        rules = step.detail.get("rules") if isinstance(step.detail, dict) else None
        names = ", ".join(map(str, rules)) if isinstance(rules, list) else ""
        figures["by_kind"][step.step.removeprefix("quality.")] += seconds
        figures["by_table"][step.source or ""] += seconds
        figures["by_query"][f"{step.source} {step.step}: {names}"] += seconds
    figures["queries"] = sum(figures["by_kind"].values())
    return figures


def _median(repeats: list[dict[str, Any]], key: str) -> dict[str, float]:
    names = {name for r in repeats for name in r[key]}
    return {n: round(statistics.median(r[key].get(n, 0.0) for r in repeats), 2) for n in names}


def summarize(
    rows: dict[str, int], repeats: list[dict[str, Any]], load: dict[str, Any]
) -> dict[str, Any]:
    total = statistics.median(r["total"] for r in repeats)
    scan = statistics.median(sum(r["scan"].values()) for r in repeats)
    bare = statistics.median(sum(r["bare"].values()) for r in repeats)
    cpu = statistics.median(r["cpu"] for r in repeats)
    scan_cpu = statistics.median(sum(r["scan_cpu"].values()) for r in repeats)
    bare_cpu = statistics.median(sum(r["bare_cpu"].values()) for r in repeats)
    report = repeats[-1]["report"]
    statuses: dict[str, int] = defaultdict(int)
    for rule in report.rules:
        statuses[rule.status] += 1
    return {
        "rows": rows,
        "rules": len(report.rules),
        "rule_status": dict(statuses),
        "compiled_queries": report.queries,
        "seconds_total_median": round(total, 2),
        "seconds_total_all": [round(r["total"], 2) for r in repeats],
        "cpu_seconds_total_median": round(cpu, 2),
        "cpu_seconds_all": [round(r["cpu"], 2) for r in repeats],
        "seconds_rule_queries_median": round(statistics.median(r["queries"] for r in repeats), 2),
        "seconds_by_query_kind": _median(repeats, "by_kind"),
        "seconds_customer_completeness": round(
            statistics.median(r["completeness"] for r in repeats), 2
        ),
        "seconds_rule_queries_by_table": _median(repeats, "by_table"),
        "seconds_by_query": _median(repeats, "by_query"),
        "seconds_bare_count_by_table": _median(repeats, "bare"),
        "seconds_scan_by_table": _median(repeats, "scan"),
        "seconds_bare_count_total": round(bare, 2),
        "seconds_scan_total": round(scan, 2),
        "scan_share": round(scan / total, 3),
        "bare_count_share": round(bare / total, 3),
        "cpu_seconds_scan_total": round(scan_cpu, 2),
        "cpu_seconds_bare_count_total": round(bare_cpu, 2),
        "scan_share_of_cpu": round(scan_cpu / cpu, 3),
        "bare_count_share_of_cpu": round(bare_cpu / cpu, 3),
        "findings": {r.rule: [r.status, r.checked, r.failed] for r in report.rules if r.checked},
        "load_average": load,
        "duckdb_threads": "default (all cores)",
    }


def print_table(figures: dict[str, Any]) -> None:
    print(f"\n{'table':<22}{'rule queries s':>16}{'scan s':>10}{'count(*) s':>12}")
    for table, scan in sorted(figures["seconds_scan_by_table"].items()):
        rules = figures["seconds_rule_queries_by_table"].get(table, 0.0)
        bare = figures["seconds_bare_count_by_table"][table]
        print(f"{table:<22}{rules:>16.2f}{scan:>10.2f}{bare:>12.2f}")
    print(f"\nby query kind: {figures['seconds_by_query_kind']}")
    print(
        f"run_quality {figures['seconds_total_median']} s (median), rule queries "
        f"{figures['seconds_rule_queries_median']} s, scan {figures['seconds_scan_total']} s "
        f"= {figures['scan_share']:.0%} of the run, bare count(*) "
        f"{figures['seconds_bare_count_total']} s; CPU seconds: run "
        f"{figures['cpu_seconds_total_median']}, scan {figures['cpu_seconds_scan_total']} "
        f"= {figures['scan_share_of_cpu']:.0%}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--name", default="quality_rules", help="results/<name>.json")
    args = parser.parse_args()
    rows = build(args.events, args.profiles, args.chunk)
    load_before = os.getloadavg()
    with Workspace.open(load_settings(home=HOME)) as ws:
        install_rules(ws, shipped_rules_text().rstrip() + "\n" + EVENT_RULES)
        columns = rule_columns(ws)
        repeats = []
        for n in range(args.repeat):
            repeats.append(one_repeat(ws, columns))
            print(f"repeat {n + 1}: run_quality {repeats[-1]['total']:.2f} s", flush=True)
    load = {"before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip
    figures = summarize(rows, repeats, load)
    figures["columns_scanned"] = columns
    print_table(figures)
    save(args.name, figures)


if __name__ == "__main__":
    main()
