"""Field encryption cost per L3 value: encrypt and decrypt with the data-key cache hot and cold.

Workload: ``--customers`` customers (default 50,000) with four L3 fields each (phone, email,
resident ID, Chinese name), so 200,000 values by default, in a SQLite operational store under
``benchmarks/work/privacy`` and master keys in a 0600 key file next to it, as a workspace has them.

Measured in µs per value unless said otherwise: process CPU time (best of ``--repeats`` runs; the
work is single-threaded, and CPU time is what a shared, busy machine distorts least) and wall time
(median):

- ``encrypt_new_customers``: the first load, data keys created, wrapped and stored on the way;
- ``encrypt_hot``: every data key already unwrapped in the cache;
- ``encrypt_cold``: keys exist in the store but the cache is empty (one store read and one unwrap
  per customer, amortised over their four fields);
- ``decrypt_hot`` / ``decrypt_cold``: the same for reading;
- ``encrypt_one_hot``: the single-value API (``FieldCipher.encrypt``) in a loop;
- ``aesgcm_floor``: bare ``AESGCM.encrypt`` of the same values with the same associated data
  length, the floor the library cannot go under;
- ``blind_index``: one HMAC-SHA256 digest of a normalized phone;
- ``rotate_seconds``: a master key rotation re-wrapping every data key; ``shred_ms``: one customer.

Run: ``.venv/bin/python benchmarks/privacy/bench_field_crypto.py [--customers 50000]``
Results: ``benchmarks/results/privacy_field_crypto.json``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from custodia.privacy.blind_index import BlindIndexer
from custodia.privacy.data_keys import DataKeyRing
from custodia.privacy.field_crypto import FieldCipher
from custodia.privacy.keys import FileKeyProvider
from custodia.storage.store import OperationalStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import WORK, save

FIELDS = ("phone", "email", "resident_id", "name")
SURNAMES = "王李张刘陈杨黄赵吴周"


def columns(customers: int) -> dict[str, list[str]]:
    """Plausible synthetic L3 values (no real person), one per customer and field."""
    ids = [f"prf_{n:08d}" for n in range(customers)]
    return {
        "customer": ids,
        "phone": [f"+86138{n:08d}" for n in range(customers)],
        "email": [f"customer{n}@example.com" for n in range(customers)],
        "resident_id": [f"110105{1950 + n % 50}0101{n % 1000:03d}X" for n in range(customers)],
        "name": [f"{SURNAMES[n % 10]}客户{n}" for n in range(customers)],
    }


class Bench:
    """One store, one key file, one ring; the same data every run."""

    def __init__(self, root: Path, customers: int) -> None:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        self.store = OperationalStore.sqlite(root / "store.db")
        self.store.migrate()
        self.provider = FileKeyProvider.open_or_create(root / "keys" / "master-keys.json")
        self.ring = DataKeyRing(self.store, self.provider, cache_size=customers * 2)
        self.cipher = FieldCipher(self.ring)
        self.data = columns(customers)
        self.values = customers * len(FIELDS)
        self.texts: dict[str, list[str | None]] = {}

    def encrypt_all(self) -> None:
        for field in FIELDS:
            self.texts[field] = self.cipher.encrypt_column(
                "profiles",
                field,
                customer_ids=self.data["customer"],
                row_keys=self.data["customer"],
                values=self.data[field],
                actor="bench",
            )

    def decrypt_all(self) -> None:
        for field in FIELDS:
            self.cipher.decrypt_column(
                "profiles", field, row_keys=self.data["customer"], ciphertexts=self.texts[field]
            )

    def encrypt_one_by_one(self) -> None:
        customers, phones = self.data["customer"], self.data["phone"]
        for customer, phone in zip(customers, phones, strict=True):
            self.cipher.encrypt(
                customer, phone, table="profiles", row_key=customer, column="phone", actor="b"
            )


def per_value(seconds: float, values: int) -> float:
    return round(seconds / values * 1e6, 2)


class Timing:
    """CPU and wall seconds of one action."""

    def __init__(self, action: Callable[[], None], before: Callable[[], None] | None = None):
        if before is not None:
            before()
        cpu, wall = time.process_time(), time.perf_counter()
        action()
        self.cpu = time.process_time() - cpu
        self.wall = time.perf_counter() - wall


def aesgcm_floor(bench: Bench) -> None:
    aead = AESGCM(secrets.token_bytes(32))
    aad = b"x" * 60
    plain = [value.encode() for field in FIELDS for value in bench.data[field]]
    for value in plain:
        aead.encrypt(os.urandom(12), value, aad)


def blind_index(bench: Bench) -> None:
    BlindIndexer(bench.provider).digests("phone", bench.data["phone"])


def run(customers: int, repeats: int) -> dict[str, Any]:
    load_before = os.getloadavg()
    bench = Bench(WORK / "privacy", customers)
    n, one = bench.values, customers
    cold = bench.ring.forget_cached_keys
    first_load = Timing(bench.encrypt_all)
    cases: dict[str, tuple[Callable[[], None], Callable[[], None] | None, int]] = {
        "encrypt_hot": (bench.encrypt_all, None, n),
        "decrypt_hot": (bench.decrypt_all, None, n),
        "encrypt_cold": (bench.encrypt_all, cold, n),
        "decrypt_cold": (bench.decrypt_all, cold, n),
        "encrypt_one_hot": (bench.encrypt_one_by_one, None, one),
        "aesgcm_floor": (lambda: aesgcm_floor(bench), None, n),
        "blind_index": (lambda: blind_index(bench), None, one),
    }
    cpu: dict[str, list[float]] = {key: [] for key in cases}
    wall: dict[str, list[float]] = {key: [] for key in cases}
    for _ in range(repeats):
        for key, (action, before, count) in cases.items():
            timing = Timing(action, before)
            cpu[key].append(per_value(timing.cpu, count))
            wall[key].append(per_value(timing.wall, count))
    rotate = Timing(lambda: bench.ring.rotate(actor="bench"))
    shred = Timing(lambda: bench.ring.shred(bench.data["customer"][0], actor="bench"))
    figures: dict[str, Any] = {
        "customers": customers,
        "values": n,
        "fields": list(FIELDS),
        "repeats": repeats,
        "cpu_us_per_value": {
            "encrypt_new_customers": per_value(first_load.cpu, n),
            **{key: min(values) for key, values in cpu.items()},
        },
        "wall_us_per_value": {
            "encrypt_new_customers": per_value(first_load.wall, n),
            **{key: round(statistics.median(values), 2) for key, values in wall.items()},
        },
        "samples_cpu_us_per_value": cpu,
        "rotate_seconds": {"cpu": round(rotate.cpu, 2), "wall": round(rotate.wall, 2)},
        "rotate_keys": customers,
        "shred_ms": {"cpu": round(shred.cpu * 1000, 1), "wall": round(shred.wall * 1000, 1)},
        "ciphertext_chars_phone": len(bench.texts["phone"][1] or ""),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "store": "sqlite",
    }
    bench.store.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    save("privacy_field_crypto", run(args.customers, args.repeats))


if __name__ == "__main__":
    main()
