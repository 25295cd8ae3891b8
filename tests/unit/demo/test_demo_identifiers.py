"""Resident IDs, mobile numbers and names in the CRM: clean records are valid, bad ones listed."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from custodia.demo import is_plausible_mobile, is_valid_resident_id
from custodia.demo.chinese_ids import DISTRICTS, resident_id_check_digit

_PROVINCE_PREFIX = {d.province: str(d.code)[:2] for d in DISTRICTS}
_CHINESE = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
_ENGLISH = re.compile(r"^[A-Za-z]+ [A-Za-zü]+$")


def test_check_digit_of_the_standard_example() -> None:
    assert resident_id_check_digit("11010519491231002") == "X"
    assert is_valid_resident_id("11010519491231002X")
    assert not is_valid_resident_id("110105194912310021")
    assert not is_valid_resident_id("11010519491331002X")
    assert not is_valid_resident_id("11010519491231002")


def test_clean_resident_ids_are_valid_and_match_province_and_birthday(demo: Any) -> None:
    listed = demo.problem_keys("invalid_id_cards")
    checked = 0
    for row in demo.members:
        if row["id_card"] is None or row["member_id"] in listed:
            continue
        value = row["id_card"]
        assert is_valid_resident_id(value), row["member_id"]
        assert value[:2] == _PROVINCE_PREFIX[row["province"]]
        if row["birthday"]:
            assert value[6:14] == row["birthday"].replace("-", "")
        checked += 1
    assert checked > 100


def test_listed_resident_ids_are_really_broken(demo: Any) -> None:
    by_id = {row["member_id"]: row for row in demo.members}
    records = demo.truth.problem("invalid_id_cards").records
    assert records
    for record in records:
        value, birthday = by_id[record.key]["id_card"], by_id[record.key]["birthday"]
        if record.kind == "birthday_mismatch":
            assert is_valid_resident_id(value)
            assert birthday is None or value[6:14] != birthday.replace("-", "")
        else:
            assert not is_valid_resident_id(value)


def test_clean_mobiles_have_the_mainland_format(demo: Any) -> None:
    bad = demo.problem_keys("invalid_phones") | demo.problem_keys("phone_format_variants")
    clean = [r["mobile"] for r in demo.members if r["member_id"] not in bad]
    assert len(clean) > 200
    assert all(is_plausible_mobile(m) for m in clean)
    assert all(m[:2] in {"13", "15", "16", "17", "18", "19"} for m in clean)


def test_listed_phones_are_invalid_or_only_formatted(demo: Any) -> None:
    by_id = {row["member_id"]: row["mobile"] for row in demo.members}
    invalid = demo.truth.problem("invalid_phones").records
    variants = demo.truth.problem("phone_format_variants").records
    assert invalid and variants
    assert not any(is_plausible_mobile(by_id[r.key]) for r in invalid)
    for record in variants:
        digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", by_id[record.key]))
        assert is_plausible_mobile(digits.removeprefix("86"))
        assert not is_plausible_mobile(by_id[record.key])


def test_names_are_mostly_chinese_with_some_english(demo: Any) -> None:
    names = [r["name"] for r in demo.members]
    chinese = sum(bool(_CHINESE.match(n)) for n in names)
    english = sum(bool(_ENGLISH.match(n)) for n in names)
    assert chinese > 0.7 * len(names)
    assert 0.03 * len(names) < english < 0.2 * len(names)


def test_occupation_is_often_missing_as_recorded(demo: Any) -> None:
    missing = sum(r["occupation"] is None for r in demo.members)
    assert demo.truth.missing_fields["crm"]["occupation"] == missing
    assert 0.25 < missing / len(demo.members) < 0.42
