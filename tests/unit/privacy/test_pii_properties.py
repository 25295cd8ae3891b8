"""Properties of detection and redaction over generated values and surrounding text (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custodia.core.checksums import luhn_valid, resident_id_check_character
from custodia.privacy.pii_detect import PiiDetector
from custodia.privacy.pii_redact import RedactionPolicy, redact_text

DETECTOR = PiiDetector(today=date(2026, 11, 24))
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

# Text around a value: Chinese, English, emoji and punctuation, but no digits or letters that
# could join the value (a value glued to other digits is a different number).
surroundings = st.text(
    alphabet=st.sampled_from(
        list("物流太慢了请尽快处理客服你好谢谢，。！？ 😡🙏、：") + list("the ok ")
    ),
    max_size=20,
)
# Without Latin letters: digits glued to letters read as a code (LM2023...), by design.
chinese_surroundings = st.text(
    alphabet=st.sampled_from(list("物流太慢了请尽快处理客服你好谢谢，。！？ 😡🙏、：")), max_size=20
)
mobiles = st.builds(
    lambda p, rest: p + rest,
    st.sampled_from(["138", "139", "150", "186", "177", "199", "166"]),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)
birthdays = st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 12, 31))
regions = st.sampled_from(["110105", "310104", "440305", "510107", "330108", "650102"])


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    body = draw(regions) + draw(birthdays).strftime("%Y%m%d")
    body += draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    return body + resident_id_check_character(body)


@st.composite
def formatted_mobiles(draw: st.DrawFn) -> str:
    m = draw(mobiles)
    forms = [m, f"{m[:3]} {m[3:7]} {m[7:]}", f"{m[:3]}-{m[3:7]}-{m[7:]}", f"+86 {m}"]
    form = draw(st.sampled_from(forms))
    return form.translate(_FULL_WIDTH) if draw(st.booleans()) else form


@settings(max_examples=150, deadline=None)
@given(before=surroundings, value=resident_ids(), after=surroundings)
def test_every_valid_resident_id_is_found_where_it_stands(
    before: str, value: str, after: str
) -> None:
    text = f"{before}身份证{value}{after}"
    spans = [(f.entity, f.start, f.end) for f in DETECTOR.find(text)]
    start = len(before) + 3
    assert ("CN_RESIDENT_ID", start, start + 18) in spans


@settings(max_examples=150, deadline=None)
@given(value=resident_ids(), wrong=st.sampled_from(list("0123456789X")))
def test_an_id_with_any_other_check_character_is_not_an_id(value: str, wrong: str) -> None:
    if wrong == value[17]:
        return
    findings = DETECTOR.find(f"身份证{value[:17]}{wrong}")
    assert all(f.entity != "CN_RESIDENT_ID" for f in findings)


@settings(max_examples=150, deadline=None)
@given(before=chinese_surroundings, value=formatted_mobiles(), after=surroundings)
def test_every_mobile_is_found_and_masking_leaves_only_its_format(
    before: str, value: str, after: str
) -> None:
    text = f"{before}{value}{after}"
    findings = DETECTOR.find(text)
    assert [(f.entity, text[f.start : f.end]) for f in findings] == [("CN_MOBILE", value)]
    masked = redact_text(text, findings, RedactionPolicy(default="mask")).text
    assert masked == f"{before}{_national(value)[:3]}****{_national(value)[-4:]}{after}"


@settings(max_examples=150, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=15, max_size=18), bump=st.integers(1, 9))
def test_a_card_number_failing_luhn_is_never_a_card(digits: str, bump: int) -> None:
    number = "62" + digits[:14]
    number += next(c for c in "0123456789" if luhn_valid(number + c))
    broken = number[:-1] + str((int(number[-1]) + bump) % 10)
    assert [f.entity for f in DETECTOR.find(f"卡号{number}")] == ["BANK_CARD"]
    assert DETECTOR.find(f"卡号{broken}") == []


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=60))
def test_any_text_is_handled_and_findings_lie_inside_it(text: str) -> None:
    findings = DETECTOR.find(text)
    assert all(0 <= f.start < f.end <= len(text) for f in findings)
    assert redact_text(text, findings).text.count("<") >= len(findings)


def _national(value: str) -> str:
    ascii_digits = "".join(
        c for c in value.translate({0xFF10 + i: 48 + i for i in range(10)}) if c.isdigit()
    )
    return ascii_digits.removeprefix("86")


@pytest.mark.parametrize("days", [0, 1])
def test_birth_dates_after_today_are_refused(days: int) -> None:
    today = date(2026, 11, 24)
    born = (today + timedelta(days=days)).strftime("%Y%m%d")
    body = "110105" + born + "001"
    found = PiiDetector(today=today).find(f"身份证{body}{resident_id_check_character(body)}")
    assert [f.entity for f in found] == (["CN_RESIDENT_ID"] if days == 0 else [])
