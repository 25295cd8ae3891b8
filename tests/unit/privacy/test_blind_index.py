"""Blind indexes: equal exactly when normalized values are equal, keyed, per identifier type."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custodia.core.errors import ValidationError
from custodia.privacy.blind_index import BlindIndexer
from custodia.privacy.keys import MasterKeys

SECRET = "a configured secret of at least thirty-two bytes"
INDEX = BlindIndexer(MasterKeys.from_secret(SECRET))

phones = st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True)


def test_digests_are_stable_text_of_one_shape() -> None:
    digest = INDEX.digest("phone", "+8613812345678")
    assert re.fullmatch(r"bi1_[A-Za-z0-9_-]{43}", digest)
    assert digest == BlindIndexer(MasterKeys.from_secret(SECRET)).digest("phone", "+8613812345678")
    assert INDEX.digests("email", ["a@example.com", None]) == [
        INDEX.digest("email", "a@example.com"),
        None,
    ]


def test_digests_depend_on_the_master_keys_and_the_identifier_type() -> None:
    other = BlindIndexer(MasterKeys.generate())
    assert other.digest("member_id", "M0001") != INDEX.digest("member_id", "M0001")
    assert INDEX.digest("member_id", "M0001") != INDEX.digest("user_id", "M0001")


@given(phones, phones)
def test_equal_exactly_when_the_values_are_equal(left: str, right: str) -> None:
    same = INDEX.digest("phone", left) == INDEX.digest("phone", right)
    assert same is (left == right)


@pytest.mark.parametrize(
    ("id_type", "value"),
    [
        ("phone", "138 1234 5678"),
        ("phone", "13812345678"),
        ("phone", "＋8613812345678"),
        ("email", "Zhang.San@Example.com"),
        ("email", "zhang san@example.com"),
        ("resident_id", "11010519491231002x"),
        ("resident_id", "110105194912310"),
        ("member_id", " M0001"),
        ("member_id", "Ｍ0001"),
        ("member_id", ""),
    ],
)
def test_values_not_in_normalized_shape_are_refused_without_echoing_them(
    id_type: str, value: str
) -> None:
    with pytest.raises(ValidationError, match=f"{id_type}: a blind index needs") as caught:
        INDEX.digest(id_type, value)
    assert (caught.value.field, caught.value.rule) == (id_type, "normalized")
    assert value.strip() not in str(caught.value) or not value.strip()


def test_normalized_chinese_and_english_values_are_accepted() -> None:
    assert INDEX.digest("resident_id", "11010519491231002X").startswith("bi1_")
    assert INDEX.digest("email", "张三@例子.中国").startswith("bi1_")
    assert INDEX.digest("anonymous_id", "匿名-123").startswith("bi1_")
