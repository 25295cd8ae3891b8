"""Demo generation speed: customers per second at 100,000 customers (issue: Foundation).

Run: ``.venv/bin/python benchmarks/bench_demo_generation.py [--customers 100000] [--seed 7]``
"""

from __future__ import annotations

import argparse
import shutil

from bench_record import WORK, Stopwatch, save

from custodia.demo import generate_demo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    out = WORK / "demo-generation"
    shutil.rmtree(out, ignore_errors=True)
    with Stopwatch() as sw:
        manifest = generate_demo(out, customers=args.customers, seed=args.seed)
    records = sum(s.records for s in manifest.sources)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    save(
        "demo_generation",
        {
            "customers": args.customers,
            "seconds": round(sw.seconds, 2),
            "customers_per_second": round(args.customers / sw.seconds),
            "source_records": records,
            "records_per_second": round(records / sw.seconds),
            "bytes_written": size,
        },
    )
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
