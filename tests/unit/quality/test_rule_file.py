"""Rule files: the shipped one is valid; every kind of mistake names the file, line and rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from custodia.core.errors import ValidationError
from custodia.pipeline.quality_rules_file import shipped_rules_text
from custodia.quality.models import Dimension, parse_duration
from custodia.quality.rule_file import load_rule_file, parse_rules

GOOD_RULE = """\
version: 1
rules:
  - name: phone_format
    table: customer_records
    column: phone
    check: format
    format: cn_mobile
"""


def test_the_shipped_rules_are_valid_and_cover_every_check() -> None:
    ruleset = parse_rules(shipped_rules_text(), origin="quality_rules.yaml")
    checks = {rule.check for rule in ruleset.rules}
    assert checks >= {"not_null", "format", "accepted_values", "range", "unique", "references",
                      "match", "max_per_key", "freshness", "volume", "custom_sql"}  # fmt: skip
    assert all(rule.line for rule in ruleset.rules)
    assert ruleset.rule("member_level_matches_spend").measured_dimension is Dimension.CONSISTENCY


def test_lines_point_at_each_rule() -> None:
    ruleset = parse_rules(GOOD_RULE + GOOD_RULE.split("rules:\n")[1].replace("phone_format", "p2"))
    assert [rule.line for rule in ruleset.rules] == [3, 8]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("column: phone", "column: phnoe"),
         "rules line 3, rule phone_format: 'phnoe' is not a column of customer_records"),
        (("table: customer_records", "table: customers"),
         "rules line 3, rule phone_format: unknown table 'customers'"),
        (("format: cn_mobile", "format: cn_phone"), "rules line 3, rule phone_format: format:"),
        (("check: format", "check: looks_ok"), "rules line 3, rule phone_format: "),
        (("    format: cn_mobile",
          "    format: cn_mobile\n    threshold: {max_failure_rate: high}"),
         "rules line 3, rule phone_format: threshold.max_failure_rate"),
        (("    format: cn_mobile", "    format: cn_mobile\n    threshold: {max_failure_rate: 5}"),
         "threshold.max_failure_rate: Input should be less than or equal to 1"),
        (("    format: cn_mobile", "    format: cn_mobile\n    where: \"sorce = 'crm'\""),
         "rule phone_format: 'sorce' is not a column of customer_records"),
        (("    format: cn_mobile", "    format: cn_mobile\n    where: \"source = \""),
         "rule phone_format: where is not a SQL condition"),
        (("    format: cn_mobile", "    format: cn_mobile\n    colour: red"),
         "rule phone_format: colour: Extra inputs are not permitted"),
        (("name: phone_format", "name: Phone Format"), "rules line 3, rule Phone Format: name:"),
        (("check: format\n    format: cn_mobile", "check: range\n    min: 0"),
         "rule phone_format: column phone holds text: give text, not a number"),
        (("column: phone\n    check: format\n    format: cn_mobile",
          "column: updated_at\n    check: range\n    min: 0"),
         "rule phone_format: column updated_at needs a date or time, not a number"),
    ],
)  # fmt: skip
def test_mistakes_are_named_with_line_and_rule(edit: tuple[str, str], expected: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_rules(GOOD_RULE.replace(*edit))
    assert expected in str(err.value)


def test_yaml_syntax_errors_name_the_line() -> None:
    with pytest.raises(ValidationError, match=r"rules line 6: expected .,. or .\]."):
        parse_rules(GOOD_RULE.replace("column: phone", "column: [phone"))


def test_set_rules_cannot_run_at_entry_and_custom_sql_needs_a_dimension() -> None:
    unique = GOOD_RULE.replace("check: format\n    format: cn_mobile",
                               "check: unique\n    at_entry: {action: reject}")  # fmt: skip
    with pytest.raises(ValidationError, match="at_entry works for"):
        parse_rules(unique)
    custom = GOOD_RULE.replace("    column: phone\n", "").replace(
        "check: format\n    format: cn_mobile",
        "check: custom_sql\n    sql: select 1 as checked, 0 as failed",
    )
    with pytest.raises(ValidationError, match="custom_sql needs a dimension"):
        parse_rules(custom)


def test_duplicate_names_and_bad_durations() -> None:
    with pytest.raises(ValidationError, match="phone_format is used twice"):
        parse_rules(GOOD_RULE + GOOD_RULE.split("rules:\n")[1])
    assert parse_duration("36h").total_seconds() == 36 * 3600
    with pytest.raises(ValueError, match="duration"):
        parse_duration("2 days")


def test_a_missing_or_non_utf8_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"rule file nope\.yaml not found"):
        load_rule_file(tmp_path / "nope.yaml")
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes(
        GOOD_RULE.replace("phone_format", "phone_format\n    description: 手机").encode("gbk")
    )
    with pytest.raises(ValidationError, match=r"gbk\.yaml: not UTF-8"):
        load_rule_file(gbk)
