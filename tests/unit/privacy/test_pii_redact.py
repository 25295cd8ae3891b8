"""Redaction of personal data in free text: masks and type tags, never the raw value."""

from __future__ import annotations

import re
from datetime import date

import pytest
from pydantic import ValidationError

from custodia.privacy.pii_detect import PiiDetector
from custodia.privacy.pii_redact import RedactionPolicy, mask_value, redact_text


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return PiiDetector(today=date(2026, 11, 24))


TEXT = (
    "😡手机１３８ １２３４ ５６７８，身份证11010519491231002X，"
    "邮箱zhang.san@example.com，卡号6222 0210 0011 2230。"
)


def test_tags_replace_every_value_by_its_type(detector: PiiDetector) -> None:
    redacted = redact_text(TEXT, detector.find(TEXT))
    assert redacted.text == (
        "😡手机<CN_MOBILE>，身份证<CN_RESIDENT_ID>，邮箱<EMAIL_ADDRESS>，卡号<BANK_CARD>。"
    )
    assert len(redacted.findings) == 4


def test_masks_use_the_product_display_formats(detector: PiiDetector) -> None:
    redacted = redact_text(TEXT, detector.find(TEXT), RedactionPolicy(default="mask"))
    assert redacted.text == (
        "😡手机138****5678，身份证110105********002X，邮箱z***@example.com，卡号************2230。"
    )


def test_policy_sets_the_action_per_entity(detector: PiiDetector) -> None:
    policy = RedactionPolicy(default="tag", entities={"CN_MOBILE": "mask"})
    text = "手机13812345678，身份证11010519491231002X"
    assert (
        redact_text(text, detector.find(text), policy).text
        == "手机138****5678，身份证<CN_RESIDENT_ID>"
    )


def test_a_policy_naming_an_unknown_entity_or_action_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown personal-data entities"):
        RedactionPolicy(entities={"CN_MOBLE": "mask"})
    with pytest.raises(ValidationError):
        RedactionPolicy(default="hash")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("entity", "value", "masked"),
    [
        ("CN_MOBILE", "+86 138-1234-5678", "138****5678"),
        ("CN_MOBILE", "(+86)13812345678", "138****5678"),
        ("CN_MOBILE", "008613812345678", "138****5678"),
        ("CN_RESIDENT_ID", "110105 19491231 002x", "110105********002x"),
        ("EMAIL_ADDRESS", "li.na＠example.com.cn", "l***@example.com.cn"),
        ("BANK_CARD", "6228-4800-3311-5577-885", "***************7885"),
        ("CN_LANDLINE", "010-62345678转123", "010*********23"),
        ("CN_PASSPORT", "E12345678", "E12****78"),
        ("PHONE_NUMBER", "+1 415-867-5309", "+14*******09"),
    ],
)
def test_mask_value_drops_separators_and_keeps_only_the_format(
    entity: str, value: str, masked: str
) -> None:
    assert mask_value(entity, value) == masked


def test_no_findings_leave_the_text_as_it_is() -> None:
    assert redact_text("没有个人信息", []).text == "没有个人信息"


def test_no_raw_digits_of_a_value_survive_a_mask(detector: PiiDetector) -> None:
    redacted = redact_text(TEXT, detector.find(TEXT), RedactionPolicy(default="mask")).text
    digits = re.sub(r"\D", "", redacted)
    for raw in ("13812345678", "11010519491231002", "6222021000112230"):
        assert raw not in digits
