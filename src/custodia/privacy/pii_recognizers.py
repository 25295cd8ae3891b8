"""Presidio recognizers for Chinese and international personal data in free text.

Why patterns with validators: the identifiers that matter in service tickets, chats and reviews
have a fixed shape and (mostly) a check: a resident ID carries its birth date and a MOD 11-2
check character (GB 11643-1999), a bank card a Luhn digit, a mobile an issued carrier prefix.
A shape that fails its check is not reported; a shape without a check (landline, passport, a
15-digit legacy ID) needs a context word such as 电话 / 护照 / "phone" nearby to be reported.

Every recognizer runs on width-folded text (:func:`custodia.privacy.pii_nlp_engine.fold_width`),
so ``１３８…`` and ``＠`` are found with ASCII patterns, and takes separators inside a number
(``138 1234 5678``, ``138.1234.5678``, ``+86-138-1234-5678``, ``110105 19491231 002X``,
``6222 0212 …``).

A number is dropped when the label closest before it, in the same clause, names something else:
``订单号13812345678`` or ``order no. 6222021234567890128`` are order numbers, not a phone or a card
(:data:`OTHER_NUMBER_LABELS`). A digit run glued to a code's letters (``LM2023111200012345``) is
part of that code.

Entity names follow Presidio's where Presidio has one (``EMAIL_ADDRESS``, ``PHONE_NUMBER``).

Example::

    recognizers = pii_recognizers(PII_LANGUAGE)
    [r.supported_entities[0] for r in recognizers][:3]
    # ['CN_RESIDENT_ID', 'CN_MOBILE', 'CN_LANDLINE']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date

from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from custodia.core.checksums import luhn_valid, resident_id_check_character
from custodia.privacy.pii_entities import (
    BANK_CARD,
    CN_LANDLINE,
    CN_MOBILE,
    CN_PASSPORT,
    CN_RESIDENT_ID,
    EMAIL_ADDRESS,
    PHONE_NUMBER,
)

__all__ = [
    "OTHER_NUMBER_LABELS",
    "InternationalPhoneRecognizer",
    "LabelledPatternRecognizer",
    "pii_recognizers",
]


OTHER_NUMBER_LABELS = (
    "订单", "单号", "运单", "工单", "发票", "券码", "验证码", "金额",
    "order", "tracking", "invoice", "ticket", "sku", "ref", "case", "coupon", "code",
)  # fmt: skip
"""Labels of numbers that are not personal data; the nearest label before a number decides."""

_LABEL_WINDOW = 16
_CLAUSE_END = re.compile(r"[，。；;！!？?\n、]")
_SEPARATORS = re.compile(r"[\s\-()（）+]")
_NOT_DIGIT_BEFORE = r"(?<![0-9])"
_NOT_DIGIT_AFTER = r"(?![0-9])"
_ISSUED_MOBILE_PREFIXES = re.compile(
    r"1(?:3[0-9]|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8[0-9]|9[0-35-9])"
)
_EARLIEST_BIRTH = date(1900, 1, 1)

_CONTEXT = {
    CN_RESIDENT_ID: ["身份证", "证件", "身份号", "居民身份", "id card", "identity", "resident id"],
    CN_MOBILE: ["手机", "电话", "联系", "致电", "回电", "微信", "phone", "mobile", "call",
                "tel", "contact", "whatsapp", "wechat"],
    CN_LANDLINE: ["电话", "座机", "固话", "联系", "分机", "phone", "tel", "landline",
                  "office", "call", "contact"],
    BANK_CARD: ["银行卡", "卡号", "储蓄卡", "信用卡", "借记卡", "账号", "账户", "银联", "card",
                "account", "visa", "mastercard", "unionpay", "iban"],
    EMAIL_ADDRESS: ["邮箱", "邮件", "email", "e-mail", "mail"],
    CN_PASSPORT: ["护照", "passport", "证件"],
    PHONE_NUMBER: ["电话", "手机", "联系", "phone", "mobile", "call", "tel", "cell",
                   "contact", "whatsapp"],
}  # fmt: skip
_OTHER_LABELS = {
    EMAIL_ADDRESS: (),
    BANK_CARD: (*OTHER_NUMBER_LABELS, "身份证", "证件", "护照", "手机", "电话", "id card", "phone"),
}
"""A card has only a Luhn digit (1 number in 10 passes), so an ID or phone label vetoes it too."""
_LABELS_GLUED_TO_NUMBERS = ("tel", "id", "no", "phone", "mobile", "card", "cell", "passport")


def _birth_date_ok(yyyymmdd: str, today: date) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return _EARLIEST_BIRTH <= born <= today


def _digits(text: str) -> str:
    return _SEPARATORS.sub("", text).upper()


class LabelledPatternRecognizer(PatternRecognizer):
    """A Presidio pattern recognizer with a validator and labels that veto a match.

    ``validator`` gets the matched text without separators (upper-cased) and answers like
    Presidio's ``validate_result``: ``True`` sure (score 1.0), ``None`` keep the pattern's
    score, ``False`` not this entity. After matching, a result whose nearest preceding label in
    its clause is one of ``other_labels`` (and not one of the recognizer's context words) is
    dropped, and so is a digit run glued to the letters of a code.
    """

    def __init__(
        self,
        entity: str,
        patterns: Sequence[Pattern],
        language: str,
        validator: Callable[[str], bool | None],
        other_labels: Sequence[str] = OTHER_NUMBER_LABELS,
    ) -> None:
        super().__init__(
            supported_entity=entity,
            name=f"{entity.lower()}_recognizer",
            supported_language=language,
            patterns=list(patterns),
            context=list(_CONTEXT[entity]),
        )
        self._validator = validator
        self._other_labels = tuple(other_labels)

    def validate_result(self, pattern_text: str) -> bool | None:
        """The entity's own check on the matched characters (separators removed)."""
        return self._validator(_digits(pattern_text))

    def enhance_using_context(
        self,
        text: str,
        raw_recognizer_results: list[RecognizerResult],
        other_raw_recognizer_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        """Drop the matches that the text around them says are some other number."""
        return [r for r in raw_recognizer_results if not self._vetoed(text, r.start, r.end)]

    def _vetoed(self, text: str, start: int, end: int) -> bool:
        if _glued_to_code(text, start, end):
            return True
        window = _clause_before(text, start).lower()
        other = max((window.rfind(label) for label in self._other_labels), default=-1)
        if other < 0:
            return False
        own = max((window.rfind(word) for word in self.context), default=-1)
        return other > own


def _clause_before(text: str, start: int) -> str:
    window = text[max(0, start - _LABEL_WINDOW) : start]
    ends = list(_CLAUSE_END.finditer(window))
    return window[ends[-1].end() :] if ends else window


def _glued_to_code(text: str, start: int, end: int) -> bool:
    """A number directly after Latin letters (``LM2023…``) belongs to a code, unless a label;
    so does one inside an identifier (``cns_7081…``: directly after ``x_``), or one followed
    by ``_`` (``…_v2``)."""
    before = text[max(0, start - 12) : start]
    letters = re.search(r"[A-Za-z]+$", before)
    if letters is not None and letters.group().lower() not in _LABELS_GLUED_TO_NUMBERS:
        return True
    return bool(re.search(r"[A-Za-z0-9]_$", before)) or text[end : end + 1] == "_"


class InternationalPhoneRecognizer(PhoneRecognizer):
    """Presidio's phone recognizer (python-phonenumbers) for numbers outside mainland China.

    Mainland numbers are left to the CN recognizers. A number written with its country code
    (``+1 415 555 0100``, ``+852 9123 4567``) is dialable as it stands and scores 0.6; a national
    form scores Presidio's 0.4 and needs a context word.

    python-phonenumbers scans the text once per region, which costs most of the detection time;
    so it is run only on phone-shaped stretches (7 to 15 digits with separators) that are not a
    mainland mobile, and offsets are moved back onto the whole text.
    """

    DIALABLE_SCORE = 0.6

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Presidio's matches in each candidate stretch, country-coded ones scored higher."""
        results: list[RecognizerResult] = []
        for start, candidate in _phone_candidates(text):
            for result in super().analyze(candidate, entities, nlp_artifacts):  # type: ignore[arg-type]
                result.start += start
                result.end += start
                results.append(result)
        kept = [r for r in results if not _mainland_number(text[r.start : r.end])]
        for result in kept:
            if text[result.start : result.end].startswith(("+", "00")):
                result.score = max(result.score, self.DIALABLE_SCORE)
        return kept


_PHONE_CANDIDATE = re.compile(r"(?<![0-9])(?:\+|\()?[0-9][0-9 \-().]{5,22}[0-9](?![0-9])")


def _phone_candidates(text: str) -> list[tuple[int, str]]:
    found = []
    for match in _PHONE_CANDIDATE.finditer(text):
        digits = _digits(match.group())
        if 7 <= len(digits) <= 15 and not _mainland_number(match.group()):
            found.append((match.start(), match.group()))
    return found


def _mainland_number(number_text: str) -> bool:
    digits = _digits(number_text)
    if number_text.startswith(("+", "00")):
        return digits.startswith(("86", "0086"))
    return bool(re.fullmatch(r"0?1[3-9][0-9]{9}", digits))


def _resident_id_validator(today: date) -> Callable[[str], bool | None]:
    def check(value: str) -> bool | None:
        if len(value) == 15:  # legacy form: no check character, birth year without century
            return None if _birth_date_ok("19" + value[6:12], today) else False
        if not _birth_date_ok(value[6:14], today):
            return False
        return resident_id_check_character(value[:17]) == value[17]

    return check


def _mobile_validator(value: str) -> bool | None:
    national = value.removeprefix("0086").removeprefix("86") if len(value) > 11 else value
    return None if _ISSUED_MOBILE_PREFIXES.match(national) else False


def _bank_card_validator(value: str) -> bool | None:
    if len(value) == 18 and _birth_date_ok(value[6:14], date.max):
        return False  # resident-ID shaped: a mistyped ID, not a card (cards are 16 or 19 long)
    return None if luhn_valid(value) else False


def _email_validator(value: str) -> bool | None:
    local, _, domain = value.partition("@")
    bad = ".." in value or local.endswith(".") or domain.startswith((".", "-"))
    return False if bad else None


def _no_check(value: str) -> bool | None:
    return None


_SEP = r"[ \-]?"
_CN_PREFIX = r"(?:(?:\+|00)86[ \-]?|\(\+?86\)[ ]?|86[ \-])?"
_AREA = r"(?:10|2[0-9]|[3-9][0-9]{2})"
_LOCAL = r"[2-9][0-9]{2,3}" + _SEP + r"[0-9]{4}"
_EXTENSION = r"(?:[ ]?(?:转|分机|ext\.?|x)[ ]?[0-9]{1,5})?"
_ID_BIRTH = r"(?:18|19|20)[0-9]{2}" + _SEP + r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_PATTERNS: dict[str, list[Pattern]] = {
    CN_RESIDENT_ID: [
        Pattern(
            "resident_id_18",
            _NOT_DIGIT_BEFORE
            + r"[1-8][0-9]{5}"
            + _SEP
            + _ID_BIRTH
            + _SEP
            + r"[0-9]{3}[0-9Xx]"
            + _NOT_DIGIT_AFTER,
            0.5,
        ),
        Pattern(
            "resident_id_15_legacy",
            _NOT_DIGIT_BEFORE + r"[1-8][0-9]{5}[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
            r"[0-9]{3}" + _NOT_DIGIT_AFTER,
            0.3,
        ),
    ],
    CN_MOBILE: [
        Pattern(
            "cn_mobile",
            r"(?<![0-9+])"
            + _CN_PREFIX
            + r"1[3-9][0-9](?:[ \-.]?[0-9]{4}){2}"  # dots too: 138.1234.5678
            + _NOT_DIGIT_AFTER,
            0.7,
        ),
    ],
    CN_LANDLINE: [
        Pattern(
            "cn_landline_marked_area",
            r"(?<![0-9+])(?:(?:(?:\+|00)86[ \-]?"
            + _AREA
            + r"|\(0"
            + _AREA
            + r"\)|0"
            + _AREA
            + r")[ \-]|\(0"
            + _AREA
            + r"\))"
            + _LOCAL
            + _EXTENSION
            + _NOT_DIGIT_AFTER,
            0.6,
        ),
        Pattern(
            "cn_landline_plain",
            _NOT_DIGIT_BEFORE + r"0" + _AREA + r"[2-9][0-9]{6,7}" + _NOT_DIGIT_AFTER,
            0.3,
        ),
    ],
    BANK_CARD: [
        Pattern(
            "bank_card",
            _NOT_DIGIT_BEFORE
            + r"[0-9]{4}(?:"
            + _SEP
            + r"[0-9]{4}){3}(?:"
            + _SEP
            + r"[0-9]{1,3})?"
            + _NOT_DIGIT_AFTER,
            0.55,
        ),
    ],
    EMAIL_ADDRESS: [
        Pattern(
            "email",
            r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@"
            r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
            r"(?![A-Za-z0-9])",
            0.9,
        ),
    ],
    CN_PASSPORT: [
        Pattern(
            "cn_passport",
            r"(?<![0-9A-Za-z])(?:[EGDSP][0-9]{8}|E[A-HJ-NP-Z][0-9]{7})(?![0-9A-Za-z])",
            0.35,
        ),
    ],
}


def pii_recognizers(
    language: str,
    *,
    today: date | None = None,
    phone_regions: Sequence[str] = ("US", "GB", "HK", "MO", "TW", "SG", "AU", "CA"),
) -> list[PatternRecognizer | PhoneRecognizer]:
    """One recognizer per entity of :data:`PII_ENTITIES`, all registered for ``language``.

    ``today`` bounds resident-ID birth dates (tests pass a fixed day); ``phone_regions`` are the
    regions whose national phone formats :class:`InternationalPhoneRecognizer` knows.
    """
    validators: dict[str, Callable[[str], bool | None]] = {
        CN_RESIDENT_ID: _resident_id_validator(today or date.today()),
        CN_MOBILE: _mobile_validator,
        CN_LANDLINE: _no_check,
        BANK_CARD: _bank_card_validator,
        EMAIL_ADDRESS: _email_validator,
        CN_PASSPORT: _no_check,
    }
    found: list[PatternRecognizer | PhoneRecognizer] = [
        LabelledPatternRecognizer(
            entity,
            _PATTERNS[entity],
            language,
            check,
            other_labels=_OTHER_LABELS.get(entity, OTHER_NUMBER_LABELS),
        )
        for entity, check in validators.items()
    ]
    found.append(
        InternationalPhoneRecognizer(
            context=list(_CONTEXT[PHONE_NUMBER]),
            supported_language=language,
            supported_regions=tuple(phone_regions),
        )
    )
    return found
