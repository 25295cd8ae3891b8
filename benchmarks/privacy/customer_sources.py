"""Synthetic customer sources in the demo's shapes, for the privacy benchmarks.

Two files that the shipped example mappings (``examples/mappings/demo_sources.yaml``) read as
they are, so the benchmarks load through the product's own path (land raw, stage by key, seal):

* ``members.db``: the CRM's ``members`` table (source ``crm_members``): one row per customer
  with a GB 11643 resident ID (``id_card``, L3) on ``ID_SHARE`` of them, a mobile, an e-mail,
  a Chinese name and address;
* ``third_party.csv``: the enrichment vendor's file (source ``enrichment_third_party``) keyed by
  mobile, with ``income_band`` and ``credit_band`` (both L3) for ``ENRICHED_SHARE`` of them.

Values are seeded and vectorized (numpy), so a million customers take seconds to write.

Example::

    counts = write_customer_sources(Path("data"), 200_000, seed=7)
    # ingest_db(ws, mappings, "crm_members", f"sqlite:///{path}", table="members")
"""

from __future__ import annotations

import csv
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEMO_MAPPINGS = Path(__file__).resolve().parents[2] / "examples" / "mappings" / "demo_sources.yaml"
ID_SHARE = 0.9
ENRICHED_SHARE = 0.45
SURNAMES = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"))
GIVEN = np.array(["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "艳", "杰"])
PLACES = (("上海", "上海"), ("北京", "北京"), ("广东", "深圳"), ("浙江", "杭州"), ("四川", "成都"))
REGIONS = np.array(["310115", "110105", "440306", "330106", "510104"])
LEVELS = np.array(["REGULAR", "SILVER", "GOLD", "DIAMOND"])
JOBS = np.array(["教师", "医生", "工程师", "设计师", "销售", "学生", ""])
INCOME = np.array(["<5k", "5k-10k", "10k-20k", "20k-50k", "50k+"])
CREDIT = np.array(["A", "B", "C", "D", "E"])
INDUSTRIES = np.array(["教育", "医疗健康", "制造业", "零售贸易", "互联网"])
WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
CHECK = np.array(list("10X98765432"))
MEMBERS_DDL = """CREATE TABLE members (
    member_id TEXT PRIMARY KEY, name TEXT, gender TEXT, birthday TEXT, mobile TEXT, email TEXT,
    id_card TEXT, member_level TEXT, level_code TEXT, province TEXT, city TEXT, address TEXT,
    occupation TEXT, register_channel TEXT, registered_at TEXT, updated_at TEXT)"""


@dataclass(frozen=True)
class CustomerSources:
    """Where the two files are, how many rows each holds, and one customer's mobile."""

    members_db: Path
    enrichment_csv: Path
    members: int
    enriched: int
    l3_values: int

    def phone_of(self, customer: int) -> str:
        return mobile(customer)


def mobile(customer: int) -> str:
    """The mobile of customer number ``customer`` (unique per customer)."""
    return f"1{38 + customer % 2}{customer:08d}"


def write_customer_sources(out: Path, customers: int, *, seed: int) -> CustomerSources:
    """Write ``members.db`` and ``third_party.csv`` for ``customers`` customers under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = customers
    phones = np.array([mobile(i) for i in range(n)])
    born = rng.integers(-7_300, 14_000, n).astype("datetime64[D]")
    birthday = np.datetime_as_string(born)
    ids = _resident_ids(rng, birthday)
    has_id = rng.random(n) < ID_SHARE
    place = rng.integers(0, len(PLACES), n)
    registered = np.datetime64("2024-01-01T00:00:00") + rng.integers(0, 600 * 86_400, n).astype(
        "timedelta64[s]"
    )
    updated = registered + rng.integers(0, 90 * 86_400, n).astype("timedelta64[s]")
    rows = zip(
        (f"M{i:09d}" for i in range(n)),
        np.char.add(SURNAMES[rng.integers(0, len(SURNAMES), n)], GIVEN[rng.integers(0, 13, n)]),
        np.array(["F", "M"])[rng.integers(0, 2, n)],
        birthday,
        phones,
        (f"user{i}@qq.com" for i in range(n)),
        np.where(has_id, ids, ""),
        LEVELS[rng.integers(0, 4, n)],
        (PLACES[p][0] for p in place),
        (PLACES[p][1] for p in place),
        (f"人民路{i % 997}号" for i in range(n)),
        JOBS[rng.integers(0, len(JOBS), n)],
        _local(registered),
        _local(updated),
        strict=True,
    )
    db = out / "members.db"
    db.unlink(missing_ok=True)
    with sqlite3.connect(db) as con:
        con.execute(MEMBERS_DDL)
        con.executemany(
            "INSERT INTO members VALUES (?,?,?,?,?,?,NULLIF(?,''),?,NULL,?,?,?,NULLIF(?,''),"
            "'store',?,?)",
            (tuple(str(v) for v in row) for row in rows),
        )
    enriched = np.flatnonzero(rng.random(n) < ENRICHED_SHARE)
    path = out / "third_party.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("mobile", "industry", "income_band", "credit_band", "snapshot_date"))
        writer.writerows(
            (phones[k], INDUSTRIES[k % 5], INCOME[k % 5], CREDIT[(k * 7) % 5], "2026-09-30")
            for k in enriched.tolist()
        )
    l3 = int(has_id.sum()) + 2 * len(enriched)
    return CustomerSources(db, path, n, len(enriched), l3)


def _resident_ids(rng: np.random.Generator, birthday: np.ndarray) -> np.ndarray:
    """Valid 18-character resident IDs (region, birth date, sequence, check character)."""
    n = len(birthday)
    digits = np.char.replace(birthday, "-", "")
    seq = np.char.zfill(rng.integers(0, 1000, n).astype(str), 3)
    body = np.char.add(np.char.add(REGIONS[rng.integers(0, len(REGIONS), n)], digits), seq)
    matrix = np.frombuffer(body.astype("S17").tobytes(), dtype=np.uint8).reshape(n, 17) - 48
    return np.char.add(body, CHECK[(matrix @ WEIGHTS) % 11])


def _local(stamps: np.ndarray) -> np.ndarray:
    return np.char.replace(np.datetime_as_string(stamps, unit="s"), "T", " ")
