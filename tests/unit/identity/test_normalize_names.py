"""Name normalizer (display form) and comparison key (pinyin for Han, plain letters otherwise)."""

from __future__ import annotations

import pytest

from custodia.identity.normalize import Normalized, name_comparison_key, normalize_name

DISPLAY = [
    ("张伟", "张伟"),
    ("  张伟 ", "张伟"),
    ("张\u3000伟", "张伟"),  # ideographic space between Han characters: removed
    ("张 伟", "张伟"),
    ("欧 阳 娜 娜", "欧阳娜娜"),
    ("Anna  Li", "Anna Li"),
    ("Ａｎｎａ\u3000Ｌｉ", "Anna Li"),  # full-width letters: NFKC
    ("anna li", "anna li"),  # case kept: display form
    ("O'Brien", "O'Brien"),
    ("José García", "José García"),
    ("阿卜杜拉•艾买提", "阿卜杜拉·艾买提"),
    ("阿卜杜拉・艾买提", "阿卜杜拉·艾买提"),
    ("阿卜杜拉 . 艾买提", "阿卜杜拉·艾买提"),
    ("张Anna", "张Anna"),
]

REJECTED = [
    ("13812345678", "name.characters"),
    ("张伟138", "name.characters"),
    ("anna@x.cn", "name.characters"),
    ("---", "name.characters"),
    ("Anna\x07Li", "name.characters"),
    ("张" * 101, "name.length"),
]


@pytest.mark.parametrize(("raw", "expected"), DISPLAY)
def test_display_form(raw: str, expected: str) -> None:
    assert normalize_name(raw) == Normalized(expected, None)


@pytest.mark.parametrize(("raw", "reason"), REJECTED)
def test_bad_names_are_rejected_with_their_reason(raw: str, reason: str) -> None:
    assert normalize_name(raw) == Normalized(None, reason)


@pytest.mark.parametrize("raw", [None, "", "\u3000 "])
def test_empty_input_has_no_value_and_no_reason(raw: str | None) -> None:
    assert normalize_name(raw) == Normalized(None, None)


KEYS = [
    ("张伟", "wei zhang"),
    ("Zhang Wei", "wei zhang"),
    ("Wei ZHANG", "wei zhang"),
    ("张小明", "xiaoming zhang"),
    ("Xiao-Ming Zhang", "xiaoming zhang"),
    ("Xiaoming Zhang", "xiaoming zhang"),
    ("欧阳娜娜", "nana ouyang"),  # compound family name
    ("Ouyang Nana", "nana ouyang"),
    ("单雄信", "shan xiongxin"),  # polyphonic family name read as a surname (not "dan")
    ("曾国藩", "guofan zeng"),  # not "ceng"
    ("吕布", "bu lv"),  # ü written v
    ("迪丽热巴·迪力木拉提", "dilimulati dilireba"),  # one token per part
    ("José García", "garcia jose"),
    ("O'Brien", "obrien"),
    ("Anna Li", "anna li"),
    ("ANNA  LI", "anna li"),
]


@pytest.mark.parametrize(("name", "key"), KEYS)
def test_comparison_key(name: str, key: str) -> None:
    normalized = normalize_name(name).value
    assert normalized is not None
    assert name_comparison_key(normalized) == key


def test_key_tells_different_people_apart() -> None:
    assert name_comparison_key("张伟") != name_comparison_key("张威伟")
    assert name_comparison_key("Anna Li") != name_comparison_key("Anna Lee")
