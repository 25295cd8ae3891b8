"""Phone numbers to E.164, with ``phonenumbers`` and a fast path for clean mainland mobiles.

Rules, in the order they are applied:

================================  ============================================================
Input                             Result
================================  ============================================================
``None``, ``""``, blanks          empty (no value, no reason)
full-width digits ``１３８…``       NFKC to ASCII first, then as below (the demo's format variants)
other Unicode digits (``١٣٨``)    ``phone.non_ascii_digit``
any letter (``138ab345678``)      ``phone.letters``
other symbols (``#``, ``*``, …)   ``phone.characters``
separators                        spaces, ``-``, ``.``, ``/``, ``(``, ``)`` are dropped
``+CC…``                          international; ``00CC…`` is read as ``+CC…`` (``0086`` → ``+86``)
``86`` + 11-digit mobile          read as ``+86`` (13 digits, a ``861…`` number cannot be national)
anything else                     a national number of ``default_region`` (``CN`` by default)
unparseable                       ``phone.invalid``
CN ``1…`` not 11 digits           ``phone.length`` (the 10- and 12-digit typos; ``10…`` is
                                  Beijing's area code, not a mobile)
invalid for its region            ``phone.invalid`` (unissued prefixes like ``123…``, ``111…``)
CN but not a mobile               ``phone.not_mobile`` (landlines are shared by a household
                                  or an office, so they do not identify a person)
CN mobile, 8 same digits          ``phone.placeholder`` (``13800000000``, ``13888888888``:
                                  typed when a form insists on a number)
valid number of another region    its E.164 form (any type ``phonenumbers`` calls valid)
================================  ============================================================

The fast path (a CN number of 11 national digits, after separators and prefixes are dropped)
uses the CN mobile pattern of the ``phonenumbers`` metadata itself, so both paths give the same
answer; a unit test checks that they agree. Only numbers that are not CN mobiles go through
``phonenumbers.parse``.

Example::

    normalize_phone("+86 138-1234-5678").value   # '+8613812345678'
    normalize_phone("010 1234 5678").reason       # 'phone.not_mobile'
"""

from __future__ import annotations

import re
from functools import cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from custodia.identity.normalize._result import EMPTY, Normalized, clean_text, rejected

__all__ = ["normalize_phone", "plain_cn_mobile"]

_SEPARATORS = str.maketrans("", "", " -./()\t")
_DIGITS_ONLY = re.compile(r"[0-9]+")
_CN_COUNTRY_CODE = 86
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


@cache
def _cn_mobile_pattern() -> re.Pattern[str]:
    """The CN mobile national-number pattern from the installed ``phonenumbers`` metadata."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    if (
        metadata is None
        or metadata.mobile is None
        or metadata.mobile.national_number_pattern is None
    ):
        raise RuntimeError("phonenumbers has no CN mobile metadata")
    return re.compile(metadata.mobile.national_number_pattern)


def normalize_phone(raw: str | None, *, default_region: str = "CN") -> Normalized:
    """E.164 form of a phone number, or the reason it cannot identify a person (table above)."""
    text = clean_text(raw)
    if not text:
        return EMPTY
    if len(text) == 11 and text.isascii() and text.isdigit() and default_region == "CN":
        fast = _fast_cn_mobile(text)
        if fast is not None:
            return fast
    compact = text.translate(_SEPARATORS)
    problem = _character_problem(compact)
    if problem is not None:
        return rejected(problem)
    number = _international_prefix(compact)
    national = _cn_national_digits(number, default_region)
    if national is not None:
        fast = _fast_cn_mobile(national)
        if fast is not None:
            return fast
    return _parse(number, default_region)


def _cn_national_digits(number: str, default_region: str) -> str | None:
    """The 11 national digits of a number that is CN and mobile-sized, else ``None``."""
    if len(number) == 14 and number.startswith("+86"):
        return number[3:]
    if len(number) == 11 and default_region == "CN" and number.isdigit():
        return number
    return None


def plain_cn_mobile(raw: str) -> str | None:
    """E.164 of 11 plain ASCII digits that are a CN mobile; ``None`` means "ask normalize_phone".

    The shortcut :func:`~custodia.identity.normalize.registry.normalize_values` takes for the
    common case of a clean column; it never rejects, so a ``None`` settles nothing.
    """
    if len(raw) != 11 or not raw.isdigit() or not raw.isascii():
        return None
    if _cn_mobile_pattern().fullmatch(raw) is None or raw[3:] == raw[3] * 8:
        return None
    return "+86" + raw


def _fast_cn_mobile(digits: str) -> Normalized | None:
    """Answer for 11 digits when they are a CN mobile; ``None`` sends them down the full path."""
    if not _cn_mobile_pattern().fullmatch(digits):
        return None
    if _is_placeholder(digits):
        return rejected("phone.placeholder")
    return Normalized("+86" + digits)


def _character_problem(compact: str) -> str | None:
    body = compact[1:] if compact.startswith("+") else compact
    if _DIGITS_ONLY.fullmatch(body):
        return None
    if any(ch.isdigit() and not ch.isascii() for ch in body):
        return "phone.non_ascii_digit"
    if any(ch.isalpha() for ch in body):
        return "phone.letters"
    return "phone.characters" if body else "phone.invalid"


def _international_prefix(compact: str) -> str:
    if compact.startswith("00"):
        return "+" + compact[2:]
    if len(compact) == 13 and compact.startswith("861"):
        return "+" + compact
    return compact


def _parse(number: str, default_region: str) -> Normalized:
    try:
        parsed = phonenumbers.parse(number, default_region)
    except NumberParseException:
        return rejected("phone.invalid")
    national = str(parsed.national_number)
    is_cn = parsed.country_code == _CN_COUNTRY_CODE
    if is_cn and _mobile_shaped(national) and len(national) != 11:
        return rejected("phone.length")
    if not phonenumbers.is_valid_number(parsed):
        return rejected("phone.invalid")
    if is_cn and phonenumbers.number_type(parsed) not in _MOBILE_TYPES:
        return rejected("phone.not_mobile")
    if is_cn and _is_placeholder(national):
        return rejected("phone.placeholder")
    return Normalized(phonenumbers.format_number(parsed, PhoneNumberFormat.E164))


def _mobile_shaped(national: str) -> bool:
    """Starts like a mobile: ``1`` but not Beijing's area code ``10``."""
    return national.startswith("1") and not national.startswith("10")


def _is_placeholder(national: str) -> bool:
    """Eight identical subscriber digits after the 3-digit prefix: a stand-in, not a person."""
    return national[3:] == national[3] * 8
