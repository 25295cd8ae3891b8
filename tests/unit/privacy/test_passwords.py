"""Passwords: username normalisation, the password policy and Argon2id hashing."""

from __future__ import annotations

import pytest

from custodia.core.errors import ValidationError
from custodia.privacy.passwords import (
    PasswordHashing,
    PasswordPolicy,
    check_password,
    normalize_username,
    username_key,
)

FAST = PasswordHashing(memory_kib=1024, time_cost=1, parallelism=1)
"""Cheap parameters: the tests check behaviour, not cost."""
GOOD = "四月的雨下个不停 2026"


@pytest.mark.parametrize(
    ("given", "stored"),
    [("张伟", "张伟"), (" li.na ", "li.na"), ("ｌｉ.ｎａ", "li.na"), ("ops-1@hq", "ops-1@hq")],
)
def test_usernames_are_nfkc_normalised_and_may_be_chinese(given: str, stored: str) -> None:
    assert normalize_username(given) == stored


def test_username_key_folds_case_and_width() -> None:
    assert username_key("Li.Na") == username_key("ｌｉ.ｎａ") == "li.na"


@pytest.mark.parametrize(
    ("given", "rule"),
    [("", "not_blank"), ("   ", "not_blank"), ("li na", "characters"), ("a/b", "characters"),
     ("x" * 65, "max_length=64"), ("tab\there", "characters")],
)  # fmt: skip
def test_bad_usernames_name_the_rule(given: str, rule: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_username(given)
    assert (caught.value.field, caught.value.rule) == ("username", rule)


@pytest.mark.parametrize(
    ("username", "password", "rule"),
    [
        ("li.na", "short pw", "min_length=12"),
        ("li.na", "x" * 257, "max_length=256"),
        ("li.na", "aaaaaaaaaaaaaaa", "min_distinct_characters=5"),
        ("li.na", "abababcdcdcd\x00x", "no_control_characters"),
        ("li.na", "my name is LI.NA ok", "not_username"),
        ("张伟明", "我就是张伟明我就是张伟明吗", "not_username"),
        ("li.na", "ｌｉ.ｎａ and more text", "not_username"),
    ],
)
def test_policy_refusals_name_the_rule_and_never_the_password(
    username: str, password: str, rule: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        check_password(username, password)
    assert (caught.value.field, caught.value.rule) == ("password", rule)
    assert password not in str(caught.value)


def test_policy_accepts_long_passphrases_in_any_script() -> None:
    assert check_password("张伟", GOOD) == GOOD
    one_char_name = "李家的那只猫叫小花它很胖"  # a one-character name may appear in the password
    assert check_password("李", one_char_name) == one_char_name
    assert check_password("li.na", "ｃｏｒｒｅｃｔ horse") == "correct horse"  # NFKC


def test_policy_minimum_is_configurable() -> None:
    assert PasswordPolicy(min_length=20).check("li.na", "correct horse battery")
    with pytest.raises(ValidationError, match="min_length=20"):
        PasswordPolicy(min_length=20).check("li.na", "correct horse")


def test_hash_is_argon2id_salted_and_verifies() -> None:
    first, second = FAST.hash(GOOD), FAST.hash(GOOD)
    assert first.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert first != second  # a fresh salt each time
    assert GOOD not in first
    assert FAST.verify(first, GOOD) and FAST.verify(second, GOOD)
    assert not FAST.verify(first, GOOD + " ")
    assert not FAST.verify(first, "")


def test_full_width_and_half_width_passwords_are_the_same() -> None:
    assert FAST.verify(FAST.hash("correct horse 12"), "ｃｏｒｒｅｃｔ ｈｏｒｓｅ １２")


def test_a_malformed_stored_hash_never_verifies() -> None:
    assert not FAST.verify("not a hash", GOOD)
    assert not FAST.verify("", GOOD)
    assert FAST.needs_rehash("not a hash")


def test_other_parameters_need_a_rehash() -> None:
    stored = FAST.hash(GOOD)
    assert not FAST.needs_rehash(stored)
    stronger = PasswordHashing(memory_kib=2048, time_cost=2, parallelism=1)
    assert stronger.needs_rehash(stored)
    assert stronger.verify(stored, GOOD)  # old hashes keep working: parameters are in the string


def test_the_default_cost_is_rfc_9106_low_memory() -> None:
    default = PasswordHashing()
    assert (default.memory_kib, default.time_cost, default.parallelism) == (65536, 3, 4)


def test_verify_absent_makes_its_stand_in_hash_once() -> None:
    hashing = PasswordHashing(memory_kib=1024, time_cost=1, parallelism=1)
    hashing.verify_absent(GOOD)
    stand_in = hashing._absent[0]
    hashing.verify_absent("another")
    assert hashing._absent == [stand_in]
