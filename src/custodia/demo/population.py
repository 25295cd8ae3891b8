"""The true population: people, their identifiers, loyalty memberships, devices and stores.

Why: every source is a partial, noisy view of the same people. Drawing the people first (with
their real phones, e-mails, resident IDs, value tier, churn date and devices) and deriving every
record from them is what lets ``ground_truth/`` say exactly which records belong together.

Example::

    people = draw_population(seed=7, n=300)
    people.person_id[0], people.name[0], people.mobile[0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from custodia.demo.chinese_ids import (
    DISTRICTS,
    mobile_numbers,
    resident_ids,
    same_province_districts,
    sample_districts,
)
from custodia.demo.names import NameTable, draw_emails, draw_names
from custodia.demo.timeline import DAY, WINDOW_DAYS, day_of, online_day_weights, sample_days
from custodia.demo.timeline import seconds_in_day as time_of_day
from custodia.demo.vectors import (
    BoolArray,
    FloatArray,
    IntArray,
    sample_index,
    substream,
    uuid4_strings,
)

TIERS = ("REGULAR", "SILVER", "GOLD", "DIAMOND")
TIERS_ZH = ("普通会员", "银卡会员", "金卡会员", "钻石会员")
TIER_SHARES = (0.55, 0.28, 0.13, 0.04)
ENGLISH_SHARE = 0.10
MEMBER_SHARE = 0.80
EXISTING_SHARE = 0.55
CHURN_SHARE = 0.30
SECOND_PHONE_SHARE = 0.10
SECOND_EMAIL_SHARE = 0.06
DUPLICATE_MEMBER_SHARE = 0.03
VISITOR_RATIO = 0.30


@dataclass(frozen=True)
class Store:
    """A physical boutique whose POS exports land in ``pos/``."""

    store_id: str
    city: str
    name: str


STORES: tuple[Store, ...] = (
    Store("SH001", "上海市", "上海静安嘉里中心店"),
    Store("SH002", "上海市", "上海浦东国金中心店"),
    Store("SH003", "上海市", "上海徐汇港汇恒隆店"),
    Store("BJ001", "北京市", "北京三里屯太古里店"),
    Store("BJ002", "北京市", "北京国贸商城店"),
    Store("GZ001", "广州市", "广州天河太古汇店"),
    Store("SZ001", "深圳市", "深圳万象天地店"),
    Store("HZ001", "杭州市", "杭州湖滨银泰in77店"),
    Store("CD001", "成都市", "成都远洋太古里店"),
    Store("WH001", "武汉市", "武汉天地店"),
    Store("NJ001", "南京市", "南京德基广场店"),
    Store("XA001", "西安市", "西安SKP店"),
)

OCCUPATIONS = [
    "公司职员:14",
    "教师:6",
    "医生:3",
    "护士:3",
    "工程师:7",
    "设计师:5",
    "自由职业:6",
    "学生:8",
    "公务员:4",
    "销售:6",
    "金融从业者:5",
    "律师:2",
    "个体经营:5",
    "退休:3",
    "全职太太:3",
    "媒体/广告:4",
    "互联网从业者:8",
]
_ENGLISH_OCCUPATIONS = ("Designer", "Consultant", "Teacher", "Engineer", "Manager", "Student")
_ROADS = [
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "长江路",
    "和平路",
    "新华路",
    "文化路",
    "胜利路",
    "青年路",
    "光明路",
    "友谊路",
    "花园路",
    "学府路",
    "科技路",
    "滨江大道",
    "世纪大道",
    "东风路",
    "朝阳路",
    "南京路",
]
_COMPOUNDS = [
    "阳光花园",
    "锦绣家园",
    "翠苑小区",
    "碧桂园",
    "万科城",
    "金色家园",
    "绿地世纪城",
    "华府天地",
    "春江郦城",
    "保利花园",
    "中海国际社区",
    "龙湖天街公寓",
]
_TOWERS = [
    "国际金融中心",
    "环球贸易广场",
    "恒隆广场",
    "来福士广场",
    "万达广场",
    "中心大厦",
    "科技园",
    "创意园",
]


@dataclass
class Population:
    """Everything true about the ``n`` customers; index ``i`` is person ``person_id[i]``."""

    person_id: list[str]
    names: NameTable
    name: list[str]
    female: BoolArray
    birth_day: IntArray
    district: IntArray
    id_district: IntArray
    mobile: list[str]
    mobile2: list[str | None]
    email: list[str | None]
    email2: list[str | None]
    id_card: list[str]
    occupation: list[str]
    tier: IntArray
    member: BoolArray
    existing: BoolArray
    start_day: FloatArray
    registered_s: IntArray
    duplicate_registered_s: IntArray
    churn_day: FloatArray
    p_online: FloatArray
    home_store: IntArray
    address: list[str]
    office_address: list[str]
    user_id: list[str | None]

    @property
    def n(self) -> int:
        return len(self.person_id)

    @property
    def english(self) -> BoolArray:
        return self.names.english


@dataclass
class Devices:
    """Browsers and phones: each has an ``anonymousId``; visitors' devices have owner -1."""

    owner: IntArray
    owner_id: list[str]
    platform: IntArray
    anonymous_id: list[str]
    device_id: list[str]
    model: list[str]
    user_agent: list[str]
    ip: list[str]
    clock_skew_ms: IntArray


PLATFORMS = ("web", "ios", "android")


def draw_population(seed: int, n: int) -> Population:
    """Draw ``n`` people with identifiers, tiers, lifecycle dates and channel preferences."""
    rng = substream(seed, "population")
    female = rng.random(n) < 0.72
    english = rng.random(n) < ENGLISH_SHARE
    birth_day = _birth_days(rng, n)
    district = sample_districts(rng, n)
    id_district = same_province_districts(rng, district, rng.random(n) < 0.15)
    names = draw_names(substream(seed, "names"), female, english)
    member = rng.random(n) < MEMBER_SHARE
    existing = rng.random(n) < EXISTING_SHARE
    start_day = np.where(existing, 0.0, sample_days(rng, online_day_weights(), n, hi=_full(n, 700)))
    registered_s = _registration_seconds(rng, existing, start_day, birth_day)
    contacts = _contact_details(seed, names, birth_day)
    home, office = _addresses(rng, district)
    home_store, p_online = _channel_preferences(rng, district)
    return Population(
        person_id=[f"P{i + 1:07d}" for i in range(n)],
        names=names,
        name=names.display(),
        female=female,
        birth_day=birth_day,
        district=district,
        id_district=id_district,
        mobile=contacts.mobile,
        mobile2=contacts.mobile2,
        email=contacts.email,
        email2=contacts.email2,
        id_card=resident_ids(substream(seed, "resident_ids"), id_district, birth_day, female),
        occupation=_occupations(rng, english),
        tier=sample_index(rng, TIER_SHARES, n),
        member=member,
        existing=existing,
        start_day=start_day,
        registered_s=registered_s,
        duplicate_registered_s=_duplicate_registrations(rng, member, registered_s),
        churn_day=_churn_days(rng, start_day),
        p_online=p_online,
        home_store=home_store,
        address=home,
        office_address=office,
        user_id=[None] * n,
    )


def _full(n: int, value: float) -> FloatArray:
    return np.full(n, value, dtype=np.float64)


def _birth_days(rng: np.random.Generator, n: int) -> IntArray:
    age_days = np.clip(rng.normal(33, 8, size=n), 18, 65) * 365.25
    today = np.datetime64("2026-11-01", "D").astype(np.int64)
    return (today - age_days).astype(np.int64)


def _registration_seconds(
    rng: np.random.Generator, existing: BoolArray, start_day: FloatArray, birth_day: IntArray
) -> IntArray:
    """Existing members joined 2019-2024 (aged 16+); new ones join on their first purchase."""
    n = len(existing)
    window_start = np.datetime64("2024-11-01", "D").astype(np.int64)
    adult = birth_day - window_start + int(16 * 365.25)
    lo = np.maximum(day_of("2019-01-01"), adult)
    before = (lo + rng.random(n) * np.maximum(-lo, 1)).astype(np.int64)
    before = np.minimum(before, -1)
    day = np.where(existing, before, np.floor(start_day)).astype(np.int64)
    return day * DAY + time_of_day(rng, n, store=False)


def _duplicate_registrations(
    rng: np.random.Generator, member: BoolArray, registered_s: IntArray
) -> IntArray:
    """Second loyalty sign-ups by the same person (new phone, forgotten card); -1 when none."""
    n = len(member)
    later = registered_s + rng.integers(30, 600, size=n) * DAY
    wanted = member & (rng.random(n) < DUPLICATE_MEMBER_SHARE) & (later < (WINDOW_DAYS - 5) * DAY)
    return np.where(wanted, np.maximum(later, 0), -1).astype(np.int64)


def _churn_days(rng: np.random.Generator, start_day: FloatArray) -> FloatArray:
    n = len(start_day)
    lo = start_day + 30
    churns = (rng.random(n) < CHURN_SHARE) & (lo < WINDOW_DAYS - 30)
    day = lo + rng.random(n) * np.maximum(WINDOW_DAYS - lo, 0)
    return np.where(churns, day, np.inf)


@dataclass(frozen=True)
class _Contacts:
    mobile: list[str]
    mobile2: list[str | None]
    email: list[str | None]
    email2: list[str | None]


def _contact_details(seed: int, names: NameTable, birth_day: IntArray) -> _Contacts:
    rng = substream(seed, "contacts")
    n = len(birth_day)
    phones = mobile_numbers(rng, 2 * n)
    years = birth_day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    primary = draw_emails(rng, names, years, set())
    second = draw_emails(rng, names, years + 1, set(primary))
    has_email = rng.random(n) < np.where(names.english, 0.97, 0.8)
    has_second_phone = rng.random(n) < SECOND_PHONE_SHARE
    has_second_email = has_email & (rng.random(n) < SECOND_EMAIL_SHARE)
    return _Contacts(
        mobile=phones[:n],
        mobile2=[p if k else None for p, k in zip(phones[n:], has_second_phone, strict=True)],
        email=[e if k else None for e, k in zip(primary, has_email, strict=True)],
        email2=[e if k else None for e, k in zip(second, has_second_email, strict=True)],
    )


def _occupations(rng: np.random.Generator, english: BoolArray) -> list[str]:
    labels = [o.split(":")[0] for o in OCCUPATIONS]
    picks = sample_index(rng, [float(o.split(":")[1]) for o in OCCUPATIONS], len(english))
    english_label = rng.random(len(english)) < 0.3
    alt = rng.integers(0, len(_ENGLISH_OCCUPATIONS), size=len(english))
    return [
        _ENGLISH_OCCUPATIONS[a] if en and e else labels[p]
        for p, en, e, a in zip(picks, english, english_label, alt, strict=True)
    ]


def _addresses(rng: np.random.Generator, district: IntArray) -> tuple[list[str], list[str]]:
    n = len(district)
    road = rng.integers(0, len(_ROADS), size=(n, 2))
    number = rng.integers(1, 1500, size=(n, 2))
    compound = rng.integers(0, len(_COMPOUNDS), size=n)
    building = rng.integers(1, 30, size=n)
    room = rng.integers(1, 33, size=n) * 100 + rng.integers(1, 5, size=n)
    tower = rng.integers(0, len(_TOWERS), size=n)
    floor = rng.integers(3, 60, size=n)
    home, office = [], []
    names = [DISTRICTS[d].name for d in district.tolist()]
    road_l, number_l = road.tolist(), number.tolist()
    compound_l, building_l, room_l = compound.tolist(), building.tolist(), room.tolist()
    tower_l, floor_l = tower.tolist(), floor.tolist()
    for i, d in enumerate(names):
        home.append(
            f"{d}{_ROADS[road_l[i][0]]}{number_l[i][0]}号{_COMPOUNDS[compound_l[i]]}"
            f"{building_l[i]}栋{room_l[i]}室"
        )
        office.append(
            f"{d}{_ROADS[road_l[i][1]]}{number_l[i][1]}号{_TOWERS[tower_l[i]]}{floor_l[i]}楼"
        )
    return home, office


def _channel_preferences(
    rng: np.random.Generator, district: IntArray
) -> tuple[IntArray, FloatArray]:
    """Home store when the city has one; otherwise nearly everything is bought online."""
    n = len(district)
    cities = np.array([DISTRICTS[d].city for d in district], dtype=object)
    home_store = np.full(n, -1, dtype=np.int64)
    draws = rng.integers(0, 1_000, size=n)
    for city in sorted({s.city for s in STORES}):
        local = [k for k, s in enumerate(STORES) if s.city == city]
        rows = np.flatnonzero(cities == city)
        home_store[rows] = np.array(local)[draws[rows] % len(local)]
    p_online = rng.beta(1.6, 1.6, size=n)
    return home_store, np.where(home_store >= 0, p_online, 0.97)


def draw_devices(seed: int, people: Population, visitors: int) -> Devices:
    """Devices for people who shop online, plus anonymous visitors who never buy."""
    rng = substream(seed, "devices")
    online = people.p_online > 0.15
    counts = np.where(online, sample_index(rng, (0.6, 0.3, 0.1), people.n) + 1, 0)
    owner = np.concatenate([np.repeat(np.arange(people.n), counts), np.full(visitors, -1)])
    owner_id = [people.person_id[o] for o in owner[: counts.sum()]]
    owner_id += [f"V{k + 1:07d}" for k in range(visitors)]
    _assign_user_ids(rng, people, counts > 0)
    return _device_details(rng, owner.astype(np.int64), owner_id)


def _assign_user_ids(rng: np.random.Generator, people: Population, has_device: BoolArray) -> None:
    numbers = rng.choice(90_000_000, size=people.n, replace=False) + 10_000_000
    for i in np.flatnonzero(has_device & people.member):
        people.user_id[i] = f"U{numbers[i]}"


_MODELS = {
    1: ("iPhone15,2", "iPhone16,1", "iPhone14,5", "iPhone17,3"),
    2: ("HUAWEI Mate 60", "Xiaomi 14", "OPPO Find X7", "vivo X100", "HONOR Magic6"),
}
_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 MicroMessenger/8.0.49",
)
_IP_FIRST = (58, 59, 60, 101, 112, 113, 114, 116, 117, 119, 120, 121, 122, 123, 124, 125, 180,
             182, 183, 218, 219, 220, 221, 222, 223)  # fmt: skip


def _device_details(rng: np.random.Generator, owner: IntArray, owner_id: list[str]) -> Devices:
    n = len(owner)
    platform = sample_index(rng, (0.4, 0.35, 0.25), n)
    model_pick = rng.integers(0, 5, size=n)
    octets = rng.integers(1, 255, size=(n, 3))
    first = rng.integers(0, len(_IP_FIRST), size=n)
    skew = np.where(
        (platform > 0) & (rng.random(n) < 0.03), rng.integers(-1_800_000, 1_800_000, size=n), 0
    )
    ua = rng.integers(0, len(_USER_AGENTS), size=n)
    return Devices(
        owner=owner,
        owner_id=owner_id,
        platform=platform,
        anonymous_id=uuid4_strings(rng, n),
        device_id=[d.upper() for d in uuid4_strings(rng, n)],
        model=[
            _MODELS[p][m % len(_MODELS[p])] if p else ""
            for p, m in zip(platform, model_pick, strict=True)
        ],
        user_agent=[_USER_AGENTS[u] for u in ua],
        ip=[
            f"{_IP_FIRST[f]}.{a}.{b}.{c}"
            for f, (a, b, c) in zip(first.tolist(), octets.tolist(), strict=True)
        ],
        clock_skew_ms=skew.astype(np.int64),
    )
