"""Masking formats (property tests) and the policy: tiers, kinds, overrides, the policy file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custodia.core.errors import PermissionDeniedError, ValidationError
from custodia.core.tables import table_spec
from custodia.core.types import Tier
from custodia.privacy.masking_policy import FULL_MASK, MaskingPolicy, PolicyFile, mask_value
from custodia.privacy.roles import Role

DIGITS = "0123456789"
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)


@given(st.text(DIGITS, min_size=10, max_size=10))
def test_mobile_keeps_three_and_four_digits(rest: str) -> None:
    national = "1" + rest
    for value in (national, "+86" + national):
        assert mask_value("phone", value) == f"{national[:3]}****{national[-4:]}"


@given(st.text(DIGITS, min_size=17, max_size=17), st.sampled_from([*DIGITS, "X"]))
def test_resident_id_hides_the_birth_date_and_sequence(body: str, check: str) -> None:
    value = body + check
    masked = mask_value("resident_id", value)
    assert masked == value[:6] + "*" * 8 + value[-4:]


@given(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789._", min_size=1, max_size=30),
    st.sampled_from(["example.com", "qq.com", "163.com"]),
)
def test_email_keeps_first_letter_and_domain(local: str, domain: str) -> None:
    masked = mask_value("email", f"{local}@{domain}")
    assert masked == f"{local[0]}***@{domain}"
    assert len(local) < 4 or local[1:] not in masked.split("@")[0]


@given(st.text(CJK, min_size=2, max_size=4))
def test_chinese_name_keeps_only_the_last_character(name: str) -> None:
    masked = mask_value("name", name)
    assert masked == "*" * (len(name) - 1) + name[-1]


@given(st.dates())
def test_dates_keep_the_year(day: object) -> None:
    assert mask_value("date", day) == str(day.year)  # type: ignore[attr-defined]
    assert mask_value("date", day.isoformat()) == f"{day.year:04d}"[:4]  # type: ignore[attr-defined]


def test_json_and_amounts_keep_nothing_free_text_is_redacted_in_place() -> None:
    for kind in ("json", "amount"):
        assert mask_value(kind, "手机13812345678") == FULL_MASK
    text = "快递没到，手机13812345678，身份证11010519491231002X，邮件 zhang.san@example.com"
    assert mask_value("text", text) == (
        "快递没到，手机138****5678，身份证110105********002X，邮件 z***@example.com"
    )
    assert mask_value("text", "no numbers here") == "no numbers here"
    assert mask_value("phone", None) is None


PROFILE = {
    "profile_id": "prof_1",
    "name": "张三",
    "phone": "+8613812345678",
    "resident_id": "11010519491231002X",
    "email": "zhang.san@example.com",
    "birthday": "1949-12-31",
    "city": "北京",
}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.MARKETER, {"name": "*三", "phone": "138****5678", "birthday": "1949"}),
        (Role.SERVICE_AGENT, {"resident_id": "110105********002X", "email": "z***@example.com"}),
        (Role.DATA_STEWARD, {"phone": "+8613812345678", "resident_id": "110105********002X"}),
    ],
)
def test_shipped_policy_per_role(role: Role, expected: dict[str, str]) -> None:
    shown = MaskingPolicy.shipped().masker(role).row(table_spec("profiles"), PROFILE)
    assert {k: shown[k] for k in expected} == expected
    assert shown["city"] == "北京" and shown["profile_id"] == "prof_1"
    if role is Role.MARKETER:
        assert "resident_id" not in shown


def test_reveal_shows_only_named_fields_and_remembers_them() -> None:
    masker = MaskingPolicy.shipped().masker(Role.RISK_OFFICER, reveal=["resident_id"])
    shown = masker.row(table_spec("profiles"), PROFILE)
    assert shown["resident_id"] == PROFILE["resident_id"] and shown["phone"] == "138****5678"
    assert masker.revealed == {"resident_id"}


def test_unknown_keys_count_as_highly_sensitive() -> None:
    shown = (
        MaskingPolicy.shipped()
        .masker(Role.ANALYST)
        .row(table_spec("profiles"), {"made_up": "13812345678"})
    )
    assert shown == {}


def test_auditors_have_no_personal_data_view() -> None:
    with pytest.raises(PermissionDeniedError):
        MaskingPolicy.shipped().masker(Role.AUDITOR)


def test_overrides_by_column_beat_kind_beat_tier(tmp_path: Path) -> None:
    policy_file = PolicyFile(tmp_path)
    policy_file.path.parent.mkdir(parents=True)
    policy_file.path.write_text(
        "masking:\n"
        "  kinds: {mobile_no: phone}\n"
        "  roles:\n"
        "    analyst:\n"
        "      tiers: {L1: clear, L2: mask, L3: absent}\n"
        "      kinds: {email: absent}\n"
        "      columns: {profiles.city: absent}\n",
        encoding="utf-8",
    )
    masker = policy_file.current().masker(Role.ANALYST)
    shown = masker.row(table_spec("profiles"), PROFILE)
    assert "email" not in shown and "city" not in shown and shown["phone"] == "138****5678"
    assert masker.shown("orders", "mobile_no", "13812345678", Tier.L2) == (True, "138****5678")
    assert policy_file.current().unmask == MaskingPolicy.shipped().unmask  # section kept


@pytest.mark.parametrize(
    "text",
    [
        "masking: [not, a, mapping\n",
        "masking:\n  roles:\n    analyst:\n      tiers: {L2: blur}\n",
        "masking:\n  roles:\n    nobody:\n      tiers: {L1: clear}\n",
    ],
)
def test_bad_policy_files_name_the_file(tmp_path: Path, text: str) -> None:
    policy_file = PolicyFile(tmp_path)
    policy_file.path.parent.mkdir(parents=True)
    policy_file.path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match=r"policy\.yaml"):
        policy_file.current()


def test_write_defaults_keeps_an_existing_file(tmp_path: Path) -> None:
    policy_file = PolicyFile(tmp_path)
    path = policy_file.write_defaults()
    assert MaskingPolicy.from_text(path.read_text("utf-8"), origin="x") == MaskingPolicy.shipped()
    path.write_text("dp: {}\n", encoding="utf-8")
    policy_file.write_defaults()
    assert path.read_text("utf-8") == "dp: {}\n"
    assert policy_file.current() == MaskingPolicy.shipped()  # other sections are not ours


MASKING_ROLES = [r for r in Role if r in MaskingPolicy.shipped().masking.roles]


@given(
    st.sampled_from(MASKING_ROLES),
    st.text(DIGITS, min_size=10, max_size=10),
    st.text(CJK, min_size=2, max_size=3),
    st.text(CJK, min_size=1, max_size=4),
)
def test_no_role_gets_an_l2_or_l3_value_it_should_not(
    role: Role, rest: str, name: str, city: str
) -> None:
    policy = MaskingPolicy.shipped()
    row = {"phone": "+861" + rest, "name": name, "resident_id": "1101051949" + rest[:8],
           "city": city}  # fmt: skip
    shown = policy.masker(role).row(table_spec("customer_records"), row)
    assert shown["city"] == city  # L1 untouched
    rules = policy.role(role)
    for column in ("phone", "name", "resident_id"):
        tier = table_spec("customer_records").column(column).tier
        clear = rules.tiers[tier].value == "clear"
        assert (shown.get(column) == row[column]) is clear, (role, column)


def test_workspace_tiers_raise_what_core_tables_says() -> None:
    def raised(table: str, column: str) -> Tier:
        return (
            Tier.L3
            if (table, column) == ("profiles", "city")
            else table_spec(table).column(column).tier
        )

    masker = MaskingPolicy.shipped().masker(Role.MARKETER, tier_of=raised)
    assert "city" not in masker.row(table_spec("profiles"), PROFILE)  # L3: absent for marketers
