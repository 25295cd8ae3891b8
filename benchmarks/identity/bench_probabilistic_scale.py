"""Probabilistic matching at scale: train on 1M records, then score 10,000 new ones incrementally.

Synthetic person records (numpy, seeded): ``--records`` rows (default 1,000,000) of about
records/1.3 people, Chinese and English names, ISO birthdays, phones, emails and cities; about
30% of the rows are corrupted copies of another (a name typo, a changed phone digit, a missing
email). The spec is the kind a CDP uses for customer records (see ``SPEC``).

Figures (``benchmarks/results/identity_probabilistic_scale.json``): seconds and peak RSS of
``train_model`` on all records (EM capped at ``max_pairs_for_em`` pairs per pass), seconds of
``predict_pairs(..., new_record_ids=...)`` for the last ``--new`` records (default 10,000)
against the rest, the pairs it finds, their precision and their recall over the true pairs that
involve a new record (the ``person`` column is the truth; the spec never reads it).

Run: ``.venv/bin/python benchmarks/identity/bench_probabilistic_scale.py [--records 1000000]``
"""

from __future__ import annotations

import argparse
import resource
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa

from custodia.identity.probabilistic import predict_pairs, train_model
from custodia.identity.probabilistic_spec import ProbabilisticSpec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_record import Stopwatch, save

SPEC = ProbabilisticSpec.model_validate(
    {
        "comparisons": [
            {"column": "name", "method": "name", "term_frequency": True},
            {"column": "birthday", "method": "date"},
            {"column": "phone", "method": "phone"},
            {"column": "email", "method": "email"},
            {"column": "city", "method": "exact", "term_frequency": True},
        ],
        "blocking_rules": [["phone"], ["email"], ["birthday", "substr(name, 1, 1)"]],
        "training_blocking_rules": [["birthday"], ["phone"]],
        "deterministic_rules": [["phone", "birthday"], ["email"]],
        "recall": 0.8,
        "match_threshold": 0.9,
        "max_pairs_for_em": 2_000_000,
    }
)

_GIVEN = [
    "james",
    "olivia",
    "liam",
    "emma",
    "noah",
    "ava",
    "lucas",
    "mia",
    "ethan",
    "chloe",
    "jack",
    "grace",
    "henry",
    "zoe",
    "oscar",
]
_SURNAMES = [
    "smith",
    "brown",
    "wilson",
    "taylor",
    "johnson",
    "white",
    "martin",
    "anderson",
    "nguyen",
    "walker",
    "lee",
]
_ZH_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
_ZH_GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂")
_CITIES = ["上海", "北京", "深圳", "杭州", "广州", "成都", "武汉", "南京", "sydney", "melbourne"]


def synthetic(records: int, seed: int = 11) -> pa.Table:
    """``records`` rows, about 30% of them corrupted copies of earlier people."""
    rng = np.random.default_rng(seed)
    people = int(records / 1.3)
    zh = rng.random(people) < 0.6
    zh_names = (
        np.array(_ZH_SURNAMES)[rng.integers(0, len(_ZH_SURNAMES), people)].astype(object)
        + np.array(_ZH_GIVEN)[rng.integers(0, len(_ZH_GIVEN), people)].astype(object)
        + np.array(_ZH_GIVEN)[rng.integers(0, len(_ZH_GIVEN), people)].astype(object)
    )
    en_names = (
        np.array(_GIVEN)[rng.integers(0, len(_GIVEN), people)].astype(object)
        + " "
        + np.array(_SURNAMES)[rng.integers(0, len(_SURNAMES), people)].astype(object)
    )
    names = np.where(zh, zh_names, en_names)
    days = rng.integers(0, 365 * 55, people)
    birthdays = (np.datetime64("1950-01-01") + days).astype(str).astype(object)
    phones = np.char.add("+861", rng.integers(3_000_000_000, 9_999_999_999, people).astype(str))
    emails = np.char.add(np.char.add("u", np.arange(people).astype(str)), "@example.com")
    cities = np.array(_CITIES)[rng.integers(0, len(_CITIES), people)]
    copies = rng.integers(0, people, records - people)
    which = rng.integers(0, 3, len(copies))
    copy_names = names[copies].copy()
    copy_names[which == 0] = [n[:-1] for n in copy_names[which == 0]]
    copy_phones = phones[copies].astype(object)
    copy_phones[which == 1] = [p[:-1] + "0" for p in copy_phones[which == 1]]
    copy_emails = emails[copies].astype(object)
    copy_emails[which == 2] = None
    return pa.table(
        {
            "record_id": [f"r{i:07d}" for i in range(records)],
            "name": list(names) + list(copy_names),
            "birthday": list(birthdays) + list(birthdays[copies]),
            "phone": list(phones.astype(object)) + list(copy_phones),
            "email": list(emails.astype(object)) + list(copy_emails),
            "city": list(cities.astype(object)) + list(cities[copies].astype(object)),
            "person": list(range(people)) + [int(c) for c in copies],
        }
    )


def incremental_accuracy(records: pa.Table, new: set[str], pairs: pa.Table) -> dict[str, float]:
    """Pair precision, and recall over the true pairs that involve a new record."""
    person = dict(
        zip(
            records.column("record_id").to_pylist(),
            records.column("person").to_pylist(),
            strict=True,
        )
    )
    found = list(
        zip(
            pairs.column("left_record").to_pylist(),
            pairs.column("right_record").to_pylist(),
            strict=True,
        )
    )
    correct = sum(person[a] == person[b] for a, b in found)
    old_of: Counter[int] = Counter(p for r, p in person.items() if r not in new)
    new_of: Counter[int] = Counter(p for r, p in person.items() if r in new)
    true_pairs = sum(n * (n - 1) // 2 + n * old_of[p] for p, n in new_of.items())
    return {
        "incremental_pair_precision": round(correct / len(found), 5) if found else 1.0,
        "incremental_pair_recall": round(correct / true_pairs, 5) if true_pairs else 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    args = parser.parse_args()
    with Stopwatch() as build:
        records = synthetic(args.records)
    with Stopwatch() as training:
        model = train_model(records, SPEC)
    rss_after_training = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ids = records.column("record_id").to_pylist()
    new = set(ids[-args.new :])
    with Stopwatch() as incremental:
        pairs = predict_pairs(records, model, SPEC, new_record_ids=new)
    save(
        "identity_probabilistic_scale",
        {
            "records": args.records,
            "new_records": args.new,
            "synthetic_build_seconds": round(build.seconds, 1),
            "train_seconds": round(training.seconds, 1),
            "peak_rss_mb_after_training": round(rss_after_training),
            "incremental_predict_seconds": round(incremental.seconds, 2),
            "incremental_pairs": pairs.num_rows,
            **incremental_accuracy(records, new, pairs),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "lambda": model["probability_two_random_records_match"],
        },
    )


if __name__ == "__main__":
    main()
