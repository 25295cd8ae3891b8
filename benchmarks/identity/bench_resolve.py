"""Identity resolution at scale (issue 5 figures), on synthetic customer records.

1. ``full``: resolve ``--records`` customer records (default 1,000,000) of about records/2
   people spread over four sources the way the demo spreads them (CRM members with resident IDs,
   shop accounts, POS loyalty customers, enrichment rows keyed by phone), with format variants
   (``+86``, spaces, dashes, upper-case emails) and junk phones: ``custodia identity resolve
   --full`` in a child process; wall time and the child's peak memory (max RSS).
2. ``incremental``: 10,000 new CRM records (half of them people already known by phone, half new
   people), then ``custodia identity resolve``: wall time.
3. ``lookup``: ``custodia serve`` (one worker), then ``wrk`` paced to ``--rate`` requests/s
   (default 500) for ``--seconds`` on ``GET /v1/profiles/{type}:{value}/traits`` with 20,000
   references by phone, email and member id sampled from ``profile_identifiers``: p50/p90/p99
   latency (goal p99 < 10 ms).

The records are written straight into the staged ``customer_records`` table (the ingest path has
its own benchmark); everything after that is the product's own code. Results go to
``benchmarks/results/identity_resolve.json``.

Run: ``.venv/bin/python benchmarks/identity/bench_resolve.py [--records 1000000]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import WORK, Stopwatch, save
from http_load import free_port, run_wrk

from custodia.core.ids import record_key
from custodia.core.tables import CUSTOMER_RECORDS
from custodia.settings import load_settings
from custodia.workspace import Workspace

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
LOADED = datetime(2026, 11, 1, tzinfo=UTC)


def resident_id(rng: random.Random, born: date) -> str:
    region = rng.choice(("110105", "310115", "440306", "330106"))
    body = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    total = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


def phone_variant(rng: random.Random, national: str) -> str:
    roll = rng.random()
    if roll < 0.1:
        return f"+86 {national[:3]} {national[3:7]} {national[7:]}"
    if roll < 0.15:
        return f"+86-{national}"
    return national


class Person:
    __slots__ = ("birthday", "email", "member", "name", "phone", "resident", "user")

    def __init__(self, rng: random.Random, i: int) -> None:
        self.phone = f"1{rng.choice(('38', '39', '50', '86', '77', '58'))}{i:08d}"
        self.email = f"user{i}@{rng.choice(('qq.com', '163.com', 'example.com'))}"
        self.member = f"M{i:09d}"
        self.user = f"U{i:09d}" if rng.random() < 0.6 else None
        self.birthday = date(1960, 1, 1) + timedelta(days=rng.randrange(16_000))
        self.resident = resident_id(rng, self.birthday) if rng.random() < 0.4 else None
        self.name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def customer_rows(rng: random.Random, person: Person, i: int) -> list[dict[str, Any]]:
    rows = []
    junk = rng.random() < 0.02
    phone = "13800000000" if junk else phone_variant(rng, person.phone)
    if rng.random() < 0.8:
        rows.append({"source": "crm_members", "source_key": person.member,
                     "member_id": person.member, "name": person.name, "phone": phone,
                     "birthday": person.birthday,
                     "email": person.email if rng.random() < 0.7 else None,
                     "resident_id": person.resident})  # fmt: skip
    if person.user and rng.random() < 0.8:
        rows.append({"source": "ecommerce_orders", "source_key": person.user,
                     "user_id": person.user,
                     "member_id": person.member if rng.random() < 0.7 else None,
                     "phone": person.phone if rng.random() < 0.3 else None,
                     "email": person.email.upper() if rng.random() < 0.3 else None})  # fmt: skip
    if rng.random() < 0.4:
        card = rng.random() < 0.6
        rows.append({"source": "pos_receipts",
                     "source_key": person.member if card else f"phone:{person.phone}",
                     "member_id": person.member if card else None,
                     "phone": None if card else person.phone})  # fmt: skip
    if rng.random() < 0.3:
        key = phone_variant(rng, person.phone)
        rows.append({"source": "enrichment_third_party", "source_key": key, "phone": key})
    return rows


def to_table(rows: list[dict[str, Any]], loaded: datetime) -> pa.Table:
    for row in rows:
        row["record_id"] = record_key(row["source"], row["source_key"])
        row["updated_at"] = loaded - timedelta(days=1)
        row["run_id"] = "bench"
        row["loaded_at"] = loaded
    schema = CUSTOMER_RECORDS.arrow_schema()
    return pa.Table.from_pylist(rows, schema=schema)


def write_records(ws: Workspace, target: int, seed: int) -> tuple[int, list[Person]]:
    rng = random.Random(seed)
    people: list[Person] = []
    batch: list[dict[str, Any]] = []
    written, i = 0, 0
    seen: set[str] = set()
    while written + len(batch) < target:
        person = Person(rng, i)
        people.append(person)
        for row in customer_rows(rng, person, i):
            key = f"{row['source']}|{row['source_key']}"
            if key not in seen:
                seen.add(key)
                batch.append(row)
        i += 1
        if len(batch) >= 250_000:
            ws.lake.append("staged", "customer_records", to_table(batch, LOADED))
            written += len(batch)
            batch = []
    if batch:
        ws.lake.append("staged", "customer_records", to_table(batch, LOADED))
        written += len(batch)
    return written, people


def new_records(ws: Workspace, people: list[Person], count: int, seed: int) -> None:
    rng = random.Random(seed + 1)
    rows = []
    for k in range(count):
        known = k % 2 == 0
        phone = rng.choice(people).phone if known else f"1990{k:07d}"
        rows.append({"source": "crm_members", "source_key": f"N{k:08d}", "member_id": f"N{k:08d}",
                     "name": "新会员", "phone": phone})  # fmt: skip
    ws.lake.append("staged", "customer_records", to_table(rows, datetime.now(UTC)))


def run_child(command: list[str]) -> tuple[float, dict[str, Any]]:
    with Stopwatch() as sw:
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    return sw.seconds, json.loads(done.stdout)


def wrk(
    url: str, refs: Path, token: str, seconds: int, connections: int, delay: float
) -> dict[str, Any]:
    env = {"REFS": str(refs), "TOKEN": token, "DELAY_MS": str(int(delay))}
    result = run_wrk(HERE / "get.lua", url, env, seconds, connections)
    result["rate"] = result["requests_per_second"]
    return result


def lookups(home: Path, token: str, args: argparse.Namespace) -> dict[str, Any]:
    refs = home.parent / "refs.txt"
    with Workspace.open(load_settings(home=home)) as ws:
        sample = ws.query(
            "SELECT id_type || ':' || id_value_normalized AS ref FROM profile_identifiers "
            "WHERE id_type IN ('phone', 'email', 'member_id') USING SAMPLE 20000 ROWS"
        )
    refs.write_text("\n".join(sample.column("ref").to_pylist()) + "\n", encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODIA_")}
    env.update(CUSTODIA_ACCESS_LOG="false", CUSTODIA_LOADER_INTERVAL_SECONDS="0")
    log = (home.parent / "server.log").open("wb")
    server = subprocess.Popen([str(BIN / "custodia"), "--home", str(home), "serve", "--port",
                               str(port)], env=env, stdout=log, stderr=log)  # fmt: skip
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        connections = 10
        delay = connections * 1000 / args.rate
        wrk(url, refs, token, 3, connections, delay)  # warm-up
        for _ in range(4):
            rate = wrk(url, refs, token, 3, connections, delay)["rate"]
            if abs(rate - args.rate) / args.rate < 0.05:
                break
            delay = max(delay + connections * 1000 / args.rate - connections * 1000 / rate, 0)
        result = wrk(url, refs, token, args.seconds, connections, delay)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {
        "requests_per_second": round(result["rate"]),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p90_ms": round(result["p90_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "non_2xx": result["non2xx"],
        "socket_errors": result["errors"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    work = WORK / "identity"
    shutil.rmtree(work, ignore_errors=True)
    home = work / "ws"
    exe = str(BIN / "custodia")
    init = subprocess.run([exe, "--home", str(home), "init", "--json"], capture_output=True,
                          text=True, check=True)  # fmt: skip
    token = json.loads(init.stdout)["token"]
    with Workspace.open(load_settings(home=home)) as ws, Stopwatch() as gen:
        written, people = write_records(ws, args.records, args.seed)
    print(f"wrote {written:,} customer records of {len(people):,} people in {gen.seconds:.1f} s")
    seconds, report = run_child(
        [exe, "--home", str(home), "identity", "resolve", "--full", "--json"]
    )
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    figures: dict[str, Any] = {
        "records": written,
        "people": len(people),
        "full_seconds": round(seconds, 1),
        "full_minutes": round(seconds / 60, 2),
        "full_peak_rss_mb": round(peak_mb),
        "profiles": report["profiles_total"],
        "records_flagged": report["records_flagged"],
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    with Workspace.open(load_settings(home=home)) as ws:
        new_records(ws, people, args.new, args.seed)
    seconds, report = run_child([exe, "--home", str(home), "identity", "resolve", "--json"])
    figures.update(
        incremental_records=report["records_in_scope"],
        incremental_seconds=round(seconds, 1),
        incremental_profiles_created=report["profiles_created"],
    )
    print("full and incremental:", figures)
    figures.update({f"lookup_{k}": v for k, v in lookups(home, token, args).items()})
    save("identity_resolve", figures)


if __name__ == "__main__":
    main()
