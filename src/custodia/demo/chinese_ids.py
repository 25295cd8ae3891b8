"""Chinese identifiers: administrative regions, mobile numbers and 18-digit resident ID numbers.

Why: identity resolution and data-quality rules are only worth testing on identifiers that look
and validate like real ones. Resident IDs follow GB 11643-1999: a 6-digit GB/T 2260 region code,
the birth date, a 3-digit sequence whose last digit is odd for men and even for women, and an
ISO 7064 MOD 11-2 check character. Mobile numbers use prefixes the three carriers really issue.

Example::

    resident_id_check_digit("11010519491231002")   # 'X'
    is_valid_resident_id("11010519491231002X")     # True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from custodia.demo.vectors import BoolArray, IntArray, digit_strings, sample_index


@dataclass(frozen=True)
class District:
    """One county-level district with its GB/T 2260 code and a population weight."""

    province: str
    city: str
    name: str
    code: int
    weight: float


def _city(province: str, city: str, weight: float, districts: str) -> list[District]:
    parts = [p.split(":") for p in districts.split()]
    share = weight / len(parts)
    return [District(province, city, name, int(code), share) for name, code in parts]


DISTRICTS: tuple[District, ...] = tuple(
    _city(
        "上海市",
        "上海市",
        12,
        "黄浦区:310101 徐汇区:310104 长宁区:310105 静安区:310106 "
        "普陀区:310107 闵行区:310112 浦东新区:310115",
    )
    + _city(
        "北京市",
        "北京市",
        10,
        "东城区:110101 西城区:110102 朝阳区:110105 丰台区:110106 海淀区:110108",
    )
    + _city("广东省", "广州市", 8, "越秀区:440104 海珠区:440105 天河区:440106 白云区:440111")
    + _city("广东省", "深圳市", 8, "罗湖区:440303 福田区:440304 南山区:440305 宝安区:440306")
    + _city("广东省", "佛山市", 2, "禅城区:440604 南海区:440605")
    + _city("浙江省", "杭州市", 6, "上城区:330102 拱墅区:330105 西湖区:330106 滨江区:330108")
    + _city("浙江省", "宁波市", 2, "海曙区:330203 鄞州区:330212")
    + _city("江苏省", "南京市", 4, "玄武区:320102 秦淮区:320104 鼓楼区:320106")
    + _city("江苏省", "苏州市", 4, "虎丘区:320505 吴中区:320506 姑苏区:320508")
    + _city("江苏省", "无锡市", 1, "梁溪区:320213")
    + _city("四川省", "成都市", 5, "锦江区:510104 青羊区:510105 武侯区:510107 成华区:510108")
    + _city("湖北省", "武汉市", 4, "江岸区:420102 江汉区:420103 武昌区:420106 洪山区:420111")
    + _city("陕西省", "西安市", 3, "碑林区:610103 雁塔区:610113")
    + _city("湖南省", "长沙市", 3, "芙蓉区:430102 岳麓区:430104")
    + _city("河南省", "郑州市", 3, "二七区:410103 金水区:410105")
    + _city("山东省", "济南市", 2, "历下区:370102 市中区:370103")
    + _city("山东省", "青岛市", 2, "市南区:370202 市北区:370203")
    + _city("福建省", "厦门市", 2, "思明区:350203 湖里区:350206")
    + _city("福建省", "福州市", 1, "鼓楼区:350102")
    + _city("天津市", "天津市", 3, "和平区:120101 河西区:120103 南开区:120104")
    + _city("重庆市", "重庆市", 4, "渝中区:500103 江北区:500105 渝北区:500112")
    + _city("辽宁省", "沈阳市", 2, "和平区:210102 沈河区:210103")
    + _city("辽宁省", "大连市", 1, "中山区:210202")
    + _city("云南省", "昆明市", 1.5, "五华区:530102")
    + _city("安徽省", "合肥市", 2, "蜀山区:340104 包河区:340111")
    + _city("黑龙江省", "哈尔滨市", 1, "南岗区:230103")
    + _city("河北省", "石家庄市", 1, "长安区:130102")
    + _city("广西壮族自治区", "南宁市", 1, "青秀区:450103")
    + _city("海南省", "海口市", 0.5, "龙华区:460106")
    + _city("贵州省", "贵阳市", 0.8, "云岩区:520103")
    + _city("江西省", "南昌市", 1, "东湖区:360102")
    + _city("山西省", "太原市", 0.8, "小店区:140105")
    + _city("吉林省", "长春市", 0.8, "朝阳区:220104")
    + _city("甘肃省", "兰州市", 0.5, "城关区:620102")
    + _city("新疆维吾尔自治区", "乌鲁木齐市", 0.4, "天山区:650102")
)

MOBILE_PREFIXES: tuple[str, ...] = tuple(
    str(p)
    for p in (
        *range(130, 140), *range(150, 154), *range(155, 160), 166, 173, *range(175, 179),
        *range(180, 190), 191, 193, 195, 196, 198, 199,
    )
)  # fmt: skip
_PREFIX_WEIGHTS = np.array(
    [3.0 if p.startswith(("13", "15", "18")) else 1.0 for p in MOBILE_PREFIXES]
)

JUNK_MOBILES: tuple[str, ...] = ("13800000000", "13888888888", "11111111111", "12345678901")

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK_CHARS = "10X98765432"
_MOBILE_RE = re.compile(r"1[3-9]\d{9}")
_ID_RE = re.compile(r"\d{17}[\dX]")


def resident_id_check_digit(first17: str) -> str:
    """MOD 11-2 check character for the first 17 digits of a resident ID."""
    total = sum(int(ch) * int(w) for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def is_valid_resident_id(value: str) -> bool:
    """Structure, birth date and checksum check of an 18-character resident ID."""
    if not _ID_RE.fullmatch(value):
        return False
    try:
        np.datetime64(f"{value[6:10]}-{value[10:12]}-{value[12:14]}", "D")
    except ValueError:
        return False
    return resident_id_check_digit(value[:17]) == value[17]


def is_plausible_mobile(value: str) -> bool:
    """A clean mainland mobile: 11 ASCII digits on an issued prefix and not a known junk value."""
    return (
        bool(_MOBILE_RE.fullmatch(value))
        and value[:3] in MOBILE_PREFIXES
        and (value not in JUNK_MOBILES)
    )


def sample_districts(rng: np.random.Generator, n: int) -> IntArray:
    """District indices into :data:`DISTRICTS`, weighted by population."""
    return sample_index(rng, [d.weight for d in DISTRICTS], n)


def same_province_districts(rng: np.random.Generator, home: IntArray, moved: BoolArray) -> IntArray:
    """Birth-registration district: the home district, or another one in the same province."""
    provinces = np.array([d.province for d in DISTRICTS], dtype=object)
    out = home.copy()
    for i in np.flatnonzero(moved):
        candidates = np.flatnonzero(provinces == provinces[home[i]])
        out[i] = candidates[rng.integers(0, len(candidates))]
    return out


def resident_ids(
    rng: np.random.Generator, districts: IntArray, birth_days: IntArray, female: BoolArray
) -> list[str]:
    """Valid resident IDs for people born on ``birth_days`` (days since 1970-01-01)."""
    n = len(districts)
    codes = np.array([d.code for d in DISTRICTS], dtype=np.int64)[districts]
    births = np.datetime_as_string(birth_days.astype("datetime64[D]"), unit="D")
    yyyymmdd = np.array([int(b.replace("-", "")) for b in births], dtype=np.int64)
    gender_digit = rng.integers(0, 5, size=n) * 2 + np.where(female, 0, 1)
    sequence = rng.integers(0, 100, size=n) * 10 + gender_digit
    digits = np.zeros((n, 17), dtype=np.int64)
    _place(digits, codes, 0, 6)
    _place(digits, yyyymmdd, 6, 8)
    _place(digits, sequence, 14, 3)
    check = (digits @ _ID_WEIGHTS) % 11
    body = digit_strings(digits)
    return [b + _CHECK_CHARS[c] for b, c in zip(body, check.tolist(), strict=True)]


def _place(digits: IntArray, values: IntArray, start: int, width: int) -> None:
    for k in range(width):
        digits[:, start + width - 1 - k] = (values // 10**k) % 10


def mobile_numbers(
    rng: np.random.Generator, n: int, taken: set[str] | frozenset[str] = frozenset()
) -> list[str]:
    """``n`` distinct plausible mobile numbers not in ``taken``."""
    prefixes = np.array([int(p) for p in MOBILE_PREFIXES], dtype=np.int64)
    blocked = np.array(
        sorted({int(t) for t in taken if t.isdigit()} | {int(j) for j in JUNK_MOBILES}),
        dtype=np.int64,
    )
    values = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    while len(todo):
        pre = prefixes[sample_index(rng, _PREFIX_WEIGHTS, len(todo))]
        values[todo] = pre * 100_000_000 + rng.integers(0, 100_000_000, size=len(todo))
        _, first = np.unique(values, return_index=True)
        repeated = np.ones(n, dtype=bool)
        repeated[first] = False
        todo = np.flatnonzero(repeated | np.isin(values, blocked))
    return [str(v) for v in values.tolist()]
