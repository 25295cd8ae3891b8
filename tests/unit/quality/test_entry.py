"""Entry validation: at_entry rules as Python checks on one record, agreeing with the rule SQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pytest

from custodia.core.errors import ValidationError
from custodia.quality.entry import EntryViolation, entry_validator, entry_validators
from custodia.quality.models import EntryAction, RuleSet
from custodia.quality.rule_file import parse_rules
from custodia.quality.rule_sql import failing_rows_sql, in_dialect

RULES = """
rules:
  - name: phone_format
    table: customer_records
    column: phone
    check: format
    format: cn_mobile
    at_entry: {action: reject}
  - name: name_present
    table: customer_records
    column: name
    check: not_null
    at_entry: {action: flag}
  - name: gender_values
    table: customer_records
    column: gender
    check: accepted_values
    values: [F, M]
    at_entry: {action: quarantine}
  - name: birthday_range
    table: customer_records
    column: birthday
    check: range
    min: "1900-01-01"
    max: "2026-12-31"
    at_entry: {action: quarantine}
  - name: email_format
    table: customer_records
    column: email
    check: format
    format: email
  - name: identify_phone
    table: events
    column: traits.phone
    check: format
    format: cn_mobile
    at_entry: {action: reject}
  - name: order_total_positive
    table: events
    column: properties.order.total
    check: range
    min: 0
    at_entry: {action: quarantine}
  - name: channel_values
    table: events
    column: context.channel
    check: accepted_values
    values: [web, app]
    at_entry: {action: flag}
"""


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return parse_rules(RULES, origin="rules.yaml")


def _rules(record: dict[str, Any], ruleset: RuleSet, table: str = "customer_records") -> list[str]:
    validator = entry_validator(ruleset, table)
    assert validator is not None
    return [v.rule for v in validator.check(record)]


def test_only_at_entry_rules_are_compiled_per_table(ruleset: RuleSet) -> None:
    validators = entry_validators(ruleset)
    assert set(validators) == {"customer_records", "events"}
    assert [r.name for r in validators["customer_records"].rules] == [
        "phone_format", "name_present", "gender_values", "birthday_range",
    ]  # fmt: skip
    assert validators["events"].columns == ("traits", "properties", "context")
    assert entry_validator(ruleset, "orders") is None


def test_a_good_record_passes_and_each_rule_says_what_is_wrong(ruleset: RuleSet) -> None:
    good = {"phone": "+86 138-0013-8000", "name": "张伟", "gender": "F",
            "birthday": date(1990, 3, 7)}  # fmt: skip
    assert _rules(good, ruleset) == []
    bad = {"phone": "1380013800", "name": "  ", "gender": "女", "birthday": date(1899, 12, 31)}
    validator = entry_validator(ruleset, "customer_records")
    assert validator is not None
    found = validator.check(bad)
    assert [v.rule for v in found] == [
        "phone_format", "name_present", "gender_values", "birthday_range",
    ]  # fmt: skip
    assert found[0] == EntryViolation(
        "phone_format", "phone", EntryAction.REJECT,
        "phone: violates rule phone_format (not in format cn_mobile)",
    )  # fmt: skip
    assert [v.blocks for v in found] == [True, False, True, True]
    for violation in found:  # reasons name the field and the rule, never the value
        assert not any(value in violation.reason for value in ("1380013800", "女", "1899"))


def test_missing_values_fail_only_not_null(ruleset: RuleSet) -> None:
    assert _rules({}, ruleset) == ["name_present"]
    assert _rules({"name": "x", "phone": None, "gender": None, "birthday": None}, ruleset) == []


def test_full_width_digits_are_not_a_mobile(ruleset: RuleSet) -> None:
    assert _rules({"name": "x", "phone": "１３８００１３８０００"}, ruleset) == ["phone_format"]


def test_json_paths_read_dicts_and_json_text_alike(ruleset: RuleSet) -> None:
    bad = {"traits": {"phone": "12345"}, "properties": {"order": {"total": -5}},
           "context": {"channel": "tv"}}  # fmt: skip
    expected = ["identify_phone", "order_total_positive", "channel_values"]
    assert _rules(bad, ruleset, "events") == expected
    as_text = {k: json.dumps(v) for k, v in bad.items()}
    assert _rules(as_text, ruleset, "events") == expected
    as_bytes = {k: json.dumps(v).encode() for k, v in bad.items()}
    assert _rules(as_bytes, ruleset, "events") == expected
    fine = {"traits": '{"phone": "13800138000"}', "properties": '{"order": {"total": "12.5"}}',
            "context": '{"channel": "web"}'}  # fmt: skip
    assert _rules(fine, ruleset, "events") == []
    # absent keys, non-numbers for a numeric range and documents that are not JSON are not judged
    odd = {"traits": "{}", "properties": '{"order": {"total": "n/a"}}', "context": "not json"}
    assert _rules(odd, ruleset, "events") == []


def test_entry_checks_agree_with_the_rule_sql(ruleset: RuleSet) -> None:
    """The same records judged by Python at entry and by the rules' SQL in DuckDB."""
    phones = ["13800138000", "+86 138 0013 8000", "1380013800", "23800138000", "abc", None, ""]
    totals = ["12", "-1", '"-3"', '"x"', "true", "null", "0"]
    channels = ["web", "tv", None, "", 1, "app", "WEB"]
    records = [
        {"message_id": f"m{i}", "traits": json.dumps({"phone": p}),
         "properties": f'{{"order": {{"total": {t}}}}}', "context": json.dumps({"channel": c})}
        for i, (p, t, c) in enumerate(zip(phones, totals, channels, strict=True))
    ]  # fmt: skip
    validator = entry_validator(ruleset, "events")
    assert validator is not None
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE events (message_id VARCHAR, traits VARCHAR, properties VARCHAR, "
        "context VARCHAR, source VARCHAR, timestamp TIMESTAMPTZ)"
    )
    con.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?, 'web', now())",
        [[r["message_id"], r["traits"], r["properties"], r["context"]] for r in records],
    )
    for rule in ruleset.rules:
        if rule.table != "events":
            continue
        sql = failing_rows_sql(rule, limit=100)
        assert sql is not None
        by_sql = sorted(row[0] for row in con.execute(sql).fetchall())
        by_python = sorted(
            r["message_id"] for r in records if rule.name in [v.rule for v in validator.check(r)]
        )
        assert by_python == by_sql, rule.name
        assert by_sql, rule.name  # every rule fails some record here


def test_rule_file_refuses_entry_rules_that_cannot_run_at_entry() -> None:
    where = (
        "rules:\n  - name: p\n    table: customer_records\n    column: phone\n    check: not_null\n"
        "    where: \"lower(source) = 'crm'\"\n    at_entry: {action: flag}\n"
    )
    refused = r"line 2, rule p: where: .LOWER\(source\) = 'crm'. cannot run at entry"
    with pytest.raises(ValidationError, match=refused):
        parse_rules(where, origin="rules.yaml")
    path_in_text = (
        "rules:\n  - name: p\n    table: customer_records\n    column: phone.area\n"
        "    check: not_null\n"
    )
    with pytest.raises(ValidationError, match="phone is not a JSON column of customer_records"):
        parse_rules(path_in_text, origin="rules.yaml")
    odd_key = (
        "rules:\n  - name: p\n    table: events\n    column: traits.a-b\n    check: not_null\n"
    )
    with pytest.raises(ValidationError, match="JSON path keys are letters"):
        parse_rules(odd_key, origin="rules.yaml")


WHERE_RULES = """
rules:
  - name: crm_phone_present
    table: customer_records
    column: phone
    check: not_null
    where: "source <> 'enrichment' AND (member_level IN ('金卡会员', '钻石会员')
      OR NOT birthday IS NULL)"
    at_entry: {action: flag}
  - name: recent_email_format
    table: customer_records
    column: email
    check: format
    format: email
    where: "registered_at >= '2024-01-01' AND 'crm' = source"
    at_entry: {action: reject}
"""


def test_where_conditions_scope_entry_checks_with_sql_null_logic() -> None:
    ruleset = parse_rules(WHERE_RULES, origin="rules.yaml")
    validator = entry_validator(ruleset, "customer_records")
    assert validator is not None
    assert set(validator.columns) == {
        "phone", "email", "source", "member_level", "birthday", "registered_at",
    }  # fmt: skip
    gold = {"source": "crm", "member_level": "金卡会员", "phone": None}
    assert _rules(gold, ruleset) == ["crm_phone_present"]
    assert _rules({**gold, "source": "enrichment"}, ruleset) == []
    assert _rules({**gold, "member_level": "普通会员"}, ruleset) == []  # birthday unknown
    assert _rules({**gold, "member_level": None, "birthday": date(1990, 1, 1)}, ruleset) == [
        "crm_phone_present"
    ]
    assert _rules({**gold, "source": None}, ruleset) == []  # unknown: the rule does not apply
    recent = {"source": "crm", "phone": "13800138000", "email": "nope",
              "registered_at": datetime(2025, 3, 1, tzinfo=UTC)}  # fmt: skip
    assert _rules(recent, ruleset) == ["recent_email_format"]
    old = {**recent, "registered_at": datetime(2023, 12, 31, 23, tzinfo=UTC)}
    assert _rules(old, ruleset) == []
    only_source = validator.only({"phone", "source", "member_level", "birthday"})
    assert only_source is not None
    assert [r.name for r in only_source.rules] == ["crm_phone_present"]


def test_json_paths_compile_for_duckdb_and_spark(ruleset: RuleSet) -> None:
    phone = failing_rows_sql(ruleset.rule("identify_phone"), limit=5)
    total = failing_rows_sql(ruleset.rule("order_total_positive"), limit=5)
    assert phone is not None and total is not None
    assert "NOT regexp_matches(json_extract_string(t.\"traits\", '$.phone'), '^(?:" in phone
    assert "TRY_CAST(json_extract_string(t.\"properties\", '$.order.total') AS DOUBLE) < 0" in total
    assert "GET_JSON_OBJECT(t.`traits`, '$.phone') RLIKE" in in_dialect(phone, "spark")


def test_the_types_a_validator_can_judge_come_from_the_rules_where() -> None:
    from custodia.quality.entry import EntryValidator
    from custodia.quality.models import RuleSet

    def validator(*wheres: str | None) -> EntryValidator:
        rules = [
            {"name": f"r{i}", "table": "events", "column": "traits.phone", "check": "format",
             "format": "cn_mobile", "at_entry": {"action": "flag"}, **({"where": w} if w else {})}
            for i, w in enumerate(wheres)
        ]  # fmt: skip
        return EntryValidator("events", RuleSet.model_validate({"rules": rules}).rules)

    assert validator("type = 'identify'").applies_to_types == {"identify"}
    both = validator("type IN ('identify', 'Track') AND source = 'web'", "type = 'page'")
    assert both.applies_to_types == {"identify", "track", "page"}
    assert validator("type = 'identify'", None).applies_to_types is None  # one rule on all
    assert validator("type = 'identify' OR source = 'web'").applies_to_types is None
