"""Phone normalizer: E.164 for valid numbers, one stable reason code per kind of bad input."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from custodia.identity.normalize import Normalized, normalize_phone

_MOBILE = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)

VALID = [
    ("13812345678", "+8613812345678"),
    ("+86 138-1234-5678", "+8613812345678"),
    ("+86 13812345678", "+8613812345678"),
    ("0086 13812345678", "+8613812345678"),
    ("008613812345678", "+8613812345678"),
    ("8613812345678", "+8613812345678"),
    ("138-1234-5678", "+8613812345678"),
    ("138 1234 5678", "+8613812345678"),
    ("138.1234.5678", "+8613812345678"),
    ("(138) 1234 5678", "+8613812345678"),
    ("  13812345678\t", "+8613812345678"),
    ("１３８１２３４５６７８", "+8613812345678"),  # full-width digits: NFKC
    ("＋８６　１３８１２３４５６７８", "+8613812345678"),  # full-width plus and ideographic space
    ("19912345678", "+8619912345678"),
    ("16612345678", "+8616612345678"),
    ("+1 650-253-0000", "+16502530000"),  # other regions: whatever phonenumbers calls valid
    ("+44 7911 123456", "+447911123456"),
    ("0044 7911 123456", "+447911123456"),
    ("+852 5123 4567", "+85251234567"),
]

REJECTED = [
    ("138ab345678", "phone.letters"),
    ("tel 13812345678", "phone.letters"),
    ("电话13812345678", "phone.letters"),
    ("138#1234#5678", "phone.characters"),
    ("138*12345678", "phone.characters"),
    ("١٣٨١٢٣٤٥٦٧٨", "phone.non_ascii_digit"),  # Arabic-Indic digits: NFKC keeps them
    ("१३८१२३४५६७८", "phone.non_ascii_digit"),  # Devanagari
    ("1381234567", "phone.length"),  # 10 digits
    ("138123456789", "phone.length"),  # 12 digits
    ("+86 1381234567", "phone.length"),
    ("12345678901", "phone.invalid"),  # unissued prefix
    ("11111111111", "phone.invalid"),
    ("+", "phone.invalid"),
    ("+999 123", "phone.invalid"),
    ("010 1234 5678", "phone.not_mobile"),  # Beijing landline
    ("021-6123-4567", "phone.not_mobile"),  # Shanghai landline
    ("+86 21 6123 4567", "phone.not_mobile"),
    ("13800000000", "phone.placeholder"),
    ("13888888888", "phone.placeholder"),
    ("+86 139 0000 0000", "phone.placeholder"),
]


@pytest.mark.parametrize(("raw", "expected"), VALID)
def test_valid_numbers_become_e164(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == Normalized(expected, None)


@pytest.mark.parametrize(("raw", "reason"), REJECTED)
def test_bad_numbers_are_rejected_with_their_reason(raw: str, reason: str) -> None:
    result = normalize_phone(raw)
    assert result == Normalized(None, reason)
    assert not result.valid


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000"])
def test_empty_input_has_no_value_and_no_reason(raw: str | None) -> None:
    assert normalize_phone(raw) == Normalized(None, None)


def test_default_region_reads_national_numbers_of_that_region() -> None:
    assert normalize_phone("650-253-0000", default_region="US").value == "+16502530000"
    assert normalize_phone("650-253-0000").reason is not None


def _library_says_mobile(digits: str) -> bool:
    try:
        parsed = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(parsed)
    placeholder = len(set(digits[3:])) == 1
    return phonenumbers.is_valid_number(parsed) and not placeholder and kind in _MOBILE


def test_fast_path_agrees_with_phonenumbers() -> None:
    """CN mobiles skip phonenumbers; across every 1xx prefix and format the answer is the same."""
    dice = random.Random(5)
    for prefix in range(100, 200):
        for _ in range(20):
            digits = f"{prefix}{dice.randrange(10**8):08d}"
            expected = "+86" + digits if _library_says_mobile(digits) else None
            spaced = f"{digits[:3]} {digits[3:7]} {digits[7:]}"
            for form in (digits, spaced, "+86" + digits, "0086 " + spaced, "86" + digits):
                assert normalize_phone(form).value == expected, form
