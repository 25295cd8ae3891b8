"""Writes tests/data/pii/generated.txt: service texts with labelled personal data (seeded).

Run: ``.venv/bin/python tests/data/pii/make_generated.py`` (same output every time).

Values come from the demo generator (valid resident IDs, issued mobile prefixes, names and the
e-mail addresses people derive from them); bodies are the demo's ticket and review templates.
Each value is written in a format people use (spaces, dashes, +86, full-width digits, Chinese
numerals, lower-case x) inside a frame with or without a context word. Hard negatives
(phone-shaped order numbers, IDs with a wrong check character, card-length numbers failing
Luhn, dates, amounts) are unlabelled: anything found in them is a false positive.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np

from custodia.core.checksums import luhn_valid, resident_id_check_character
from custodia.demo.chinese_ids import mobile_numbers, resident_ids, sample_districts
from custodia.demo.names import draw_emails, draw_names
from custodia.demo.text_corpus import COMPLAINT_TYPES, Slots, render_review, render_ticket

SEED = 11
PER_KIND = 110
OUT = Path(__file__).with_name("generated.txt")

_PRODUCTS = {
    "zh": ("真丝连衣裙", "羊毛大衣", "牛仔裤", "运动鞋"),
    "en": ("silk dress", "wool coat"),
}
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_NUMERALS = str.maketrans("0123456789", "零一二三四五六七八九")

_FRAMES = {
    ("CN_MOBILE", "zh"): ("我的手机号是{v}", "联系电话：{v}", "手机{v}", "麻烦打{v}联系我",
                          "{v}是我的手机", "收货人 {v}", "有事打 {v}", "请回电{v}"),
    ("CN_MOBILE", "en"): ("my phone number is {v}", "call me at {v}", "reach me on {v}",
                          "mobile: {v}", "my number {v}", "{v}"),
    ("CN_RESIDENT_ID", "zh"): ("身份证号{v}", "证件号码：{v}", "我的身份证是{v}", "实名信息 {v}",
                               "{v}是我本人的"),
    ("CN_RESIDENT_ID", "en"): ("my ID card number is {v}", "ID: {v}", "resident ID {v}",
                               "identity number {v}"),
    ("EMAIL_ADDRESS", "zh"): ("邮箱{v}", "发到我邮箱 {v}", "请把发票发到{v}", "{v}"),
    ("EMAIL_ADDRESS", "en"): ("email me at {v}", "my email is {v}", "send it to {v}", "{v}"),
    ("BANK_CARD", "zh"): ("退款到银行卡{v}", "卡号：{v}", "我的储蓄卡 {v}"),
    ("BANK_CARD", "en"): ("refund to my card {v}", "card number {v}"),
    ("CN_LANDLINE", "zh"): ("座机{v}", "办公室电话 {v}", "固话：{v}"),
    ("CN_LANDLINE", "en"): ("office phone {v}", "landline {v}"),
}  # fmt: skip
_NEGATIVES = {
    "zh": ("订单号：{order}", "订单号{phone_like}", "快递单号 {phone_like}",
           "身份证号{bad_id}", "卡号{bad_card}", "订单{long_order}", "金额{amount}元",
           "{date}下的单", "会员积分{points}"),
    "en": ("order number {order}", "order no. {phone_like}", "tracking number {long_order}",
           "card {bad_card}", "paid {amount} yuan on {date}"),
}  # fmt: skip
_AREAS = ("010", "021", "020", "0755", "0571", "028", "027", "025", "0512", "023")


def _mobile_formats(d: random.Random, v: str) -> str:
    forms: tuple[Callable[[str], str], ...] = (
        lambda s: s, lambda s: s, lambda s: f"{s[:3]} {s[3:7]} {s[7:]}",
        lambda s: f"{s[:3]}-{s[3:7]}-{s[7:]}", lambda s: f"+86 {s}", lambda s: f"+86-{s}",
        lambda s: f"0086{s}", lambda s: s.translate(_FULL_WIDTH), lambda s: f"(+86){s}",
        lambda s: s.translate(_NUMERALS),
    )  # fmt: skip
    return d.choice(forms)(v)


def _id_formats(d: random.Random, v: str) -> str:
    forms: tuple[Callable[[str], str], ...] = (
        lambda s: s, lambda s: s, lambda s: s.lower(), lambda s: f"{s[:6]} {s[6:14]} {s[14:]}",
        lambda s: s.translate(_FULL_WIDTH),
    )  # fmt: skip
    return d.choice(forms)(v)


def _card(d: random.Random, length: int, valid: bool) -> str:
    body = d.choice(("622202", "621700", "622848", "436742", "518710", "625807"))
    body += "".join(d.choice("0123456789") for _ in range(length - len(body) - 1))
    check = next(c for c in "0123456789" if luhn_valid(body + c))
    if not valid:
        check = str((int(check) + d.randrange(1, 10)) % 10)
    return body + check


def _card_format(d: random.Random, v: str) -> str:
    grouped = " ".join(v[i : i + 4] for i in range(0, len(v), 4))
    return d.choice((v, grouped, grouped.replace(" ", "-")))


def _landline(d: random.Random) -> str:
    area = d.choice(_AREAS)
    local = str(d.randrange(2, 9)) + "".join(
        d.choice("0123456789") for _ in range(7 - len(area) % 2)
    )
    return d.choice((f"{area}-{local}", f"({area}){local}", f"{area} {local}"))


def _values(rng: np.random.Generator) -> dict[str, list[str]]:
    n = PER_KIND
    districts = sample_districts(rng, n)
    birth_days = rng.integers(-20_000, 15_000, size=n)
    female = rng.random(n) < 0.5
    names = draw_names(rng, female, rng.random(n) < 0.3)
    return {
        "CN_RESIDENT_ID": resident_ids(rng, districts, birth_days, female),
        "CN_MOBILE": mobile_numbers(rng, n),
        "EMAIL_ADDRESS": draw_emails(rng, names, 1970 + rng.integers(0, 40, size=n), set()),
    }


def _negative(d: random.Random, language: str, ids: list[str], phones: list[str]) -> str:
    good_id = d.choice(ids)
    wrong = d.choice([c for c in "0123456789X" if c != resident_id_check_character(good_id[:17])])
    filler = {
        "order": f"LM{d.randrange(20230101, 20241231)}{d.randrange(0, 999999):06d}",
        "phone_like": d.choice(phones),
        "bad_id": good_id[:17] + wrong,
        "bad_card": _card(d, d.choice((16, 19)), valid=False),
        "long_order": "".join(d.choice("0123456789") for _ in range(d.choice((18, 19, 20)))),
        "amount": f"{d.randrange(10, 9999)}.{d.randrange(0, 99):02d}",
        "date": f"2024-{d.randrange(1, 13):02d}-{d.randrange(1, 29):02d}",
        "points": str(d.randrange(100, 99999)),
    }
    return d.choice(_NEGATIVES[language]).format(**filler)


def _body(d: random.Random, language: str) -> str:
    kind = d.choice(COMPLAINT_TYPES)
    slots = Slots(
        product=d.choice(_PRODUCTS[language]),
        size=d.choice("SML"),
        days=d.randrange(2, 15),
        carrier="顺丰" if language == "zh" else "SF Express",
    )
    if kind in ("rude_service", "logistics_delay", "refund") or d.random() < 0.7:
        return render_ticket(d, kind, language, slots, ())
    topic = d.choice(("praise", "inquiry", "size_issue", "quality_defect"))
    return render_review(d, topic, language, slots, ())


def _line(d: random.Random, entity: str, value: str) -> str:
    language = d.choice(("zh", "zh", "en", "mixed"))
    body_lang, frame_lang = {
        "zh": ("zh", "zh"), "en": ("en", "en"), "mixed": d.choice((("zh", "en"), ("en", "zh"))),
    }[language]  # fmt: skip
    frame = d.choice(_FRAMES[(entity, frame_lang)])
    before, _, after = frame.partition("{v}")
    clause = f"{before}[[{entity}|{value}]]{after}"
    sep = "，" if body_lang == "zh" else ", "
    parts = [_body(d, body_lang).rstrip("。.!！～~ "), clause]
    if d.random() < 0.3:
        parts.insert(d.randrange(0, 3), _negative(d, body_lang, _IDS, _PHONES))
    return f"{language}\t{sep.join(parts)}"


_IDS: list[str] = []
_PHONES: list[str] = []


def main() -> None:
    """Write the file: labelled lines per entity, then unlabelled hard negatives."""
    rng = np.random.default_rng(SEED)
    d = random.Random(SEED)
    values = _values(rng)
    _IDS.extend(values["CN_RESIDENT_ID"])
    _PHONES.extend(mobile_numbers(rng, 50, taken=set(values["CN_MOBILE"])))
    lines = [f"# generated by make_generated.py (seed {SEED}); see PROVENANCE.md"]
    lines += [_line(d, "CN_MOBILE", _mobile_formats(d, v)) for v in values["CN_MOBILE"]]
    lines += [_line(d, "CN_RESIDENT_ID", _id_formats(d, v)) for v in values["CN_RESIDENT_ID"]]
    lines += [_line(d, "EMAIL_ADDRESS", v) for v in values["EMAIL_ADDRESS"]]
    cards = [_card(d, d.choice((16, 19)), valid=True) for _ in range(40)]
    lines += [_line(d, "BANK_CARD", _card_format(d, v)) for v in cards]
    lines += [_line(d, "CN_LANDLINE", _landline(d)) for _ in range(40)]
    for _ in range(150):
        language = d.choice(("zh", "en"))
        sep = "，" if language == "zh" else ", "
        negative = _negative(d, language, _IDS, _PHONES)
        lines.append(f"{language}\t{_body(d, language).rstrip('。.!！～~ ')}{sep}{negative}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
