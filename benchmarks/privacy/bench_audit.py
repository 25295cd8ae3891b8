"""Audit chain cost: an append with and without the anchor, verification, and a customer's trail.

Workload: a SQLite operational store under ``benchmarks/work/audit`` holding ``--entries``
entries (default 100,000) about ``--subjects`` profiles (default 10,000), written as privacy
events; the anchor file beside it, as in a workspace.

Figures: ``append_ms`` / ``append_anchored_ms`` (one append in its own transaction, median of
``--appends``; the anchored one also appends and fsyncs one signed line), ``verify_seconds``
(the whole chain against the anchor) and ``trail_ms`` (one customer's newest 100 uses, median of
200 random customers).

Run: ``.venv/bin/python benchmarks/privacy/bench_audit.py [--entries 100000]``
Results: ``benchmarks/results/privacy_audit.json``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

from custodia.identity.profile_ids import new_profile_id
from custodia.privacy.audit_events import PrivacyAction, PrivacyEvent, record_privacy_event
from custodia.privacy.usage_trail import usage_trail
from custodia.storage.audit_anchor import FileAuditAnchor, anchor_key
from custodia.storage.store import AuditLog, OperationalStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import WORK, save

KEY = anchor_key(b"benchmark-secret-0123456789abcdef")


def _event(subject: str) -> PrivacyEvent:
    return PrivacyEvent(PrivacyAction.UNMASK, "profiles", subject_ref=subject,
                        purpose="fraud_check", fields=("resident_id", "phone"))  # fmt: skip


def _append_ms(audit: AuditLog, count: int) -> float:
    times = []
    for n in range(count):
        start = time.perf_counter()
        record_privacy_event(audit, "token:bench", _event(f"prof_a{n % 100:04x}"))
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1e3, 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--subjects", type=int, default=10_000)
    parser.add_argument("--appends", type=int, default=300)
    args = parser.parse_args()
    work = WORK / "audit"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    plain = OperationalStore.sqlite(work / "plain.db")
    plain.migrate()
    store = OperationalStore.sqlite(work / "store.db")
    store.migrate()
    store.audit_anchor = FileAuditAnchor(work / "audit" / "anchor.jsonl", key=lambda: KEY)
    audit = AuditLog(store)
    figures = {
        "append_ms": _append_ms(AuditLog(plain), args.appends),
        "append_anchored_ms": _append_ms(audit, args.appends),
    }
    subjects = [new_profile_id(f"crm:{n}", ()) for n in range(args.subjects)]
    rng = random.Random(7)
    start = time.perf_counter()
    for _ in range(args.entries - args.appends):
        record_privacy_event(audit, "token:bench", _event(rng.choice(subjects)))
    figures["fill_seconds"] = round(time.perf_counter() - start, 1)

    start = time.perf_counter()
    report = audit.verify()
    figures["verify_seconds"] = round(time.perf_counter() - start, 2)
    assert report.ok, report.summary
    figures["entries"] = report.checked
    figures["anchor_bytes"] = (work / "audit" / "anchor.jsonl").stat().st_size

    trail_times = []
    for subject in rng.sample(subjects, 200):
        start = time.perf_counter()
        usage_trail(audit, [subject], limit=100)
        trail_times.append(time.perf_counter() - start)
    figures["trail_ms"] = round(statistics.median(trail_times) * 1e3, 3)
    plain.dispose()
    store.dispose()
    save("privacy_audit", figures)


if __name__ == "__main__":
    main()
