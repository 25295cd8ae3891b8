"""Display masks of identifiers (Chinese and English)."""

from __future__ import annotations

import pytest

from custodia.core.masking import mask_identifier, mask_name


@pytest.mark.parametrize(
    ("id_type", "value", "masked"),
    [
        ("phone", "+8613812345678", "138****5678"),
        ("phone", "+14155550123", "+14*******23"),
        ("email", "zhang.san@example.com", "z***@example.com"),
        ("resident_id", "11010519491231002X", "110105********002X"),
        ("bank_card", "6222021234567890128", "***************0128"),
        ("member_id", "M0000001", "M00***01"),
        ("user_id", "ab", "**"),
    ],
)
def test_identifier_masks(id_type: str, value: str, masked: str) -> None:
    assert mask_identifier(id_type, value) == masked


def test_name_masks_keep_the_given_name_character_or_initials() -> None:
    assert mask_name("张三") == "*三"
    assert mask_name("欧阳娜娜") == "***娜"
    assert mask_name("John Smith") == "J*** S***"
