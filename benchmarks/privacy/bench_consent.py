"""Consent gate cost: the bulk ``allowed_profiles`` and the single ``allowed`` on a big ledger.

Workload: ``--profiles`` profiles (default 200,000), each with ``--records`` consent records
(default 3) spread over the six purposes and a mix of grants, withdrawals and expiring grants, bulk
inserted into a SQLite operational store under ``benchmarks/work/consent`` (the rows are written
directly: recording itself is one small transaction per choice and is not what is measured).
No merges and no birth dates, so the figures are the ledger's own cost.

Figures: ``bulk_seconds`` per purpose (median of ``--repeats``; one aggregate query and the
decision per profile in Python), ``allowed_us`` (one profile, median over 2,000 random profiles)
and ``record_ms`` (one grant with its audit entry, median of 200).

Run: ``.venv/bin/python benchmarks/privacy/bench_consent.py [--profiles 200000]``
Results: ``benchmarks/results/privacy_consent.json``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from custodia.privacy.consent import Purpose
from custodia.privacy.consent_ledger import ConsentLedger
from custodia.storage.store import OperationalStore
from custodia.storage.store_schema import consents

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import WORK, save

NOW = datetime(2026, 11, 24, tzinfo=UTC)
PURPOSES = [p.value for p in Purpose]


def _rows(profiles: int, per_profile: int, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for n in range(profiles):
        for k in range(per_profile):
            granted = rng.random() < 0.7
            rows.append({
                "consent_id": f"cns_{n:010d}{k:02d}", "profile_id": f"prf_b{n:010d}",
                "purpose": rng.choice(PURPOSES), "status": "granted" if granted else "withdrawn",
                "notice_version": "v1" if granted else None, "channel": "web",
                "actor": "customer", "recorded_by": "bench",
                "recorded_at": NOW - timedelta(days=rng.randint(1, 700), seconds=k),
                "expires_at": NOW + timedelta(days=rng.randint(-200, 400))
                if granted and rng.random() < 0.3 else None,
            })  # fmt: skip
    return rows


def _fill(store: OperationalStore, rows: list[dict[str, Any]]) -> None:
    with store.begin() as conn:
        for start in range(0, len(rows), 20_000):
            conn.execute(consents.insert(), rows[start : start + 20_000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", type=int, default=200_000)
    parser.add_argument("--records", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = WORK / "consent"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    store = OperationalStore.sqlite(work / "store.db")
    store.migrate()
    rng = random.Random(7)
    _fill(store, _rows(args.profiles, args.records, rng))
    ledger = ConsentLedger(store)
    figures: dict[str, Any] = {"profiles": args.profiles, "records": args.profiles * args.records}
    for purpose in ("marketing", "sharing"):
        times, allowed = [], 0
        for _ in range(args.repeats):
            start = time.perf_counter()
            allowed = len(ledger.allowed_profiles(purpose, NOW))
            times.append(time.perf_counter() - start)
        figures[f"bulk_seconds_{purpose}"] = round(statistics.median(times), 3)
        figures[f"allowed_{purpose}"] = allowed
    singles = []
    for _ in range(2000):
        pid = f"prf_b{rng.randrange(args.profiles):010d}"
        start = time.perf_counter()
        ledger.allowed(pid, "marketing", NOW)
        singles.append(time.perf_counter() - start)
    figures["allowed_us"] = round(statistics.median(singles) * 1e6, 1)
    records = []
    for n in range(200):
        start = time.perf_counter()
        ledger.grant(f"prf_b{n:010d}", "analytics", notice_version="v2", channel="app",
                     recorded_by="bench")  # fmt: skip
        records.append(time.perf_counter() - start)
    figures["record_ms"] = round(statistics.median(records) * 1e3, 2)
    store.dispose()
    save("privacy_consent", figures)


if __name__ == "__main__":
    main()
