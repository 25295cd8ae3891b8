"""Resident ID normalizer (GB 11643-1999): characters, length, region, birth date, check digit."""

from __future__ import annotations

from datetime import date

import pytest

from custodia.identity.normalize import (
    Normalized,
    normalize_resident_id,
    resident_id_birth_date,
    resident_id_check_character,
)

TODAY = date(2026, 11, 24)
STANDARD = "11010519491231002X"  # the example printed in GB 11643-1999

VALID = [
    (STANDARD, STANDARD),
    ("11010519491231002x", STANDARD),  # x -> X
    (" 11010519491231002X\t", STANDARD),
    ("１１０１０５１９４９１２３１００２Ｘ", STANDARD),  # full-width: NFKC
    ("11010519491231002ｘ", STANDARD),
    ("𝟏𝟏𝟎𝟏𝟎𝟓𝟏𝟗𝟒𝟗𝟏𝟐𝟑𝟏𝟎𝟎𝟐X", STANDARD),  # mathematical digits: NFKC maps them to ASCII
    ("110105491231002", STANDARD),  # legacy 15 digits: "19" inserted, check digit computed
    ("440524198001010013", "440524198001010013"),
    ("310104200002290022", "310104200002290022"),  # leap day
    ("810000199001010019", "810000199001010019"),  # Hong Kong residence permit region
]

REJECTED = [
    ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "resident_id.non_ascii_digit"),  # Arabic-Indic digits
    ("११०१०५१९४९१२३१००२X", "resident_id.non_ascii_digit"),  # Devanagari
    ("110105 19491231 002X", "resident_id.characters"),
    ("110105-19491231-002X", "resident_id.characters"),
    ("11010519491231X002", "resident_id.characters"),  # X not last
    ("11010549123100X", "resident_id.characters"),  # legacy form has no check character
    ("身份证11010519491231002X", "resident_id.characters"),
    ("1101051949123100", "resident_id.length"),
    ("1101051949123100211", "resident_id.length"),
    ("1101051949123", "resident_id.length"),
    ("010105194912310026", "resident_id.region"),
    ("910105194912310029", "resident_id.region"),
    ("110105194913310021", "resident_id.birth_date"),  # month 13
    ("110105201902290021", "resident_id.birth_date"),  # 2019 is not a leap year
    ("110105202612010014", "resident_id.birth_date"),  # after "today"
    ("110105189912310015", "resident_id.birth_date"),  # before 1900
    ("110105194912310021", "resident_id.check_digit"),
    ("11010519491231002Y", "resident_id.characters"),
]


def _with_check(first17: str) -> str:
    return first17 + resident_id_check_character(first17)


@pytest.mark.parametrize(("raw", "expected"), VALID)
def test_valid_ids_are_upper_case_18_characters(raw: str, expected: str) -> None:
    assert normalize_resident_id(raw, today=TODAY) == Normalized(expected, None)


@pytest.mark.parametrize(("raw", "reason"), REJECTED)
def test_bad_ids_are_rejected_with_their_reason(raw: str, reason: str) -> None:
    assert normalize_resident_id(raw, today=TODAY) == Normalized(None, reason)


def test_broken_rules_other_than_the_check_digit_carry_a_correct_check_digit() -> None:
    """So each case above breaks only the rule it names."""
    for raw, reason in REJECTED:
        if reason in {"resident_id.birth_date", "resident_id.region"}:
            assert resident_id_check_character(raw[:17]) == raw[17], raw


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_empty_input_has_no_value_and_no_reason(raw: str | None) -> None:
    assert normalize_resident_id(raw) == Normalized(None, None)


def test_check_character_of_the_standard_example() -> None:
    assert resident_id_check_character("11010519491231002") == "X"
    assert resident_id_check_character("44052419800101001") == "3"


def test_birth_date_today_is_accepted_and_tomorrow_is_not() -> None:
    born_today = _with_check("11010520261124001")
    born_tomorrow = _with_check("11010520261125001")
    assert normalize_resident_id(born_today, today=TODAY).valid
    assert normalize_resident_id(born_tomorrow, today=TODAY).reason == "resident_id.birth_date"


def test_legacy_form_goes_through_the_same_checks() -> None:
    assert normalize_resident_id("110105491331002", today=TODAY).reason == "resident_id.birth_date"
    assert normalize_resident_id("010105491231002", today=TODAY).reason == "resident_id.region"


def test_birth_date_of_a_normalized_id() -> None:
    assert resident_id_birth_date(STANDARD) == date(1949, 12, 31)
    assert resident_id_birth_date("310104200002290022") == date(2000, 2, 29)


@pytest.mark.parametrize("bad", ["110105491231002", "11010519491231002", "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X"])
def test_birth_date_refuses_what_is_not_normalized_without_echoing_it(bad: str) -> None:
    with pytest.raises(ValueError, match="rule: length") as caught:
        resident_id_birth_date(bad)
    assert bad not in str(caught.value)
