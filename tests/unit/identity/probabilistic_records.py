"""A small synthetic person file for probabilistic matching tests (Chinese and English names).

Each person has an original record and, for two in three, one or two corrupted copies (a name
typo, a changed phone digit, a missing email, a day-month slip in the birthday). Deterministic for
a seed, so tests that train on it can compare exact figures.
"""

from __future__ import annotations

import random

import pyarrow as pa

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
    "ruby",
    "leo",
    "isla",
    "max",
    "ella",
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
    "thompson",
    "nguyen",
    "walker",
    "harris",
    "lewis",
    "clarke",
    "young",
    "king",
]
_ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_ZH_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"
_CITIES = ["上海", "北京", "深圳", "杭州", "sydney", "melbourne", "brisbane", "perth"]


def _person(rng: random.Random, number: int) -> dict[str, str | None]:
    if number % 2:
        name = rng.choice(_ZH_SURNAMES) + "".join(rng.sample(_ZH_GIVEN, 2))
    else:
        name = f"{rng.choice(_GIVEN)} {rng.choice(_SURNAMES)}"
    phone = "+861" + "".join(rng.choice("0123456789") for _ in range(10))
    user = f"user{number}.{rng.randrange(10_000)}"
    return {
        "name": name,
        "birthday": f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "phone": phone,
        "email": f"{user}@example.com",
        "city": rng.choice(_CITIES),
    }


def _typo(rng: random.Random, text: str) -> str:
    at = rng.randrange(len(text))
    return text[:at] + text[at + 1 :] if len(text) > 3 else text + "a"


def _corrupt(rng: random.Random, person: dict[str, str | None]) -> dict[str, str | None]:
    copy = dict(person)
    kind = rng.randrange(4)
    if kind == 0 and copy["name"]:
        copy["name"] = _typo(rng, copy["name"])
    elif kind == 1 and copy["phone"]:
        digits = copy["phone"]
        copy["phone"] = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    elif kind == 2:
        copy["email"] = None
    elif copy["birthday"]:
        year, month, day = copy["birthday"].split("-")
        copy["birthday"] = f"{year}-{month}-{(int(day) % 28) + 1:02d}"
    if rng.random() < 0.3:
        copy["city"] = None
    return copy


def synthetic_records(people: int = 400, seed: int = 7) -> tuple[pa.Table, dict[str, str]]:
    """(records table, record_id -> true person id)."""
    rng = random.Random(seed)
    rows: list[dict[str, str | None]] = []
    truth: dict[str, str] = {}
    for number in range(people):
        person = _person(rng, number)
        copies = [person] + [_corrupt(rng, person) for _ in range(rng.choice([0, 1, 1, 2]))]
        for k, row in enumerate(copies):
            record_id = f"p{number:04d}-{k}"
            truth[record_id] = f"p{number:04d}"
            rows.append({"record_id": record_id, **row})
    rng.shuffle(rows)
    return pa.Table.from_pylist(rows), truth
