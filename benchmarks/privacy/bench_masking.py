"""Profile reads with role-based masking on and off, and with an approved unmask request.

Workload: the identity test sources (``tests/data/identity``) ingested and resolved into a fresh
workspace under ``benchmarks/work/privacy_masking``, then ``--reads`` reads (default 2,000) of
one customer's 360 by member id, in process (no HTTP), each way:

- ``traits_off`` / ``traits_on``: ``ProfileView.traits_of`` alone, then masked for a service
  agent (``disclose_traits``), the lookup API's hot path;
- ``summary_off`` / ``summary_on``: the whole 360 summary (traits, identities, latest events,
  orders, interactions and tags: several lakehouse queries), unmasked and masked;
- ``traits_unmask``: masked with an approved unmask request, which checks the request and writes
  one ``data.unmask`` audit entry per read;
- ``mask_traits``: the masking step alone on a traits answer.

Figures are medians in µs per read of ``--repeats`` rounds, off and on alternated: wall time
(``*_us``) and process CPU time (``*_cpu_us``, DuckDB's threads included), the figure to compare
when the shared machine is busy. ``CUSTODIA_FIELD_ENCRYPTION=false`` measures the same reads
without opening sealed values (``field_encryption`` is recorded with the figures).

Run: ``.venv/bin/python benchmarks/privacy/bench_masking.py [--reads 2000]``
Results: ``benchmarks/results/privacy_masking.json`` (``privacy_masking_no_encryption.json`` off).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from custodia.pipeline.identity_resolve import resolve_identities
from custodia.pipeline.profile_disclosure import (
    VIEWS,
    disclose_profile,
    disclose_traits,
    mask_traits,
)
from custodia.pipeline.profile_view import ProfileView
from custodia.privacy.masking_policy import MaskingPolicy
from custodia.privacy.roles import Role
from custodia.privacy.tokens import issue_token
from custodia.privacy.unmask import UnmaskDesk
from custodia.settings import load_settings
from custodia.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import WORK, save

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "identity"
REF = "member_id:M1"


def workspace(home: Path) -> Workspace:
    """A fresh workspace with the identity test sources loaded and resolved."""
    shutil.rmtree(home, ignore_errors=True)
    settings = load_settings(home=home, loader_interval_seconds=0)
    Workspace.create(settings)[0].close()
    custodia = Path(sys.executable).with_name("custodia")
    for source, name in (("crm", "crm.csv"), ("shop", "shop.csv"), ("web", "clicks.json")):
        subprocess.run(
            [custodia, "--home", home, "ingest", "file", DATA / name, "--source", source,
             "--mapping", DATA / "mapping.yaml", "--json"],
            check=True, capture_output=True,
        )  # fmt: skip
    ws = Workspace.open(settings)
    resolve_identities(ws, full=True, actor="bench")
    return ws


Timing = tuple[float, float]
"""(wall, process CPU) µs per read."""


def per_read_us(read: Callable[[], Any], reads: int, repeats: int) -> Timing:
    return paired_us([read], reads, repeats)[0]


def paired_us(reads_of: list[Callable[[], Any]], reads: int, repeats: int) -> list[Timing]:
    """Median µs per read of each reader, their rounds alternated so load hits them alike."""
    rounds: list[list[Timing]] = [[] for _ in reads_of]
    for _ in range(repeats):
        for n, read in enumerate(reads_of):
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(reads):
                read()
            wall_us = (time.perf_counter() - start) / reads * 1e6
            rounds[n].append((wall_us, (time.process_time() - cpu) / reads * 1e6))
    return [
        (round(statistics.median(w for w, _ in r), 1), round(statistics.median(c for _, c in r), 1))
        for r in rounds
    ]


def figures_of(timings: dict[str, Timing]) -> dict[str, float]:
    """``name_us`` (wall) and ``name_cpu_us`` (process CPU) for each timing."""
    out: dict[str, float] = {}
    for name, (wall, cpu) in timings.items():
        out[f"{name}_us"], out[f"{name}_cpu_us"] = wall, cpu
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ws = workspace(WORK / "privacy_masking")
    policy = MaskingPolicy.shipped()
    agent = issue_token(ws.store, "agent", Role.SERVICE_AGENT, created_by="bench").record
    risk = issue_token(ws.store, "risk", Role.RISK_OFFICER, created_by="bench").record
    approvers = [
        issue_token(ws.store, n, r, created_by="bench").record
        for n, r in (("po", Role.PRIVACY_OFFICER), ("admin2", Role.ADMIN))
    ]
    view = ProfileView(ws)
    pid = view.find(REF)
    desk = UnmaskDesk(ws.store, policy.unmask, ws.clock)
    rid = desk.request(risk, pid, ["resident_id"], purpose="bench")["request_id"]
    for approver in approvers:
        desk.decide(rid, approver, "approve")
    traits = view.traits(pid)
    summary, traits_of = VIEWS["summary"], VIEWS["traits"]
    n, k = args.reads, args.repeats
    traits_off, traits_on = paired_us(
        [lambda: ProfileView(ws).traits_of(REF),
         lambda: disclose_traits(ws, policy, agent, REF, None)], n, k,
    )  # fmt: skip
    summary_off, summary_on = paired_us(
        [lambda: view.summary(view.find(REF)),
         lambda: disclose_profile(ws, policy, agent, REF, "summary", summary)], n // 50, k,
    )  # fmt: skip
    timings = {
        "traits_off": traits_off,
        "traits_on": traits_on,
        "traits_unmask": per_read_us(
            lambda: disclose_profile(ws, policy, risk, REF, "traits", traits_of, unmask=rid), n, k
        ),
        "mask_traits": per_read_us(
            lambda: mask_traits(policy.masker(Role.SERVICE_AGENT), traits), n * 10, k
        ),
        "summary_off": summary_off,
        "summary_on": summary_on,
    }
    figures: dict[str, Any] = {
        "reads": n,
        "field_encryption": ws.settings.field_encryption,
        **figures_of(timings),
        "load_average": round(os.getloadavg()[0], 2),
    }
    ws.close()
    save("privacy_masking" + ("" if figures["field_encryption"] else "_no_encryption"), figures)


if __name__ == "__main__":
    main()
