"""Third-party enrichment keyed by mobile number (``enrichment/third_party.csv``).

Why: bought data covers only part of the customers, is keyed by a phone number the vendor
formats its own way (sometimes ``+86``-prefixed), includes numbers that are not customers at all,
and carries industry, income and credit bands that correlate with, but do not equal, what the
brand knows (income follows the latent value tier).

Example::

    result = write_enrichment(out_dir, world)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from custodia.demo.chinese_ids import mobile_numbers
from custodia.demo.files import write_csv
from custodia.demo.models import ProblemRecord
from custodia.demo.vectors import sample_index, sample_rows, substream
from custodia.demo.world import World

COVERAGE = 0.45
FOREIGN_ROWS = 0.03
PREFIXED_SHARE = 0.05
SNAPSHOT_DATE = "2026-09-30"
INCOME_BANDS = ("<5k", "5k-10k", "10k-20k", "20k-50k", "50k+")
CREDIT_BANDS = ("A", "B", "C", "D", "E")
_INCOME_BY_TIER = np.array(
    [[20, 35, 30, 12, 3], [10, 25, 35, 22, 8], [5, 15, 30, 32, 18], [2, 8, 20, 35, 35]],
    dtype=np.float64,
)
_INDUSTRY = {
    "公司职员": "企业服务", "教师": "教育", "医生": "医疗健康", "护士": "医疗健康",
    "工程师": "制造业", "设计师": "文化创意", "自由职业": "其他", "学生": "学生",
    "公务员": "政府机关", "销售": "零售贸易", "金融从业者": "金融", "律师": "法律服务",
    "个体经营": "零售贸易", "退休": "无", "全职太太": "无", "媒体/广告": "文化传媒",
    "互联网从业者": "互联网",
}  # fmt: skip
_INDUSTRIES = tuple(sorted(set(_INDUSTRY.values())))


@dataclass(frozen=True)
class EnrichmentResult:
    """Rows written, their keys and owners, and the keys written in a vendor format."""

    rows: int
    keys: list[str]
    owners: list[str]
    formatted: list[ProblemRecord]


def write_enrichment(out_dir: Path, world: World) -> EnrichmentResult:
    """Write the vendor file sorted by its key, as such files arrive."""
    rng = substream(world.seed, "enrichment")
    people = world.people
    covered = np.flatnonzero(rng.random(people.n) < COVERAGE)
    use_second = rng.random(len(covered)) < 0.1
    phones = [
        str(people.mobile2[p]) if s and people.mobile2[p] else people.mobile[p]
        for p, s in zip(covered.tolist(), use_second, strict=True)
    ]
    taken = set(people.mobile) | {m for m in people.mobile2 if m}
    foreign = mobile_numbers(rng, int(len(covered) * FOREIGN_ROWS) + 1, taken)
    owners = [people.person_id[p] for p in covered] + [f"E{k + 1:07d}" for k in range(len(foreign))]
    tiers = np.concatenate([people.tier[covered], np.zeros(len(foreign), dtype=np.int64)])
    income = sample_rows(rng, _INCOME_BY_TIER[tiers])
    credit = np.clip(4 - income + rng.integers(-1, 2, size=len(income)), 0, 4)
    industry = [_INDUSTRY.get(people.occupation[p], "其他") for p in covered]
    industry += [_INDUSTRIES[k] for k in sample_index(rng, np.ones(len(_INDUSTRIES)), len(foreign))]
    noisy = rng.random(len(industry)) < 0.2
    industry = [_INDUSTRIES[int(rng.integers(0, len(_INDUSTRIES)))] if z else v
                for v, z in zip(industry, noisy, strict=True)]  # fmt: skip
    keys, formatted = _vendor_keys(rng, phones + foreign)
    order = sorted(range(len(keys)), key=lambda k: keys[k].removeprefix("+86-"))
    rows = (
        (keys[k], industry[k], INCOME_BANDS[income[k]], CREDIT_BANDS[credit[k]], SNAPSHOT_DATE)
        for k in order
    )
    header = ("mobile", "industry", "income_band", "credit_band", "snapshot_date")
    count = write_csv(out_dir / "enrichment" / "third_party.csv", header, rows)
    return EnrichmentResult(count, keys, owners, formatted)


def _vendor_keys(
    rng: np.random.Generator, phones: list[str]
) -> tuple[list[str], list[ProblemRecord]]:
    prefixed = rng.random(len(phones)) < PREFIXED_SHARE
    keys, formatted = [], []
    for phone, p in zip(phones, prefixed, strict=True):
        key = f"+86-{phone}" if p else phone
        keys.append(key)
        if p:
            formatted.append(ProblemRecord(key=key, kind="country_code"))
    return keys, formatted
