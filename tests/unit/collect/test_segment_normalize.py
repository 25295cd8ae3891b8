"""Segment message validation and shaping into events rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from custodia.collect.segment import normalize_message
from custodia.core.errors import ValidationError

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _norm(message: dict[str, object], **kw: object) -> dict[str, object]:
    return normalize_message(message, received_at=NOW, source="web", **kw)  # type: ignore[arg-type]


def test_track_row_keeps_fields_and_unicode() -> None:
    row = _norm(
        {
            "type": "track",
            "event": "Order Completed",
            "userId": 42,
            "messageId": "m-1",
            "properties": {"商品": "连衣裙", "price": 399},
        }
    )
    assert row["type"] == "track"
    assert row["user_id"] == "42"
    assert row["message_id"] == "m-1"
    assert json.loads(str(row["properties"]))["商品"] == "连衣裙"
    assert row["event_date"] == NOW.date()


def test_message_id_is_generated_when_absent() -> None:
    a = _norm({"type": "page", "anonymousId": "a1"})
    b = _norm({"type": "page", "anonymousId": "a1"})
    assert a["message_id"] and a["message_id"] != b["message_id"]


def test_clock_skew_is_corrected() -> None:
    original = NOW - timedelta(hours=5)
    sent = original + timedelta(minutes=3)  # the client clock runs 3 minutes ahead of the call
    row = _norm(
        {
            "type": "track",
            "event": "x",
            "userId": "u",
            "timestamp": original.isoformat(),
            "sentAt": sent.isoformat(),
        }
    )
    assert row["timestamp"] == NOW - timedelta(minutes=3)
    assert row["original_timestamp"] == original


def test_batch_context_is_merged_and_message_wins() -> None:
    row = _norm(
        {"type": "identify", "userId": "u", "context": {"locale": "zh-CN"}},
        batch_context={"locale": "en-US", "library": {"name": "x"}},
    )
    assert json.loads(str(row["context"])) == {"locale": "zh-CN", "library": {"name": "x"}}


@pytest.mark.parametrize(
    ("message", "field", "rule"),
    [
        ({"type": "track", "userId": "u"}, "event", "required"),
        ({"type": "track", "event": "x"}, "userId", "user_or_anonymous_id"),
        ({"type": "group", "userId": "u"}, "groupId", "required"),
        ({"type": "alias", "userId": "u"}, "previousId", "required"),
        ({"type": "alias", "previousId": "p"}, "userId", "required"),
        ({"type": "launch", "userId": "u"}, "type", "one_of"),
        ({"userId": "u"}, "type", "required"),
        (
            {"type": "track", "event": "x", "userId": "u", "timestamp": "yesterday"},
            "timestamp",
            "iso8601",
        ),
        (
            {"type": "track", "event": "x", "userId": "u", "properties": [1]},
            "properties",
            "must_be_object",
        ),
        (
            {"type": "track", "event": "x", "userId": "u", "messageId": "m" * 101},
            "messageId",
            "max_length",
        ),
    ],
)
def test_bad_messages_name_field_and_rule(
    message: dict[str, object], field: str, rule: str
) -> None:
    with pytest.raises(ValidationError) as info:
        _norm(message)
    assert (info.value.field, info.value.rule) == (field, rule)


def test_errors_never_echo_values() -> None:
    secret = "13812345678"
    with pytest.raises(ValidationError) as info:
        _norm({"type": "track", "event": "x", "userId": "u", "timestamp": secret})
    assert secret not in str(info.value)


def test_top_level_category_and_channel_are_kept_in_context() -> None:
    row = _norm(
        {"type": "page", "userId": "u", "name": "连衣裙", "category": "女装", "channel": "web",
         "context": {"ip": "1.2.3.4", "top_level": {"category": "old", "keep": 1}}}
    )  # fmt: skip
    context = json.loads(str(row["context"]))
    assert context["top_level"] == {"category": "女装", "channel": "web", "keep": 1}
    assert context["ip"] == "1.2.3.4"
    bare = _norm({"type": "screen", "userId": "u", "category": None})
    assert bare["context"] is None, "null and absent fields add nothing"


def test_identify_context_traits_are_promoted_and_own_traits_win() -> None:
    row = _norm(
        {"type": "identify", "userId": "u", "traits": {"name": "张伟"},
         "context": {"traits": {"name": "Zhang", "email": "z@example.cn"}}}
    )  # fmt: skip
    assert json.loads(str(row["traits"])) == {"name": "张伟", "email": "z@example.cn"}
    assert json.loads(str(row["context"]))["traits"]["name"] == "Zhang", "context kept as sent"
    track = _norm({"type": "track", "event": "e", "userId": "u", "context": {"traits": {"a": 1}}})
    assert track["traits"] is None, "only identify promotes context.traits"
    odd = _norm({"type": "identify", "userId": "u", "context": {"traits": "x"}})
    assert odd["traits"] is None and json.loads(str(odd["context"])) == {"traits": "x"}
