"""normalize_values: the right normalizer per id_type, one call per distinct value, clear errors."""

from __future__ import annotations

import pytest

from custodia.core.errors import ValidationError
from custodia.identity.normalize import NORMALIZERS, Normalized, normalize_values, registry


def test_every_identifier_type_has_a_normalizer() -> None:
    expected = {"phone", "email", "resident_id", "member_id", "user_id", "anonymous_id"}
    assert set(NORMALIZERS) == expected


@pytest.mark.parametrize(
    ("id_type", "raw", "expected"),
    [
        ("phone", "138 1234 5678", Normalized("+8613812345678")),
        ("email", " Anna@X.CN", Normalized("anna@x.cn")),
        ("email", "anna+tag@x.cn", Normalized("anna+tag@x.cn")),
        ("resident_id", "11010519491231002x", Normalized("11010519491231002X")),
        ("member_id", " M０００１ ", Normalized("M0001")),
        ("user_id", "u-Ab", Normalized("u-Ab")),  # case kept: system-issued keys
        ("anonymous_id", "\t", Normalized(None)),
        ("anonymous_id", None, Normalized(None)),
    ],
)
def test_registry_normalizers(id_type: str, raw: str | None, expected: Normalized) -> None:
    assert NORMALIZERS[id_type](raw) == expected


def test_values_and_reasons_line_up_with_the_input() -> None:
    raw = ["138 1234 5678", "12345", None, "", "13812345678", "138ab345678", "12345"]
    values, reasons = normalize_values("phone", raw)
    assert values == ["+8613812345678", None, None, None, "+8613812345678", None, None]
    assert reasons == [None, "phone.length", None, None, None, "phone.letters", "phone.length"]


def test_unknown_id_type_is_a_validation_error_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        normalize_values("passport", ["E1234567"])
    assert "id_type" in str(caught.value)
    assert "E1234567" not in str(caught.value)


def test_empty_column() -> None:
    assert normalize_values("email", []) == ([], [])


def test_column_shortcut_gives_what_the_normalizer_gives() -> None:
    raw = [
        "13812345678",
        "13800000000",
        "12345678901",
        "１３８１２３４５６７８",
        "10123456789",
        "19912345678",
        "1381234567",
        "+8613812345678",
    ]
    values, reasons = normalize_values("phone", raw)
    assert list(zip(values, reasons, strict=True)) == [
        (r.value, r.reason) for r in map(NORMALIZERS["phone"], raw)
    ]


def test_each_distinct_value_is_normalized_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str | None] = []

    def counting(raw: str | None) -> Normalized:
        calls.append(raw)
        return NORMALIZERS["email"](raw)

    monkeypatch.setattr(registry, "NORMALIZERS", {"email": counting})
    values, _ = registry.normalize_values("email", ["A@x.cn", "b@x.cn", "A@x.cn", None, None])
    assert values == ["a@x.cn", "b@x.cn", "a@x.cn", None, None]
    assert calls == ["A@x.cn", "b@x.cn", None]
