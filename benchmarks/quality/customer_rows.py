"""Synthetic ``profiles``, ``profile_identifiers`` and ``customer_records`` rows, fast with numpy.

Seeded and chunked (``offset`` numbers the rows, so chunks never repeat an id). The values have
the shapes the shipped quality rules expect (E.164 / 11-digit mobiles, emails, GB 11643 resident
IDs, the four membership tiers) with a few planted faults so the rules find something:

* ``customer_records``: ~1% malformed phones, ~1% malformed emails, ~0.5% malformed resident IDs,
  ~0.5% genders outside F/M, ~0.5% birthdays outside 1900-2026, ~0.2% unknown member levels,
  ~0.05% repeated ``source_key``; phones missing on ~3% of CRM members;
* ``profiles``: ~8% without phone, ~35% without email;
* ``profile_identifiers``: ~1% of people hold three phone numbers (the rule allows two).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from custodia.core.tables import CUSTOMER_RECORDS, PROFILE_IDENTIFIERS, PROFILES, TableSpec

SURNAMES = np.array(["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙"])
GIVEN = np.array(["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "艳", "杰"])
PLACES = np.array(
    [["北京", "北京"], ["上海", "上海"], ["广东", "广州"], ["广东", "深圳"], ["浙江", "杭州"],
     ["江苏", "南京"], ["四川", "成都"], ["湖北", "武汉"]]
)  # fmt: skip
REGIONS = np.array(["110101", "310104", "440106", "440305", "330106", "320102", "510104"])
LEVELS = np.array(["普通会员", "银卡会员", "金卡会员", "钻石会员"])
JOBS = np.array(["工程师", "教师", "医生", "销售", "设计师", "学生", "自由职业"])
INDUSTRIES = np.array(["互联网", "教育", "医疗", "零售", "制造"])
BANDS = np.array(["A", "B", "C", "D"])
DOMAINS = np.array(["qq.com", "163.com", "gmail.com", "outlook.com", "126.com"])
SOURCES = np.array(["crm_members", "online_accounts", "pos_loyalty"])
NOW = np.datetime64(datetime(2026, 1, 31, tzinfo=UTC).replace(tzinfo=None), "us")


def profile_rows(n: int, *, offset: int, seed: int) -> pa.Table:
    """``n`` golden profiles ``p<offset>..``: one per person."""
    rng = np.random.default_rng(seed)
    person = np.arange(offset, offset + n)
    birthday = _birthdays(rng, n)
    place = PLACES[rng.integers(0, len(PLACES), n)]
    columns = {
        "profile_id": _ids("p", person),
        "name": _names(rng, n),
        "gender": _some(rng, np.array(["F", "M"])[rng.integers(0, 2, n)], 0.97),
        "birthday": birthday,
        "resident_id": _some(rng, _resident_ids(rng, birthday), 0.4),
        "phone": _some(rng, pc.binary_join_element_wise("+86", _mobiles(rng, n), ""), 0.92),
        "email": _some(rng, _emails(rng, person), 0.65),
        "member_level": _some(rng, _pick(rng, LEVELS, n), 0.8),
        "province": pa.array(place[:, 0]),
        "city": pa.array(place[:, 1]),
        "occupation": _some(rng, _pick(rng, JOBS, n), 0.6),
        "industry": _some(rng, _pick(rng, INDUSTRIES, n), 0.3),
        "credit_band": _some(rng, _pick(rng, BANDS, n), 0.3),
        "record_count": pa.array(rng.integers(1, 5, n).astype(np.int32)),
        "first_seen": _times(rng, n, 700),
        "last_seen": _times(rng, n, 30),
        "updated_at": _times(rng, n, 1),
    }
    return _table(PROFILES, columns, n)


def identifier_rows(profiles: int, *, offset: int, count: int, seed: int) -> pa.Table:
    """Identifiers of the people ``offset..offset+count`` (about 2.9 rows per person)."""
    rng = np.random.default_rng(seed)
    person = np.arange(offset, offset + count)
    parts = []
    kinds: list[tuple[str, float, Callable[[np.ndarray], pa.Array]]] = [
        ("phone", 0.92, lambda p: _mobiles(rng, len(p))),
        ("phone", 0.10, lambda p: _mobiles(rng, len(p))),
        ("phone", 0.01, lambda p: _mobiles(rng, len(p))),
        ("email", 0.65, lambda p: _emails(rng, p)),
        ("member_id", 0.55, lambda p: _ids("M", p)),
        ("user_id", 0.45, lambda p: _ids("u", p)),
        ("anonymous_id", 0.20, lambda p: _ids("a", p * 7 + 3)),
    ]
    for id_type, share, values in kinds:
        who = person[rng.random(count) < share]
        m = len(who)
        parts.append(
            {
                "profile_id": _ids("p", who),
                "id_type": pa.array(np.full(m, id_type)),
                "id_value_normalized": values(who),
                "source": pa.array(_pick(rng, SOURCES, m)),
                "record_id": _ids("r", rng.integers(0, profiles * 3 // 2, m)),
                "first_seen": _times(rng, m, 700),
                "last_seen": _times(rng, m, 30),
            }
        )
    return pa.concat_tables(_table(PROFILE_IDENTIFIERS, p, len(p["id_type"])) for p in parts)


def customer_record_rows(n: int, *, offset: int, profiles: int, seed: int) -> pa.Table:
    """``n`` source records ``r<offset>..`` of random people among ``profiles``."""
    rng = np.random.default_rng(seed)
    record = np.arange(offset, offset + n)
    person = rng.integers(0, profiles, n)
    source = SOURCES[rng.choice(3, n, p=[0.4, 0.4, 0.2])]
    crm = source == "crm_members"
    birthday = _birthdays(rng, n, bad=0.005)
    place = PLACES[rng.integers(0, len(PLACES), n)]
    key = _ids("k", np.where(rng.random(n) < 0.0005, np.maximum(record - 1, 0), record))
    columns = {
        "record_id": _ids("r", record),
        "source_key": key,
        "member_id": _where(source != "online_accounts", _ids("M", person)),
        "user_id": _where(source == "online_accounts", _ids("u", person)),
        "name": _names(rng, n),
        "gender": _some(rng, _faulty(rng, _pick(rng, np.array(["F", "M"]), n), "男", 0.005), 0.9),
        "birthday": birthday,
        "resident_id": _where(crm, _faulty(rng, _resident_ids(rng, birthday), "11010119", 0.005)),
        "phone": _some(rng, _faulty(rng, _mobiles(rng, n), "1380013800", 0.01), 0.97),
        "email": _some(rng, _faulty(rng, _emails(rng, person), "li#qq.com", 0.01), 0.6),
        "member_level": _where(crm, _faulty(rng, _pick(rng, LEVELS, n), "gold", 0.002)),
        "province": pa.array(place[:, 0]),
        "city": pa.array(place[:, 1]),
        "address": _some(rng, _ids("人民路", person % 999), 0.5),
        "occupation": _some(rng, _pick(rng, JOBS, n), 0.4),
        "industry": _some(rng, _pick(rng, INDUSTRIES, n), 0.2),
        "income_band": _some(rng, _pick(rng, BANDS, n), 0.2),
        "credit_band": _some(rng, _pick(rng, BANDS, n), 0.2),
        "registered_at": _times(rng, n, 900),
        "updated_at": _times(rng, n, 30),
        "source": pa.array(source),
        "run_id": pa.array(np.full(n, "run_bench")),
        "loaded_at": _times(rng, n, 1),
    }
    return _table(CUSTOMER_RECORDS, columns, n)


# -- value makers -------------------------------------------------------------------------------


def _table(spec: TableSpec, columns: dict[str, pa.Array], n: int) -> pa.Table:
    schema = spec.arrow_schema()
    return pa.table(
        {f.name: columns.get(f.name, pa.nulls(n, f.type)) for f in schema}, schema=schema
    )


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")


def _pick(rng: np.random.Generator, values: np.ndarray, n: int) -> np.ndarray:
    return values[rng.integers(0, len(values), n)]


def _some(rng: np.random.Generator, values: np.ndarray | pa.Array, share: float) -> pa.Array:
    """``values`` with about ``1 - share`` of them NULL."""
    return pc.if_else(pa.array(rng.random(len(values)) < share), _arrow(values), None)


def _where(mask: np.ndarray, values: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask), values, None)


def _faulty(
    rng: np.random.Generator, values: np.ndarray | pa.Array, bad: str, share: float
) -> pa.Array:
    """``values`` with about ``share`` of them replaced by the malformed value ``bad``."""
    return pc.if_else(pa.array(rng.random(len(values)) < share), bad, _arrow(values))


def _arrow(values: np.ndarray | pa.Array) -> pa.Array:
    return pa.array(values) if isinstance(values, np.ndarray) else values


def _names(rng: np.random.Generator, n: int) -> pa.Array:
    return pc.binary_join_element_wise(
        pa.array(_pick(rng, SURNAMES, n)), pa.array(_pick(rng, GIVEN, n)), ""
    )


def _mobiles(rng: np.random.Generator, n: int) -> pa.Array:
    """11-digit mainland mobiles 13x-19x."""
    return pc.cast(pa.array(rng.integers(13_000_000_000, 20_000_000_000, n)), pa.string())


def _emails(rng: np.random.Generator, person: np.ndarray) -> pa.Array:
    local = _ids("user", person)
    return pc.binary_join_element_wise(local, pa.array(_pick(rng, DOMAINS, len(person))), "@")


def _birthdays(rng: np.random.Generator, n: int, bad: float = 0.0) -> pa.Array:
    days = rng.integers(-7_300, 14_000, n)  # 1950 .. 2008
    days = np.where(rng.random(n) < bad, -40_000, days)  # 1860: outside the accepted range
    return pa.array(days.astype("datetime64[D]"), pa.date32())


def _resident_ids(rng: np.random.Generator, birthday: pa.Array) -> pa.Array:
    n = len(birthday)
    born = pc.strftime(pc.cast(birthday, pa.timestamp("s")), format="%Y%m%d")
    tail = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 1000, n)), pa.string()), 3, "0")
    check = pa.array(np.array(list("0123456789X"))[rng.integers(0, 11, n)])
    return pc.binary_join_element_wise(pa.array(_pick(rng, REGIONS, n)), born, tail, check, "")


def _times(rng: np.random.Generator, n: int, days: int) -> pa.Array:
    """Timestamps in the ``days`` days before ``NOW``."""
    ago = rng.integers(0, days * 86_400, n).astype("timedelta64[s]")
    return pa.array(NOW - ago, pa.timestamp("us", tz="UTC"))
