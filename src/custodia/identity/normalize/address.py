"""Addresses: province / city / district tokens for Chinese addresses, pass-through for others.

:func:`parse_address` rules:

===================================  ===========================================================
Input                                Result
===================================  ===========================================================
``None``, ``""``, blanks             all parts ``None``
no Han character (English, …)        ``detail`` and ``text`` are the NFKC, whitespace-collapsed
                                     text; province, city and district ``None``
Chinese                              NFKC, whitespace collapsed, spaces next to a Han character
                                     removed; then, from the start of the text:
province                             one of the 34 provincial-level names, full
                                     (``广东省``, ``广西壮族自治区``) or short (``广东``, ``广西``),
                                     always returned in full; a short name directly followed by
                                     ``市`` is a city of the same name (``吉林市``), not a province
city                                 municipalities (``北京市`` …): the municipality itself;
                                     otherwise up to 7 characters ending in ``市``, ``自治州``,
                                     ``地区`` or ``盟`` (without ``省``/``区``/``县``/``路``/``街``
                                     inside)
district                             up to 8 characters ending in ``新区``, ``区``, ``自治县``,
                                     ``县``, ``自治旗``, ``旗`` or ``市`` (a county-level city),
                                     without ``省``, ``县``, ``路``, ``街``, ``道``, ``号`` inside
detail                               what is left (``None`` when nothing is)
===================================  ===========================================================

Each level is optional: ``徐汇区漕溪北路88号`` gives only a district. A province is not guessed
from a city name. The result's ``text`` is the normalized whole, for display and comparison.

Example::

    parse_address("广东省 深圳市 南山区 科技园1号")
    # AddressParts(province='广东省', city='深圳市', district='南山区', detail='科技园1号',
    #              text='广东省深圳市南山区科技园1号')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from custodia.identity.normalize._result import clean_text
from custodia.identity.normalize.names import is_han

__all__ = ["PROVINCES", "AddressParts", "parse_address"]


@dataclass(frozen=True, slots=True)
class AddressParts:
    """Administrative parts of an address; ``text`` is the whole normalized address."""

    province: str | None = None
    city: str | None = None
    district: str | None = None
    detail: str | None = None
    text: str | None = None


MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
PROVINCES: tuple[str, ...] = (
    *MUNICIPALITIES,
    *(
        f"{name}省"
        for name in [
            "河北",
            "山西",
            "辽宁",
            "吉林",
            "黑龙江",
            "江苏",
            "浙江",
            "安徽",
            "福建",
            "江西",
            "山东",
            "河南",
            "湖北",
            "湖南",
            "广东",
            "海南",
            "四川",
            "贵州",
            "云南",
            "陕西",
            "甘肃",
            "青海",
            "台湾",
        ]
    ),
    "内蒙古自治区",
    "广西壮族自治区",
    "西藏自治区",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "香港特别行政区",
    "澳门特别行政区",
)
"""The 34 provincial-level divisions, full names."""

_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市")
_HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff"
_SPACE_NEAR_HAN = re.compile(f"\\s+(?=[{_HAN_CLASS}])|(?<=[{_HAN_CLASS}])\\s+")
_CITY = re.compile("[^省市区县路街道号]{1,7}?(?:自治州|地区|盟|市)")
_DISTRICT = re.compile("[^省县路街道号]{1,8}?(?:新区|自治县|县|自治旗|旗|区|市)")


def _short_name(full: str) -> str:
    for suffix in _SUFFIXES:
        if full.endswith(suffix):
            return full[: -len(suffix)]
    return full


_BY_NAME: tuple[tuple[str, str], ...] = tuple(
    sorted(
        [(p, p) for p in PROVINCES] + [(_short_name(p), p) for p in PROVINCES],
        key=lambda pair: -len(pair[0]),
    )
)


def parse_address(raw: str | None) -> AddressParts:
    """Province, city, district and detail of an address (rules above)."""
    text = " ".join(clean_text(raw).split())
    if not text:
        return AddressParts()
    if not is_han(text):
        return AddressParts(detail=text, text=text)
    text = _SPACE_NEAR_HAN.sub("", text)
    province, rest = _take_province(text)
    city: str | None = province if province in MUNICIPALITIES else None
    if city is None:
        city, rest = _take(_CITY, rest)
    district, rest = _take(_DISTRICT, rest)
    return AddressParts(province, city, district, rest or None, text)


def _take_province(text: str) -> tuple[str | None, str]:
    for name, full in _BY_NAME:
        if not text.startswith(name):
            continue
        rest = text[len(name) :]
        if name != full and rest.startswith("市"):
            return None, text
        return full, rest
    return None, text


def _take(pattern: re.Pattern[str], text: str) -> tuple[str | None, str]:
    found = pattern.match(text)
    if found is None:
        return None, text
    return found.group(), text[found.end() :]
