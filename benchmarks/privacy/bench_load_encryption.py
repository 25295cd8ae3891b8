"""What encryption at rest costs a customer load, identity resolution and a full scan (issue 7).

The same ``--customers`` customers (default 200,000; ``customer_sources``: CRM members with
resident IDs from SQLite, vendor income and credit bands from CSV) are loaded through the
shipped example mappings into a fresh workspace with ``field_encryption`` on and off, rounds
alternated (on/off, then off/on...) so the shared machine's load hits both alike. Each round:

1. ``first_load``: both sources ingested (land raw, stage ``customer_records`` by key; with
   encryption on, every L3 value sealed and a data key created per record);
2. ``reload``: the same two files ingested again (seen rows: landed, staged again by key; the
   keys exist now);
3. ``resolve``: ``resolve_identities(full=True)`` (reads records through the engine, so sealed
   values are opened; writes profiles, sealing their L3 values and golden traits);
4. ``scan_resident_id``: ``count(DISTINCT resident_id)`` over ``customer_records`` (every
   sealed value opened in DuckDB), ``scan_phone``: the same over ``phone`` (a personal column
   the engine passes through the opening function, never sealed), ``scan_count``: ``count(*)``.

Figures: wall and process CPU seconds (DuckDB's threads included), medians over ``--rounds``;
the added cost per L3 value and per record is (on - off) / values, in CPU µs (the work is the
figure that does not depend on the neighbours) and wall µs.

Run: ``.venv/bin/python benchmarks/privacy/bench_load_encryption.py [--customers 200000]``
Results: ``benchmarks/results/privacy_load_encryption.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_record import WORK, save
from customer_sources import DEMO_MAPPINGS, CustomerSources, write_customer_sources

from custodia.collect.mapping_spec import MappingFile, load_mapping_file
from custodia.pipeline.identity_resolve import resolve_identities
from custodia.pipeline.ingest import ingest_db, ingest_file
from custodia.settings import load_settings
from custodia.workspace import Workspace

STEPS = ("first_load", "reload", "resolve", "scan_resident_id", "scan_phone", "scan_count")
SCANS = {
    "scan_resident_id": "SELECT count(DISTINCT resident_id) FROM customer_records",
    "scan_phone": "SELECT count(DISTINCT phone) FROM customer_records",
    "scan_count": "SELECT count(*) FROM customer_records",
}


def measure(call: Callable[[], Any]) -> tuple[float, float]:
    """(wall, process CPU) seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def load(ws: Workspace, mappings: MappingFile, sources: CustomerSources) -> None:
    ingest_db(ws, mappings, "crm_members", f"sqlite:///{sources.members_db}", table="members")
    ingest_file(ws, mappings, "enrichment_third_party", sources.enrichment_csv)


def one_round(
    home: Path, encrypted: bool, mappings: MappingFile, sources: CustomerSources, scans: int
) -> dict[str, tuple[float, float]]:
    """Every step once in a fresh workspace; (wall, CPU) per step."""
    shutil.rmtree(home, ignore_errors=True)
    settings = load_settings(home=home, loader_interval_seconds=0, field_encryption=encrypted)
    ws = Workspace.create(settings)[0]
    out: dict[str, tuple[float, float]] = {}
    with ws:
        out["first_load"] = measure(lambda: load(ws, mappings, sources))
        out["reload"] = measure(lambda: load(ws, mappings, sources))
        out["resolve"] = measure(lambda: resolve_identities(ws, full=True, actor="bench"))
        engine = ws.query_engine()
        for name, sql in SCANS.items():
            runs = [measure(lambda sql=sql: engine.query(sql)) for _ in range(scans)]
            out[name] = (min(r[0] for r in runs), min(r[1] for r in runs))
        if encrypted:
            assert _sealed_on_disk(ws), "no ciphertext in customer_records"
    shutil.rmtree(home, ignore_errors=True)
    return out


def _sealed_on_disk(ws: Workspace) -> bool:
    import pyarrow.parquet as pq

    path = ws.lake.path("staged", "customer_records")
    first = next(path.rglob("*.parquet"))
    values = [v for v in pq.read_table(first, columns=["resident_id"]).column(0).to_pylist() if v]
    return bool(values) and values[0].startswith("enc:v1:")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scans", type=int, default=3, help="repeats of each scan (best kept)")
    args = parser.parse_args()
    root = WORK / "privacy_load_encryption"
    sources = write_customer_sources(root / "data", args.customers, seed=7)
    mappings = load_mapping_file(DEMO_MAPPINGS)
    records = sources.members + sources.enriched
    rounds: dict[str, list[dict[str, tuple[float, float]]]] = {"on": [], "off": []}
    loads = [os.getloadavg()[0]]
    for r in range(args.rounds):
        for mode in ("on", "off") if r % 2 == 0 else ("off", "on"):
            print(f"round {r + 1} encryption {mode}", flush=True)
            figures = one_round(root / "ws", mode == "on", mappings, sources, args.scans)
            rounds[mode].append(figures)
            print({k: (round(w, 2), round(c, 2)) for k, (w, c) in figures.items()}, flush=True)
            loads.append(os.getloadavg()[0])
    medians = {
        mode: {
            step: {
                "wall_s": round(statistics.median(f[step][0] for f in runs), 3),
                "cpu_s": round(statistics.median(f[step][1] for f in runs), 3),
            }
            for step in STEPS
        }
        for mode, runs in rounds.items()
    }
    save(
        "privacy_load_encryption",
        {
            "customers": args.customers,
            "records": records,
            "l3_values": sources.l3_values,
            "rounds": args.rounds,
            "median": medians,
            "added": _added(medians, sources.l3_values, records),
            "load_average": {"min": round(min(loads), 2), "max": round(max(loads), 2)},
        },
    )
    shutil.rmtree(root, ignore_errors=True)


def _added(medians: dict[str, Any], values: int, records: int) -> dict[str, Any]:
    """(on - off) per step: seconds, µs per L3 value and per record (CPU and wall)."""
    out: dict[str, Any] = {}
    for step in STEPS:
        on, off = medians["on"][step], medians["off"][step]
        cpu, wall = on["cpu_s"] - off["cpu_s"], on["wall_s"] - off["wall_s"]
        out[step] = {
            "cpu_s": round(cpu, 3),
            "wall_s": round(wall, 3),
            "cpu_us_per_l3_value": round(cpu / values * 1e6, 2),
            "wall_us_per_l3_value": round(wall / values * 1e6, 2),
            "cpu_us_per_record": round(cpu / records * 1e6, 2),
        }
    return out


if __name__ == "__main__":
    main()
