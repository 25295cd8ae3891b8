"""Phone normalization throughput: ``normalize_values("phone", ...)`` on 1M values.

Two columns of 1,000,000 values each, built from seeded random CN mobiles:

- ``distinct``: every value a different number (the worst case for the memo in
  ``normalize_values``), written the way the demo writes them: 90% plain 11 digits, 2% each with
  ``+86``, dashes, spaces and full-width digits, 2% broken (10 or 12 digits, a letter);
- ``repeated``: 200,000 distinct numbers in the same formats, each value appearing five times
  on average (an event or order column where a customer shows up again and again).

Each column is normalized ``--repeats`` times; the best run's wall and CPU seconds and values per
second go to ``benchmarks/results/identity_normalize.json`` with the share of values rejected.

Run: ``.venv/bin/python benchmarks/identity/bench_normalize.py [--values 1000000] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

from custodia.identity.normalize import normalize_values

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import Stopwatch, save

PREFIXES = [*range(130, 140), *range(150, 154), *range(155, 160), *range(180, 190), 199]


def formatted(dice: random.Random, number: str) -> str:
    """The number as a person or a source system might have typed it."""
    u = dice.random()
    if u < 0.90:
        return number
    if u < 0.92:
        return f"+86 {number}"
    if u < 0.94:
        return f"{number[:3]}-{number[3:7]}-{number[7:]}"
    if u < 0.96:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if u < 0.98:
        return "".join(chr(ord(ch) + 0xFEE0) for ch in number)
    k = dice.randrange(3, 11)
    return (number[:k] + number[k + 1 :], number + "7", number[:k] + "a" + number[k + 1 :])[
        dice.randrange(3)
    ]


def column(dice: random.Random, size: int, distinct: int) -> list[str]:
    numbers = {f"{dice.choice(PREFIXES)}{dice.randrange(10**8):08d}" for _ in range(distinct)}
    pool = [formatted(dice, n) for n in numbers]
    if distinct >= size:
        return pool[:size]
    return [pool[dice.randrange(len(pool))] for _ in range(size)]


def measure(values: list[str], repeats: int) -> tuple[float, float, float]:
    """Best wall seconds and best CPU seconds over ``repeats`` runs, and the share rejected.

    CPU seconds are reported too because the machine is shared: waiting for a core inflates the
    wall clock but not the process's own CPU time.
    """
    best_wall = best_cpu = float("inf")
    rejected = 0.0
    for _ in range(repeats):
        cpu_start = time.process_time()
        with Stopwatch() as sw:
            normalized, _reasons = normalize_values("phone", values)
        best_cpu = min(best_cpu, time.process_time() - cpu_start)
        best_wall = min(best_wall, sw.seconds)
        rejected = sum(v is None for v in normalized) / len(values)
    return best_wall, best_cpu, rejected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    dice = random.Random(42)
    figures: dict[str, float | int] = {"values": args.values, "repeats": args.repeats}
    cases = {"distinct": args.values, "repeated": args.values // 5}
    for name, distinct in cases.items():
        values = column(dice, args.values, int(distinct * 1.05))
        seconds, cpu_seconds, rejected = measure(values, args.repeats)
        figures[f"{name}_distinct_values"] = len(set(values))
        figures[f"{name}_seconds"] = round(seconds, 2)
        figures[f"{name}_values_per_second"] = round(len(values) / seconds)
        figures[f"{name}_cpu_seconds"] = round(cpu_seconds, 2)
        figures[f"{name}_values_per_cpu_second"] = round(len(values) / cpu_seconds)
        figures[f"{name}_rejected_share"] = round(rejected, 4)
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    save("identity_normalize", figures)


if __name__ == "__main__":
    main()
