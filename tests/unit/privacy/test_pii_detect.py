"""Personal data found in Chinese/English free text, and the near misses that must not be."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest
import spacy.util

from custodia.privacy.pii_detect import PiiDetector, PiiFinding
from custodia.privacy.pii_entities import (
    BANK_CARD,
    CN_LANDLINE,
    CN_MOBILE,
    CN_PASSPORT,
    CN_RESIDENT_ID,
    EMAIL_ADDRESS,
    PHONE_NUMBER,
)
from custodia.privacy.pii_nlp_engine import (
    PII_LANGUAGE,
    MixedScriptNlpEngine,
    fold_numerals,
    fold_width,
)

TODAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return PiiDetector(today=TODAY)


def found(detector: PiiDetector, text: str) -> list[tuple[str, str]]:
    return [(f.entity, text[f.start : f.end]) for f in detector.find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的手机号是13812345678，谢谢", [(CN_MOBILE, "13812345678")]),
        ("电话 138 1234 5678", [(CN_MOBILE, "138 1234 5678")]),
        ("电话138-1234-5678。", [(CN_MOBILE, "138-1234-5678")]),
        ("联系+86 139 1234 5678", [(CN_MOBILE, "+86 139 1234 5678")]),
        ("联系008613912345678", [(CN_MOBILE, "008613912345678")]),
        ("手机：１３８１２３４５６７８", [(CN_MOBILE, "１３８１２３４５６７８")]),
        ("call me at 15012345678 pls", [(CN_MOBILE, "15012345678")]),
        ("我的电话是一三八一二三四五六七八", [(CN_MOBILE, "一三八一二三四五六七八")]),
        ("手机138一二三四5678", [(CN_MOBILE, "138一二三四5678")]),
        ("加微信幺五零一二三四五六七八", [(CN_MOBILE, "幺五零一二三四五六七八")]),
        ("身份证11010519491231002X", [(CN_RESIDENT_ID, "11010519491231002X")]),
        ("身份证11010519491231002x", [(CN_RESIDENT_ID, "11010519491231002x")]),
        ("ID 110105 19491231 002X", [(CN_RESIDENT_ID, "110105 19491231 002X")]),
        (
            "证件：４４０３０５１９９２０７０８１５３２",
            [(CN_RESIDENT_ID, "４４０３０５１９９２０７０８１５３２")],
        ),
        ("身份证号110105491231002", [(CN_RESIDENT_ID, "110105491231002")]),
        ("卡号6222 0210 0011 2230", [(BANK_CARD, "6222 0210 0011 2230")]),
        ("card 6228480033115577885", [(BANK_CARD, "6228480033115577885")]),
        ("邮箱 zhang.san@example.com。", [(EMAIL_ADDRESS, "zhang.san@example.com")]),
        ("发到li.na＠example.com.cn谢谢", [(EMAIL_ADDRESS, "li.na＠example.com.cn")]),
        ("座机010-62345678转123", [(CN_LANDLINE, "010-62345678转123")]),
        ("电话(0755)86001234", [(CN_LANDLINE, "(0755)86001234")]),
        ("护照E12345678", [(CN_PASSPORT, "E12345678")]),
        ("Call +1 415-867-5309 tonight", [(PHONE_NUMBER, "+1 415-867-5309")]),
        ("HK: +852 9123 4567", [(PHONE_NUMBER, "+852 9123 4567")]),
    ],
)
def test_finds_each_entity_in_the_formats_people_write(
    detector: PiiDetector, text: str, expected: list[tuple[str, str]]
) -> None:
    assert found(detector, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "订单号：13812345678，一直没发货",  # an order number shaped like a phone
        "order no. 13912345678 has not arrived",
        "快递单号 13712345678 查不到",
        "身份证号310104198503174215",  # wrong check character
        "身份证510107200102290069",  # 29 February 2001 does not exist
        "身份证110105202712310014",  # born after today (check character right)
        "卡号6222021000112231",  # 16 digits failing Luhn
        "card 4367420123456782",
        "订单2910429927723966554还没到",  # 19-digit order number (passes Luhn)
        "LM2023111200012345 还没发货",  # digits glued to an order code
        "护照号码写错了，不是手机号",
        "订单金额1388.00元，2024-11-11下单",
        "验证码 138520",
        "E12345678",  # passport shape without a context word
        "02162345678",  # landline shape without a context word
        "一直等到二〇二四年十一月，第一次买，一二三四五六都试过",  # numerals that are not a number
    ],
)
def test_near_misses_are_not_reported(detector: PiiDetector, text: str) -> None:
    assert detector.find(text) == []


def test_offsets_count_characters_in_chinese_text_with_emoji(detector: PiiDetector) -> None:
    text = "😡😡客服太差了！！我的手机号是１３８ １２３４ ５６７８，邮箱ｚｈａｎｇ＠ｑｑ.com🙏"
    findings = detector.find(text)
    assert [text[f.start : f.end] for f in findings] == [
        "１３８ １２３４ ５６７８",
        "ｚｈａｎｇ＠ｑｑ.com",
    ]


def test_several_findings_come_in_text_order_without_overlap(detector: PiiDetector) -> None:
    text = "手机13700001234，身份证330108197806153378，邮箱chen_wei@126.com，卡号6222021000112230"
    findings = detector.find(text)
    assert [f.entity for f in findings] == [CN_MOBILE, CN_RESIDENT_ID, EMAIL_ADDRESS, BANK_CARD]
    assert all(a.end <= b.start for a, b in pairwise(findings))


def test_a_valid_id_beats_a_luhn_valid_card_on_the_same_digits(detector: PiiDetector) -> None:
    # 440305199207081209 is a valid resident ID and passes Luhn as well
    assert found(detector, "号码440305199207081209") == [(CN_RESIDENT_ID, "440305199207081209")]


def test_a_context_word_lifts_an_unchecked_shape_over_the_threshold(detector: PiiDetector) -> None:
    assert found(detector, "E12345678") == []
    assert found(detector, "passport E12345678") == [(CN_PASSPORT, "E12345678")]
    plain, near_label = detector.find("02162345678"), detector.find("座机02162345678")
    assert plain == [] and [f.entity for f in near_label] == [CN_LANDLINE]


def test_the_nearest_label_decides_between_order_and_phone(detector: PiiDetector) -> None:
    text = "订单号LM20241111000456，手机13812345678"
    assert found(detector, text) == [(CN_MOBILE, "13812345678")]
    assert found(detector, "手机订单号13812345678") == []


def test_entities_can_be_limited(detector: PiiDetector) -> None:
    only_email = PiiDetector(entities=[EMAIL_ADDRESS], today=TODAY)
    text = "手机13812345678 邮箱a.b@qq.com"
    assert [f.entity for f in only_email.find(text)] == [EMAIL_ADDRESS]
    with pytest.raises(ValueError, match="unknown personal-data entities"):
        PiiDetector(entities=["SSN"])


def test_a_finding_carries_no_value_so_it_can_be_logged(detector: PiiDetector) -> None:
    (finding,) = detector.find("手机13812345678")
    assert isinstance(finding, PiiFinding)
    assert "13812345678" not in repr(finding)


def test_text_without_digits_or_at_sign_is_skipped_quickly(detector: PiiDetector) -> None:
    assert detector.find("") == []
    assert detector.find("物流太慢了，没有任何号码") == []


def test_presidio_runs_without_any_spacy_model(detector: PiiDetector) -> None:
    assert not spacy.util.is_package("en_core_web_lg")
    assert detector.find("邮箱 a@b.cn") != []


def test_width_folding_keeps_every_offset() -> None:
    text = "手机：１３８　１２３４－５６７８ ㈠ ﬁ"
    folded = fold_width(text)
    assert len(folded) == len(text)
    assert folded.startswith("手机:138 1234-5678")
    assert folded.endswith("㈠ ﬁ")  # NFKC would lengthen these: left as they are


def test_numbers_in_chinese_numerals_become_digits_and_words_stay() -> None:
    assert fold_numerals("电话一三八一二三四五六七八") == "电话13812345678"
    assert fold_numerals("138一二三四5678") == "13812345678"
    assert fold_numerals("幺五零") == "幺五零"  # three numerals alone: not a number yet
    text = "一直等到二〇二四年，第一次，一二三四五六"
    assert fold_numerals(text) == text


def test_the_nlp_engine_tokenizes_chinese_clauses_and_english_words() -> None:
    engine = MixedScriptNlpEngine()
    engine.load()
    artifacts = engine.process_text("我的手机号是13812345678, call me", PII_LANGUAGE)
    assert artifacts.lemmas == ["我的手机号是", "13812345678", ",", "call", "me"]
    assert artifacts.tokens_indices == [0, 6, 17, 19, 24]
    assert engine.is_punct("，", PII_LANGUAGE) and not engine.is_punct("手机", PII_LANGUAGE)
    with pytest.raises(ValueError, match="not one of"):
        engine.process_text("x", "en")


def test_a_foreign_number_in_national_form_needs_a_context_word(detector: PiiDetector) -> None:
    assert found(detector, "(415) 867-5309") == []
    assert found(detector, "phone (415) 867-5309") == [(PHONE_NUMBER, "(415) 867-5309")]
    assert found(detector, "call +1 (415) 867-5309") == [(PHONE_NUMBER, "+1 (415) 867-5309")]


def test_a_lower_threshold_reports_unchecked_shapes_without_context() -> None:
    eager = PiiDetector(threshold=0.3, today=TODAY)
    assert [f.entity for f in eager.find("E12345678")] == [CN_PASSPORT]


def test_find_many_answers_each_text(detector: PiiDetector) -> None:
    texts = ["手机13812345678", "没有", "a@b.cn"]
    assert [[f.entity for f in fs] for fs in detector.find_many(texts)] == [
        [CN_MOBILE],
        [],
        [EMAIL_ADDRESS],
    ]


def test_digit_runs_inside_identifiers_are_not_personal_data() -> None:
    # a random hex id whose 16-digit run happens to pass Luhn (seen in an audit entry)
    text = '{"refs":{"consent_id":"cns_7081491782484883a470703bbe98abc5"}}'
    assert PiiDetector().find(text) == []
    assert PiiDetector().find("卡号 6222 0212 3456 7894 请核对") != []  # a real card still found
