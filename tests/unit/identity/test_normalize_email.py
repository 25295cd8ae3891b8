"""E-mail normalizer: lower-cased, NFKC, optional plus-tag stripping, a reasonable syntax check."""

from __future__ import annotations

import pytest

from custodia.identity.normalize import Normalized, normalize_email

VALID = [
    ("anna.li@example.com", "anna.li@example.com"),
    ("  Anna.Li@Example.COM ", "anna.li@example.com"),
    ("ANNA@X.CN", "anna@x.cn"),
    ("ａｎｎａ＠ｅｘａｍｐｌｅ．ｃｏｍ", "anna@example.com"),  # full-width: NFKC
    ("anna+news@x.cn", "anna+news@x.cn"),  # tag kept by default
    ("o'brien@mail.co.uk", "o'brien@mail.co.uk"),
    ("a_b-c.d@sub-domain.example.org", "a_b-c.d@sub-domain.example.org"),
    ("张伟@例子.中国", "张伟@例子.中国"),
    ("zhang.wei@163.com", "zhang.wei@163.com"),
    ("x@xn--fiqs8s.cn", "x@xn--fiqs8s.cn"),
]

REJECTED = [
    ("anna li@x.cn", "email.characters"),
    ("anna@x.cn\x00", "email.characters"),
    ("anna\u3000li@x.cn", "email.characters"),  # ideographic space becomes a space
    ("anna.x.cn", "email.at_sign"),
    ("anna@@x.cn", "email.at_sign"),
    ("a@b@x.cn", "email.at_sign"),
    ("a" * 250 + "@x.cn", "email.length"),
    ("@x.cn", "email.local_part"),
    (".anna@x.cn", "email.local_part"),
    ("anna.@x.cn", "email.local_part"),
    ("an..na@x.cn", "email.local_part"),
    ("an(na)@x.cn", "email.local_part"),
    ('"anna"@x.cn', "email.local_part"),
    ("a" * 65 + "@x.cn", "email.local_part"),
    ("anna@", "email.domain"),
    ("anna@localhost", "email.domain"),
    ("anna@x..cn", "email.domain"),
    ("anna@-x.cn", "email.domain"),
    ("anna@x-.cn", "email.domain"),
    ("anna@x.c", "email.domain"),
    ("anna@10.0.0.1", "email.domain"),
    ("anna@x_y.cn", "email.domain"),
    ("anna@" + "a" * 64 + ".cn", "email.domain"),
]


@pytest.mark.parametrize(("raw", "expected"), VALID)
def test_valid_addresses_are_lower_cased(raw: str, expected: str) -> None:
    assert normalize_email(raw) == Normalized(expected, None)


@pytest.mark.parametrize(("raw", "reason"), REJECTED)
def test_bad_addresses_are_rejected_with_their_reason(raw: str, reason: str) -> None:
    assert normalize_email(raw) == Normalized(None, reason)


@pytest.mark.parametrize("raw", [None, "", " \t "])
def test_empty_input_has_no_value_and_no_reason(raw: str | None) -> None:
    assert normalize_email(raw) == Normalized(None, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Anna+News@x.cn", "anna@x.cn"),
        ("anna+a+b@x.cn", "anna@x.cn"),
        ("+tag@x.cn", "+tag@x.cn"),  # nothing before the tag: kept whole
        ("anna@x.cn", "anna@x.cn"),
    ],
)
def test_plus_tag_is_stripped_when_asked(raw: str, expected: str) -> None:
    assert normalize_email(raw, strip_plus_tag=True).value == expected


def test_reason_never_contains_the_value() -> None:
    raw = "secret.person@@x.cn"
    reason = normalize_email(raw).reason
    assert reason is not None
    assert "secret" not in reason
