"""Erasure of one customer in a large workspace, end to end, with a breakdown (issue 7).

Build (once per ``--home``; a built workspace is reused, ``--rebuild`` starts again):
``--customers`` customers (default 1,000,000) written by ``customer_sources`` and loaded through
the product's own path with the shipped example mappings (``crm_members`` from SQLite,
``enrichment_third_party`` from CSV: land raw, stage ``customer_records`` by key, seal the L3
columns), then ``resolve_identities(full=True)`` (identity graph, ``profiles``,
``profile_identifiers``, golden traits in the store). No events or orders. Each build step is
timed and printed; the build is recorded in ``HOME/bench_build.json``.

Measure: ``--erasures`` rounds (default 3), each ``erase_person`` of a different customer not
erased before (by phone; rounds of earlier runs on the same workspace are kept and reported),
timed whole (wall and CPU: this process plus the clean-up child) and split by phase, by
wrapping the module's steps with timers (the steps themselves run unchanged):

* ``scope``: ``person_scope`` (profile, records, identifiers, lake keys of every table);
* ``lake_delete``: ``Lakehouse.delete_by_keys`` per table (files holding the rows rewritten);
* ``lake_clean_child``: vacuum (retention 0) and checkpoint + log clean-up, in a spawned child;
* ``store_shred``: data keys of the person's records and profile shredded, blind indexes gone;
* ``store_delete``: identity records, identifiers, edges, registry, consents... deleted;
* ``store_compact``: the operational store rebuilt (SQLite ``VACUUM``) so freed pages keep nothing;
* ``rest``: event-log files, exports, the audit entry.

Run: ``.venv/bin/python benchmarks/privacy/bench_erasure.py [--customers 1000000] [--home H]``
Results: ``benchmarks/results/privacy_erasure_<customers>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_record import WORK, save
from customer_sources import DEMO_MAPPINGS, mobile, write_customer_sources

from custodia.collect.mapping_spec import load_mapping_file
from custodia.core.errors import NotFoundError
from custodia.pipeline import privacy_erasure
from custodia.pipeline.identity_resolve import resolve_identities
from custodia.pipeline.ingest import ingest_db, ingest_file
from custodia.pipeline.profile_view import ProfileView
from custodia.settings import load_settings
from custodia.workspace import Workspace

BUILD_FILE = "bench_build.json"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@contextmanager
def timed(label: str, into: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    into[label] = round(time.perf_counter() - start, 2)
    log(f"{label}: {into[label]} s")


def build(home: Path, customers: int) -> dict[str, Any]:
    """Load and resolve ``customers`` customers into a new workspace at ``home``."""
    shutil.rmtree(home, ignore_errors=True)
    settings = load_settings(home=home / "ws", loader_interval_seconds=0)
    steps: dict[str, float] = {}
    with timed("write_sources", steps):
        sources = write_customer_sources(home / "data", customers, seed=11)
    ws = Workspace.create(settings)[0]
    mappings = load_mapping_file(DEMO_MAPPINGS)
    url = f"sqlite:///{sources.members_db}"
    with timed("ingest_crm_members", steps):
        ingest_db(ws, mappings, "crm_members", url, table="members")
    with timed("ingest_enrichment", steps):
        ingest_file(ws, mappings, "enrichment_third_party", sources.enrichment_csv)
    with timed("resolve_full", steps):
        report = resolve_identities(ws, full=True, actor="bench", progress=_progress())
    record = {
        "customers": customers,
        "records": sources.members + sources.enriched,
        "l3_values": sources.l3_values,
        "build_seconds": steps,
        "resolve": report.model_dump(mode="json", exclude={"run_id"}),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 1),
        "erased": [],
    }
    ws.close()
    (home / BUILD_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
    return record


def _progress() -> Callable[[str, int, int], None]:
    last = [""]

    def report(step: str, done: int, total: int) -> None:
        if step != last[0]:
            last[0] = step
            log(f"resolve: {step} ({done}/{total})")

    return report


def holdings(ws: Workspace) -> dict[str, Any]:
    """What the workspace holds: rows and data files per lake table, store size."""
    tables: dict[str, Any] = {}
    for name, location in ws.table_locations().items():
        if not location.path.exists():
            continue
        rows = ws.lake.row_count(location.zone, name)  # type: ignore[arg-type]
        if rows:
            files = len(list(location.path.rglob("*.parquet")))
            tables[name] = {"rows": rows, "parquet_files_on_disk": files}
    store = ws.home / "store.db"
    size = store.stat().st_size if store.exists() else None
    return {"lake": tables, "store_megabytes": size and round(size / 1e6)}


class PhaseTimer:
    """Wraps the erasure module's steps with timers; the steps run unchanged."""

    WRAPPED = (
        ("scope", "person_scope"),
        ("lake", "_erase_lake"),
        ("lake_clean_child", "clean_lake_in_child"),
        ("store", "_erase_store"),
        ("store_delete", "delete_person_rows"),
        ("store_compact", "compact_store"),
        ("event_logs", "_erase_event_logs"),
        ("exports", "_erase_exports"),
        ("audit", "_audit"),
    )

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._saved: dict[str, Any] = {}

    def __enter__(self) -> PhaseTimer:
        for label, attr in self.WRAPPED:
            original = getattr(privacy_erasure, attr)
            self._saved[attr] = original
            setattr(privacy_erasure, attr, self._timer(label, original))
        return self

    def __exit__(self, *_exc: object) -> None:
        for attr, original in self._saved.items():
            setattr(privacy_erasure, attr, original)

    def _timer(self, label: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - start

        return run

    def breakdown(self) -> dict[str, float]:
        s = self.seconds
        parts = {
            "scope": s["scope"],
            "lake_delete": s["lake"] - s.get("lake_clean_child", 0.0),
            "lake_clean_child": s.get("lake_clean_child", 0.0),
            "store_shred": s["store"] - s["store_delete"] - s["store_compact"],
            "store_delete": s["store_delete"],
            "store_compact": s["store_compact"],
            "rest": s["event_logs"] + s["exports"] + s["audit"],
        }
        return {k: round(v, 3) for k, v in parts.items()}


def erase_one(ws: Workspace, customer: int) -> dict[str, Any]:
    """Erase customer number ``customer`` by phone; timings, CPU and the receipt's counts."""
    ref = f"phone:{mobile(customer)}"
    ProfileView(ws).find(ref)  # the customer exists before
    cpu = time.process_time(), _children_cpu()
    with PhaseTimer() as phases:
        start = time.perf_counter()
        receipt = privacy_erasure.erase_person(ws, ref, actor="bench", reason="benchmark")
        wall = time.perf_counter() - start
    try:
        ProfileView(ws).find(ref)
        raise AssertionError("the erased customer is still found")
    except NotFoundError:
        pass
    return {
        "customer": customer,
        "wall_seconds": round(wall, 2),
        "cpu_seconds_parent": round(time.process_time() - cpu[0], 2),
        "cpu_seconds_child": round(_children_cpu() - cpu[1], 2),
        "phases_seconds": phases.breakdown(),
        "counts": receipt.counts,
        "load_average": round(os.getloadavg()[0], 2),
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--erasures", type=int, default=3)
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    home = args.home or WORK / f"privacy_erasure_{args.customers}"
    built = home / BUILD_FILE
    if args.rebuild or not built.exists():
        log(f"building {args.customers:,} customers in {home}")
        record = build(home, args.customers)
    else:
        record = json.loads(built.read_text(encoding="utf-8"))
        log(f"reusing {home} ({record['customers']:,} customers)")
    if args.build_only:
        return
    ws = Workspace.open(load_settings(home=home / "ws", loader_interval_seconds=0))
    held = holdings(ws)
    log(f"workspace holds {held}")
    rounds: list[dict[str, Any]] = record.setdefault("rounds", [])
    step = max(record["customers"] // 64, 1)
    candidates = (c for c in range(1, record["customers"], step) if c not in record["erased"])
    for _ in range(args.erasures):
        customer = next(candidates)
        log(f"erasing customer {customer}")
        rounds.append(erase_one(ws, customer))
        record["erased"].append(customer)
        built.write_text(json.dumps(record, indent=2), encoding="utf-8")
        log(json.dumps(rounds[-1]))
    ws.close()
    save(
        f"privacy_erasure_{record['customers']}",
        {
            "customers": record["customers"],
            "build": {k: v for k, v in record.items() if k not in ("erased", "rounds")},
            "holdings": held,
            "erasure_wall_seconds_median": statistics.median(r["wall_seconds"] for r in rounds),
            "rounds": rounds,
        },
    )


if __name__ == "__main__":
    main()
