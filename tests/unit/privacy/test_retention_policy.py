"""The retention policy file (rules, their checks, file/line errors) and the removal of a
person's values from JSON documents."""

from __future__ import annotations

import json

import pytest

from custodia.core.errors import ValidationError
from custodia.privacy.retention import parse_retention_policy, shipped_retention_text
from custodia.privacy.value_removal import remove_values


def test_the_shipped_policy_is_valid_and_covers_behaviour_and_quarantine() -> None:
    policy = parse_retention_policy(shipped_retention_text(), origin="retention.yaml")
    assert [r.max_age_days for r in policy.rules_for("events")] == [730]
    touchpoints = policy.rules_for("touchpoints")[0]
    assert (touchpoints.purpose, touchpoints.max_age_days_if_withdrawn) == ("marketing", 30)
    assert policy.rules_for("interactions")[0].columns == ("subject", "text")
    assert {row["table"] for row in policy.as_rows()} >= {"quarantine", "source_records_raw"}


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("{name: a, category: contact, max_age_days: 5}", "category contact holds a person's"),
        ("{name: a, table: profiles, max_age_days: 5}", "table: must be one of"),
        ("{name: a, table: events, category: behaviour, max_age_days: 5}", "exactly one of"),
        ("{name: a, table: events, max_age_days: -1}", "max_age_days: Input should be greater"),
        ("{name: a, table: events, max_age_days: 9, columns: [event]}", "not a personal"),
        ("{name: a, table: events, max_age_days: 9, purpose: ads, max_age_days_if_withdrawn: 1}",
         "purpose: Input should be"),
        ("{name: a, table: events, max_age_days: 9, purpose: marketing}", "go together"),
        ("{name: a, table: events, max_age_days: 9, purpose: marketing, "
         "max_age_days_if_withdrawn: 10}", "must not exceed max_age_days"),
        ("{name: A-1, table: events, max_age_days: 9}", "name: snake_case"),
    ],
)  # fmt: skip
def test_a_bad_rule_is_named_with_file_and_line(rule: str, reason: str) -> None:
    text = f"# policy\nrules:\n  - {{name: ok, table: events, max_age_days: 9}}\n  - {rule}\n"
    with pytest.raises(ValidationError) as caught:
        parse_retention_policy(text, origin="HOME/privacy/retention.yaml")
    assert str(caught.value).startswith("HOME/privacy/retention.yaml line 4: rules[1]")
    assert reason in str(caught.value)


def test_rule_names_are_unique_and_sections_known() -> None:
    twice = (
        "rules:\n  - {name: a, table: events, max_age_days: 1}\n"
        "  - {name: a, table: orders, max_age_days: 1}\n"
    )
    with pytest.raises(ValidationError, match="rule a is named twice"):
        parse_retention_policy(twice, origin="r.yaml")
    with pytest.raises(ValidationError, match="unknown sections"):
        parse_retention_policy("rule: []\n", origin="r.yaml")
    with pytest.raises(ValidationError, match=r"r\.yaml line 3"):
        parse_retention_policy("rules:\n  - [unclosed\n", origin="r.yaml")


def test_values_are_removed_as_leaves_and_as_tokens_in_text() -> None:
    doc = json.dumps({"tel": " 13812340001 ", "n": 13812340001, "mail": "ZhangWei@Example.com",
                      "note": "请回电13812340001或 13812340001。", "city": "北京",
                      "nested": [{"name": "张伟", "gender": "男"}], "memo": "张伟先生 男"},
                     ensure_ascii=False)  # fmt: skip
    values = {"13812340001", "zhangwei@example.com", "张伟", "男"}
    out = json.loads(remove_values(doc, values) or "")
    assert out["tel"] is None and out["n"] is None and out["mail"] is None
    assert out["note"] == "请回电或 。", "Chinese text around a value does not protect it"
    assert out["nested"] == [{"name": None, "gender": None}]
    assert out["memo"] == "先生 男", "a one-character value goes only as a whole leaf"
    assert out["city"] == "北京"
    assert remove_values('{"city": "北京"}', values) is None
    assert remove_values("M1,张伟,13812340001", values) == "M1,,"
