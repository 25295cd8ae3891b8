"""Tracking plans: parsing, checking events, quarantine entries, and replayable payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from custodia.collect.plan_quarantine import replay_message, screen_events, violation_entries
from custodia.collect.segment import normalize_message
from custodia.collect.tracking_plan import (
    RULE_SCHEMA,
    RULE_UNPLANNED_EVENT,
    RULE_UNPLANNED_PROPERTY,
    PlanMode,
    TrackingPlan,
    check_event,
    is_blocked,
    load_plan_file,
    parse_plan,
)
from custodia.core.errors import ValidationError

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

ORDER_SCHEMA = {
    "type": "object",
    "properties": {
        "revenue": {"type": "number", "minimum": 0},
        "currency": {"enum": ["CNY", "USD"]},
        "商品": {"type": "string", "maxLength": 4},
    },
    "required": ["revenue"],
}


def _row(message: dict[str, Any], source: str = "web") -> dict[str, Any]:
    return normalize_message(message, received_at=NOW, source=source)


def _plan(**overrides: Any) -> TrackingPlan:
    document: dict[str, Any] = {"events": {"Order Completed": ORDER_SCHEMA}, **overrides}
    return parse_plan(document)


def _track(properties: dict[str, Any], event: str = "Order Completed") -> dict[str, Any]:
    return _row({"type": "track", "event": event, "userId": "u1", "properties": properties})


def test_a_planned_event_with_valid_properties_passes() -> None:
    row = _track({"revenue": 12.5, "currency": "CNY", "商品": "连衣裙"})
    assert check_event(row, _plan(unplanned_properties="block")) == []


def test_schema_violations_name_field_and_rule_never_the_value() -> None:
    row = _track({"revenue": "十二元", "currency": "EUR", "商品": "真丝连衣裙长款"})
    violations = check_event(row, _plan())
    assert {v.field for v in violations} == {
        "properties.revenue",
        "properties.currency",
        "properties.商品",
    }
    assert all(v.rule == RULE_SCHEMA and v.action is PlanMode.BLOCK for v in violations)
    reasons = " ".join(v.reason for v in violations)
    assert "must be of type number" in reasons
    assert "at most 4 characters" in reasons
    for value in ("十二元", "EUR", "真丝连衣裙长款"):
        assert value not in reasons


def test_a_missing_required_property_names_it() -> None:
    [violation] = check_event(_track({"currency": "CNY"}), _plan())
    assert violation.field == "properties.revenue"
    assert "required" in violation.reason


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("allow", []), ("flag", [PlanMode.FLAG]), ("block", [PlanMode.BLOCK])],
)
def test_unplanned_event_modes(mode: str, expected: list[PlanMode]) -> None:
    row = _track({"sku": "DR-01"}, event="Wishlist Added")
    violations = check_event(row, _plan(unplanned_events=mode))
    assert [v.action for v in violations] == expected
    assert all(v.rule == RULE_UNPLANNED_EVENT and v.field == "event" for v in violations)


def test_unplanned_properties_are_listed_one_by_one() -> None:
    row = _track({"revenue": 1, "coupon": "X", "渠道": "app"})
    violations = check_event(row, _plan(unplanned_properties="flag"))
    assert sorted(v.field for v in violations) == ["properties.coupon", "properties.渠道"]
    assert {v.rule for v in violations} == {RULE_UNPLANNED_PROPERTY}
    assert not is_blocked(violations)


def test_pattern_properties_count_as_planned() -> None:
    schema = {"properties": {"revenue": {}}, "patternProperties": {"^utm_": {"type": "string"}}}
    plan = parse_plan({"events": {"Order Completed": schema}, "unplanned_properties": "block"})
    assert check_event(_track({"revenue": 1, "utm_source": "wechat"}), plan) == []
    assert len(check_event(_track({"revenue": 1, "ref": "x"}), plan)) == 1


def test_common_schema_applies_to_every_message_in_segment_names() -> None:
    common = {"required": ["userId"], "properties": {"context": {"required": ["library"]}}}
    plan = parse_plan({"common": common})
    anonymous = _row({"type": "page", "name": "Home", "anonymousId": "a1", "context": {}})
    fields = sorted(v.field for v in check_event(anonymous, plan))
    assert fields == ["context.library", "userId"]
    known = _row({"type": "identify", "userId": "u1", "context": {"library": {"name": "x"}}})
    assert check_event(known, plan) == []


def test_pages_are_checked_only_when_the_plan_has_a_pages_section() -> None:
    page = _row({"type": "page", "name": "Checkout", "anonymousId": "a1"})
    assert check_event(page, _plan(unplanned_events="block")) == []
    plan = _plan(unplanned_events="block", pages={"Home": {}})
    [violation] = check_event(page, plan)
    assert (violation.rule, violation.field) == (RULE_UNPLANNED_EVENT, "name")


def test_schema_violations_can_be_flagged_instead_of_blocked() -> None:
    violations = check_event(_track({"revenue": -1}), _plan(schema_violations="flag"))
    assert [v.action for v in violations] == [PlanMode.FLAG]
    assert ">= 0" in violations[0].reason


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ({"events": {"X": {"type": "nonsense"}}}, "events.X"),
        ({"unplanned_events": "drop"}, "unplanned_events"),
        ({"event": {}}, "event"),
        ({"common": {"required": "userId"}}, "common"),
    ],
)
def test_invalid_plans_are_refused_with_their_location(document: Any, where: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_plan(document)
    assert info.value.field == where


def test_plan_files_are_read_as_utf8_json(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"events": {"下单": {}}}, ensure_ascii=False), encoding="utf-8")
    assert "下单" in load_plan_file(path).spec.events
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"plan\.json: not valid"):
        load_plan_file(path)


def test_violation_entries_one_per_rule_open_when_blocked_flagged_otherwise() -> None:
    row = _track({"revenue": "x", "coupon": "A", "ref": "B"})
    plan = _plan(unplanned_properties="flag")
    violations = check_event(row, plan)
    entries = violation_entries(
        violations, payload="{}", source="web", entity="events", received_at=NOW, run_id="r1"
    )
    assert sorted(e.rule for e in entries) == [RULE_SCHEMA, RULE_UNPLANNED_PROPERTY]
    assert {e.status for e in entries} == {"open"}
    flag_only = [v for v in violations if v.rule == RULE_UNPLANNED_PROPERTY]
    [flagged] = violation_entries(
        flag_only, payload="{}", source="web", entity="events", received_at=NOW, run_id="r1"
    )
    assert flagged.status == "flagged"
    assert "properties.coupon" in flagged.reason and "properties.ref" in flagged.reason


def test_screen_events_keeps_what_the_plan_lets_through() -> None:
    rows = [_track({"revenue": 1}), _track({"revenue": 1, "x": 1}), _track({}, event="Other")]
    plan = _plan(unplanned_events="block", unplanned_properties="flag")
    screened = screen_events(rows, plan, run_id="r1", source_file="eventlog:e1")
    assert [r["message_id"] for r in screened.kept] == [
        rows[0]["message_id"],
        rows[1]["message_id"],
    ]
    assert (screened.blocked, screened.flagged) == (1, 1)
    assert sorted(e.status for e in screened.entries) == ["flagged", "open"]
    assert screen_events(rows, None, run_id="r1").kept == rows


def test_replay_message_normalizes_back_to_the_same_row() -> None:
    message = {
        "type": "track",
        "event": "Order Completed",
        "userId": "u1",
        "messageId": "m-1",
        "properties": {"revenue": 9.9, "商品": "裙"},
        "context": {"library": {"name": "analytics-python", "version": "2.3"}},
        "timestamp": "2026-03-01T07:59:00Z",
        "sentAt": "2026-03-01T07:59:30Z",
    }
    row = _row(message)
    again = normalize_message(
        json.loads(json.dumps(replay_message(row))), received_at=NOW, source="web"
    )
    assert again == row
