"""Value standardizers for cleansing: one canonical written form per kind of value.

Each standardizer takes a stored text value and returns its canonical form, or ``None`` when the
value cannot be put in that form (a 10-digit "mobile", an address with no @): such a value is
left as it is and counted as still non-standard, for a steward or a quality rule to see. The
identifier rules are the identity normalizers' (:mod:`custodia.identity.normalize`), so a phone
is read the same way by cleansing and by identity resolution; only the written form differs.

==============  ==============================================================================
Name            Canonical form
==============  ==============================================================================
``cn_mobile``   a CN mobile as its 11 national digits (``+86 138-1234-5678``, ``0086…``,
                full-width digits → ``13812345678``); a valid foreign number in E.164
``e164``        every valid number in E.164 (``+8613812345678``)
``email``       trimmed, NFKC, lower-case (``  Anna@X.CN`` → ``anna@x.cn``)
``name``        NFKC, one space between words, none between Han characters
``address``     NFKC, whitespace collapsed, no space next to a Han character
``text``        NFKC, whitespace collapsed and trimmed
``city``        the full administrative name: ``上海`` → ``上海市`` (names already ending in
                ``市``, ``州``, ``地区`` or ``盟`` are kept; non-Chinese names only get ``text``)
``gender``      ``M`` or ``F`` from ``男``/``女``, ``male``/``female``, ``m``/``f`` (any case)
==============  ==============================================================================

Example::

    STANDARDIZERS["cn_mobile"]("+86 138-1234-5678")    # '13812345678'
    STANDARDIZERS["gender"]("女")                       # 'F'
    STANDARDIZERS["cn_mobile"]("1381234567")           # None: cannot be standardized
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from custodia.identity.normalize import (
    normalize_email,
    normalize_name,
    normalize_phone,
    parse_address,
)

__all__ = ["STANDARDIZERS", "Standardizer", "standardizer"]

Standardizer = Callable[[str], str | None]

_SPACES = re.compile(r"\s+")
_CITY_SUFFIXES = ("市", "州", "地区", "盟")
_GENDERS = {"男": "M", "male": "M", "m": "M", "女": "F", "female": "F", "f": "F"}
_CN_PREFIX = "+86"


def _cn_mobile(value: str) -> str | None:
    e164 = normalize_phone(value).value
    if e164 is not None and e164.startswith(_CN_PREFIX) and len(e164) == 14:
        return e164[len(_CN_PREFIX) :]
    return e164


def _e164(value: str) -> str | None:
    return normalize_phone(value).value


def _email(value: str) -> str | None:
    return normalize_email(value).value


def _name(value: str) -> str | None:
    return normalize_name(value).value


def _address(value: str) -> str | None:
    return parse_address(value).text


def _text(value: str) -> str | None:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip() or None


def _city(value: str) -> str | None:
    text = _text(value)
    if text is None or not all("\u4e00" <= ch <= "\u9fff" for ch in text):
        return text
    return text if text.endswith(_CITY_SUFFIXES) else text + "市"


def _gender(value: str) -> str | None:
    text = _text(value)
    return None if text is None else _GENDERS.get(text.casefold())


STANDARDIZERS: dict[str, Standardizer] = {
    "cn_mobile": _cn_mobile,
    "e164": _e164,
    "email": _email,
    "name": _name,
    "address": _address,
    "text": _text,
    "city": _city,
    "gender": _gender,
}


def standardizer(name: str) -> Standardizer:
    """The named standardizer; KeyError names an unknown one (the cleansing file checks names)."""
    return STANDARDIZERS[name]
