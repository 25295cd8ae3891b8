"""What the collector's entry validation sees of a message and how it counts the verdicts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from custodia.collect.entry_screen import COLLECTOR_COLUMNS, message_columns, screen_messages
from custodia.collect.segment_wire import BatchFields, check_messages, split_request
from custodia.quality.entry import EntryValidator, entry_validator
from custodia.quality.rule_file import parse_rules

RULES = """
rules:
  - name: phone_format
    table: events
    column: traits.phone
    check: format
    format: cn_mobile
    at_entry: {action: reject}
  - name: channel_values
    table: events
    column: context.channel
    check: accepted_values
    values: [web, app]
    at_entry: {action: flag}
  - name: revenue_not_negative
    table: events
    column: properties.revenue
    check: range
    min: 0
    at_entry: {action: quarantine}
  - name: loaded_recently
    table: events
    column: timestamp
    check: not_null
    at_entry: {action: reject}
  - name: web_email_format
    table: events
    column: traits.email
    check: format
    format: email
    where: "source = 'web'"
    at_entry: {action: reject}
"""
NOW = datetime(2026, 11, 24, tzinfo=UTC)


@pytest.fixture(scope="module")
def rules() -> EntryValidator:
    validator = entry_validator(parse_rules(RULES), "events")
    assert validator is not None
    collector = validator.only(COLLECTOR_COLUMNS)
    assert collector is not None
    return collector


def _screen(rules: EntryValidator, kind: str, body: dict[str, Any], source: str = "app") -> Any:
    wire = split_request(kind, json.dumps(body).encode())
    check = check_messages(kind, wire, received_at=NOW)
    screen = screen_messages(rules, kind, wire, check.problems, source=source,
                             message_types=check.types)  # fmt: skip
    assert screen == screen_messages(rules, kind, wire, check.problems, source=source)
    return screen


def test_the_collector_judges_only_rules_on_columns_it_sees_on_the_wire(
    rules: EntryValidator,
) -> None:
    # timestamp is judged by the loader, on the normalized row
    assert [r.name for r in rules.rules] == [
        "phone_format", "channel_values", "revenue_not_negative", "web_email_format",
    ]  # fmt: skip


def test_columns_follow_what_the_loader_stores() -> None:
    shared = BatchFields(context={"channel": "web", "ip": "10.0.0.1"})
    item = json.dumps(
        {"userId": 42, "context": {"traits": {"phone": "1"}, "ip": "10.0.0.2"},
         "traits": {"name": "张伟"}}
    ).encode()  # fmt: skip
    seen = message_columns(item, "identify", shared, ["user_id", "traits", "context", "type"])
    assert seen["user_id"] == "42"
    assert seen["traits"] == {"phone": "1", "name": "张伟"}  # context.traits promoted
    assert seen["context"]["channel"] == "web" and seen["context"]["ip"] == "10.0.0.2"
    assert seen["type"] == "identify"
    # a track call's context.traits stay where they are
    assert message_columns(item, "track", shared, ["traits"]) == {"traits": {"name": "张伟"}}
    assert message_columns(b"[1]", None, shared, ["traits"]) == {}


def test_a_single_call_gets_the_first_reject_reason(rules: EntryValidator) -> None:
    screen = _screen(rules, "identify", {"userId": "u", "traits": {"phone": "12"}})
    assert screen.rejection == "traits.phone: violates rule phone_format (not in format cn_mobile)"
    assert (screen.rejected, screen.held, screen.flagged) == (1, 1, 0)
    assert _screen(rules, "identify", {"userId": "u", "traits": {"phone": "13800138000"}}) == (
        type(screen)()
    )


def test_a_batch_counts_rejected_held_and_flagged_and_skips_invalid_messages(
    rules: EntryValidator,
) -> None:
    body = {
        "context": {"channel": "tv"},  # batch context: every message is flagged for it
        "batch": [
            {"type": "identify", "userId": "u1", "traits": {"phone": "12"}},
            {"type": "track", "userId": "u2", "event": "Order", "properties": {"revenue": -1}},
            {"type": "track", "userId": "u3", "event": "Viewed"},
            {"type": "track", "userId": "u4"},  # invalid Segment: not judged here
            "not an object",
        ],
    }
    screen = _screen(rules, "batch", body)
    assert (screen.rejected, screen.held, screen.flagged) == (1, 2, 1)
    assert screen.rejection is not None


def test_where_conditions_see_the_source_of_the_write_key(rules: EntryValidator) -> None:
    body = {"userId": "u", "traits": {"email": "not-an-email"}}
    assert _screen(rules, "identify", body, source="app").rejection is None
    assert _screen(rules, "identify", body, source="web").rejection == (
        "traits.email: violates rule web_email_format (not in format email)"
    )


IDENTIFY_RULE = """
rules:
  - name: identify_phone
    table: events
    column: traits.phone
    check: format
    format: cn_mobile
    where: "type = 'identify'"
    at_entry: {action: quarantine}
"""


@pytest.mark.parametrize(
    ("batch", "counts"),
    [
        ([{"type": "track", "userId": "u", "event": "E", "traits": {"phone": "1"}}], (0, 0)),
        ([{"type": "track", "userId": "u", "event": "E"},
          {"type": "identify", "userId": "u", "traits": {"phone": "1"}}], (1, 0)),
        ([{"type": "Identify", "userId": "u", "traits": {"phone": "1"}}], (1, 0)),
    ],
)  # fmt: skip
def test_a_batch_of_types_no_rule_judges_is_not_read(
    batch: list[dict[str, Any]], counts: tuple[int, int]
) -> None:
    validator = entry_validator(parse_rules(IDENTIFY_RULE), "events")
    assert validator is not None and validator.applies_to_types == {"identify"}
    screen = _screen(validator, "batch", {"batch": batch})  # with and without the types
    assert (screen.held, screen.flagged) == counts
